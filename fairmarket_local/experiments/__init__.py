"""Studies over arms × seeds × grid points (SPEC §8), their executors, and the HTML report."""

from fairmarket_local.common.lazy import lazy_exports

_EXPORTS = {
    "ExperimentConfig": "config",
    "load_experiment": "config",
    "gather": "runner",
    "run_experiment": "runner",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
