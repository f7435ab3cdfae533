"""``distill``: a teacher critic labels slots once, a small model learns its judgment and is registered.

1. slots from recorded runs (``slots``) and/or the seeded generator (``generate``), de-duplicated and
   split train / held-out by the seed;
2. labels from the teacher *through the critic cache* (a large model's cached answers are reused; in
   ``cache_mode="replay"`` a distillation runs with no teacher present); teacher fallbacks are dropped;
3. the student (a registered GGUF model, dequantised once to a Hugging Face folder) is fine-tuned on
   the compact ``student`` prompt with a time budget (:mod:`.student`);
4. exported to GGUF f16 and q8_0 with llama.cpp's converter and registered (q8_0) with sha256,
   teacher, data hash and held-out scores, so ``fairmarket train --critic NAME`` can use it;
5. the held-out table (parse rate, MAE, Spearman, slots/s, permutation invariance) is written next to
   the weights, for all held-out slots and for those with trades.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from fairmarket_local.common.canonical import content_hash
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.io import write_json, write_jsonl, write_text_atomic
from fairmarket_local.common.machine import machine_info
from fairmarket_local.common.plotting import pyplot, save_figure
from fairmarket_local.common.progress import progress_bar
from fairmarket_local.critic.base import score_in_chunks
from fairmarket_local.critic.distill.generator import generate_slots
from fairmarket_local.critic.distill.gguf_export import converter_path, export_gguf
from fairmarket_local.critic.distill.student import StudentConfig, encode, save_hf, train_student
from fairmarket_local.critic.factory import make_critic
from fairmarket_local.critic.memo.cache import CacheMode
from fairmarket_local.critic.prompting.templates import PromptTemplate, load_template
from fairmarket_local.critic.quality.compare import run_critic, summarize
from fairmarket_local.critic.quality.permute import is_permutable, permute_summary
from fairmarket_local.critic.quality.report import table_csv, table_markdown
from fairmarket_local.critic.registry.convert import write_hf_folder
from fairmarket_local.critic.registry.manifests import (
    ModelManifest,
    WeightsSource,
    file_sha256,
    get_model,
    refuse_taken_id,
    save_user_manifest,
    verified_weights,
)
from fairmarket_local.critic.registry.paths import fairmarket_home
from fairmarket_local.critic.slots_io import read_summaries
from fairmarket_local.metrics.fairness import FairnessScores

EVAL_THREADS = min(os.cpu_count() or 1, 4)  # evaluation runs alone: use the cores
CURVE_SLOTS = 100  # held-out slots with trades scored per learning-curve snapshot
THROUGHPUT_SLOTS = 64  # slots with trades scored as one batch by one-thread workers (how training calls it)
CURVE_COLUMNS = ("minutes", "steps", "validity_pct", "spearman_ftg", "spearman_fbs", "spearman_fpp",
                 "mae_ftg", "mae_fbs", "mae_fpp", "slots_per_s", "batch_slots_per_s")


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
    teacher: str = "rule",
    teacher_template: str | None = None,
    slots: Path | None = None,
    generate: int = 0,
    base: str = "smollm2-135m",
    student_template: str = "student",
    heldout: int = 200,
    config: StudentConfig | None = None,
    folder: Path | None = None,
    cache_dir: Path | None = None,
    cache_mode: CacheMode = "use",
    force: bool = False,
    progress: bool = False,
) -> DistillResult:
    """Distil ``teacher`` into ``base`` and register the result as model ``name``."""
    config = config or StudentConfig()
    refuse_taken_id(name, force)
    folder = Path(folder or fairmarket_home() / "distilled" / name).expanduser().resolve()
    if folder.exists() and any(folder.iterdir()):
        if not force:
            raise FairmarketError(f"{folder} is not empty; choose another name/--dir or pass --force")
        shutil.rmtree(folder)
    converter_path()  # a missing converter must fail before, not after, the training
    base_manifest = get_model(base)
    if base_manifest.backend != "llama_cpp":
        raise FairmarketError(f"the student base must be a GGUF (llama_cpp) model, not {base_manifest.backend}")
    template = load_template(student_template)
    train_set, held = split_slots(collect_slots(slots, generate, config.seed), heldout, config.seed)
    train_set, train_labels, dropped = teacher_labels(train_set, teacher, teacher_template, cache_dir, cache_mode,
                                                      progress)
    held, held_labels, dropped_held = teacher_labels(held, teacher, teacher_template, cache_dir, cache_mode, progress)
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "train.jsonl", [dict(s, label=lb.values()) for s, lb in zip(train_set, train_labels)])
    write_jsonl(folder / "heldout.jsonl", [dict(s, label=lb.values()) for s, lb in zip(held, held_labels)])
    data_sha256 = content_hash([[s, lb.values()] for s, lb in zip(train_set, train_labels)])

    # the training model lives only inside train_and_export: its memory is back before the evaluation
    files, log, snapshots = train_and_export(name, base_manifest, template, train_set, train_labels, config, folder,
                                             progress)
    gc.collect()
    info = {
        "teacher": teacher, "teacher_template": teacher_template, "base": base, "base_sha256": base_manifest.sha256,
        "student_template": template.id, "seed": config.seed, "train_slots": len(train_set),
        "heldout_slots": len(held), "teacher_fallbacks_dropped": dropped + dropped_held, "data_sha256": data_sha256,
        "examples_per_s": log["examples_seen"] / log["train_seconds"] if log["train_seconds"] else 0.0,
        "config": {**config.__dict__, "snapshot_minutes": list(config.snapshot_minutes)},
        **{k: log[k] for k in ("steps", "schedule_steps", "examples_seen", "train_seconds", "compute_dtype")},
        "machine": machine_info("torch", "transformers"),
        "peak_rss_gb": round(peak_rss_gb(), 2),
        "f16_sha256": file_sha256(files["f16"]),
    }
    manifest = _register(name, base_manifest, files["q8_0"], template.id, info, force=True)
    rows = evaluate_student(manifest, held, held_labels, progress)
    curve = [_curve_row(m, step, _snapshot_manifest(manifest, path), held, held_labels, folder, progress)
             for m, step, path in snapshots]
    info["heldout"] = {row["subset"]: {k: row[k] for k in row if k not in ("model", "template")} for row in rows}
    manifest = _register(name, base_manifest, files["q8_0"], template.id, info, force=True)
    _write_tables(folder, rows, curve, log["losses"], info)
    return DistillResult(manifest, folder, rows, curve, info)


def train_and_export(name: str, base: ModelManifest, template: PromptTemplate, slots: list[dict],
                     labels: list[FairnessScores], config: StudentConfig, folder: Path, progress: bool,
                     ) -> tuple[dict[str, Path], dict[str, Any], list[tuple[float, int, Path]]]:
    """Fine-tune ``base`` on (slot, label) pairs; GGUF files by type, the training log, and the snapshots."""
    model, tokenizer = _load_base(base, config.layers)
    examples = encode(tokenizer, template, shuffled_parties(slots, config.seed), labels, base.system_role)
    snapshots: list[tuple[float, int, Path]] = []

    def snapshot(minutes: float, step: int) -> None:
        if minutes in config.snapshot_minutes:
            path = folder / "snapshots" / f"{minutes:g}min-q8_0.gguf"
            _export(model, tokenizer, folder / "snapshots" / "hf", {"q8_0": path})
            snapshots.append((minutes, step, path))

    with progress_bar(int(60 * config.budget_minutes), f"training {name}", unit="s", enabled=progress) as advance:
        log = train_student(model, examples, config, on_snapshot=snapshot, advance=advance)
    files = _export(model, tokenizer, folder / "hf", {t: folder / f"{name}-{t}.gguf" for t in ("f16", "q8_0")})
    shutil.rmtree(folder / "hf")
    shutil.rmtree(folder / "snapshots" / "hf", ignore_errors=True)  # the GGUF snapshots stay
    return files, log, snapshots


def shuffled_parties(slots: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Each training slot with its sellers and buyers in a seeded random order (renamed S1.., B1..): the
    student must not tie a score to a position, as the permutation-invariance check would notice."""
    return [permute_summary(s, np.random.default_rng([seed, 2, i])) if is_permutable(s) else s
            for i, s in enumerate(slots)]


