"""Interval estimates of experiment results, with rliable (Agarwal et al., NeurIPS 2021).

Every (grid point, arm) has one held-out row per seed. For each KPI this module gives

* the **IQM** (interquartile mean: the mean of the middle 50 % of seeds, robust to one bad seed) with a
  **stratified-bootstrap 95 % confidence interval** over seeds;
* the **probability of improvement** P(X better than Y) of each arm over each reference arm (truthful
  bidding, IPPO without fairness), the Mann–Whitney statistic over seed pairs, with its bootstrap CI.
  "Better" follows the KPI's direction (:data:`LOWER_IS_BETTER`): a lower consumer cost is better;
* the **performance profile** of an arm: the share of its seeds at least as good as each threshold τ (a
  higher share is better whatever the KPI's direction), with a bootstrap CI per τ — the whole
  distribution over seeds rather than one aggregate.

Bootstraps are seeded, each group by itself, so a table does not depend on which other arms it holds.
With one seed an interval is the point itself: say so rather than read it as certainty.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

KPIS = ("consumer_cost_vs_grid_only", "p2p_share_of_demand", "market_efficiency",
        "gini_household_savings", "utility_net_revenue", "ftg", "fbs", "fpp")
PROFILE_KPIS = ("consumer_cost_vs_grid_only", "ftg", "fbs", "fpp")  # the frontier's axes, seed by seed
LOWER_IS_BETTER = frozenset({"consumer_cost_vs_grid_only", "buyer_cost_vs_grid_only", "gini_household_savings",
                             "constraint_violations"})


def higher_is_better(kpi: str) -> bool:
    return kpi not in LOWER_IS_BETTER


class StatisticsConfig(BaseModel):
    """The ``statistics`` section of an experiment config."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    reps: int = Field(2000, ge=100, description="bootstrap replications per interval")
    confidence: float = Field(0.95, gt=0.0, lt=1.0)
    seed: int = Field(0, ge=0, description="seed of every bootstrap")
    improvement_over: list[str] | None = Field(
        None, description="reference arms of the probability of improvement; default: truthful and every"
                          " training arm without fairness shaping (lambda_max 0)")
    plateau_metric: str = Field("reward_econ", description="training-curve column the plateau is judged on")
    plateau_window: int = Field(0, ge=0, description="episodes per moving mean; 0: a tenth of the run (>= 5)")
    plateau_tolerance: float = Field(0.1, gt=0.0, lt=1.0, description="band around the final mean, as a"
                                     " share of the curve's largest distance from it")


@dataclass(frozen=True)
class Interval:
    """A point estimate and its confidence interval."""

    point: float
    low: float
    high: float

    def text(self, digits: int = 3) -> str:
        return f"{self.point:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def iqm(scores: np.ndarray) -> np.ndarray:
    """The 25 %-trimmed mean of all scores (rliable's ``aggregate_iqm``, SciPy's ``trim_mean`` cut), in numpy:
    the bootstrap calls it once per replicate."""
    ordered = np.sort(scores, axis=None)
    cut = int(0.25 * len(ordered))
    return np.array([ordered[cut:len(ordered) - cut].mean()])



def _bootstrap(data: np.ndarray | tuple[np.ndarray, np.ndarray], func: Callable[..., Any],
               config: StatisticsConfig) -> list[Interval]:
    """rliable's stratified bootstrap of ``func`` over runs (one task): an interval per value ``func`` returns."""
    from rliable import library

    # rliable 1.2 draws its resampling indices from NumPy's global generator (its random_state argument
    # reaches only arch): seed that for the call and give the caller's state back.
    saved = np.random.get_state()
    np.random.seed(config.seed)  # per group: a table does not depend on the other groups it holds
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # arch deprecates rliable's random_state keyword
            points, intervals = library.get_interval_estimates(
                {"x": data}, func, reps=config.reps, confidence_interval_size=config.confidence,
                random_state=np.random.RandomState(config.seed))
    finally:
        np.random.set_state(saved)
    lows, highs = np.asarray(intervals["x"]).reshape(2, -1)
    return [Interval(float(point), float(low), float(high))
            for point, low, high in zip(np.ravel(points["x"]), lows, highs)]


def _column(values: Iterable[float], sign: float = 1.0) -> np.ndarray:
    return sign * np.asarray(list(values), dtype=np.float64).reshape(-1, 1)


