"""Every shipped study config runs end to end, shortened: the README's findings come from these files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fairmarket_local.experiments import run_experiment
from fairmarket_local.experiments.config import ExperimentConfig, experiment_names, load_experiment
from fairmarket_local.experiments.report import write_report
from fairmarket_local.training.config import load_run_config

SHORT = {"community.n_days": 2, "env.episode_days": 1, "training.episodes": 2, "training.checkpoint_every": 1,
         "critic.amortize.label_budget": 3, "critic.amortize.warmup_labels": 2, "critic.amortize.heldout": 1,
         "critic.workers": 1}
HOUSEHOLDS = 10  # at most: an LLM prompt over 50 households takes ≈ 20 s on 2 cores


def reduced(config: ExperimentConfig) -> ExperimentConfig:
    """Two seeds, the first two values of each grid key, two training episodes of one day, at most 10
    households, a tiny label budget."""
    households = load_run_config(config.scenario).env.community.n_households
    data: dict[str, Any] = config.model_dump()
    data["seeds"] = config.seeds[:2]
    data["eval_episodes"] = 1
    data["grid"] = {key: values[:2] for key, values in config.grid.items()}
    data["overrides"] = {**config.overrides, **SHORT, "community.n_households": min(households, HOUSEHOLDS)}
    data["statistics"] = {**data["statistics"], "reps": 200}
    if config.critic_compare is not None:
        data["critic_compare"] = {**data["critic_compare"], "slots": 2}
    return ExperimentConfig.model_validate(data)


@pytest.mark.slow
@pytest.mark.parametrize("name", experiment_names())
def test_a_shipped_study_runs_and_reports(name: str, tmp_path: Path) -> None:
    config = reduced(load_experiment(name))
    rows = run_experiment(config, tmp_path / name, workers=1)
    points = len(config.grid_points())
    assert len(rows) == points * len(config.seeds) * len(config.arms)
    summary = (tmp_path / name / "summary.md").read_text(encoding="utf-8")
    assert all(f"| {arm.name} |" in summary for arm in config.arms)
    page = write_report(tmp_path / name).read_text(encoding="utf-8")
    assert "Fairness–cost frontier" in page and "Probability of improvement" in page
    assert ((tmp_path / name / "report" / "profiles.png").is_file() is not bool(config.grid))  # profiles: no grid
