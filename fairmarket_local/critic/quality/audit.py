"""Audit critics with metamorphic relations: does each score move the declared way on every variant?

Every critic (model × template, or ``rule``) scores the audited two-sided slots and their variants (see
:mod:`.relations`) through :func:`~fairmarket_local.critic.factory.make_critic` — one ``score`` call per
chunk, so the memo answers what an earlier audit already asked. Per critic and relation: the share of
variants whose scores satisfy the relation, the worst violation, how often the critic moved the declared
way at all (a critic that never moves satisfies every "must not fall" — this column tells it apart), and
the worst violated pairs as examples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fairmarket_local.critic.base import score_in_chunks
from fairmarket_local.critic.factory import make_critic, takes_template
from fairmarket_local.critic.memo.cache import CacheMode
from fairmarket_local.critic.quality.compare import critic_pairs
from fairmarket_local.critic.quality.relations import RELATIONS, Relation
from fairmarket_local.env.summary_types import SlotSummary
from fairmarket_local.metrics.fairness import FairnessScores

DEFAULT_TOLERANCE = 0.05
#: A score "moved" the declared way when it did by at least one step of a two-decimal answer.
RESPONSIVE_STEP = 0.01
_SLACK = 1e-9  # float noise a "must not fall" forgives
Advance = Callable[..., None]


@dataclass(frozen=True)
class Variant:
    """One relation applied to one audited slot (``slot`` indexes the audited list)."""

    slot: int
    relation: Relation
    summary: SlotSummary


@dataclass(frozen=True)
class PairCheck:
    """How one (base, variant) pair of scores fares under its relation."""

    satisfied: bool
    violation: float  # the largest move the relation forbids (0 when satisfied)
    responsive: bool  # every declared direction was moved by at least RESPONSIVE_STEP (directional only)


@dataclass(frozen=True)
class Example:
    """A violated pair, kept to show."""

    slot: int
    relation: str
    base: SlotSummary
    variant: SlotSummary
    base_scores: FairnessScores
    variant_scores: FairnessScores
    violation: float


@dataclass
class AuditRun:
    """One critic's audit: a row per relation and its worst violated pairs."""

    model: str
    template: str
    rows: list[dict[str, Any]]
    examples: list[Example] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditPlan:
    """What every critic of an audit scores: the audited slots and their variants."""

    slots: list[SlotSummary]
    variants: list[Variant]
    skipped: dict[str, int]  # per relation, the slots it could not vary
    left_out: int  # one-sided slots (every critic scores them 1 / 1 / 1 by §4 without judging)
    relations: tuple[Relation, ...]

    @property
    def batch(self) -> list[SlotSummary]:
        """The slots, then the variants: what each critic scores."""
        return self.slots + [v.summary for v in self.variants]

    @property
    def grouped(self) -> list[int]:
        """The order in which a critic scores :attr:`batch` (indices into it): each slot, then its variants.
        A slot's variants share most of its text, and a model critic's prompts of one call are sorted, so
        llama.cpp re-evaluates only what differs from the previous prompt (it keeps that one's KV cache)."""
        groups = [[i] for i in range(len(self.slots))]
        for k, variant in enumerate(self.variants):
            groups[variant.slot].append(len(self.slots) + k)
        return [i for group in groups for i in group]


@dataclass
class AuditResult:
    """Everything :func:`run_audit` found, for the report."""

    slots: int
    left_out: int  # one-sided slots (every critic scores them 1 / 1 / 1 by §4 without judging)
    runs: list[AuditRun]
    tolerance: float

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [row for run in self.runs for row in run.rows]


def two_sided(summaries: Sequence[SlotSummary]) -> list[SlotSummary]:
    """The slots with sellers and buyers: the only ones a critic judges."""
    return [s for s in summaries if s["sellers"] and s["buyers"]]


