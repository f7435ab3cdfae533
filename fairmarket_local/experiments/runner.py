"""Run an experiment's jobs here (in order, or in a process pool) or on a Ray cluster; gather one table.

The experiment folder::

    OUT/experiment.json      the config (a rerun with another config is refused)
    OUT/results/<job>.json   one file per finished job (written by this process, atomically)
    OUT/runs/<job>/          training runs (checkpoints: an interrupted job resumes)
    OUT/critic-cache/        one critic memo for every run (per-key locks: a slot is scored once)
    OUT/results.csv|jsonl    one row per arm × grid point × seed
    OUT/summary.md           IQM [95 % CI] per arm and grid point, P(improvement), convergence (see .summary)
    OUT/intervals.csv, improvement.csv   the same intervals as tables
    OUT/critic-compare/      the critic-comparison table (with the audit of its first 10 slots), when asked for

A finished job is never run again, so rerunning the same command resumes an interrupted study.
Results do not depend on the executor or the number of workers: every job is seeded by itself.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal

from fairmarket_local.common.config import validate_section
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.io import write_json, write_jsonl, write_text_atomic
from fairmarket_local.common.progress import progress_bar
from fairmarket_local.common.text import decode_utf8, loads_strict
from fairmarket_local.critic.quality.audit import plan_audit
from fairmarket_local.critic.quality.compare import compare_critics
from fairmarket_local.critic.quality.report import table_csv, write_report
from fairmarket_local.env.summary import summary_fairness
from fairmarket_local.experiments.config import ExperimentConfig, load_experiment
from fairmarket_local.experiments.convergence import plateau_columns
from fairmarket_local.experiments.jobs import Job, expand, run_job
from fairmarket_local.experiments.summary import write_tables
from fairmarket_local.training.config import load_run_config
from fairmarket_local.training.evaluate import COLUMNS
from fairmarket_local.training.replay import recorded_slots

Executor = Literal["local", "ray"]


def run_experiment(
    config: str | Path | ExperimentConfig,
    out: str | Path,
    executor: Executor = "local",
    workers: int = 1,
    address: str | None = None,
    force: bool = False,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Run (or resume) every job of ``config`` in ``out``; returns the results table's rows."""
    config = config if isinstance(config, ExperimentConfig) else load_experiment(config)
    out = Path(out)
    _claim_folder(out, config, force)
    jobs = expand(config)
    for job in jobs:  # a typo in an arm fails now, not after an hour of other jobs
        load_run_config(job.scenario, **job.overrides)
    todo = [job for job in jobs if not (out / "results" / f"{job.id}.json").is_file()]
    with progress_bar(len(jobs), f"experiment {config.name}", unit="jobs", enabled=progress) as advance:
        advance(len(jobs) - len(todo))
        for result in _execute(todo, out, executor, workers, address):
            write_json(out / "results" / f"{result['job']['id']}.json", result)
            advance(1, last=result["job"]["id"])
    rows = gather(out)
    if config.critic_compare is not None:
        _compare_critics(config, out, jobs)
    return rows


def _claim_folder(out: Path, config: ExperimentConfig, force: bool) -> None:
    """Write ``experiment.json``; an existing folder must hold the same experiment (or ``force``)."""
    stored = out / "experiment.json"
    wanted = config.model_dump(mode="json")
    if stored.is_file():
        try:
            if read_json(stored) == wanted:
                return
        except FairmarketError:
            if not force:  # --force starts over, whatever the folder holds
                raise
        if not force:
            raise FairmarketError(f"{out} holds another experiment; rerun it with its own config to resume,"
                                  " choose another --out, or pass --force to start over")
    elif out.exists() and any(out.iterdir()) and not force:
        raise FairmarketError(f"{out} is not empty and holds no experiment; choose another --out or pass --force")
    if force and out.exists():
        shutil.rmtree(out)
    # keys keep their order: the grid's key order names the jobs
    write_text_atomic(stored, json.dumps(wanted, indent=2) + "\n")


def _execute(jobs: list[Job], out: Path, executor: Executor, workers: int, address: str | None
             ) -> Iterator[dict[str, Any]]:
    """Results of ``jobs`` as they finish."""
    if not jobs:
        return
    if executor == "ray":
        yield from _execute_ray(jobs, out, workers, address)
    elif workers <= 1:
        for job in jobs:
            yield run_job(job, out)
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_quiet_worker) as pool:
            futures = [pool.submit(run_job, job, str(out)) for job in jobs]
            for future in as_completed(futures):
                yield future.result()


