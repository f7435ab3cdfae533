"""Training runs on disk: manifest, checkpoints, exact resume, metrics tables, TensorBoard, policies.

A run folder holds ``manifest.json``, ``metrics.csv`` / ``metrics.jsonl`` (one row per episode),
``checkpoints/``, ``critic-cache/`` (the run's critic memo), ``slots/ep_NNNNN.jsonl.gz`` (every slot
summary the critic scored), ``tensorboard/``, ``policies/`` (final SB3 models), ``results.json`` and
``training_curves.png``.
"""

from __future__ import annotations

import csv
import gzip
import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairmarket_local.common.canonical import canonical_json
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.io import write_json, write_text_atomic
from fairmarket_local.common.progress import progress_bar
from fairmarket_local.critic.factory import critic_template, is_fairness_model, make_critic, takes_template
from fairmarket_local.critic.registry.manifests import get_model
from fairmarket_local.metrics.fairness import SCORE_NAMES
from fairmarket_local.training.checkpoint import load_checkpoint, save_checkpoint
from fairmarket_local.training.config import RunConfig, load_run_config
from fairmarket_local.training.manifest import MANIFEST, build_manifest, config_of, read_manifest, scenario_sha256
from fairmarket_local.training.plots import plot_training_curves
from fairmarket_local.training.trainer import Trainer

if TYPE_CHECKING:  # torch's TensorBoard writer is imported when a run starts
    from torch.utils.tensorboard import SummaryWriter

SUMMARY_KEYS = ("reward_econ", "reward_fairness", "ref_consumer_cost_vs_grid_only", "ref_p2p_share_of_demand",
                "ref_ftg", "ref_fbs", "ref_fpp", "critic_ftg", "critic_fbs", "critic_fpp")


@dataclass
class RunResult:
    run_dir: Path
    rows: list[dict[str, Any]]
    results: dict[str, Any]


def train(
    scenario: str | Path | dict[str, Any] | RunConfig | None = None,
    out: str | Path = "runs/train",
    resume: bool = False,
    force: bool = False,
    progress: bool = False,
    cache_dir: str | Path | None = None,
    **overrides: Any,
) -> RunResult:
    """Train (or resume) a run in ``out``; ``overrides`` are dotted config keys
    (``critic.model="smollm2-135m"``, ``training.episodes=20``, ``seed=1``).

    ``scenario`` defaults to ``pilot``; on ``resume`` to the run's own, and a scenario or override given
    then must be the run's. A start that fails before its first checkpoint leaves ``out`` as it was.
    """
    run_dir = Path(out)
    if scenario is None and not resume:
        scenario = "pilot"
    created = _first_missing(run_dir)
    with _disk_errors(run_dir):
        config = _prepare(run_dir, scenario, resume, force, overrides)
        with _FailedStart(run_dir, created) as start:
            trainer, results = _train(config, run_dir, scenario, resume, progress, cache_dir, start)
    return RunResult(run_dir, trainer.rows, results)


def _train(config: RunConfig, run_dir: Path, scenario, resume: bool, progress: bool, cache_dir: str | Path | None,
           start: _FailedStart) -> tuple[Trainer, dict[str, Any]]:
    cache = Path(cache_dir) if cache_dir is not None else run_dir / "critic-cache"
    c = config.critic
    critic = make_critic(c.model, template=c.template, cache_dir=cache, cache_mode=c.cache_mode,
                         seed=config.env.seed, n_threads=c.n_threads, workers=c.workers,
                         fbs_variant=config.env.market.fbs_variant, amortize=c.amortize)
    with critic:
        trainer = Trainer(config, critic)
        if not (run_dir / MANIFEST).exists():
            write_json(run_dir / MANIFEST, build_manifest(config, critic.describe(), [g.name for g in trainer.groups],
                                                          scenario_sha256(_scenario_dict(scenario))))
        if resume:
            load_checkpoint(trainer, run_dir / "checkpoints")
        results = _run_loop(trainer, run_dir, progress, start)
    return trainer, results


def _first_missing(path: Path) -> Path | None:
    """The outermost folder of ``path`` that does not exist yet (``None``: it exists)."""
    missing = None
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing = folder
    return missing


