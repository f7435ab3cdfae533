"""The fairness critic (SPEC §5): rule or local-LLM scoring of slot summaries, memoized on disk.

Use :func:`make_critic`; every critic has ``score(list[summary]) -> list[FairnessScores]``.
"""

from fairmarket_local.common.lazy import lazy_exports

__all__ = ["CACHE_MODES", "CACHE_SCHEMA", "Critic", "CriticStats", "FairnessScores", "ReplayMiss", "make_critic"]
__getattr__, __dir__ = lazy_exports(__name__, __all__)