def collect_slots(slots: Path | None, generate: int, seed: int) -> list[dict[str, Any]]:
    """Recorded and generated slots, de-duplicated by content (first occurrence kept)."""
    if slots is None and generate <= 0:
        raise FairmarketError("give slots to learn from: --slots FILE.jsonl and/or --generate N")
    found = (read_summaries(slots) if slots is not None else []) + generate_slots(generate, seed)
    unique: dict[str, dict[str, Any]] = {}
    for summary in found:
        unique.setdefault(content_hash({k: v for k, v in summary.items() if k != "generator"}), summary)
    return list(unique.values())


def split_slots(summaries: list[dict[str, Any]], heldout: int, seed: int) -> tuple[list[dict], list[dict]]:
    """(train, held-out): a seeded shuffle, the first ``heldout`` slots held out."""
    if len(summaries) < heldout + 10:
        raise FairmarketError(f"{len(summaries)} distinct slots are too few to hold out {heldout} and train on"
                              " the rest; add --generate N or lower --heldout")
    order = np.random.default_rng([seed, 1]).permutation(len(summaries))
    return [summaries[i] for i in order[heldout:]], [summaries[i] for i in order[:heldout]]


def teacher_labels(summaries: list[dict[str, Any]], teacher: str, template: str | None, cache_dir: Path | None,
                   cache_mode: CacheMode, progress: bool) -> tuple[list[dict], list[FairnessScores], int]:
    """The teacher's scores through the critic cache; slots where the teacher fell back are dropped."""
    kept, labels = [], []
    with make_critic(teacher, template=template, cache_dir=cache_dir, cache_mode=cache_mode) as critic, \
            progress_bar(len(summaries), f"labels from {teacher}", unit="slots", enabled=progress) as advance:
        for summary, scores in zip(summaries, score_in_chunks(critic, summaries, advance)):
            if scores.source != "fallback":
                kept.append(summary)
                labels.append(scores)
    return kept, labels, len(summaries) - len(kept)


