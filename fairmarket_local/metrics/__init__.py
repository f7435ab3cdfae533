"""Reference fairness metrics (SPEC §4) and episode KPIs."""

from fairmarket_local.metrics.fairness import FairnessScores, fbs, fpp, ftg, slot_fairness

__all__ = ["FairnessScores", "fbs", "fpp", "ftg", "slot_fairness"]
