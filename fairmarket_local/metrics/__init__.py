"""Reference fairness metrics (SPEC §4) and episode KPIs."""

from fairmarket_local.common.lazy import lazy_exports

_EXPORTS = {
    "FairnessScores": "fairness",
    "fbs": "fairness",
    "fpp": "fairness",
    "ftg": "fairness",
    "slot_fairness": "fairness",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
