"""Baseline bidders (grid-only, truthful, zero-intelligence) and the simulation runner."""

from fairmarket_local.common.lazy import lazy_exports

_EXPORTS = {
    "POLICIES": "policies",
    "make_policy": "policies",
    "SimulationResult": "simulation",
    "simulate": "simulation",
    "simulate_to_files": "simulation",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
