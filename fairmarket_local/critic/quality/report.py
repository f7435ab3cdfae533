"""Write a critic comparison: ``critics.csv``, ``critics.md`` and two PNG plots."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from fairmarket_local.common.io import write_text_atomic
from fairmarket_local.common.plotting import pyplot, save_figure
from fairmarket_local.critic.quality.compare import CriticRun
from fairmarket_local.metrics.fairness import SCORE_NAMES, FairnessScores

OUTPUT_FILES = ("critics.csv", "critics.md", "agreement.png", "scatter.png")
_MD_COLUMNS = [
    ("model", "model"), ("template", "template"), ("validity_pct", "valid %"), ("fallbacks", "fallbacks"),
    ("mean_latency_ms", "mean ms"), ("p95_latency_ms", "p95 ms"), ("slots_per_s", "slots/s"),
    ("cache_hit_rate", "hit rate"), *[(f"mae_{s}", f"MAE {s}") for s in SCORE_NAMES],
    *[(f"spearman_{s}", f"ρ {s}") for s in SCORE_NAMES], ("invariance_pct", "perm. invariant %"),
    ("repeatability_pct", "repeatable %"), ("audit_directional_pct", "audit ↑↓ %"),
    ("audit_moved_pct", "audit moved %"), ("audit_invariance_pct", "audit = %"), ("audit_worst", "audit worst"),
]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.3g}"
    return str(value)


def table_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def table_markdown(rows: list[dict[str, Any]], slots: int, reference: str = "the §4 reference") -> str:
    columns = [(key, title) for key, title in _MD_COLUMNS if key in rows[0]]  # the audit's only when it ran
    audited = "audit_slots" in rows[0]
    lines = [
        f"Critic comparison on {slots} recorded slots. ρ = Spearman rank correlation with {reference}"
        " (n/a: the critic gave the same score to every slot)." + (
            f" Audit (docs/audit.md) of {rows[0]['audit_slots']} two-sided slots: the share of variants whose"
            " claimed score moved as declared (↑↓), of those that moved it by ≥ 0.01 (moved), of irrelevant"
            " changes within the tolerance (=), and the largest forbidden move (worst)." if audited else ""),
        "",
        "| " + " | ".join(title for _, title in columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
        *("| " + " | ".join(_fmt(row[key]) for key, _ in columns) + " |" for row in rows),
    ]
    return "\n".join(lines) + "\n"


def write_report(out: Path, rows: list[dict[str, Any]], runs: list[CriticRun],
                 reference: list[FairnessScores]) -> list[Path]:
    """Write the table and plots into ``out``; returns the written paths."""
    write_text_atomic(out / "critics.csv", table_csv(rows))
    write_text_atomic(out / "critics.md", table_markdown(rows, len(reference)))
    _plot_agreement(out / "agreement.png", rows)
    _plot_scatter(out / "scatter.png", runs, reference)
    return [out / name for name in OUTPUT_FILES]


def _label(model: str, template: str) -> str:
    return model if template == "-" else f"{model} / {template}"


def _plot_agreement(path: Path, rows: list[dict[str, Any]]) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(4 + 1.8 * len(rows), 4.5), constrained_layout=True)
    x = np.arange(len(rows))
    width = 0.8 / len(SCORE_NAMES)
    for k, score in enumerate(SCORE_NAMES):
        axes[0].bar(x + k * width, [r[f"mae_{score}"] for r in rows], width, label=score)
        axes[1].bar(x + k * width, [np.nan_to_num(r[f"spearman_{score}"]) for r in rows], width, label=score)
    axes[2].bar(x, [r["slots_per_s"] for r in rows], color="grey")
    for ax, title in zip(axes, ("MAE vs reference (lower is better)", "Spearman vs reference (n/a shown as 0)",
                                "slots/s (log)")):
        ax.set_title(title, fontsize=9)
        offset = 0.0 if ax is axes[2] else 0.4 - width / 2
        ax.set_xticks(x + offset, [_label(r["model"], r["template"]) for r in rows], fontsize=7,
                      rotation=30, ha="right")
    axes[0].legend(fontsize=7)
    axes[2].set_yscale("log")
    save_figure(fig, path)


def _plot_scatter(path: Path, runs: list[CriticRun], reference: list[FairnessScores]) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(len(runs), 3, figsize=(9, 2.6 * len(runs)), squeeze=False, constrained_layout=True)
    ref = np.array([s.values() for s in reference])
    for row, run in zip(axes, runs):
        got = np.array([s.values() for s in run.scores])
        fallback = np.array([s.source == "fallback" for s in run.scores])
        for k, ax in enumerate(row):
            ax.scatter(ref[~fallback, k], got[~fallback, k], s=8, alpha=0.5)
            ax.scatter(ref[fallback, k], got[fallback, k], s=8, marker="x", color="red")
            ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
            ax.set(xlim=(-0.05, 1.05), ylim=(-0.05, 1.05))
            ax.set_title(f"{_label(run.model, run.template)} · {SCORE_NAMES[k]}", fontsize=8)
            ax.set_xlabel("reference", fontsize=7)
    save_figure(fig, path)
