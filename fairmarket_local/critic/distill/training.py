"""A distillation's training: the base model (a registered GGUF model, dequantised once to a Hugging Face
folder) fine-tuned on the student prompt with a time budget (:mod:`.student`), exported to GGUF f16 and
q8_0 — and at each snapshot mark — before the model is let go."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.progress import progress_bar
from fairmarket_local.critic.distill.config import StudentConfig
from fairmarket_local.critic.distill.export import export_student
from fairmarket_local.critic.distill.student import encode, train_student
from fairmarket_local.critic.prompting.templates import PromptTemplate
from fairmarket_local.critic.quality.permute import is_permutable, permute_summary
from fairmarket_local.critic.registry.convert import write_hf_folder
from fairmarket_local.critic.registry.manifests import ModelManifest, verified_weights
from fairmarket_local.critic.registry.paths import fairmarket_home
from fairmarket_local.env.summary_types import SlotSummary
from fairmarket_local.metrics.fairness import FairnessScores

Snapshot = tuple[float, int, Path]  # training minutes, optimiser step, the snapshot's q8_0 GGUF file


def train_and_export(name: str, base: ModelManifest, template: PromptTemplate, slots: list[SlotSummary],
                     labels: list[FairnessScores], config: StudentConfig, folder: Path, progress: bool,
                     ) -> tuple[dict[str, Path], dict[str, Any], list[Snapshot]]:
    """Fine-tune ``base`` on (slot, label) pairs; GGUF files by type, the training log, and the snapshots.
    The training model lives only in here: its memory is back once this returns."""
    model, tokenizer = load_base(base, config.layers)
    examples = encode(tokenizer, template, shuffled_parties(slots, config.seed), labels, base.system_role)
    snapshots: list[Snapshot] = []

    def snapshot(minutes: float, step: int) -> None:
        if minutes in config.snapshot_minutes:
            path = folder / "snapshots" / f"{minutes:g}min-q8_0.gguf"
            export_student(model, tokenizer, folder / "snapshots" / "hf", {"q8_0": path})
            snapshots.append((minutes, step, path))

    with progress_bar(int(60 * config.budget_minutes), f"training {name}", unit="s", enabled=progress) as advance:
        log = train_student(model, examples, config, on_snapshot=snapshot, advance=advance)
    files = export_student(model, tokenizer, folder / "hf", {t: folder / f"{name}-{t}.gguf" for t in ("f16", "q8_0")})
    shutil.rmtree(folder / "hf")
    shutil.rmtree(folder / "snapshots" / "hf", ignore_errors=True)  # the GGUF snapshots stay
    return files, log, snapshots


def shuffled_parties(slots: list[SlotSummary], seed: int) -> list[SlotSummary]:
    """Each training slot with its sellers and buyers in a seeded random order (renamed S1.., B1..): the
    student must not tie a score to a position, as the permutation-invariance check would notice."""
    return [permute_summary(s, np.random.default_rng([seed, 2, i])) if is_permutable(s) else s
            for i, s in enumerate(slots)]


def load_base(manifest: ModelManifest, layers: int | None = None) -> tuple[Any, Any]:
    """The base model as float32 transformers weights (dequantised once, kept under $FAIRMARKET_HOME),
    cut to its first ``layers`` transformer layers if given."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise FairmarketError(f"distillation needs {exc.name}: pip install -e '.[transformers]'") from None
    hf = fairmarket_home() / "distill-bases" / manifest.sha256[:16]  # type: ignore[index]  # a GGUF model has a sha256
    if not (hf / "config.json").is_file():
        write_hf_folder(verified_weights(manifest), hf)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our own bars (or --quiet) only
    model = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32)
    if layers is not None:
        keep_first_layers(model, layers)
    return model, AutoTokenizer.from_pretrained(hf)


def keep_first_layers(model: Any, layers: int) -> None:
    """Drop all but the first ``layers`` decoder layers (a smaller, faster student that starts from the
    base's own lower layers); the config follows, so the export describes the cut model."""
    total = model.config.num_hidden_layers
    if not 1 <= layers <= total:
        raise FairmarketError(f"--layers must be between 1 and {total} for this base, not {layers}")
    model.model.layers = model.model.layers[:layers]
    model.config.num_hidden_layers = layers
    if getattr(model.config, "layer_types", None):
        model.config.layer_types = model.config.layer_types[:layers]


def peak_rss_gb() -> float:
    """This process's peak resident memory so far (Linux reports KiB, macOS bytes)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**30 if sys.platform == "darwin" else peak / 2**20
