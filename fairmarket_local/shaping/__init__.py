"""Reward shaping (SPEC §6): economic reward plus a ramped, scaled fairness term."""

from fairmarket_local.common.lazy import lazy_exports

__all__ = ["FairnessShaper", "ShapingConfig", "ramp"]
__getattr__, __dir__ = lazy_exports(__name__, __all__)