def iqm_interval(values: Iterable[float], config: StatisticsConfig) -> Interval:
    """IQM over seeds with its stratified-bootstrap CI."""
    scores = _column(values)
    if len(scores) < 2:
        return Interval(*(float(scores.mean()),) * 3)
    return _bootstrap(scores, iqm, config)[0]


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) over all pairs of runs, ties one half: the statistic of rliable's
    ``metrics.probability_of_improvement`` for one task, without a SciPy test per bootstrap replicate."""
    difference = x[:, None, 0] - y[None, :, 0]
    return float(np.mean((difference > 0) + 0.5 * (difference == 0)))


def improvement_interval(x: Iterable[float], y: Iterable[float], kpi: str, config: StatisticsConfig) -> Interval:
    """P(an X seed beats a Y seed on ``kpi``) with its stratified-bootstrap CI."""
    sign = 1.0 if higher_is_better(kpi) else -1.0
    xs, ys = _column(x, sign), _column(y, sign)
    if min(len(xs), len(ys)) < 2:
        point = probability_of_improvement(xs, ys)
        return Interval(point, point, point)
    return _bootstrap((xs, ys), probability_of_improvement, config)[0]


def profile_thresholds(values: Iterable[float], steps: int = 101) -> np.ndarray:
    """Evenly spaced thresholds over the range of every arm's values of one KPI."""
    array = np.asarray(list(values), dtype=np.float64)
    return np.linspace(array.min(), array.max(), steps)


def profile_interval(values: Iterable[float], thresholds: np.ndarray, kpi: str,
                     config: StatisticsConfig) -> list[Interval]:
    """The share of seeds at least as good as each threshold (at or above it, at or below it for a
    lower-is-better KPI) with its stratified-bootstrap CI: rliable's run-score performance profile, with
    the threshold itself counted so that a profile starts at 1 on the lowest value."""
    sign = 1.0 if higher_is_better(kpi) else -1.0
    scores, taus = _column(values, sign), sign * thresholds

    def shares(resampled: np.ndarray) -> np.ndarray:
        return np.mean(resampled[:, :1] >= taus[None, :], axis=0)

    if len(scores) < 2:
        return [Interval(*(float(share),) * 3) for share in shares(scores)]
    return _bootstrap(scores, shares, config)


@dataclass(frozen=True)
class KpiIntervals:
    """One grid point and arm — with the reference arm for a probability of improvement — an interval per KPI."""

    point: tuple[Any, ...]
    arm: str
    kpis: dict[str, Interval]
    seeds: int = 0
    reference: str = ""


def group_rows(rows: list[dict[str, Any]], grid_keys: list[str]) -> dict[tuple[Any, ...], dict[str, list]]:
    """Rows by grid point, then by arm, in first-seen order."""
    groups: dict[tuple[Any, ...], dict[str, list]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in grid_keys), {}).setdefault(row["arm"], []).append(row)
    return groups


def arm_intervals(rows: list[dict[str, Any]], grid_keys: list[str], config: StatisticsConfig,
                  kpis: tuple[str, ...] = KPIS) -> list[KpiIntervals]:
    """IQM intervals of every (grid point, arm)."""
    return [KpiIntervals(point, arm, {kpi: iqm_interval((m[kpi] for m in members), config) for kpi in kpis},
                         seeds=len(members))
            for point, arms in group_rows(rows, grid_keys).items() for arm, members in arms.items()]


@dataclass(frozen=True)
class Profile:
    """The performance profile of one arm on one KPI: a share of seeds (with its CI) per threshold."""

    point: tuple[Any, ...]
    arm: str
    kpi: str
    thresholds: tuple[float, ...]
    shares: tuple[Interval, ...]


def profiles(rows: list[dict[str, Any]], grid_keys: list[str], config: StatisticsConfig,
             kpis: tuple[str, ...]) -> list[Profile]:
    """Performance profiles of every (grid point, arm) on each KPI, on thresholds shared by a point's arms."""
    found = []
    for point, arms in group_rows(rows, grid_keys).items():
        for kpi in kpis:
            taus = profile_thresholds(m[kpi] for members in arms.values() for m in members)
            found += [Profile(point, arm, kpi, tuple(map(float, taus)),
                              tuple(profile_interval((m[kpi] for m in members), taus, kpi, config)))
                      for arm, members in arms.items()]
    return found


def improvements(rows: list[dict[str, Any]], grid_keys: list[str], references: list[str],
                 config: StatisticsConfig, kpis: tuple[str, ...] = KPIS) -> list[KpiIntervals]:
    """The probability of improvement of every other arm over each reference arm, per grid point."""
    found = []
    for point, arms in group_rows(rows, grid_keys).items():
        for reference in (r for r in references if r in arms):
            base = arms[reference]
            found += [KpiIntervals(point, arm, {kpi: improvement_interval(
                (m[kpi] for m in members), (b[kpi] for b in base), kpi, config) for kpi in kpis}, reference=reference)
                      for arm, members in arms.items() if arm != reference]
    return found
