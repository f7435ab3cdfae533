"""Interval estimates on synthetic results with a known answer, the plateau criterion, and the study tables."""

from __future__ import annotations

import numpy as np
import pytest
from rliable import metrics

from fairmarket_local.experiments.config import Arm, ExperimentConfig
from fairmarket_local.experiments.convergence import plateau
from fairmarket_local.experiments.stats import (
    StatisticsConfig,
    improvement_interval,
    iqm,
    iqm_interval,
    probability_of_improvement,
    profile_interval,
    profile_thresholds,
)
from fairmarket_local.experiments.summary import reference_arms, summarize, summary_markdown

STATS = StatisticsConfig(reps=1000)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 10, 11, 40])
def test_iqm_and_improvement_are_rliables_statistics(n: int) -> None:
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=(n, 1)), rng.normal(size=(n + 1, 1))
    assert iqm(x)[0] == pytest.approx(metrics.aggregate_iqm(x))
    assert probability_of_improvement(x, y) == pytest.approx(metrics.probability_of_improvement(x, y))


def test_the_iqm_ignores_one_wild_seed() -> None:
    assert iqm_interval([1.0, 1.0, 1.0, 1.0, 1000.0, -1000.0, 1.0, 1.0], STATS).point == 1.0


def test_intervals_cover_a_known_mean_at_about_the_stated_rate() -> None:
    rng = np.random.default_rng(0)
    hits = [iqm_interval(rng.normal(0.5, 0.1, size=10), STATS) for _ in range(60)]
    coverage = np.mean([i.low <= 0.5 <= i.high for i in hits])
    assert 0.8 <= coverage <= 1.0  # percentile bootstrap of 10 runs: near 95 %, a little below
    assert all(i.low <= i.point <= i.high for i in hits)


def test_improvement_follows_the_kpis_direction() -> None:
    cheap, dear = [0.90, 0.91, 0.92, 0.93, 0.94], [0.95, 0.96, 0.97, 0.98, 0.99]
    assert improvement_interval(cheap, dear, "consumer_cost_vs_grid_only", STATS).point == 1.0
    assert improvement_interval(cheap, dear, "ftg", STATS).point == 0.0
    same = improvement_interval(cheap, cheap, "ftg", STATS)
    assert same.point == 0.5 and same.low < 0.5 < same.high


def test_bootstraps_are_seeded_and_leave_numpys_generator_alone() -> None:
    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    first = iqm_interval(np.arange(10.0), STATS)
    assert np.array_equal(np.random.get_state()[1], before)
    assert iqm_interval(np.arange(10.0), STATS) == first
    assert iqm_interval(np.arange(10.0), StatisticsConfig(reps=1000, seed=1)) != first


def test_one_seed_gives_a_point_not_an_interval() -> None:
    one = iqm_interval([0.7], STATS)
    assert one.low == one.point == one.high == 0.7


def test_a_curve_that_levels_off_converges_where_it_levels() -> None:
    rng = np.random.default_rng(0)
    curve = np.r_[np.linspace(0.0, 1.0, 100), np.ones(200)] + rng.normal(0, 0.02, 300)
    found = plateau(curve)
    assert found.converged and 95 <= found.episode <= 140 and found.window == 30


def test_a_curve_still_climbing_has_not_converged() -> None:
    assert not plateau(np.linspace(0.0, 1.0, 300)).converged
    assert not plateau([]).converged


def _study(**statistics) -> ExperimentConfig:
    return ExperimentConfig(name="s", scenario="pilot", statistics=StatisticsConfig(reps=500, **statistics), arms=[
        {"name": "truthful", "baseline": "truthful"},
        {"name": "plain", "overrides": {"training.shaping.lambda_max": 0}}, {"name": "fair", "overrides": {}}])


def _rows() -> list[dict]:
    rng = np.random.default_rng(1)
    rows = []
    for seed in range(10):
        for arm, cost in (("truthful", 0.95), ("plain", 0.95), ("fair", 0.90)):
            row = {k: float(rng.uniform(0.4, 0.6)) for k in ("p2p_share_of_demand", "market_efficiency",
                                                             "gini_household_savings", "utility_net_revenue",
                                                             "ftg", "fbs", "fpp")}
            trained = arm != "truthful"
            rows.append({**row, "arm": arm, "seed": seed, "consumer_cost_vs_grid_only": cost + rng.normal(0, 0.005),
                         "plateau_episode": 120 if trained else None, "converged": trained or None,
                         "training_episodes": 300 if trained else None})
    return rows


