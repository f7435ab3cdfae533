"""The fairness critic (SPEC §5): rule or local-LLM scoring of slot summaries, memoized on disk.

Use :func:`make_critic`; every critic has ``score(list[summary]) -> list[FairnessScores]``.
"""

from fairmarket_local.critic.base import Critic, CriticStats
from fairmarket_local.critic.cache import CACHE_MODES, CACHE_SCHEMA, ReplayMiss
from fairmarket_local.critic.factory import make_critic
from fairmarket_local.metrics.fairness import FairnessScores

__all__ = ["CACHE_MODES", "CACHE_SCHEMA", "Critic", "CriticStats", "FairnessScores", "ReplayMiss", "make_critic"]
