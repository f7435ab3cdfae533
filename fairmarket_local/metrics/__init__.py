"""Reference fairness metrics (SPEC §4) and episode KPIs."""

from fairmarket_local.common.lazy import lazy_exports

__all__ = ["FairnessScores", "fbs", "fpp", "ftg", "slot_fairness"]
__getattr__, __dir__ = lazy_exports(__name__, __all__)
