"""Read recorded slot summaries (JSONL, as written by ``fairmarket simulate --record-slots``).

Every line is checked against the shape :func:`fairmarket_local.env.summary.slot_summary` writes: the
fields below with their types, finite numbers, energies (keys ending in ``kwh``) >= 0, the summary schema
this version writes, an hour of the day, a weekday, a tariff the market config would accept, and trades
between listed parties. Extra keys are allowed (the situation generator tags its slots).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from fairmarket_local.common.config import dotted_key, short_repr
from fairmarket_local.common.errors import ConfigError, DataError
from fairmarket_local.common.io import jsonl_lines
from fairmarket_local.common.text import loads_strict
from fairmarket_local.env.config import validated_tariff
from fairmarket_local.env.summary import SUMMARY_SCHEMA, WEEKDAYS

_NUMBER = (int, float)
_PRICE = (int, float, type(None))  # a party without an order has no price
# Fields of a summary and of its entries, by the key that holds them ("" = the summary itself).
_FIELDS: dict[str, dict[str, Any]] = {
    "": {"schema": int, "day": str, "hour": int, "weather": str, "retail": _NUMBER, "feed_in": _NUMBER,
         "sellers": list, "buyers": list, "trades": list, "grid": dict},
    "sellers": {"id": str, "surplus_kwh": _NUMBER, "offer_kwh": _NUMBER, "price": _PRICE, "p2p_kwh": _NUMBER,
                "money": _NUMBER},
    "buyers": {"id": str, "deficit_kwh": _NUMBER, "request_kwh": _NUMBER, "price": _PRICE, "p2p_kwh": _NUMBER,
               "money": _NUMBER},
    "trades": {"seller": str, "buyer": str, "kwh": _NUMBER, "price": _NUMBER},
    "grid": {"import_kwh": _NUMBER, "export_kwh": _NUMBER},
}
_JSON_TYPE = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number",
              type(None): "null"}
_ID_PREFIX = {"sellers": "S", "buyers": "B"}
_WEATHER = ("sunny", "cloudy")


def read_summaries(path: Path) -> list[dict[str, Any]]:
    """Every summary of a JSONL file; a malformed line is an error naming file and line."""
    summaries = []
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
    entries = [(dotted_key(key, k), key, entry) for key in ("sellers", "buyers", "trades")
               for k, entry in enumerate(summary[key])]
    for where, kind, entry in [*entries, ("grid", "grid", summary["grid"])]:
        problem = _fields_problem(entry, where, kind)
        if problem:
            return problem
    return _slot_problem(summary) or _tariff_problem(summary) or _parties_problem(summary)


def _fields_problem(obj: Any, where: str, kind: str = "") -> str:
    """Missing field, wrong type, non-finite number or negative energy in ``obj`` (found at ``where``)."""
    if not isinstance(obj, dict):
        return f"{where}: not a JSON object" if where else "not a JSON object"
    for key, types in _FIELDS[kind].items():
        name = dotted_key(where, key)
        if key not in obj:
            return f"missing key {name!r}"
        value = obj[key]
        if isinstance(value, bool) or not isinstance(value, types):
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
    if summary["weather"] not in _WEATHER:
        return f"weather: {short_repr(summary['weather'])} is not one of {', '.join(_WEATHER)}"
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
