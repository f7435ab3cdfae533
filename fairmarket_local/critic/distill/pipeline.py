"""``distill``: a teacher critic labels slots once, a small model learns its judgment and is registered.

:func:`distill` runs the steps top to bottom, one module each:

1. data (:mod:`.data`): slots from recorded runs (``slots``) and/or the seeded generator (``generate``),
   de-duplicated and split train / held-out by the seed, labelled by the teacher *through the critic cache*
   (a large model's cached answers are reused; in ``cache_mode="replay"`` a distillation runs with no
   teacher present); teacher fallbacks are dropped;
2. training (:mod:`.training`): the student (a registered GGUF model, dequantised once to a Hugging Face
   folder) is fine-tuned on the compact ``student`` prompt with a time budget (:mod:`.student`);
3. export (:mod:`.export`): GGUF f16 and q8_0 with llama.cpp's converter, the q8_0 registered with sha256,
   teacher, data hash and held-out scores, so ``fairmarket train --critic NAME`` can use it;
4. evaluation (:mod:`.evaluation`): the held-out table (parse rate, MAE, Spearman, slots/s, permutation
   invariance) for all held-out slots and for those with trades, the learning curve, written next to the
   weights.
"""

from __future__ import annotations

import gc
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.machine import machine_info
from fairmarket_local.critic.distill.config import (
    DEFAULT_BASE,
    DEFAULT_HELDOUT,
    DEFAULT_STUDENT_TEMPLATE,
    DEFAULT_TEACHER,
    StudentConfig,
)
from fairmarket_local.critic.distill.data import LabelledSlots, labelled_slots, write_labelled
from fairmarket_local.critic.distill.evaluation import evaluate_student, heldout_figures, learning_curve, write_tables
from fairmarket_local.critic.distill.export import register_student
from fairmarket_local.critic.distill.gguf_export import converter_path
from fairmarket_local.critic.distill.training import peak_rss_gb, train_and_export
from fairmarket_local.critic.memo.cache import CacheMode
from fairmarket_local.critic.prompting.templates import load_template
from fairmarket_local.critic.registry.manifests import ModelManifest, file_sha256, get_model, refuse_taken_id
from fairmarket_local.critic.registry.paths import fairmarket_home


@dataclass
class DistillResult:
    """What a distillation produced: the registered manifest, its folder and the held-out tables."""

    manifest: ModelManifest
    folder: Path
    heldout: list[dict[str, Any]]  # rows: all held-out slots, then those with trades
    curve: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def distill(
    name: str,
    teacher: str = DEFAULT_TEACHER,
    teacher_template: str | None = None,
    slots: Path | None = None,
    generate: int = 0,
    base: str = DEFAULT_BASE,
    student_template: str = DEFAULT_STUDENT_TEMPLATE,
    heldout: int = DEFAULT_HELDOUT,
    config: StudentConfig | None = None,
    folder: Path | None = None,
    cache_dir: Path | None = None,
    cache_mode: CacheMode = "use",
    force: bool = False,
    progress: bool = False,
) -> DistillResult:
    """Distil ``teacher`` into ``base`` and register the result as model ``name``."""
    config = config or StudentConfig()
    folder = _empty_folder(name, folder, force)
    converter_path()  # a missing converter must fail before, not after, the training
    base_manifest = _student_base(base)
    template = load_template(student_template)
    data = labelled_slots(slots, generate, heldout, config.seed, teacher, teacher_template, cache_dir, cache_mode,
                          progress)
    data_sha256 = write_labelled(folder, data)

    # the training model lives only inside train_and_export: its memory is back before the evaluation
    files, log, snapshots = train_and_export(name, base_manifest, template, data.train, data.train_labels, config,
                                             folder, progress)
    gc.collect()
    info = _provenance(teacher, teacher_template, base, base_manifest, template.id, config, data, data_sha256, log,
                       files)
    manifest = register_student(name, base_manifest, files["q8_0"], template.id, info, force=True)

    rows = evaluate_student(manifest, data.held, data.held_labels, progress)
    curve = learning_curve(manifest, snapshots, data.held, data.held_labels, progress)
    info["heldout"] = heldout_figures(rows)
    manifest = register_student(name, base_manifest, files["q8_0"], template.id, info, force=True)
    write_tables(folder, rows, curve, log["losses"], info)
    return DistillResult(manifest, folder, rows, curve, info)


def _empty_folder(name: str, folder: Path | None, force: bool) -> Path:
    """The distillation's folder (default ``$FAIRMARKET_HOME/distilled/NAME``), emptied with ``force``; the
    model id must be free (or ``force``)."""
    refuse_taken_id(name, force)
    folder = Path(folder or fairmarket_home() / "distilled" / name).expanduser().resolve()
    if folder.exists() and any(folder.iterdir()):
        if not force:
            raise FairmarketError(f"{folder} is not empty; choose another name/--dir or pass --force")
        shutil.rmtree(folder)
    return folder


def _student_base(base: str) -> ModelManifest:
    """The registered model to fine-tune: a GGUF (llama.cpp) model."""
    manifest = get_model(base)
    if manifest.backend != "llama_cpp":
        raise FairmarketError(f"the student base must be a GGUF (llama_cpp) model, not {manifest.backend}")
    return manifest


def _provenance(teacher: str, teacher_template: str | None, base: str, base_manifest: ModelManifest,
                student_template: str, config: StudentConfig, data: LabelledSlots, data_sha256: str,
                log: dict[str, Any], files: dict[str, Path]) -> dict[str, Any]:
    """What the manifest's ``distilled`` and ``distill.json`` record: teacher, base, data, training, machine."""
    return {
        "teacher": teacher, "teacher_template": teacher_template, "base": base, "base_sha256": base_manifest.sha256,
        "student_template": student_template, "seed": config.seed, "train_slots": len(data.train),
        "heldout_slots": len(data.held), "teacher_fallbacks_dropped": data.dropped, "data_sha256": data_sha256,
        "examples_per_s": log["examples_seen"] / log["train_seconds"] if log["train_seconds"] else 0.0,
        "config": {**config.__dict__, "snapshot_minutes": list(config.snapshot_minutes)},
        **{k: log[k] for k in ("steps", "schedule_steps", "examples_seen", "train_seconds", "compute_dtype")},
        "machine": machine_info("torch", "transformers"),
        "peak_rss_gb": round(peak_rss_gb(), 2),
        "f16_sha256": file_sha256(files["f16"]),
    }