class _FailedStart:
    """Undoes a start that fails before its first checkpoint: removes what it added to the run folder
    (and the folder itself if it created it), so the same command can simply be run again."""

    def __init__(self, run_dir: Path, created: Path | None) -> None:
        self.run_dir, self.created = run_dir, created
        self.checkpointed = False

    def __enter__(self) -> _FailedStart:
        self.before = set(self.run_dir.iterdir())
        return self

    def __exit__(self, kind, exc, traceback) -> None:
        if kind is None or self.checkpointed:
            return
        if self.created is not None:
            shutil.rmtree(self.created, ignore_errors=True)
            return
        for path in set(self.run_dir.iterdir()) - self.before:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


@contextmanager
def _disk_errors(run_dir: Path) -> Iterator[None]:
    """A file-system failure anywhere in the run (full disk, unwritable file) is a one-line error naming the file."""
    try:
        yield
    except OSError as exc:
        raise FairmarketError(f"training run {run_dir}: {exc.filename or run_dir}: {exc.strerror or exc}") from None


def _prepare(run_dir: Path, scenario, resume: bool, force: bool, overrides: dict[str, Any]) -> RunConfig:
    if resume:
        return _resumed_config(run_dir, scenario, overrides)
    config = load_run_config(_scenario_dict(scenario), **overrides)
    _check_critic(config)  # a typo in the model or template must not cost the old run
    if run_dir.is_dir() and any(run_dir.iterdir()):
        if not force:
            raise FairmarketError(f"{run_dir} already holds a run; use --resume to continue it, "
                                  "another --out, or --force to replace it")
        shutil.rmtree(run_dir)
    _writable_folder(run_dir)
    return config


def _check_critic(config: RunConfig) -> None:
    """:raises FairmarketError: the critic's model (a fairness model file, or a model id) or its template is unknown."""
    model = config.critic.model
    if is_fairness_model(model) and not Path(model).is_file():
        raise FairmarketError(f"no fairness model at {model} (an amortized run writes RUN/policies/fairness_model.pt)")
    if takes_template(model):
        critic_template(get_model(model), config.critic.template)


def _resumed_config(run_dir: Path, scenario, overrides: dict[str, Any]) -> RunConfig:
    """The run's own config; a scenario or override given must not change it."""
    manifest = read_manifest(run_dir)
    config = config_of(manifest)
    recorded = manifest.get("scenario_sha256")  # absent from runs started before it was recorded
    other_scenario = (scenario is not None and recorded is not None
                      and scenario_sha256(_scenario_dict(scenario)) != recorded)
    if other_scenario or (overrides and load_run_config(_scenario_dict(config), **overrides) != config):
        raise FairmarketError(f"{run_dir} was started with other settings; --resume continues it as it was "
                              "(drop the other options, or start a new run)")
    return config


def _writable_folder(run_dir: Path) -> None:
    if run_dir.exists() and not run_dir.is_dir():
        raise FairmarketError(f"{run_dir} is a file, not a run folder; choose another --out")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=run_dir).close()
    except OSError as exc:
        raise FairmarketError(f"cannot write to run folder {run_dir}: {exc.strerror or exc}") from None


def _scenario_dict(scenario) -> Any:
    if isinstance(scenario, RunConfig):
        return {**scenario.env.model_dump(mode="json"), "training": scenario.training.model_dump(mode="json"),
                "critic": scenario.critic.model_dump(mode="json")}
    return scenario


def _run_loop(trainer: Trainer, run_dir: Path, progress: bool, start: _FailedStart) -> dict[str, Any]:
    """Train to the last episode (checkpointing), then write the policies and ``results.json``."""
    from torch.utils.tensorboard import SummaryWriter

    cfg = trainer.config.training
    writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=trainer.episode + 1)
    try:
        with progress_bar(cfg.episodes, "train", unit="episodes", enabled=progress) as advance:
            advance(trainer.episode)
            while not trainer.done:
                row = trainer.run_episode()
                _save_episode(trainer, row, run_dir, writer, start)
                advance(1, reward=row["reward_total"], ftg=row["critic_ftg"], hit=_hit_rate(row),
                        **_learning_critic(row))
    finally:
        writer.close()
    return _write_outputs(trainer, run_dir)


