"""Safe output: never clobber what the user already has, never leave a half-written file."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from fairmarket_local.common.errors import FairmarketError


def refuse_overwrite(path: Path, force: bool) -> None:
    """Raise a one-line error if ``path`` exists and ``force`` is not set."""
    if path.exists() and not force:
        raise FairmarketError(f"{path} already exists; choose another path or pass --force to replace it")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if "tmp" in locals() and os.path.exists(tmp):
            os.unlink(tmp)
        raise FairmarketError(f"cannot write {path}: {exc.strerror or exc}") from None


def json_safe(obj: Any) -> Any:
    """``obj`` as strict-JSON values: NaN and infinities become ``None`` (an undefined value, e.g. the
    rank correlation of a constant column), numpy scalars and arrays become Python numbers and lists."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: json_safe(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(value) for value in obj]
    if hasattr(obj, "tolist"):  # numpy scalar or array
        return json_safe(obj.tolist())
    return obj


def dumps_strict(obj: Any, indent: int | None = 2, sort_keys: bool = False) -> str:
    """JSON that every parser accepts (``jq``, browsers): no bare ``NaN``/``Infinity``."""
    return json.dumps(json_safe(obj), indent=indent, sort_keys=sort_keys, allow_nan=False)


def write_json(path: Path, obj: Any) -> None:
    """Pretty strict JSON, atomically."""
    write_text_atomic(path, dumps_strict(obj, sort_keys=True) + "\n")


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    """One canonical JSON object per line, atomically."""
    from fairmarket_local.common.canonical import canonical_json

    write_text_atomic(path, "".join(canonical_json(r) + "\n" for r in rows))


def jsonl_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, text) of every non-blank line; an unreadable or non-UTF-8 file is a one-line error."""
    from fairmarket_local.common.text import decode_utf8

    try:
        text = decode_utf8(Path(path).read_bytes(), path)
    except OSError as exc:
        raise FairmarketError(f"cannot read {path}: {exc.strerror or exc}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line
