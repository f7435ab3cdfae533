"""Hand-computed cases for FTG, FBS and FPP (SPEC §4), including the degenerate ones."""

import numpy as np
import pytest

from fairmarket_local.metrics.fairness import fbs, fpp, ftg, gini, jain, slot_fairness


def test_ftg_share_of_balanceable_energy():
    assert ftg(total_surplus=4.0, total_deficit=2.0, p2p_volume=1.0) == pytest.approx(0.5)
    assert ftg(2.0, 8.0, 2.0) == pytest.approx(1.0)


@pytest.mark.parametrize("s,d", [(0.0, 5.0), (5.0, 0.0), (0.0, 0.0)])
def test_ftg_is_one_when_nothing_can_be_balanced(s, d):
    assert ftg(s, d, 0.0) == 1.0


def test_ftg_clipped_when_volume_exceeds_actual_positions():
    assert ftg(1.0, 1.0, 1.5) == 1.0


def test_fbs_jain_hand_computed():
    # fill ratios 1.0 and 0.5 -> (1.5)^2 / (2 * 1.25) = 0.9
    assert fbs(sold=np.array([2.0, 1.0]), surplus=np.array([2.0, 2.0])) == pytest.approx(0.9)
    # one seller served, three not -> 1/4
    assert fbs(np.array([1.0, 0, 0, 0]), np.ones(4)) == pytest.approx(0.25)


@pytest.mark.parametrize(
    "sold,surplus",
    [([], []), ([1.0], [3.0]), ([0.0, 0.0], [1.0, 2.0]), ([0.5, 0.0], [1.0, 0.0])],
)
def test_fbs_degenerate_cases_are_one(sold, surplus):
    assert fbs(np.array(sold), np.array(surplus)) == 1.0


def test_fbs_gini_variant():
    # fill ratios 1 and 0: Gini = 0.5 -> 1 - Gini = 0.5
    assert fbs(np.array([1.0, 0.0]), np.array([1.0, 1.0]), variant="gini") == pytest.approx(0.5)
    assert fbs(np.array([1.0, 1.0]), np.array([2.0, 2.0]), variant="gini") == pytest.approx(1.0)


def test_jain_and_gini_reference_values():
    assert jain(np.array([1.0, 1.0, 1.0])) == pytest.approx(1.0)
    assert gini(np.array([0.0, 0.0, 0.0, 4.0])) == pytest.approx(0.75)


def test_fpp_midpoint_trades_are_fair():
    assert fpp(np.array([1.0, 2.0]), np.array([0.19, 0.19]), retail=0.30, feed_in=0.08) == pytest.approx(1.0)


def test_fpp_hand_computed():
    # spread 0.08..0.30, mid 0.19, half-spread 0.11; trades 1 kWh at 0.30 and 1 kWh at 0.19
    assert fpp(np.array([1.0, 1.0]), np.array([0.30, 0.19]), 0.30, 0.08) == pytest.approx(0.5)
    # every trade at a bound -> 0
    assert fpp(np.array([3.0]), np.array([0.08]), 0.30, 0.08) == pytest.approx(0.0)


def test_fpp_is_one_without_trades():
    assert fpp(np.array([]), np.array([]), 0.30, 0.08) == 1.0


def test_slot_fairness_combines_all_three():
    scores = slot_fairness(
        seller_surplus=np.array([2.0, 2.0]), seller_sold=np.array([2.0, 1.0]),
        buyer_deficit=np.array([6.0]), trade_qty=np.array([2.0, 1.0]), trade_price=np.array([0.19, 0.19]),
        retail=0.30, feed_in=0.08,
    )
    assert scores.values() == pytest.approx((0.75, 0.9, 1.0))
    assert scores.source == "rule"
