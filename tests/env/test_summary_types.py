"""The slot summary's TypedDicts describe exactly what ``slot_summary`` writes, and their description as data is
what a validator needs."""

import subprocess
import sys
from typing import Literal

import pytest

from fairmarket_local.baselines import simulate
from fairmarket_local.env.summary_types import (
    SUMMARY_FIELDS,
    WEATHERS,
    WEEKDAYS,
    BuyerSummary,
    GridSummary,
    SellerSummary,
    SlotSummary,
    TradeSummary,
    json_types,
    summary_parts,
)


@pytest.fixture(scope="module")
def summaries():
    """A day of trading bidders and a day without orders (parties with ``price`` None)."""
    return [s for policy in ("zi", "grid-only") for s in simulate("pilot", policy=policy, days=1,
                                                                   record_slots=True).summaries]


def _parts(summary):
    """(part name, entry) of every part of a summary, as SUMMARY_FIELDS names them."""
    yield "", summary
    for key in ("sellers", "buyers", "trades"):
        for entry in summary[key]:
            yield key, entry
    yield "grid", summary["grid"]


def test_summaries_have_exactly_the_typed_keys_in_order_with_their_types(summaries):
    assert any(s["trades"] for s in summaries) and any(p["price"] is None for s in summaries for p in s["buyers"])
    for summary in summaries:
        for part, entry in _parts(summary):
            assert list(entry) == list(SUMMARY_FIELDS[part]), part
            for key, value in entry.items():
                assert isinstance(value, SUMMARY_FIELDS[part][key]) and not isinstance(value, bool), (part, key)
        assert summary["day"] in WEEKDAYS and summary["weather"] in WEATHERS


def test_parts_follow_the_nesting_of_the_types():
    assert summary_parts() == {"": SlotSummary, "sellers": SellerSummary, "buyers": BuyerSummary,
                               "trades": TradeSummary, "grid": GridSummary}
    for part, typed_dict in summary_parts().items():
        assert set(SUMMARY_FIELDS[part]) == typed_dict.__required_keys__ == set(typed_dict.__annotations__)


def test_json_types_of_the_annotations():
    assert json_types(float) == (int, float)
    assert json_types(float | None) == (int, float, type(None))
    assert json_types(Literal["a", "b"]) == (str,)
    assert json_types(list[SellerSummary]) == (list,)
    assert json_types(GridSummary) == (dict,)
    assert SUMMARY_FIELDS["sellers"]["price"] == (int, float, type(None))
    assert SUMMARY_FIELDS["trades"]["price"] == (int, float)


def test_the_types_load_without_numpy():
    code = "import sys, fairmarket_local.env.summary_types; assert 'numpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
