"""Reward shaping (SPEC §6): economic reward plus a ramped, scaled fairness term."""

from fairmarket_local.common.lazy import lazy_exports

_EXPORTS = {
    "FairnessShaper": "shaper",
    "ShapingConfig": "shaper",
    "ramp": "shaper",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
