"""Run a baseline policy through a scenario and collect KPIs and slot summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairmarket_local.baselines.policies import make_policy
from fairmarket_local.common.progress import progress_bar
from fairmarket_local.env.config import EnvConfig, load_env_config
from fairmarket_local.env.core import MarketCore
from fairmarket_local.env.make import build_community
from fairmarket_local.env.summary import slot_summary


@dataclass
class SimulationResult:
    """KPIs of one simulated episode and, when recorded, its slot summaries."""

    metrics: dict[str, Any]
    summaries: list[dict[str, Any]] = field(default_factory=list)


def simulate(
    scenario: str | Path | dict[str, Any] | EnvConfig = "pilot",
    policy: str = "zi",
    days: int | None = None,
    seed: int | None = None,
    record_slots: bool = False,
    progress: bool = False,
    **overrides: Any,
) -> SimulationResult:
    """Simulate ``days`` days of ``scenario`` with baseline ``policy``; ``seed`` overrides the scenario's."""
    if days is not None:
        overrides.update({"community.n_days": days, "env.episode_days": days})
    if seed is not None:
        overrides["seed"] = seed
    overrides["env.record_summaries"] = record_slots
    config = load_env_config(scenario, **overrides)
    core = MarketCore(config, build_community(config))
    act = make_policy(policy, config.market, seed=config.seed)
    obs = core.reset(config.seed)
    with progress_bar(core.episode_slots, f"{config.name}/{policy}", unit="slots", enabled=progress) as advance:
        while not core.done:
            core.step(act(obs))
            obs = core.observe()
            advance()
    metrics = {
        "scenario": config.name,
        "policy": policy,
        "seed": config.seed,
        "days": core.episode_slots // core.slots_per_day,
        "households": core.n,
        "kpis": core.kpis.result(),
    }
    return SimulationResult(metrics, [slot_summary(r) for r in core.records])