def test_reference_arms_default_to_truthful_and_unshaped_training() -> None:
    assert reference_arms(_study()) == ["truthful", "plain"]
    assert reference_arms(_study(improvement_over=["fair"])) == ["fair"]
    with pytest.raises(ValueError, match="names no arm"):
        _study(improvement_over=["nobody"])


def test_the_summary_finds_the_cheaper_arm_and_reports_convergence() -> None:
    config = _study()
    summary = summarize(config, _rows())
    fair = next(f for f in summary.improvements if f.arm == "fair" and f.reference == "truthful")
    cost = fair.kpis["consumer_cost_vs_grid_only"]
    assert cost.point == 1.0 and cost.low > 0.5  # reliably cheaper
    assert {c["arm"]: c["converged"] for c in summary.convergence} == {"plain": 10, "fair": 10}
    text = summary_markdown(config, summary)
    assert "## Probability of improvement" in text and "## Convergence" in text
    assert "[" in text.splitlines()[6]  # the first arm's row shows intervals


def test_a_profile_is_the_share_of_seeds_at_least_as_good_as_each_threshold() -> None:
    values = [0.1, 0.2, 0.3, 0.4]
    taus = np.array([0.0, 0.15, 0.25, 0.35, 0.5])
    assert [i.point for i in profile_interval(values, taus, "ftg", STATS)] == [1.0, 0.75, 0.5, 0.25, 0.0]
    cost = profile_interval(values, taus, "consumer_cost_vs_grid_only", STATS)
    assert [i.point for i in cost] == [0.0, 0.25, 0.5, 0.75, 1.0]  # lower is better: share below τ
    assert all(i.low <= i.point <= i.high for i in cost)
    assert cost[2].low < 0.5 < cost[2].high and cost[0].low == cost[0].high == 0.0


def test_profiles_match_rliables_and_span_every_arms_values() -> None:
    from rliable import library

    rng = np.random.default_rng(3)
    scores = rng.normal(size=12)
    taus = profile_thresholds(np.concatenate([scores, scores + 1.0]), steps=21)
    assert taus[0] == scores.min() and taus[-1] == scores.max() + 1.0
    # rliable counts scores above τ; ours counts τ itself too
    theirs, _ = library.create_performance_profile({"x": scores.reshape(-1, 1)}, np.nextafter(taus, -np.inf), reps=100)
    ours = [i.point for i in profile_interval(scores, taus, "ftg", STATS)]
    assert np.allclose(ours, theirs["x"]) and ours[0] == 1.0


def test_a_study_without_a_grid_gets_profiles_of_cost_and_fairness() -> None:
    summary = summarize(_study(), _rows())
    assert {(p.arm, p.kpi) for p in summary.profiles} >= {("fair", "ftg"), ("truthful", "consumer_cost_vs_grid_only")}
    with_grid_only = _study().model_copy(update={"arms": [*_study().arms, Arm(name="g", baseline="grid-only")]})
    rows = [*_rows(), *({**r, "arm": "g"} for r in _rows() if r["arm"] == "truthful")]
    assert "g" not in {p.arm for p in summarize(with_grid_only, rows).profiles}  # trades nothing
    cost = {p.arm: p for p in summary.profiles if p.kpi == "consumer_cost_vs_grid_only"}
    middle = int(np.searchsorted(cost["fair"].thresholds, 0.925))
    assert cost["fair"].shares[middle].point == 1.0 and cost["truthful"].shares[middle].point == 0.0
    assert all(f.point >= t.point for f, t in zip(cost["fair"].shares, cost["truthful"].shares))
    assert summarize(ExperimentConfig(**{**_study().model_dump(), "grid": {"community.pv_scale": [1.0]}}),
                     [{**r, "pv_scale": 1.0} for r in _rows()]).profiles == []
