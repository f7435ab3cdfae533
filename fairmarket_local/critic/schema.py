"""The critic's answer format: a JSON schema, a GBNF grammar that enforces it, and strict validation.

llama.cpp's JSON-schema mode ignores ``minimum``/``maximum`` (a small model then writes 10.0 or 1e15),
so the grammar below is hand-written: its only numbers are 0, 0.d, 0.dd, 1, 1.0 and 1.00.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.metrics.fairness import SCORE_NAMES

RATIONALE_MAX_CHARS = 160

_UNIT = {"type": "number", "minimum": 0, "maximum": 1}


class InvalidAnswer(FairmarketError):
    """A model answer that is not exactly the schema (bad JSON, missing key, out of range, extra text)."""


def answer_schema(rationale: bool = False) -> dict[str, Any]:
    """JSON schema of an answer: the three scores in [0, 1], plus a short rationale if asked for."""
    properties: dict[str, Any] = {key: dict(_UNIT) for key in SCORE_NAMES}
    required = list(SCORE_NAMES)
    if rationale:
        properties["rationale"] = {"type": "string", "maxLength": RATIONALE_MAX_CHARS}
        required.append("rationale")
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def answer_grammar(rationale: bool = False) -> str:
    """GBNF grammar admitting exactly ``{"ftg": u, "fbs": u, "fpp": u}`` with every ``u`` in [0, 1]."""
    fields = ' "," ws '.join(f'"\\"{key}\\"" ws ":" ws unit' for key in SCORE_NAMES)
    if rationale:
        fields += f' "," ws "\\"rationale\\"" ws ":" ws "\\"" [^"\\\\\\n]{{0,{RATIONALE_MAX_CHARS}}} "\\""'
    return "\n".join([
        f'root ::= "{{" ws {fields} ws "}}"',
        'unit ::= "0" ("." [0-9] [0-9]?)? | "1" (".0" "0"?)?',
        'ws ::= " "?',
    ]) + "\n"


def parse_answer(text: str, rationale: bool = False) -> tuple[tuple[float, float, float], str | None]:
    """Validate an answer string; return ``((ftg, fbs, fpp), rationale)``.

    :raises InvalidAnswer: on anything but one JSON object with exactly the schema's keys, finite numbers
        in [0, 1] (booleans are not numbers) and, when asked for, a string rationale.
    """
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise InvalidAnswer(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidAnswer("not a JSON object")
    expected = set(SCORE_NAMES) | ({"rationale"} if rationale else set())
    if set(obj) != expected:
        raise InvalidAnswer(f"keys {sorted(obj)} != {sorted(expected)}")
    values = tuple(_unit(key, obj[key]) for key in SCORE_NAMES)
    note = obj.get("rationale")
    if rationale and not isinstance(note, str):
        raise InvalidAnswer("rationale is not a string")
    return values, note  # type: ignore[return-value]  # three values, one per SCORE_NAMES


def _unit(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidAnswer(f"{key} is not a number: {value!r}")
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise InvalidAnswer(f"{key} out of [0, 1]: {value!r}")
    return float(value)

