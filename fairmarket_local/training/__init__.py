"""Fairness-shaped IPPO with Stable-Baselines3 (SPEC §7): groups, coordinator, runs, replay, evaluation."""

from fairmarket_local.common.lazy import lazy_exports

__all__ = ["RunConfig", "RunResult", "load_run_config", "train"]
__getattr__, __dir__ = lazy_exports(__name__, __all__)
