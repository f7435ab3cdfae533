"""Fairness-shaped IPPO with Stable-Baselines3 (SPEC §7): groups, coordinator, runs, replay, evaluation."""

from fairmarket_local.common.lazy import lazy_exports

_EXPORTS = {
    "RunConfig": "config",
    "load_run_config": "config",
    "RunResult": "run",
    "train": "run",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
