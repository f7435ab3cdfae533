"""Typed training configuration: the ``training`` and ``critic`` sections of a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fairmarket_local.common.config import validate_section
from fairmarket_local.critic.amortized.config import AmortizeConfig
from fairmarket_local.critic.memo.cache import CacheMode
from fairmarket_local.env.config import EnvConfig, deep_update, read_scenario
from fairmarket_local.shaping import ShapingConfig

GroupMode = Literal["independent", "role", "shared"]


class PPOConfig(BaseModel):
    """Hyper-parameters handed to every group's SB3 ``PPO``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    learning_rate: float = Field(3e-3, gt=0.0)
    n_epochs: int = Field(10, ge=1)
    batch_size: int = Field(1024, ge=2, description="minibatch cap; the largest divisor of the rollout up to it")
    gamma: float = Field(0.9, ge=0.0, le=1.0)
    gae_lambda: float = Field(0.95, ge=0.0, le=1.0)
    clip_range: float = Field(0.2, gt=0.0)
    ent_coef: float = Field(0.01, ge=0.0)
    vf_coef: float = Field(0.5, ge=0.0)
    max_grad_norm: float = Field(0.5, gt=0.0)
    target_kl: float | None = Field(None, gt=0.0)
    net_arch: tuple[int, ...] = (64, 64)


class TrainingConfig(BaseModel):
    """How long and how to train; each rollout is one episode of the env."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    groups: GroupMode = "independent"
    episodes: int = Field(30, ge=1)
    checkpoint_every: int = Field(5, ge=1)
    ppo: PPOConfig = PPOConfig()
    shaping: ShapingConfig = ShapingConfig()


class CriticConfig(BaseModel):
    """Which critic scores the slots and how its memo is used."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = "rule"
    template: str | None = None  # None: the model's own template (distilled critics), else grounded
    cache_mode: CacheMode = "use"
    n_threads: int = Field(1, ge=1, description="threads per model process")
    workers: int = Field(1, ge=1, description="model processes scoring a batch in parallel (llama_cpp)")
    amortize: AmortizeConfig = AmortizeConfig()  # enabled: this critic teaches a learned fairness model


class RunConfig(BaseModel):
    """Everything a training run needs; saved verbatim in the run manifest."""

    model_config = ConfigDict(extra="forbid")

    env: EnvConfig
    training: TrainingConfig = TrainingConfig()
    critic: CriticConfig = CriticConfig()


def load_run_config(scenario: str | Path | dict[str, Any] = "pilot", **overrides: Any) -> RunConfig:
    """A scenario (name, path or dict) with dotted overrides as a validated :class:`RunConfig`."""
    data = dict(scenario) if isinstance(scenario, dict) else read_scenario(scenario)
    data = deep_update(data, overrides)
    env_part = {k: v for k, v in data.items() if k in EnvConfig.model_fields}
    return RunConfig(
        env=validate_section(EnvConfig, env_part, ""),
        training=validate_section(TrainingConfig, data.get("training"), "training"),
        critic=validate_section(CriticConfig, data.get("critic"), "critic"),
    )
