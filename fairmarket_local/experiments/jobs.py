"""One unit of an experiment's work, runnable in any process (local pool, Ray task) and returning plain data.

A *baseline job* evaluates every baseline arm for one (grid point, seed); a *training job* trains one
arm for one (grid point, seed) into ``OUT/runs/<job>/`` — resuming a run an earlier, interrupted
attempt left there — and evaluates the trained policies on the same held-out episodes.
"""

from __future__ import annotations

import resource
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fairmarket_local.experiments.config import ExperimentConfig
from fairmarket_local.training.config import load_run_config
from fairmarket_local.training.evaluate import baseline_policy, evaluate_policies, held_out_config, trained_policy
from fairmarket_local.training.run import train


@dataclass(frozen=True)
class Job:
    """What to run: the (arm, policy) pairs of a baseline job, or the one arm of a training job."""

    id: str
    kind: str  # "baseline" | "train"
    arms: tuple[tuple[str, str | None], ...]
    seed: int
    grid: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)  # run-config overrides, all layers merged
    scenario: str = ""
    eval_episodes: int = 3


def expand(config: ExperimentConfig) -> list[Job]:
    """Every job of ``config``, baselines first, in a fixed order."""
    jobs = []
    for point in config.grid_points():
        tag = _grid_tag(point)
        for seed in config.seeds:
            common = {**config.overrides, **point, "seed": seed}
            if config.baseline_arms:
                jobs.append(Job(f"baselines{tag}__s{seed}", "baseline",
                                tuple((a.name, a.baseline) for a in config.baseline_arms),
                                seed, point, common, config.scenario, config.eval_episodes))
            jobs += [Job(f"{arm.name}{tag}__s{seed}", "train", ((arm.name, None),), seed, point,
                         {**common, **arm.overrides}, config.scenario, config.eval_episodes)
                     for arm in config.training_arms]
    return jobs


def _grid_tag(point: dict[str, Any]) -> str:
    return "".join(f"__{key.rsplit('.', 1)[-1]}={value}" for key, value in point.items())


def run_job(job: Job, out: str | Path) -> dict[str, Any]:
    """Run ``job`` with ``out`` as the experiment folder; returns its result (evaluation rows and,
    for training, the per-episode metrics). Deterministic for a given job."""
    out = Path(out)
    start = time.perf_counter()
    config = load_run_config(job.scenario, **job.overrides)
    env_config = held_out_config(config)
    training: list[dict[str, Any]] = []
    if job.kind == "baseline":
        contenders = {arm: baseline_policy(policy, env_config)  # type: ignore[arg-type]  # baseline arms name one
                      for arm, policy in job.arms}
    else:
        run_dir = out / "runs" / job.id
        resume = (run_dir / "checkpoints").is_dir() and any((run_dir / "checkpoints").iterdir())
        if run_dir.exists() and not resume:
            shutil.rmtree(run_dir)  # an attempt killed before its first checkpoint
        result = train(job.scenario, out=run_dir, resume=resume, cache_dir=out / "critic-cache", **job.overrides)
        training = result.rows
        contenders = {job.arms[0][0]: trained_policy(run_dir, config, env_config)}
    rows = evaluate_policies(env_config, contenders, job.eval_episodes)
    return {
        "job": asdict(job),
        "rows": [dict(row, arm=row.pop("policy")) for row in rows],
        "training": training,
        "seconds": time.perf_counter() - start,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
