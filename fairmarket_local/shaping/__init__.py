"""Reward shaping (SPEC §6): economic reward plus a ramped, scaled fairness term."""

from fairmarket_local.shaping.shaper import FairnessShaper, ShapingConfig, ramp

__all__ = ["FairnessShaper", "ShapingConfig", "ramp"]
