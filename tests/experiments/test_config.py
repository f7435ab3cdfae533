"""Experiment configs: shipped ones validate and expand; mistakes are one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from fairmarket_local.common.errors import ConfigError
from fairmarket_local.experiments import load_experiment
from fairmarket_local.experiments.config import experiment_names
from fairmarket_local.experiments.jobs import expand
from fairmarket_local.training.config import load_run_config

TINY = Path(__file__).parent / "tiny.yaml"


@pytest.mark.parametrize("name", experiment_names())
def test_shipped_experiments_expand_to_valid_run_configs(name: str) -> None:
    config = load_experiment(name)
    jobs = expand(config)
    assert len({job.id for job in jobs}) == len(jobs)
    for job in jobs:
        load_run_config(job.scenario, **job.overrides)


def test_shipped_studies_cover_the_spec() -> None:
    assert {"pilot", "pilot-llm", "frontier", "frontier-llm", "community", "community-llm", "mixed", "scale",
            "sensitivity"} <= set(experiment_names())
    grid = load_experiment("sensitivity").grid
    assert grid["community.pv_scale"] == [0.5, 0.75, 1.0, 1.25, 1.5]
    assert grid["community.demand_scale"] == [0.8, 1.0, 1.2]
    pilot = load_experiment("pilot")
    assert len(pilot.seeds) >= 10
    assert {"grid-only", "truthful", "zi", "ippo-no-fairness", "ippo-rule"} <= {a.name for a in pilot.arms}
    assert "ippo-llm-amortized" in {a.name for a in load_experiment("pilot-llm").arms}
    assert load_experiment("frontier").grid["training.shaping.rho"] == [0.0, 0.1, 0.3, 1.0, 3.0]
    for name in ("pilot-llm", "frontier", "frontier-llm", "sensitivity", "community", "community-llm", "mixed"):
        assert len(load_experiment(name).seeds) >= 5, name


def test_jobs_cover_every_arm_seed_and_grid_point() -> None:
    config = load_experiment(TINY)
    jobs = expand(config)
    # 2 grid points x 2 seeds x (one baseline job + 2 training arms)
    assert len(jobs) == 12
    train = [j for j in jobs if j.kind == "train"]
    assert {j.overrides["community.pv_scale"] for j in train} == {0.8, 1.2}
    assert {j.overrides["seed"] for j in train} == {0, 1}
    no_fair = [j for j in train if j.arms[0][0] == "ippo-no-fairness"]
    assert all(j.overrides["training.shaping.lambda_max"] == 0.0 for j in no_fair)


@pytest.mark.parametrize(("text", "message"), [
    ("scenario: pilot\narms: [{name: a, baseline: nope}]\n", "baseline 'nope' is not one of"),
    ("scenario: pilot\narms: [{name: a, baseline: zi}, {name: a, baseline: truthful}]\n", "arm names must be unique"),
    ("scenario: pilot\narms: [{name: a, baseline: zi, overrides: {seed: 1}}]\n", "takes no overrides"),
    ("scenario: pilot\narms: []\n", "arms"),
    ("scenario: pilot\nseeds: [0]\nbogus: 1\narms: [{name: a, baseline: zi}]\n", "bogus"),
    ("[1, 2]\n", "must be a mapping"),
])
def test_bad_configs_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_experiment(path)
    assert "\n" not in str(info.value)


def test_unknown_experiment_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"known: .*pilot"):
        load_experiment("nope")