def make_variants(summaries: Sequence[SlotSummary], relations: Sequence[Relation] = RELATIONS,
                  seed: int = 0) -> tuple[list[Variant], dict[str, int]]:
    """Every relation's variant of every slot, and per relation the number of slots it skipped.

    Variant ``(slot i, relation k)`` draws from its own generator ``[seed, i, k]``, so it does not depend
    on which other slots or relations are audited.
    """
    variants: list[Variant] = []
    skipped = {r.name: 0 for r in relations}
    for i, summary in enumerate(summaries):
        for relation in relations:
            made = relation.make(summary, np.random.default_rng([seed, i, _index(relation)]))
            if made is None:
                skipped[relation.name] += 1
            else:
                variants.append(Variant(i, relation, made))
    return variants, skipped


def _index(relation: Relation) -> int:
    return [r.name for r in RELATIONS].index(relation.name) if relation in RELATIONS else len(RELATIONS)


def check_pair(relation: Relation, base: FairnessScores, variant: FairnessScores,
               tolerance: float = DEFAULT_TOLERANCE) -> PairCheck:
    """Whether ``variant``'s scores moved from ``base``'s as ``relation`` declares."""
    worst, responsive = 0.0, True
    for score, direction in relation.expect.items():
        move = getattr(variant, score) - getattr(base, score)
        if direction == "same":
            wrong = abs(move) if abs(move) > tolerance + _SLACK else 0.0
        else:
            wrong = max(-move if direction == "up" else move, 0.0)
            wrong = wrong if wrong > _SLACK else 0.0
            responsive &= (move if direction == "up" else -move) >= RESPONSIVE_STEP - _SLACK
        worst = max(worst, wrong)
    return PairCheck(worst == 0.0, worst, responsive)


def relation_rows(model: str, template: str, plan: AuditPlan, base: list[FairnessScores],
                  scored: list[FairnessScores], tolerance: float, examples: int) -> AuditRun:
    """The rows and examples of one critic from its scores of the slots (``base``) and variants."""
    run = AuditRun(model, template, [])
    for relation in plan.relations:
        mine = [(v, s) for v, s in zip(plan.variants, scored) if v.relation.name == relation.name]
        checks = [check_pair(relation, base[v.slot], s, tolerance) for v, s in mine]
        run.rows.append(_row(model, template, relation, mine, checks, plan.skipped[relation.name], base))
        worst = sorted(((c.violation, k) for k, c in enumerate(checks) if not c.satisfied), reverse=True)
        for wrong, k in worst[:examples]:
            variant, scores = mine[k]
            run.examples.append(Example(variant.slot, relation.name, plan.slots[variant.slot], variant.summary,
                                        base[variant.slot], scores, wrong))
    return run


def _row(model: str, template: str, relation: Relation, pairs: list[tuple[Variant, FairnessScores]],
         checks: list[PairCheck], skipped: int, base: list[FairnessScores]) -> dict[str, Any]:
    directional = "same" not in relation.expect.values()
    n = len(checks)
    fallbacks = sum(1 for v, s in pairs if "fallback" in (s.source, base[v.slot].source))
    return {
        "model": model, "template": template, "relation": relation.name, "family": relation.family,
        "claim": relation.claim(), "variants": n, "skipped": skipped,
        "satisfied_pct": 100.0 * sum(c.satisfied for c in checks) / n if n else float("nan"),
        "worst_violation": max((c.violation for c in checks), default=0.0),
        "responsive_pct": (100.0 * sum(c.responsive for c in checks) / n if n and directional else float("nan")),
        "fallbacks": fallbacks,
    }


def plan_audit(summaries: Sequence[SlotSummary], relations: Sequence[Relation] = RELATIONS,
               limit: int | None = None, seed: int = 0) -> AuditPlan:
    """The first ``limit`` two-sided slots and every relation's variant of each."""
    judged = two_sided(summaries)
    audited = judged[:limit]
    variants, skipped = make_variants(audited, relations, seed)
    return AuditPlan(audited, variants, skipped, len(summaries) - len(judged), tuple(relations))


