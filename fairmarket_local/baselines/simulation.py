"""Run a baseline policy through a scenario and collect KPIs and slot summaries (and write them, all or nothing)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairmarket_local.baselines.policies import make_policy
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.io import refuse_overwrite, write_json, write_jsonl
from fairmarket_local.common.progress import progress_bar
from fairmarket_local.env.config import EnvConfig, load_env_config
from fairmarket_local.env.core import MarketCore
from fairmarket_local.env.make import build_community
from fairmarket_local.env.summary import SlotSummary, slot_summary


@dataclass
class SimulationResult:
    """KPIs of one simulated episode and, when recorded, its slot summaries."""

    metrics: dict[str, Any]
    summaries: list[SlotSummary] = field(default_factory=list)


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


def simulate_to_files(metrics_path: Path, slots_path: Path | None = None, force: bool = False,
                      **simulation: Any) -> SimulationResult:
    """:func:`simulate` (``simulation`` are its arguments), then write ``metrics_path`` and, if given, every slot
    summary to ``slots_path`` (JSON lines): both or neither.

    Both paths are checked before the simulation runs (not there unless ``force``, in a writable folder); the
    slots are written first and removed again if the metrics then cannot be written.

    :raises FairmarketError: a path exists, or cannot be written (one line naming it).
    """
    targets = [metrics_path] if slots_path is None else [metrics_path, slots_path]
    for path in targets:
        refuse_overwrite(path, force)
        _check_writable(path)
    result = simulate(record_slots=slots_path is not None, **simulation)
    if slots_path is not None:
        write_jsonl(slots_path, result.summaries)
    try:
        write_json(metrics_path, result.metrics)
    except FairmarketError:
        if slots_path is not None:
            slots_path.unlink(missing_ok=True)
        raise
    return result


def _check_writable(path: Path) -> None:
    """:raises FairmarketError: ``path`` is a folder, lies under a file, or its nearest existing folder is read-only.

    Nothing is created: a check that fails leaves no trace.
    """
    folder = next(p for p in Path(path).absolute().parents if p.exists())
    if Path(path).is_dir():
        problem = "it is a folder"
    elif not folder.is_dir():
        problem = f"{folder} is a file, not a folder"
    elif not os.access(folder, os.W_OK):
        problem = f"{folder} is not writable"
    else:
        return
    raise FairmarketError(f"cannot write {path}: {problem}")
