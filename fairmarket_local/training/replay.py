"""Replay a finished run from its manifest and prove it identical, or re-score it with another critic.

``replay(run)`` trains again from the manifest with the critic in ``replay`` mode over the run's own
memo — no model is loaded, a missing answer is an error naming its key — and compares every metric
(wall times aside) and every weight tensor. ``rescore(run, critic)`` scores the slots the run recorded
with another critic and reports agreement with the run's critic.
"""

from __future__ import annotations

import gzip
import json
import shutil
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.save_util import load_from_zip_file

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.amortized.critic import EXPORT
from fairmarket_local.critic.factory import make_critic
from fairmarket_local.critic.quality.compare import spearman
from fairmarket_local.critic.registry.manifests import get_model
from fairmarket_local.env.summary_types import SlotSummary
from fairmarket_local.training.config import RunConfig
from fairmarket_local.training.manifest import config_of, read_manifest, require_finished
from fairmarket_local.training.run import train

COST_KEYS = ("time_", "critic_cache_")


def replay(run_dir: str | Path, progress: bool = False) -> dict[str, Any]:
    """Re-run ``run_dir`` into ``run_dir/replay`` from its cached critic; report whether all matches."""
    run_dir = Path(run_dir)
    config = _finished_config(run_dir)
    config = config.model_copy(update={"critic": config.critic.model_copy(update={"cache_mode": "replay"})})
    out = run_dir / "replay"
    shutil.rmtree(out, ignore_errors=True)
    train(config, out=out, progress=progress, cache_dir=run_dir / "critic-cache")
    differences = compare_runs(run_dir, out)
    return {"identical": not differences, "differences": differences, "replay_dir": str(out)}


def _finished_config(run_dir: Path) -> RunConfig:
    manifest = read_manifest(run_dir)
    require_finished(run_dir, manifest)
    return config_of(manifest)


def compare_runs(a: Path, b: Path) -> list[str]:
    """Every difference between two runs' metrics and final weights.

    Wall times and the critic's cache hit/miss counts describe what a run cost, not what it
    computed, so they are not compared (a replay hits the cache where the original missed).
    """
    diffs: list[str] = []
    rows_a, rows_b = _rows(a), _rows(b)
    if len(rows_a) != len(rows_b):
        diffs.append(f"episodes: {len(rows_a)} vs {len(rows_b)}")
    for ra, rb in zip(rows_a, rows_b):
        for key in sorted(set(ra) | set(rb)):
            if not key.startswith(COST_KEYS) and ra.get(key) != rb.get(key):
                diffs.append(f"episode {ra.get('episode')}: {key} {ra.get(key)!r} vs {rb.get(key)!r}")
    files_a = sorted(p.name for p in (a / "policies").glob("*.zip"))
    files_b = sorted(p.name for p in (b / "policies").glob("*.zip"))
    if files_a != files_b:
        diffs.append(f"policy files differ: {files_a} vs {files_b}")
    for name in files_a if files_a == files_b else []:
        params_a = load_from_zip_file(a / "policies" / name, device="cpu", load_data=False)[1]
        params_b = load_from_zip_file(b / "policies" / name, device="cpu", load_data=False)[1]
        # SB3 types its params as name → tensor; each is a state dict (name → tensor)
        diffs += _tensor_differences(name, params_a["policy"], params_b["policy"])  # type: ignore[arg-type]  # see above
    return diffs + _fairness_model_differences(a, b)


def _tensor_differences(name: str, a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> list[str]:
    return [f"{name}: weight {key} differs" for key, tensor in a.items() if not torch.equal(tensor, b[key])]


def _fairness_model_differences(a: Path, b: Path) -> list[str]:
    """The amortized critic's learned weights (``policies/fairness_model.pt``), when the run has them."""
    files = [run / "policies" / EXPORT for run in (a, b)]
    if not any(f.exists() for f in files):
        return []
    if not all(f.exists() for f in files):
        return [f"{EXPORT}: only in {'the first' if files[0].exists() else 'the second'} run"]
    nets = [torch.load(f, weights_only=True)["net"] for f in files]
    return _tensor_differences(EXPORT, *nets)


def _rows(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def recorded_slots(run_dir: Path) -> list[SlotSummary]:
    """Every slot summary the run's critic scored, in order (as the trainer wrote them; only their being
    JSON objects is checked here).

    :raises FairmarketError: an episode's slot file is missing or is not gzipped JSON lines of objects.
    """
    episodes = config_of(read_manifest(run_dir)).training.episodes
    slots: list[SlotSummary] = []
    for episode in range(1, episodes + 1):
        slots.extend(_slot_file(run_dir / "slots" / f"ep_{episode:05d}.jsonl.gz"))
    return slots


def _slot_file(path: Path) -> list[SlotSummary]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            slots = [json.loads(line) for line in fh]
    except FileNotFoundError:
        raise FairmarketError(f"{path} is missing: the run's recorded slots are incomplete") from None
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        raise FairmarketError(f"{path} is not a readable slot file ({type(exc).__name__}: {exc})") from None
    if not all(isinstance(slot, dict) for slot in slots):
        raise FairmarketError(f"{path} is not a slot file: every line must be a JSON object")
    return slots


def rescore(run_dir: str | Path, critic: str, template: str | None = None,
            cache_dir: str | Path | None = None) -> dict[str, Any]:
    """Scores of the run's recorded slots by ``critic``, compared with the run's own critic."""
    run_dir = Path(run_dir)
    config = _finished_config(run_dir)
    slots = recorded_slots(run_dir)
    original = make_critic(config.critic.model, template=config.critic.template, cache_dir=run_dir / "critic-cache",
                           cache_mode="replay", seed=config.env.seed)
    if template is None and (critic == "rule" or get_model(critic).template is None):
        template = config.critic.template  # a distilled critic keeps the template it was trained for
    other = make_critic(critic, template=template, cache_dir=cache_dir, seed=config.env.seed)
    with original, other:
        a = np.array([s.values() for s in original.score(slots)])
        b = np.array([s.values() for s in other.score(slots)])
    return {
        "slots": len(slots),
        "critic": critic,
        "mae": dict(zip(("ftg", "fbs", "fpp"), np.abs(a - b).mean(axis=0).round(6).tolist())),
        "spearman": {k: spearman(a[:, i], b[:, i]) for i, k in enumerate(("ftg", "fbs", "fpp"))},
        "mean_original": dict(zip(("ftg", "fbs", "fpp"), a.mean(axis=0).round(6).tolist())),
        "mean_other": dict(zip(("ftg", "fbs", "fpp"), b.mean(axis=0).round(6).tolist())),
    }
