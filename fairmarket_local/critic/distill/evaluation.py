"""A distilled student measured on the held-out slots against the teacher's labels, and the tables and plot.

The critic-compare table (parse rate, MAE, Spearman, slots/s, permutation invariance) for all held-out
slots and for those with trades, the learning curve of the snapshots, and every table written next to
the weights (``heldout.{md,csv}``, ``learning_curve.{csv,png}``, ``losses.csv``, ``distill.json``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from fairmarket_local.common.io import write_json, write_text_atomic
from fairmarket_local.common.plotting import pyplot, save_figure
from fairmarket_local.common.progress import progress_bar
from fairmarket_local.critic.distill.export import snapshot_manifest
from fairmarket_local.critic.distill.training import Snapshot
from fairmarket_local.critic.factory import make_critic
from fairmarket_local.critic.quality.compare import run_critic, summarize
from fairmarket_local.critic.quality.report import table_csv, table_markdown
from fairmarket_local.critic.registry.manifests import ModelManifest
from fairmarket_local.env.summary_types import SlotSummary
from fairmarket_local.metrics.fairness import SCORE_NAMES, FairnessScores

EVAL_THREADS = min(os.cpu_count() or 1, 4)  # evaluation runs alone: use the cores
CURVE_SLOTS = 100  # held-out slots with trades scored per learning-curve snapshot
THROUGHPUT_SLOTS = 64  # slots with trades scored as one batch by one-thread workers (how training calls it)
CURVE_COLUMNS = ("minutes", "steps", "validity_pct", *(f"spearman_{s}" for s in SCORE_NAMES),
                 *(f"mae_{s}" for s in SCORE_NAMES), "slots_per_s", "batch_slots_per_s")


def evaluate_student(manifest: ModelManifest, held: list[SlotSummary], labels: list[FairnessScores],
                     progress: bool = False, n_threads: int = EVAL_THREADS) -> list[dict[str, Any]]:
    """Critic-compare rows of the student against the teacher: all held-out slots, then those with trades.
    No cache: every answer (the relabelled slots' too) is computed and timed."""
    with progress_bar(len(held), f"held-out {manifest.id}", unit="slots", enabled=progress) as advance:
        # make_critic takes a manifest as well as an id (a snapshot is not registered); its row's model is set below
        run = run_critic(manifest, manifest.template or "student", held, None, "off",  # type: ignore[arg-type]  # above
                         n_threads=n_threads, advance=advance)
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


def batch_throughput(manifest: ModelManifest, slots: list[SlotSummary], workers: int = EVAL_THREADS) -> float:
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


def learning_curve(final: ModelManifest, snapshots: Sequence[Snapshot], held: list[SlotSummary],
                   labels: list[FairnessScores], progress: bool) -> list[dict[str, Any]]:
    """A row of :data:`CURVE_COLUMNS` per snapshot, each scored on held-out slots with trades."""
    return [curve_row(minutes, step, snapshot_manifest(final, path), held, labels, progress)
            for minutes, step, path in snapshots]


def curve_row(minutes: float, step: int, manifest: ModelManifest, held: list[SlotSummary],
              labels: list[FairnessScores], progress: bool) -> dict[str, Any]:
    """One snapshot's learning-curve row: its figures on (at most :data:`CURVE_SLOTS`) held-out slots with trades."""
    traded = [i for i, s in enumerate(held) if s["trades"]][:CURVE_SLOTS]
    rows = evaluate_student(manifest, [held[i] for i in traded], [labels[i] for i in traded], progress)
    return {"minutes": minutes, "steps": step, **{k: rows[0][k] for k in CURVE_COLUMNS[2:]}}


def heldout_figures(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The held-out rows by subset, without the model and template (what the manifest records)."""
    return {row["subset"]: {k: row[k] for k in row if k not in ("model", "template")} for row in rows}


def write_tables(folder: Path, rows: list[dict], curve: list[dict], losses: list, info: dict[str, Any]) -> None:
    """``heldout.{csv,md}``, ``learning_curve.{csv,png}`` (with snapshots), ``losses.csv`` and ``distill.json``."""
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
    for score in SCORE_NAMES:
        ax.plot(minutes, [row[f"spearman_{score}"] for row in curve], marker="o", label=score)
    ax.axhline(0.9, color="grey", lw=0.8, ls="--")
    ax.set(xlabel="training minutes", ylabel="Spearman vs teacher", ylim=(0, 1.02),
           title="student on held-out slots with trades")
    ax.legend()
    ax.grid(alpha=0.3)
    save_figure(fig, path)
