"""Checkpoints that survive ``kill -9``: written to a temporary folder, then renamed into place.

A checkpoint holds every group's SB3 model (weights and optimiser), the trainer's progress, the
metrics rows so far, the shaping state and every random state (numpy's and torch's global
generators and the action-sampling generator). Episodes start from seeds derived from the run
seed, so nothing else about the env needs saving. ``latest`` names the newest complete one.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import torch

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.io import write_text_atomic
from fairmarket_local.training.trainer import Trainer

KEEP = 2  # complete checkpoints kept on disk


def _group_file(folder: Path, k: int) -> Path:
    return folder / f"group_{k:04d}.zip"


def save_checkpoint(trainer: Trainer, checkpoints: Path) -> Path:
    """Write the trainer's state as ``checkpoints/ep_NNNNN`` and point ``latest`` at it."""
    name = f"ep_{trainer.episode:05d}"
    final = checkpoints / name
    tmp = checkpoints / f".tmp-{name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for k, group in enumerate(trainer.groups):
        group.model.save(_group_file(tmp, k))
    state = {
        "episode": trainer.episode,
        "rows": trainer.rows,
        "shaper": trainer.shaper.state(),
        "numpy_global": _numpy_state(),
    }
    (tmp / "state.json").write_text(json.dumps(state), encoding="utf-8")
    torch.save({"torch_global": torch.get_rng_state(), "sampler": trainer.generator.get_state()}, tmp / "rng.pt")
    _fsync_dir(tmp)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    write_text_atomic(checkpoints / "latest", name + "\n")
    for old in sorted(p for p in checkpoints.glob("ep_*") if p.is_dir())[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(trainer: Trainer, checkpoints: Path) -> bool:
    """Restore the newest complete checkpoint into ``trainer``; False when there is none."""
    pointer = checkpoints / "latest"
    if not pointer.is_file():
        return False
    folder = checkpoints / pointer.read_text(encoding="utf-8").strip()
    try:
        state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        for k, group in enumerate(trainer.groups):
            group.model.set_parameters(str(_group_file(folder, k)), exact_match=True, device="cpu")
        rng = torch.load(folder / "rng.pt", weights_only=True)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise FairmarketError(f"checkpoint {folder} is unreadable ({exc}); delete it to restart from the previous one") from None
    trainer.episode = int(state["episode"])
    trainer.rows = state["rows"]
    trainer.shaper.load_state(state["shaper"])
    _set_numpy_state(state["numpy_global"])
    torch.set_rng_state(rng["torch_global"])
    trainer.generator.set_state(rng["sampler"])
    trainer.policies.refresh()
    for group in trainer.groups:
        group.model.num_timesteps = trainer.episode * trainer.core.episode_slots * len(group.agents)
    return True


def _numpy_state() -> list:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)]


def _set_numpy_state(state: list) -> None:
    kind, keys, pos, has_gauss, cached = state
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))


def _fsync_dir(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