def evaluate_student(manifest: ModelManifest, held: list[dict], labels: list[FairnessScores], progress: bool = False,
                     n_threads: int = EVAL_THREADS) -> list[dict[str, Any]]:
    """Critic-compare rows of the student against the teacher: all held-out slots, then those with trades.
    No cache: every answer (the relabelled slots' too) is computed and timed."""
    with progress_bar(len(held), f"held-out {manifest.id}", unit="slots", enabled=progress) as advance:
        run = run_critic(manifest, manifest.template or "student", held, None, "off", n_threads=n_threads,
                         advance=advance)
    rows = [dict(summarize(run, labels), subset="all")]
    traded = [i for i, s in enumerate(held) if s["trades"]]
    if traded:
        sub = replace(run, scores=[run.scores[i] for i in traded], latencies=[run.latencies[i] for i in traded])
        rows.append(dict(summarize(sub, [labels[i] for i in traded]), subset="with trades", slots=len(traded)))
    batch_rate = batch_throughput(manifest, [held[i] for i in traded], workers=n_threads)
    for row in rows:
        row["model"] = manifest.id
        row["batch_slots_per_s"], row["batch_workers"] = batch_rate, n_threads
        row["invariance_max_diff"] = max((abs(x - y) for a, b in run.permuted
                                          for x, y in zip(a.values(), b.values())), default=float("nan"))
    return rows


def batch_throughput(manifest: ModelManifest, slots: list[dict[str, Any]], workers: int = EVAL_THREADS) -> float:
    """Slots/s of one batch scored by ``workers`` one-thread llama.cpp processes, no cache, models loaded
    beforehand — the way ``fairmarket train`` calls a critic (``critic.workers``)."""
    warm, timed = slots[:2 * workers], slots[2 * workers:2 * workers + THROUGHPUT_SLOTS]
    if not timed:
        return float("nan")
    with make_critic(manifest, cache_mode="off", n_threads=1, workers=workers) as critic:
        critic.score(warm)
        start = time.perf_counter()
        critic.score(timed)
        return len(timed) / (time.perf_counter() - start)


