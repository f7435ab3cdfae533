"""The fairness critic (SPEC §5): rule or local-LLM scoring of slot summaries, memoized on disk.

Use :func:`make_critic`; every critic has ``score(list[summary]) -> list[FairnessScores]``.
"""

from fairmarket_local.common.lazy import lazy_exports

_EXPORTS = {
    "Critic": "base",
    "CriticStats": "base",
    "CACHE_MODES": "cache",
    "CACHE_SCHEMA": "cache",
    "ReplayMiss": "cache",
    "make_critic": "factory",
    "FairnessScores": "fairmarket_local.metrics.fairness",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