def _save_episode(trainer: Trainer, row: dict[str, Any], run_dir: Path, writer: SummaryWriter,
                  start: _FailedStart) -> None:
    """The episode just trained (``row``) on disk: TensorBoard scalars, slots, metrics; a checkpoint when due."""
    for key, value in row.items():
        if key != "episode" and isinstance(value, (int, float)):
            writer.add_scalar(key.replace("_", "/", 1), value, row["episode"])
    _write_slots(run_dir, trainer)
    _write_metrics(run_dir, trainer.rows)
    if trainer.episode % trainer.config.training.checkpoint_every == 0 or trainer.done:
        save_checkpoint(trainer, run_dir / "checkpoints")
        start.checkpointed = True


def _write_outputs(trainer: Trainer, run_dir: Path) -> dict[str, Any]:
    """The finished run's policies (with what the critic exports), ``results.json`` and its training curves."""
    policies = run_dir / "policies"
    policies.mkdir(exist_ok=True)
    for k, group in enumerate(trainer.groups):
        group.model.save(policies / f"group_{k:04d}.zip")
    trainer.critic.export(policies)
    results = {**_results(trainer), **trainer.critic.final_results()}
    write_json(run_dir / "results.json", results)
    plot_training_curves(trainer.rows, run_dir / "training_curves.png")
    return results


def _learning_critic(row: dict[str, Any]) -> dict[str, Any]:
    """For the progress bar: the amortized critic's labels and its lowest running prequential Spearman."""
    if "amortized_labels" not in row:
        return {}
    rhos = [row[f"amortized_prequential_spearman_{name}"] for name in SCORE_NAMES]
    return {"labels": row["amortized_labels"], "rho_min": "-" if None in rhos else f"{min(rhos):.2f}"}


def _hit_rate(row: dict[str, Any]) -> str:
    looked = row["critic_cache_hits"] + row["critic_cache_misses"]
    return f"{row['critic_cache_hits'] / looked:.0%}" if looked else "-"


def _write_slots(run_dir: Path, trainer: Trainer) -> None:
    text = "".join(canonical_json(s) + "\n" for s in trainer.last_summaries)
    path = run_dir / "slots" / f"ep_{trainer.episode:05d}.jsonl.gz"
    path.parent.mkdir(exist_ok=True)
    # mtime=0: the same slots give byte-identical files, whatever the clock says.
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(path)
    except OSError as exc:  # a failed write() names no file
        tmp.unlink(missing_ok=True)
        raise FairmarketError(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_metrics(run_dir: Path, rows: list[dict[str, Any]]) -> None:
    write_text_atomic(run_dir / "metrics.jsonl", "".join(canonical_json(r) + "\n" for r in rows))
    keys = list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=keys)
    w.writeheader()
    w.writerows(rows)
    write_text_atomic(run_dir / "metrics.csv", out.getvalue())


def _results(trainer: Trainer) -> dict[str, Any]:
    """First vs last episodes (mean of up to 3 each) of the headline metrics."""
    rows = trainer.rows
    k = max(1, min(3, len(rows) // 2))

    def mean(part: list[dict], key: str) -> float:
        vals = [r[key] for r in part if key in r]
        return sum(vals) / len(vals) if vals else float("nan")

    return {
        "episodes": len(rows),
        "first": {key: mean(rows[:k], key) for key in SUMMARY_KEYS},
        "last": {key: mean(rows[-k:], key) for key in SUMMARY_KEYS},
        "critic_cache_hits": sum(r["critic_cache_hits"] for r in rows),
        "critic_cache_misses": sum(r["critic_cache_misses"] for r in rows),
        "critic_fallbacks": sum(r["critic_fallbacks"] for r in rows),
        "seconds": {p: sum(r.get(f"time_{p}", 0.0) for r in rows)
                    for p in ("env", "policy", "critic", "critic_model", "update")},
    }
