"""Experiment configs: one scenario, several arms (baselines and training set-ups), seeds and a grid.

An experiment YAML (shipped ones in ``experiments/configs/``, or any path)::

    name: pilot
    scenario: pilot                      # a scenario name or YAML path
    seeds: [0, 1, 2]
    eval_episodes: 3                     # held-out episodes per evaluation
    overrides: {training.episodes: 14}   # dotted keys applied to every arm
    grid: {community.pv_scale: [0.5, 1.0]}   # optional: every combination is a grid point
    arms:
      - {name: truthful, baseline: truthful}
      - {name: ippo-rule, overrides: {critic.model: rule}}
    critic_compare: {models: [smollm2-135m, rule], templates: [grounded], slots: 50}   # optional
    statistics: {reps: 2000, confidence: 0.95}   # optional: interval estimates and the plateau criterion
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fairmarket_local.baselines.policies import POLICIES
from fairmarket_local.common.config import read_named_yaml, validate_section, yaml_names
from fairmarket_local.experiments.stats import StatisticsConfig

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


class Arm(BaseModel):
    """A baseline bidder (``baseline: truthful``) or a training set-up (``overrides`` of the run config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    baseline: str | None = None
    overrides: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_kind(self) -> Arm:
        if self.baseline is not None:
            if self.baseline not in POLICIES:
                raise ValueError(f"baseline {self.baseline!r} is not one of {', '.join(POLICIES)}")
            if self.overrides:
                raise ValueError("a baseline arm takes no overrides (they configure training)")
        return self


class CriticCompare(BaseModel):
    """Compare critics on slots recorded by the experiment's first training run."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    models: list[str]
    templates: list[str] = ["grounded"]
    slots: int = Field(50, ge=1)


class ExperimentConfig(BaseModel):
    """A study: every arm × seed × grid point, evaluated on the same held-out days."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str = ""
    scenario: str
    seeds: list[Annotated[int, Field(ge=0)]] = Field(default_factory=lambda: [0], min_length=1)
    eval_episodes: int = Field(3, ge=1)
    overrides: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    arms: list[Arm] = Field(min_length=1)
    critic_compare: CriticCompare | None = None
    statistics: StatisticsConfig = StatisticsConfig()

    @model_validator(mode="after")
    def _unique(self) -> ExperimentConfig:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError("arm names must be unique")
        if any(not values for values in self.grid.values()):
            raise ValueError("every grid key needs at least one value")
        unknown = set(self.statistics.improvement_over or ()) - set(names)
        if unknown:
            raise ValueError(f"statistics.improvement_over names no arm: {', '.join(sorted(unknown))}")
        return self

    def grid_points(self) -> list[dict[str, Any]]:
        """Every combination of the grid's values ({} when there is no grid)."""
        keys = list(self.grid)
        return [dict(zip(keys, values)) for values in itertools.product(*self.grid.values())]

    @property
    def baseline_arms(self) -> list[Arm]:
        return [a for a in self.arms if a.baseline is not None]

    @property
    def training_arms(self) -> list[Arm]:
        return [a for a in self.arms if a.baseline is None]


def experiment_names() -> list[str]:
    return yaml_names(CONFIG_DIR)


def load_experiment(name_or_path: str | Path) -> ExperimentConfig:
    """A shipped experiment by name, or a YAML file; one-line errors."""
    path, data = read_named_yaml(name_or_path, CONFIG_DIR, "experiment")
    data.setdefault("name", path.stem)
    return validate_section(ExperimentConfig, data, "", origin=f"experiment {path}")
