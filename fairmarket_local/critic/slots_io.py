"""Read recorded slot summaries (JSONL, as written by ``fairmarket simulate --record-slots``).

Every line is checked against the shape :func:`fairmarket_local.env.summary.slot_summary` writes: the
fields of :data:`~fairmarket_local.env.summary_types.SUMMARY_FIELDS` (derived from the ``SlotSummary``
types) with their types, finite numbers, energies (keys ending in ``kwh``) >= 0, the summary schema
this version writes, an hour of the day, a weekday, a tariff the market config would accept, and trades
between listed parties. Extra keys are allowed (the situation generator tags its slots).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fairmarket_local.common.config import dotted_key, short_repr
from fairmarket_local.common.errors import ConfigError, DataError
from fairmarket_local.common.io import jsonl_lines
from fairmarket_local.common.text import loads_strict
from fairmarket_local.env.config import validated_tariff
from fairmarket_local.env.summary_types import SUMMARY_FIELDS, SUMMARY_SCHEMA, WEATHERS, WEEKDAYS, SlotSummary

_JSON_TYPE = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number",
              type(None): "null"}
_ID_PREFIX = {"sellers": "S", "buyers": "B"}


def read_summaries(path: Path) -> list[SlotSummary]:
    """Every summary of a JSONL file; a malformed line is an error naming file and line."""
    summaries: list[SlotSummary] = []
    for number, line in jsonl_lines(path):
        try:
            summary = loads_strict(line)
        except ValueError as exc:
            raise DataError(f"{path}:{number}: not JSON ({exc})") from None
        problem = _problem(summary)
        if problem:
            raise DataError(f"{path}:{number}: not a slot summary ({problem})")
        summaries.append(summary)
    if not summaries:
        raise DataError(f"{path}: no slot summaries")
    return summaries


def summary_problem(summary: Any) -> str:
    """What the checks of :func:`read_summaries` find wrong with one summary, or ``""``."""
    return _problem(summary)


def _problem(summary: Any) -> str:
    """What is wrong with ``summary``, or ``""``."""
    problem = _fields_problem(summary, "")
    if problem:
        return problem
    for where, part, entry in _parts(summary):
        problem = _fields_problem(entry, where, part)
        if problem:
            return problem
    return _slot_problem(summary) or _tariff_problem(summary) or _parties_problem(summary)


def _parts(summary: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(where, part, entry) of every part of ``summary`` that :data:`SUMMARY_FIELDS` describes: each entry
    of a list-valued part (``sellers[0]``, ...) and each object-valued part (``grid``), in summary order."""
    for part in SUMMARY_FIELDS:
        if not part:
            continue
        if list in SUMMARY_FIELDS[""][part]:
            yield from ((dotted_key(part, k), part, entry) for k, entry in enumerate(summary[part]))
        else:
            yield part, part, summary[part]


def _fields_problem(obj: Any, where: str, part: str = "") -> str:
    """Missing field, wrong type, non-finite number or negative energy in ``obj`` (found at ``where``)."""
    if not isinstance(obj, dict):
        return f"{where}: not a JSON object" if where else "not a JSON object"
    for key, types in SUMMARY_FIELDS[part].items():
        name = dotted_key(where, key)
        if key not in obj:
            return f"missing key {name!r}"
        value = obj[key]
        wrong_type = isinstance(value, bool) or not isinstance(value, types)  # a JSON value: kept unnarrowed
        if wrong_type:
            return f"{name}: wrong type ({_JSON_TYPE.get(type(value), type(value).__name__)})"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{name}: not a finite number"
        if key.endswith("kwh") and value < 0:
            return f"{name}: negative energy ({value:g})"
    return ""


def _slot_problem(summary: dict[str, Any]) -> str:
    """Schema version, hour, weekday and weather."""
    if summary["schema"] != SUMMARY_SCHEMA:
        return f"schema: {summary['schema']} is unknown (this version reads schema {SUMMARY_SCHEMA})"
    if not 0 <= summary["hour"] <= 23:
        return f"hour: {summary['hour']} is not an hour of the day (0-23)"
    if summary["day"] not in WEEKDAYS:
        return f"day: {short_repr(summary['day'])} is not one of {', '.join(WEEKDAYS)}"
    if summary["weather"] not in WEATHERS:
        return f"weather: {short_repr(summary['weather'])} is not one of {', '.join(WEATHERS)}"
    return ""


def _tariff_problem(summary: dict[str, Any]) -> str:
    """The slot's prices must be a tariff the market config accepts."""
    try:
        validated_tariff({"retail": summary["retail"], "feed_in": summary["feed_in"]})
    except ConfigError as exc:
        return str(exc).removeprefix("tariff.")
    return ""


def _parties_problem(summary: dict[str, Any]) -> str:
    """Seller ids S<n> and buyer ids B<n>, each listed once; trades between listed parties."""
    ids: dict[str, set[str]] = {}
    for key, prefix in _ID_PREFIX.items():
        ids[key] = set()
        for k, party in enumerate(summary[key]):
            name = party["id"]
            if not re.fullmatch(f"{prefix}[0-9]+", name):
                return f"{key}[{k}].id: {short_repr(name)} is not like {prefix}1, {prefix}2, ..."
            if name in ids[key]:
                return f"{key}[{k}].id: {short_repr(name)} is listed twice"
            ids[key].add(name)
    for k, trade in enumerate(summary["trades"]):
        for role, key in (("seller", "sellers"), ("buyer", "buyers")):
            if trade[role] not in ids[key]:
                return f"trades[{k}].{role}: {short_repr(trade[role])} is not one of the {key}"
    return ""
