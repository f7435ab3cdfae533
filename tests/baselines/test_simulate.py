"""Baseline bidders give sensible KPIs and never break a market rule."""

import importlib
import json

import pytest

from fairmarket_local.baselines import POLICIES, simulate
from fairmarket_local.baselines.simulation import simulate_to_files
from fairmarket_local.common.errors import FairmarketError
from tests.mounts import read_only_view

simulate_module = importlib.import_module("fairmarket_local.baselines.simulation")


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


def test_simulate_to_files_writes_both_outputs(tmp_path):
    result = simulate_to_files(tmp_path / "out" / "metrics.json", tmp_path / "slots" / "s.jsonl", days=1)
    assert json.loads((tmp_path / "out" / "metrics.json").read_text()) == result.metrics
    assert len((tmp_path / "slots" / "s.jsonl").read_text().splitlines()) == len(result.summaries) > 0


def _nothing_written(tmp_path, before):
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_an_unwritable_slots_path_writes_nothing(tmp_path):
    (tmp_path / "file").write_text("mine")
    (tmp_path / "folder").mkdir()
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    for slots in (tmp_path / "file" / "s.jsonl", tmp_path / "file" / "a" / "s.jsonl", tmp_path / "folder"):
        with pytest.raises(FairmarketError, match=f"cannot write {slots}") as info:
            simulate_to_files(tmp_path / "out" / "metrics.json", slots, force=True, days=1)
        assert "\n" not in str(info.value)
        _nothing_written(tmp_path, before)
    (tmp_path / "src").mkdir()
    with read_only_view(tmp_path / "src", tmp_path / "ro") as ro:
        before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
        with pytest.raises(FairmarketError, match=f"{ro} is not writable"):
            simulate_to_files(tmp_path / "out" / "metrics.json", ro / "slots" / "s.jsonl", days=1)
        _nothing_written(tmp_path, before)


def test_metrics_that_cannot_be_written_take_the_slots_back(tmp_path, monkeypatch):
    def full(path, obj):
        raise FairmarketError(f"cannot write {path}: No space left on device")

    monkeypatch.setattr(simulate_module, "write_json", full)
    with pytest.raises(FairmarketError, match="No space left"):
        simulate_to_files(tmp_path / "metrics.json", tmp_path / "s.jsonl", days=1)
    assert list(tmp_path.iterdir()) == []


def test_existing_outputs_are_kept(tmp_path):
    (tmp_path / "metrics.json").write_text("mine")
    with pytest.raises(FairmarketError, match="already exists"):
        simulate_to_files(tmp_path / "metrics.json", tmp_path / "s.jsonl", days=1)
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]
    assert (tmp_path / "metrics.json").read_text() == "mine"