def audit_critic(model: str, template: str, plan: AuditPlan, *, tolerance: float = DEFAULT_TOLERANCE,
                 cache_dir: Path | None = None, cache_mode: CacheMode = "use", n_threads: int = 1, workers: int = 1,
                 examples: int = 2, advance: Advance = lambda n=1, **_: None) -> AuditRun:
    """One critic scores the slots and their variants in one batch, then each relation is checked."""
    opts: dict[str, Any] = ({"template": template, "n_threads": n_threads, "workers": workers}
                            if takes_template(model) else {})
    batch, order = plan.batch, plan.grouped
    with make_critic(model, cache_dir=cache_dir, cache_mode=cache_mode, **opts) as critic:
        in_order = score_in_chunks(critic, [batch[i] for i in order], advance)
        stats = critic.stats.as_dict()
    scored = [in_order[k] for k in np.argsort(order)]
    n = len(plan.slots)
    run = relation_rows(model, template, plan, scored[:n], scored[n:], tolerance, examples)
    run.stats = stats
    return run


def run_audit(plan: AuditPlan, models: Sequence[str], templates: Sequence[str] = (), *,
              tolerance: float = DEFAULT_TOLERANCE, cache_dir: Path | None = None, cache_mode: CacheMode = "use",
              n_threads: int = 1, workers: int = 1, examples: int = 2,
              advance: Advance = lambda n=1, **_: None) -> AuditResult:
    """Audit every (model, template) pair of :func:`critic_pairs` on ``plan``."""
    runs = [audit_critic(m, t, plan, tolerance=tolerance, cache_dir=cache_dir, cache_mode=cache_mode,
                         n_threads=n_threads, workers=workers, examples=examples, advance=advance)
            for m, t in critic_pairs(list(models), list(templates))]
    return AuditResult(len(plan.slots), plan.left_out, runs, tolerance)


def audit_critics(
    summaries: Sequence[SlotSummary], models: Sequence[str], templates: Sequence[str] = (),
    cache_dir: Path | None = None, cache_mode: CacheMode = "use", tolerance: float = DEFAULT_TOLERANCE, *,
    relations: Sequence[Relation] = RELATIONS, limit: int | None = None, seed: int = 0, **options: Any,
) -> list[dict[str, Any]]:
    """The audit table's rows (one per critic × relation) for the first ``limit`` two-sided slots;
    ``options`` go to :func:`run_audit` (``n_threads``, ``workers``, ``examples``, ``advance``)."""
    plan = plan_audit(summaries, relations, limit, seed)
    return run_audit(plan, models, templates, tolerance=tolerance, cache_dir=cache_dir, cache_mode=cache_mode,
                     **options).rows


def family_shares(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, float]]:
    """Per (model, template): the share of variants satisfied in each relation family (variant-weighted)."""
    return {critic: {family: _weighted([r for r in mine if r["family"] == family], "satisfied_pct")
                     for family in dict.fromkeys(r["family"] for r in mine)}
            for critic, mine in _by_critic(rows).items()}


#: The audit's summary in the ``critic compare`` table (:func:`audit_columns`).
AUDIT_COLUMNS = ("audit_slots", "audit_variants", "audit_directional_pct", "audit_moved_pct",
                 "audit_invariance_pct", "audit_worst")


def audit_columns(result: AuditResult) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (model, template): the audit in a few numbers, variant-weighted over the relations — the share of
    directional variants satisfied, of those moved the declared way, of irrelevant changes within the
    tolerance, and the worst violation of any relation."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for critic, mine in _by_critic(result.rows).items():
        directional = [r for r in mine if r["family"] != "invariance"]
        values = (result.slots, sum(r["variants"] for r in mine), _weighted(directional, "satisfied_pct"),
                  _weighted(directional, "responsive_pct"),
                  _weighted([r for r in mine if r["family"] == "invariance"], "satisfied_pct"),
                  max((r["worst_violation"] for r in mine), default=0.0))
        out[critic] = dict(zip(AUDIT_COLUMNS, values))
    return out


def _by_critic(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault((row["model"], row["template"]), []).append(row)
    return grouped


def _weighted(rows: Sequence[dict[str, Any]], key: str) -> float:
    """The mean of ``key`` over ``rows``, each weighted by its variants; NaN without variants."""
    n = sum(r["variants"] for r in rows)
    return sum(r[key] * r["variants"] for r in rows if r["variants"]) / n if n else float("nan")
