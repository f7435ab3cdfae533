"""Studies over arms × seeds × grid points (SPEC §8), their executors, and the HTML report."""

from fairmarket_local.experiments.config import ExperimentConfig, load_experiment
from fairmarket_local.experiments.runner import gather, run_experiment

__all__ = ["ExperimentConfig", "gather", "load_experiment", "run_experiment"]
