"""A distillation's data: slots from recorded runs and the generator, split by the seed, labelled by the teacher.

Labels come from the teacher *through the critic cache* (a large model's cached answers are reused; in
``cache_mode="replay"`` a distillation runs with no teacher present); slots where the teacher fell back
are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fairmarket_local.common.canonical import content_hash
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.io import write_jsonl
from fairmarket_local.common.progress import progress_bar
from fairmarket_local.critic.base import score_in_chunks
from fairmarket_local.critic.distill.generator import generate_slots
from fairmarket_local.critic.factory import make_critic
from fairmarket_local.critic.memo.cache import CacheMode
from fairmarket_local.critic.slots_io import read_summaries
from fairmarket_local.env.summary_types import SlotSummary
from fairmarket_local.metrics.fairness import FairnessScores


@dataclass
class LabelledSlots:
    """The training and held-out slots with the teacher's labels, and how many fallbacks were dropped."""

    train: list[SlotSummary]
    train_labels: list[FairnessScores]
    held: list[SlotSummary]
    held_labels: list[FairnessScores]
    dropped: int  # slots of both sets where the teacher fell back


def labelled_slots(slots: Path | None, generate: int, heldout: int, seed: int, teacher: str, template: str | None,
                   cache_dir: Path | None, cache_mode: CacheMode, progress: bool) -> LabelledSlots:
    """Collected, split and labelled slots (:func:`collect_slots`, :func:`split_slots`, :func:`teacher_labels`)."""
    train, held = split_slots(collect_slots(slots, generate, seed), heldout, seed)
    train, train_labels, dropped = teacher_labels(train, teacher, template, cache_dir, cache_mode, progress)
    held, held_labels, dropped_held = teacher_labels(held, teacher, template, cache_dir, cache_mode, progress)
    return LabelledSlots(train, train_labels, held, held_labels, dropped + dropped_held)


def write_labelled(folder: Path, data: LabelledSlots) -> str:
    """``train.jsonl`` and ``heldout.jsonl`` (each slot with its ``label``) in ``folder``; the training data's
    sha256 (what the student learned from)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "train.jsonl", _with_labels(data.train, data.train_labels))
    write_jsonl(folder / "heldout.jsonl", _with_labels(data.held, data.held_labels))
    return content_hash([[s, lb.values()] for s, lb in zip(data.train, data.train_labels)])


def _with_labels(slots: Sequence[SlotSummary], labels: Sequence[FairnessScores]) -> list[dict[str, Any]]:
    return [dict(s, label=lb.values()) for s, lb in zip(slots, labels)]


def collect_slots(slots: Path | None, generate: int, seed: int) -> list[SlotSummary]:
    """Recorded and generated slots, de-duplicated by content (first occurrence kept)."""
    if slots is None and generate <= 0:
        raise FairmarketError("give slots to learn from: --slots FILE.jsonl and/or --generate N")
    found = (read_summaries(slots) if slots is not None else []) + generate_slots(generate, seed)
    unique: dict[str, SlotSummary] = {}
    for summary in found:
        unique.setdefault(content_hash({k: v for k, v in summary.items() if k != "generator"}), summary)
    return list(unique.values())


def split_slots(summaries: list[SlotSummary], heldout: int, seed: int) -> tuple[list[SlotSummary], list[SlotSummary]]:
    """(train, held-out): a seeded shuffle, the first ``heldout`` slots held out."""
    if len(summaries) < heldout + 10:
        raise FairmarketError(f"{len(summaries)} distinct slots are too few to hold out {heldout} and train on"
                              " the rest; add --generate N or lower --heldout")
    order = np.random.default_rng([seed, 1]).permutation(len(summaries))
    return [summaries[i] for i in order[heldout:]], [summaries[i] for i in order[:heldout]]


def teacher_labels(summaries: list[SlotSummary], teacher: str, template: str | None, cache_dir: Path | None,
                   cache_mode: CacheMode, progress: bool) -> tuple[list[SlotSummary], list[FairnessScores], int]:
    """The teacher's scores through the critic cache; slots where the teacher fell back are dropped."""
    kept, labels = [], []
    with make_critic(teacher, template=template, cache_dir=cache_dir, cache_mode=cache_mode) as critic, \
            progress_bar(len(summaries), f"labels from {teacher}", unit="slots", enabled=progress) as advance:
        for summary, scores in zip(summaries, score_in_chunks(critic, summaries, advance)):
            if scores.source != "fallback":
                kept.append(summary)
                labels.append(scores)
    return kept, labels, len(summaries) - len(kept)
