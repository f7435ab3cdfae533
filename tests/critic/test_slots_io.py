"""Slot summary files: every field of env/summary.py is checked, and a bad line is a DataError naming file:line."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fairmarket_local.common.errors import DataError
from fairmarket_local.critic.distill.generator import generate_slots
from fairmarket_local.critic.slots_io import read_summaries
from fairmarket_local.env.config import MAX_TARIFF
from tests.critic.critic_helpers import SLOTS

GOOD = json.dumps(SLOTS[0])


def _edited(edit: Callable[[dict[str, Any]], Any]) -> str:
    summary = copy.deepcopy(SLOTS[0])
    edit(summary)
    return json.dumps(summary)  # allow_nan: Python writes NaN / Infinity tokens


def _error(tmp_path: Path, line: str | bytes) -> str:
    path = tmp_path / "slots.jsonl"
    data = line if isinstance(line, bytes) else line.encode("utf-8")
    path.write_bytes(GOOD.encode() + b"\n" + data + b"\n")
    with pytest.raises(DataError) as info:
        read_summaries(path)
    message = str(info.value)
    assert message.startswith(f"{path}:2: ") and "\n" not in message
    return message.removeprefix(f"{path}:2: ")


def test_recorded_hand_made_and_generated_slots_are_read(tmp_path: Path) -> None:
    slots = SLOTS + generate_slots(300, seed=5)
    path = tmp_path / "slots.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in slots))
    assert read_summaries(path) == slots


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda s: s.update(retail=float("nan")), "not JSON (NaN is not a JSON number)"),
    (lambda s: s["sellers"][0].update(p2p_kwh=float("inf")), "not JSON (Infinity is not a JSON number)"),
    (lambda s: s["trades"][0].update(price=float("-inf")), "not JSON (-Infinity is not a JSON number)"),
    (lambda s: s["sellers"][0].update(surplus_kwh=-1.5), "not a slot summary (sellers[0].surplus_kwh: negative energy"),
    (lambda s: s["buyers"][0].update(request_kwh=-0.1), "not a slot summary (buyers[0].request_kwh: negative energy"),
    (lambda s: s["trades"][1].update(kwh=-1), "not a slot summary (trades[1].kwh: negative energy"),
    (lambda s: s["grid"].update(export_kwh=-2), "not a slot summary (grid.export_kwh: negative energy"),
    (lambda s: s.update(schema=2), "not a slot summary (schema: 2 is unknown (this version reads schema 1))"),
    (lambda s: s.pop("schema"), "not a slot summary (missing key 'schema')"),
    (lambda s: s.update(hour=99), "not a slot summary (hour: 99 is not an hour of the day (0-23))"),
    (lambda s: s.update(hour=-1), "not a slot summary (hour: -1 is not an hour"),
    (lambda s: s.update(hour=12.5), "not a slot summary (hour: wrong type (number))"),
    (lambda s: s.update(day="Someday"), "not a slot summary (day: 'Someday' is not one of Mon"),
    (lambda s: s.update(weather="rain"), "not a slot summary (weather: 'rain' is not one of sunny, cloudy)"),
    (lambda s: s.update(feed_in=-0.01), "not a slot summary (feed_in: must be >= 0"),
    (lambda s: s.update(feed_in=0.5), "not a slot summary (retail: must exceed feed_in (0.5), got 0.3)"),
    (lambda s: s.update(retail=-1), "not a slot summary (retail: must exceed feed_in"),
    (lambda s: s.update(retail=30), f"not a slot summary (retail: 30 $/kWh is above the limit of {MAX_TARIFF:g}"),
    (lambda s: s.update(sellers={}), "not a slot summary (sellers: wrong type (object))"),
    (lambda s: s["sellers"].append(3), "not a slot summary (sellers[2]: not a JSON object)"),
    (lambda s: s["sellers"][1].pop("money"), "not a slot summary (missing key 'sellers[1].money')"),
    (lambda s: s["buyers"][0].update(price="cheap"), "not a slot summary (buyers[0].price: wrong type (string))"),
    (lambda s: s["buyers"][0].update(id=7), "not a slot summary (buyers[0].id: wrong type (number))"),
    (lambda s: s["sellers"][0].update(offer_kwh=True),
     "not a slot summary (sellers[0].offer_kwh: wrong type (boolean))"),
    (lambda s: s["trades"][0].update(price=None), "not a slot summary (trades[0].price: wrong type (null))"),
    (lambda s: s["trades"][0].update(seller="S9"),
     "not a slot summary (trades[0].seller: 'S9' is not one of the sellers"),
    (lambda s: s["trades"][0].update(buyer="S1"), "not a slot summary (trades[0].buyer: 'S1' is not one of the buyers"),
    (lambda s: s["sellers"][1].update(id="S1"), "not a slot summary (sellers[1].id: 'S1' is listed twice)"),
    (lambda s: s["sellers"][0].update(id="seller-1"), "not a slot summary (sellers[0].id: 'seller-1' is not like S1"),
    (lambda s: s.update(grid=[]), "not a slot summary (grid: wrong type (array))"),
])
def test_a_bad_summary_names_file_line_and_problem(tmp_path: Path, edit: Callable, problem: str) -> None:
    assert _error(tmp_path, _edited(edit)).startswith(problem)


@pytest.mark.parametrize(("line", "problem"), [
    ("[" * 100_000, "not JSON (nested too deeply)"),
    ('{"hour": ' + "9" * 5000 + "}", "not JSON (Exceeds the limit"),
    ("[1, 2]", "not a slot summary (not a JSON object)"),
    ("{", "not JSON (Expecting property name enclosed in double quotes at column 2)"),
])
def test_lines_that_are_not_json_objects(tmp_path: Path, line: str, problem: str) -> None:
    assert _error(tmp_path, line).startswith(problem)


def test_overflowing_numbers_are_not_finite(tmp_path: Path) -> None:
    assert _error(tmp_path, GOOD.replace('"retail": 0.3', '"retail": 1e400')) == (
        "not a slot summary (retail: not a finite number)")


def test_bytes_that_are_not_utf8_name_the_line(tmp_path: Path) -> None:
    assert _error(tmp_path, GOOD.encode().replace(b'"Wed"', b'"W\xe9d"')) == "not UTF-8 text (byte 0xe9)"
