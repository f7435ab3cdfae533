"""Read recorded slot summaries (JSONL, as written by ``fairmarket simulate --record-slots``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fairmarket_local.common.errors import DataError
from fairmarket_local.common.io import jsonl_lines

_REQUIRED = {"hour": int, "retail": (int, float), "feed_in": (int, float), "sellers": list, "buyers": list,
             "trades": list, "grid": dict}


def read_summaries(path: Path) -> list[dict[str, Any]]:
    """Every summary of a JSONL file; a malformed line is an error naming file and line."""
    summaries = []
    for number, line in jsonl_lines(path):
        try:
            summary = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: not JSON ({exc.msg})") from None
        problem = _problem(summary)
        if problem:
            raise DataError(f"{path}:{number}: not a slot summary ({problem})")
        summaries.append(summary)
    if not summaries:
        raise DataError(f"{path}: no slot summaries")
    return summaries


def _problem(summary: Any) -> str:
    if not isinstance(summary, dict):
        return "not a JSON object"
    for key, kind in _REQUIRED.items():
        if key not in summary:
            return f"missing {key!r}"
        if isinstance(summary[key], bool) or not isinstance(summary[key], kind):
            return f"{key!r} has the wrong type"
    return ""
