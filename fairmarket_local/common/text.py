"""Read users' files strictly: UTF-8 text (one-line error naming file and line) and JSON without NaN."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fairmarket_local.common.errors import DataError


def decode_utf8(data: bytes, origin: str | Path) -> str:
    """``data`` as text.

    :raises DataError: ``<origin>:<line>: not UTF-8 text (byte 0x..)`` at the first undecodable byte.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(f"{origin}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x})") from None


def loads_strict(text: str) -> Any:
    """``json.loads`` that refuses ``NaN`` / ``Infinity`` (Python writes them, JSON has no such numbers).

    :raises ValueError: a one-line reason (bad syntax with its column, a non-finite constant, too deep nesting).
    """
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
