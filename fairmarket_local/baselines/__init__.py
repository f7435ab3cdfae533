"""Baseline bidders (grid-only, truthful, zero-intelligence) and the simulation runner."""

from fairmarket_local.common.lazy import lazy_exports

__all__ = ["POLICIES", "SimulationResult", "make_policy", "simulate", "simulate_to_files"]
__getattr__, __dir__ = lazy_exports(__name__, __all__)