def peak_rss_gb() -> float:
    """This process's peak resident memory so far (Linux reports KiB, macOS bytes)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**30 if sys.platform == "darwin" else peak / 2**20


def _load_base(manifest: ModelManifest, layers: int | None = None) -> tuple[Any, Any]:
    """The base model as float32 transformers weights (dequantised once, kept under $FAIRMARKET_HOME),
    cut to its first ``layers`` transformer layers if given."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise FairmarketError(f"distillation needs {exc.name}: pip install -e '.[transformers]'") from None
    hf = fairmarket_home() / "distill-bases" / manifest.sha256[:16]  # type: ignore[index]
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


def _export(model: Any, tokenizer: Any, hf: Path, targets: dict[str, Path]) -> dict[str, Path]:
    save_hf(model, tokenizer, hf)
    return {outtype: export_gguf(hf, path, outtype) for outtype, path in targets.items()}


def _register(name: str, base: ModelManifest, gguf: Path, template: str, info: dict[str, Any],
              force: bool) -> ModelManifest:
    refuse_taken_id(name, force)
    layers = info["config"].get("layers")
    cut = f" (first {layers} layers)" if layers else ""
    return save_user_manifest({
        "id": name, "backend": "llama_cpp",
        "description": f"{base.id}{cut} distilled from {info['teacher']} ({info['train_slots']} slots,"
                       f" {info['steps']} steps)",
        "weights": {"path": str(gguf)}, "sha256": file_sha256(gguf), "size": gguf.stat().st_size,
        "licence": base.licence, "n_ctx": 2048, "template": template, "distilled": info,
        "install": f"fairmarket critic distill --teacher {info['teacher']} --base {info['base']} --out {name}",
    })


def _snapshot_manifest(final: ModelManifest, gguf: Path) -> ModelManifest:
    """An unregistered manifest for a learning-curve snapshot (scored, never trained with)."""
    return final.model_copy(update={"id": f"{final.id}.{gguf.stem.split('-')[0]}",
                                    "weights": WeightsSource(path=str(gguf)),
                                    "sha256": file_sha256(gguf), "size": gguf.stat().st_size, "distilled": None})


def _curve_row(minutes: float, step: int, manifest: ModelManifest, held: list[dict], labels: list[FairnessScores],
               folder: Path, progress: bool) -> dict[str, Any]:
    traded = [i for i, s in enumerate(held) if s["trades"]][:CURVE_SLOTS]
    rows = evaluate_student(manifest, [held[i] for i in traded], [labels[i] for i in traded], progress)
    return {"minutes": minutes, "steps": step, **{k: rows[0][k] for k in CURVE_COLUMNS[2:]}}


def _write_tables(folder: Path, rows: list[dict], curve: list[dict], losses: list, info: dict[str, Any]) -> None:
    ordered = [{"subset": r["subset"], **{k: v for k, v in r.items() if k != "subset"}} for r in rows]
    write_text_atomic(folder / "heldout.csv", table_csv(ordered))
    write_text_atomic(folder / "heldout.md", "\n".join(
        f"### {r['subset']}\n\n{table_markdown([r], r['slots'], reference='the teacher')}" for r in rows))
    if curve:
        write_text_atomic(folder / "learning_curve.csv", table_csv(curve))
        plot_learning_curve(curve, folder / "learning_curve.png")
    write_text_atomic(folder / "losses.csv", "step,loss\n" + "".join(f"{s},{v}\n" for s, v in losses))
    write_json(folder / "distill.json", json.loads(json.dumps(info, default=str)))


def plot_learning_curve(curve: list[dict[str, Any]], path: Path) -> None:
    """Spearman per score against training minutes (held-out slots with trades)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6), constrained_layout=True)
    minutes = [row["minutes"] for row in curve]
    for score in ("ftg", "fbs", "fpp"):
        ax.plot(minutes, [row[f"spearman_{score}"] for row in curve], marker="o", label=score)
    ax.axhline(0.9, color="grey", lw=0.8, ls="--")
    ax.set(xlabel="training minutes", ylabel="Spearman vs teacher", ylim=(0, 1.02),
           title="student on held-out slots with trades")
    ax.legend()
    ax.grid(alpha=0.3)
    save_figure(fig, path)
