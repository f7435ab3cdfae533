"""The ``rule`` back-end: the reference formulas of SPEC §4, no LLM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fairmarket_local.critic.base import Critic
from fairmarket_local.env.summary import summary_fairness
from fairmarket_local.env.summary_types import SlotSummary
from fairmarket_local.metrics.fairness import FairnessScores


class RuleCritic(Critic):
    """Scores a slot with :func:`summary_fairness` (``source="rule"``)."""

    def __init__(self, fbs_variant: str = "jain") -> None:
        super().__init__()
        self.fbs_variant = fbs_variant

    def score(self, summaries: Sequence[SlotSummary]) -> list[FairnessScores]:
        self.stats.calls += len(summaries)
        return [summary_fairness(s, self.fbs_variant) for s in summaries]

    def describe(self) -> dict[str, Any]:
        return {"backend": "rule", "model": "rule", "fbs_variant": self.fbs_variant}