def _quiet_worker() -> None:
    """One core per worker: torch's own threads would fight the other workers."""
    import torch

    torch.set_num_threads(1)


def _execute_ray(jobs: list[Job], out: Path, workers: int, address: str | None) -> Iterator[dict[str, Any]]:
    """Jobs as Ray tasks (one CPU each); ``address`` joins a running cluster, None starts a local one.

    Workers must see ``out`` at the same path (a shared filesystem on a multi-machine cluster): runs,
    and the critic cache, are written there by whichever node runs the job.
    """
    try:
        import ray
    except ImportError:
        raise FairmarketError("the ray executor needs Ray: pip install -e '.[ray]'") from None
    started = not ray.is_initialized()
    if started:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "configure_logging": False}
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=max(workers, 1), **options)
    try:
        task = ray.remote(num_cpus=1)(_ray_job)
        pending = [task.remote(job, str(out.resolve())) for job in jobs]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started:
            ray.shutdown()


def _ray_job(job: Job, out: str) -> dict[str, Any]:
    _quiet_worker()
    return run_job(job, out)


def gather(out: Path) -> list[dict[str, Any]]:
    """The results table from ``OUT/results/*.json``: one row per arm × grid point × seed, in job order.

    A training arm's row also says where its training curve reached its plateau (:mod:`.convergence`).
    """
    config = load_experiment_folder(out)
    rows = []
    for job in expand(config):
        path = out / "results" / f"{job.id}.json"
        if not path.is_file():
            continue
        result = read_json(path)
        try:
            run = plateau_columns(config.statistics, result["training"])
            rows += [{"arm": row["arm"], "seed": job.seed, **{k.rsplit(".", 1)[-1]: v for k, v in job.grid.items()},
                      **{k: row[k] for k in COLUMNS}, **run, "seconds": result["seconds"],
                      "peak_rss_mb": result["peak_rss_mb"]} for row in result["rows"]]
        except (KeyError, TypeError) as exc:
            raise FairmarketError(f"{path}: not a job result ({type(exc).__name__}: {exc}); delete it to"
                                  " run the job again") from None
    if rows:
        write_text_atomic(out / "results.csv", table_csv(rows))
        write_jsonl(out / "results.jsonl", rows)
        write_tables(out, config, rows)
    return rows


def load_experiment_folder(out: Path) -> ExperimentConfig:
    """The config an experiment folder was run with."""
    stored = Path(out) / "experiment.json"
    if not stored.is_file():
        raise FairmarketError(f"{out} is not an experiment folder (no experiment.json); run"
                              " `fairmarket experiment run CONFIG --out DIR` first")
    return validate_section(ExperimentConfig, read_json(stored), "", origin=str(stored))


def read_json(path: Path) -> Any:
    """The JSON value in ``path``.

    :raises FairmarketError: the file cannot be read, is not UTF-8 or is not JSON (one line naming it).
    """
    try:
        return loads_strict(decode_utf8(path.read_bytes(), path))
    except OSError as exc:
        raise FairmarketError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise FairmarketError(f"{path}: not JSON ({exc})") from None


def _compare_critics(config: ExperimentConfig, out: Path, jobs: list[Job]) -> None:
    """Critic comparison on the two-sided slots recorded by the first training run, the first 10 audited."""
    spec = config.critic_compare
    target = out / "critic-compare"
    if spec is None or (target / "critics.csv").is_file():
        return
    first = next((job for job in jobs if job.kind == "train"), None)
    if first is None:
        raise FairmarketError("critic_compare needs a training arm (its recorded slots are compared)")
    slots = [s for s in recorded_slots(out / "runs" / first.id) if s["sellers"] and s["buyers"]][:spec.slots]
    rows, runs = compare_critics(slots, spec.models, spec.templates, out / "critic-cache", "use",
                                 invariance_n=min(10, len(slots)), repeat_n=min(5, len(slots)),
                                 audit=plan_audit(slots, limit=10))
    write_report(target, rows, runs, [summary_fairness(s) for s in slots])
