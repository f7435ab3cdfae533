"""The situation generator: seeded, consistent summaries that cover every kind of slot."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from fairmarket_local.critic.distill.generator import KINDS, generate_slots
from fairmarket_local.critic.slots_io import _problem
from fairmarket_local.env.summary import summary_fairness

SLOTS = generate_slots(1500, seed=3)


def test_same_seed_same_slots_and_longer_runs_extend_shorter_ones() -> None:
    assert generate_slots(50, seed=3) == SLOTS[:50]
    assert generate_slots(50, seed=4) != SLOTS[:50]


def test_every_kind_and_size_appears() -> None:
    kinds = Counter(s["generator"] for s in SLOTS)
    assert set(kinds) == set(KINDS)
    sizes = [len(s["sellers"]) + len(s["buyers"]) for s in SLOTS]
    assert min(sizes) <= 2 and max(sizes) >= 14


def test_summaries_are_consistent() -> None:
    for summary in SLOTS:
        _check(summary)


def _check(summary: dict) -> None:
    assert _problem(summary) == ""
    lo, hi = summary["feed_in"], summary["retail"]
    sold: Counter = Counter()
    bought: Counter = Counter()
    for t in summary["trades"]:
        assert lo - 1e-9 <= t["price"] <= hi + 1e-9 and t["kwh"] > 0
        sold[t["seller"]] += t["kwh"]
        bought[t["buyer"]] += t["kwh"]
    for side, traded, energy, order in (("sellers", sold, "surplus_kwh", "offer_kwh"),
                                        ("buyers", bought, "deficit_kwh", "request_kwh")):
        for p in summary[side]:
            assert p["p2p_kwh"] == pytest.approx(traded[p["id"]], abs=0.011)
            assert p["p2p_kwh"] <= p[order] + 1e-9 <= p[energy] + 2e-9
            prices = [t["price"] for t in summary["trades"] if p["id"] in (t["seller"], t["buyer"])]
            if prices:  # limit prices admit every trade of the party
                assert p["price"] <= min(prices) + 1e-9 if side == "sellers" else p["price"] >= max(prices) - 1e-9
    volume = sum(t["kwh"] for t in summary["trades"])
    assert summary["grid"]["export_kwh"] == pytest.approx(sum(s["surplus_kwh"] for s in summary["sellers"]) - volume,
                                                          abs=0.02)


def test_the_situations_differ_in_their_scores() -> None:
    by_kind: dict[str, list] = {}
    for s in SLOTS:
        by_kind.setdefault(s["generator"], []).append(summary_fairness(s).values())
    mean = {k: np.mean(v, axis=0) for k, v in by_kind.items()}
    assert mean["fair"][2] > 0.9 > mean["seller_favoured"][2]  # FPP: mid price vs near retail
    assert mean["even_split"][1] > 0.99 > mean["monopoly"][1]  # FBS: equal fill vs one seller
    assert mean["no_trade"][0] < 0.01  # FTG: nothing traded although both sides were there
    traded = np.array([summary_fairness(s).values() for s in SLOTS if s["trades"]])
    assert (traded.std(axis=0) > 0.2).all()


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown slot kinds"):
        generate_slots(3, kinds=("monopoly", "chaos"))
