"""Baseline bidders give sensible KPIs and never break a market rule."""

import pytest

from fairmarket_local.baselines import POLICIES, simulate


@pytest.mark.parametrize("policy", POLICIES)
def test_no_violations_and_sane_ratios(policy):
    k = simulate("pilot", policy=policy, days=2).metrics["kpis"]
    assert k["constraint_violations"] == 0
    assert 0.0 <= k["p2p_share_of_demand"] <= 1.0
    for name in ("ftg", "fbs", "fpp"):
        assert 0.0 <= k[name] <= 1.0


def test_grid_only_trades_nothing_and_costs_the_grid_price():
    k = simulate("pilot", policy="grid-only", days=2).metrics["kpis"]
    assert k["p2p_volume_kwh"] == 0.0
    assert k["consumer_cost_vs_grid_only"] == pytest.approx(1.0)
    assert k["utility_net_revenue"] == pytest.approx(k["utility_net_revenue_grid_only"])


@pytest.mark.parametrize("policy", ["truthful", "zi"])
def test_p2p_trading_lowers_consumer_cost_when_there_is_pv_surplus(policy):
    k = simulate("pilot", policy=policy, days=2).metrics["kpis"]
    assert k["p2p_volume_kwh"] > 0
    assert k["consumer_cost_vs_grid_only"] < 1.0
    assert k["seller_revenue_vs_feed_in_only"] > 1.0


def test_truthful_bidders_trade_at_the_midpoint():
    k = simulate("pilot", policy="truthful", days=1).metrics["kpis"]
    assert k["fpp_traded_slots"] == pytest.approx(1.0)
    assert k["market_efficiency"] == pytest.approx(1.0)
