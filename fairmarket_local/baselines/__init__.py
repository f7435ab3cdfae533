"""Baseline bidders (grid-only, truthful, zero-intelligence) and the simulation runner."""

from fairmarket_local.baselines.policies import POLICIES, make_policy
from fairmarket_local.baselines.simulate import SimulationResult, simulate

__all__ = ["POLICIES", "SimulationResult", "make_policy", "simulate"]
