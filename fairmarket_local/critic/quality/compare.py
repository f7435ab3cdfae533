"""Critic comparison (SPEC §8): several (model × template) critics score the same recorded slots.

Per critic: validity, latency, throughput, cache hit rate, agreement with the §4 reference (MAE and
Spearman per score), invariance under seller/buyer relabelling, repeatability (a second, uncached
pass in a freshly loaded critic on a subset) and, given an audit plan, the audit's summary (the share of
metamorphic variants satisfied, :func:`~fairmarket_local.critic.quality.audit.audit_columns`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fairmarket_local.critic.factory import make_critic, takes_template
from fairmarket_local.critic.memo.cache import CacheMode
from fairmarket_local.critic.quality.permute import is_permutable, permute_summary
from fairmarket_local.critic.registry.manifests import get_model
from fairmarket_local.env.summary import summary_fairness
from fairmarket_local.env.summary_types import SlotSummary
from fairmarket_local.metrics.fairness import SCORE_NAMES, FairnessScores

if TYPE_CHECKING:
    from fairmarket_local.critic.quality.audit import AuditPlan


@dataclass
class CriticRun:
    """One critic's scores and timings over the compared slots."""

    model: str
    template: str
    scores: list[FairnessScores]
    latencies: list[float]
    hit_rate: float
    permuted: list[tuple[FairnessScores, FairnessScores]] = field(default_factory=list)
    repeated: list[tuple[FairnessScores, FairnessScores]] = field(default_factory=list)


DEFAULT_TEMPLATES = ("raw", "grounded")


def critic_pairs(models: list[str], templates: list[str]) -> list[tuple[str, str]]:
    """Every (model, template); critics without a prompt (rule, a fairness model) appear once. Without templates
    each model uses the one its manifest names (a distilled student's), else ``raw`` and ``grounded``."""
    def own(model: str) -> list[str]:
        return templates or ([t] if (t := get_model(model).template) else list(DEFAULT_TEMPLATES))

    pairs = [(m, t) for m in models if takes_template(m) for t in own(m)]
    return pairs + [(m, "-") for m in models if not takes_template(m)]


def run_critic(
    model: str, template: str, summaries: Sequence[SlotSummary], cache_dir: Path | None, cache_mode: CacheMode,
    invariance_n: int = 20, repeat_n: int = 10, seed: int = 0, n_threads: int = 1,
    advance: Callable[..., None] = lambda n=1, **_: None,
) -> CriticRun:
    """Score every slot one at a time (timed), then the invariance and repeatability subsets."""
    opts: dict[str, Any] = {"template": template, "n_threads": n_threads} if takes_template(model) else {}
    with make_critic(model, cache_dir=cache_dir, cache_mode=cache_mode, **opts) as critic:
        scores, latencies = [], []
        for summary in summaries:
            start = time.perf_counter()
            scores.extend(critic.score([summary]))
            latencies.append(time.perf_counter() - start)
            advance(1)
        hit_rate = critic.stats.hit_rate
        rng = np.random.default_rng(seed)
        chosen = [i for i, s in enumerate(summaries) if is_permutable(s)][:invariance_n]
        permuted = critic.score([permute_summary(summaries[i], rng) for i in chosen])
    run = CriticRun(model, template, scores, latencies, hit_rate, list(zip([scores[i] for i in chosen], permuted)))
    if repeat_n > 0:
        with make_critic(model, cache_mode="off", **opts) as fresh:
            again = fresh.score(summaries[:repeat_n])
        run.repeated = list(zip(scores[:repeat_n], again))
    return run


def summarize(run: CriticRun, reference: list[FairnessScores]) -> dict[str, Any]:
    """One row of the comparison table."""
    lat = np.array(run.latencies)
    valid = [s.source != "fallback" for s in run.scores]
    row: dict[str, Any] = {
        "model": run.model, "template": run.template, "slots": len(run.scores),
        "validity_pct": 100.0 * float(np.mean(valid)), "fallbacks": valid.count(False),
        "mean_latency_ms": 1e3 * float(lat.mean()), "p95_latency_ms": 1e3 * float(np.percentile(lat, 95)),
        "slots_per_s": len(lat) / float(lat.sum()) if lat.sum() > 0 else float("inf"),
        "cache_hit_rate": run.hit_rate,
    }
    got = np.array([s.values() for s in run.scores])
    ref = np.array([s.values() for s in reference])
    for k, name in enumerate(SCORE_NAMES):
        row[f"mae_{name}"] = float(np.abs(got[:, k] - ref[:, k]).mean())
    for k, name in enumerate(SCORE_NAMES):
        row[f"spearman_{name}"] = spearman(got[:, k], ref[:, k])
    row["invariance_pct"], row["invariance_mad"] = _agreement(run.permuted)
    row["repeatability_pct"] = _agreement(run.repeated)[0]
    return row


def compare_critics(
    summaries: Sequence[SlotSummary], models: list[str], templates: list[str], cache_dir: Path | None,
    cache_mode: CacheMode = "use", invariance_n: int = 20, repeat_n: int = 10, n_threads: int = 1,
    advance: Callable[..., None] = lambda n=1, **_: None, *, audit: AuditPlan | None = None,
    tolerance: float | None = None, workers: int = 1,
) -> tuple[list[dict[str, Any]], list[CriticRun]]:
    """Rows of the comparison table and the raw runs (for plots). With ``audit`` (a plan of the compared
    slots, :func:`~fairmarket_local.critic.quality.audit.plan_audit`), every critic is also audited on it
    (``workers`` llama.cpp processes, the memo answering the slots just compared) and each row gets the
    audit's summary columns."""
    reference = [summary_fairness(s) for s in summaries]
    runs = [run_critic(m, t, summaries, cache_dir, cache_mode, invariance_n, repeat_n, n_threads=n_threads,
                       advance=advance) for m, t in critic_pairs(models, templates)]
    rows = [summarize(r, reference) for r in runs]
    if audit is not None:
        from fairmarket_local.critic.quality import audit as metamorphic  # it imports this module

        result = metamorphic.run_audit(
            audit, models, templates, tolerance=metamorphic.DEFAULT_TOLERANCE if tolerance is None else tolerance,
            cache_dir=cache_dir, cache_mode=cache_mode, n_threads=n_threads, workers=workers, examples=0,
            advance=advance)
        columns = metamorphic.audit_columns(result)
        for row in rows:
            row.update(columns[(row["model"], row["template"])])
    return rows, runs


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); NaN when either side is constant."""
    ra, rb = _ranks(a), _ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=np.float64)
    for value in np.unique(x):  # ties share their mean rank
        tied = x == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def _agreement(pairs: list[tuple[FairnessScores, FairnessScores]]) -> tuple[float, float]:
    """(% of pairs with identical scores, mean absolute difference); NaN without pairs."""
    if not pairs:
        return float("nan"), float("nan")
    diffs = np.array([[abs(x - y) for x, y in zip(a.values(), b.values())] for a, b in pairs])
    return 100.0 * float(np.mean(diffs.max(axis=1) == 0)), float(diffs.mean())
