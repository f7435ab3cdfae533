"""Checkpoints that survive ``kill -9`` and a full disk: written to a temporary folder, then renamed into place.

A checkpoint holds every group's SB3 model (weights and optimiser), the trainer's progress, the
metrics rows so far, the shaping state, a learning critic's state (``critic.pt``) and every random
state (numpy's and torch's global generators and the action-sampling generator). Episodes start from
seeds derived from the run seed, so nothing else about the env needs saving. ``latest`` names the
newest complete one, a sibling ``ep_NNNNN`` folder; when it is missing, names anything else or names
an unreadable checkpoint, the newest intact ``ep_*`` checkpoint is used instead (with a warning).
"""

from __future__ import annotations

import io
import json
import logging
import os
import pickle
import re
import shutil
from pathlib import Path
from typing import cast

import numpy as np
import torch

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.io import write_text_atomic
from fairmarket_local.training.trainer import Trainer

KEEP = 2  # complete checkpoints kept on disk
POINTER = "latest"
CRITIC_STATE = "critic.pt"
_NAME = re.compile(r"ep_\d{5,}")
# what reading a damaged checkpoint or SB3 model file raises (SB3 turns a bad zip into ValueError)
UNREADABLE = (OSError, ValueError, KeyError, TypeError, IndexError, RuntimeError, EOFError, pickle.UnpicklingError)

log = logging.getLogger(__name__)


def _group_file(folder: Path, k: int) -> Path:
    return folder / f"group_{k:04d}.zip"


def save_checkpoint(trainer: Trainer, checkpoints: Path) -> Path:
    """Write the trainer's state as ``checkpoints/ep_NNNNN`` and point ``latest`` at it.

    :raises FairmarketError: the disk is full or not writable; the previous checkpoint is left as it was.
    """
    name = f"ep_{trainer.episode:05d}"
    final = checkpoints / name
    tmp = checkpoints / f".tmp-{name}"
    try:
        _remove_leftovers(checkpoints)
        _write_folder(trainer, tmp)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise FairmarketError(f"cannot write checkpoint {final}: {exc.strerror or exc}; the previous checkpoint"
                              " is kept, so once this is fixed `fairmarket train --resume` continues from it") from None
    write_text_atomic(checkpoints / POINTER, name + "\n")
    for old in _complete(checkpoints)[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def _remove_leftovers(checkpoints: Path) -> None:
    """Partial folders and pointer temp files of a save that was interrupted (``kill -9``)."""
    checkpoints.mkdir(parents=True, exist_ok=True)
    for path in checkpoints.glob(".tmp-ep_*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in checkpoints.glob(f".{POINTER}.*"):
        path.unlink(missing_ok=True)


def _write_folder(trainer: Trainer, folder: Path) -> None:
    """Every file of a checkpoint, each written and synced through Python (so a full disk is an OSError)."""
    folder.mkdir()
    for k, group in enumerate(trainer.groups):
        buffer = io.BytesIO()
        group.model.save(buffer)
        _write(_group_file(folder, k), buffer.getvalue())
    state = {
        "episode": trainer.episode,
        "rows": trainer.rows,
        "shaper": trainer.shaper.state(),
        "numpy_global": _numpy_state(),
    }
    _write(folder / "state.json", json.dumps(state).encode("utf-8"))
    buffer = io.BytesIO()
    torch.save({"torch_global": torch.get_rng_state(), "sampler": trainer.generator.get_state()}, buffer)
    _write(folder / "rng.pt", buffer.getvalue())
    critic_state = trainer.critic.state()
    if critic_state is not None:  # a learning critic (amortized): its weights, labels and random state
        buffer = io.BytesIO()
        torch.save(critic_state, buffer)
        _write(folder / CRITIC_STATE, buffer.getvalue())


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _complete(checkpoints: Path) -> list[Path]:
    """The ``ep_NNNNN`` folders, newest first."""
    found = [p for p in checkpoints.glob("ep_*") if _NAME.fullmatch(p.name) and p.is_dir()]
    return sorted(found, key=lambda p: int(p.name[3:]), reverse=True)


def load_checkpoint(trainer: Trainer, checkpoints: Path) -> bool:
    """Restore the checkpoint ``latest`` names into ``trainer``, else the newest intact one (logging
    which); False when there is no checkpoint at all.

    :raises FairmarketError: there are checkpoints, but none is intact.
    """
    named, problem = _named(checkpoints)
    candidates = ([named] if named else []) + [p for p in _complete(checkpoints) if p != named]
    if not candidates and problem is None:
        return False
    for folder in candidates:
        try:
            _restore(trainer, folder)
        except UNREADABLE as exc:
            problem = f"checkpoint {folder} is unreadable ({type(exc).__name__}: {_first_line(exc)})"
            continue
        if problem is not None:
            log.warning("%s; resuming from %s, the newest intact checkpoint", problem, folder)
        return True
    raise FairmarketError(f"no intact checkpoint in {checkpoints} ({problem}); start the run again with --force")


def _named(checkpoints: Path) -> tuple[Path | None, str | None]:
    """The folder ``latest`` names, or ``None`` and why it names none (``None``, ``None``: no pointer, no folder)."""
    pointer = checkpoints / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None, (f"{pointer} is missing" if _complete(checkpoints) else None)
    except (OSError, ValueError) as exc:
        return None, f"{pointer} is unreadable ({_first_line(exc)})"
    if not _NAME.fullmatch(name):
        return None, f"{pointer} names {name[:40]!r}, not a checkpoint folder ep_NNNNN"
    if not (checkpoints / name).is_dir():
        return None, f"{pointer} names {name}, which does not exist"
    return checkpoints / name, None


def _first_line(exc: Exception) -> str:
    """torch's messages run over many lines; the CLI prints one."""
    return next(iter(str(exc).strip().splitlines()), "")


def _restore(trainer: Trainer, folder: Path) -> None:
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    rng = torch.load(folder / "rng.pt", weights_only=True)
    for k, group in enumerate(trainer.groups):
        group.model.set_parameters(str(_group_file(folder, k)), exact_match=True, device="cpu")
    trainer.episode = int(state["episode"])
    trainer.rows = state["rows"]
    trainer.shaper.load_state(state["shaper"])
    _set_numpy_state(state["numpy_global"])
    torch.set_rng_state(rng["torch_global"])
    trainer.generator.set_state(rng["sampler"])
    if trainer.critic.state() is not None:
        trainer.critic.load_state(torch.load(folder / CRITIC_STATE, weights_only=True))
    trainer.policies.refresh()
    for group in trainer.groups:
        group.model.num_timesteps = trainer.episode * trainer.core.episode_slots * len(group.agents)


def _numpy_state() -> list:
    # the legacy form (the default): a tuple, not the dict of get_state(legacy=False)
    kind, keys, pos, has_gauss, cached = cast("tuple[str, np.ndarray, int, int, float]", np.random.get_state())
    return [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)]


def _set_numpy_state(state: list) -> None:
    kind, keys, pos, has_gauss, cached = state
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
