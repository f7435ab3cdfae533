"""Studies over arms × seeds × grid points (SPEC §8), their executors, and the HTML report."""

from fairmarket_local.common.lazy import lazy_exports

__all__ = ["ExperimentConfig", "gather", "load_experiment", "run_experiment"]
__getattr__, __dir__ = lazy_exports(__name__, __all__)
