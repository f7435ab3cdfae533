"""Fairness-shaped IPPO with Stable-Baselines3 (SPEC §7): groups, coordinator, runs, replay, evaluation."""

from fairmarket_local.training.config import RunConfig, load_run_config
from fairmarket_local.training.run import RunResult, train

__all__ = ["RunConfig", "RunResult", "load_run_config", "train"]
