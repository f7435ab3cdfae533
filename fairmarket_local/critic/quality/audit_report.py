"""Write a critic audit: ``audit.csv`` (one row per critic × relation), ``audit.md`` and ``audit.png``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np

from fairmarket_local.common.io import write_text_atomic
from fairmarket_local.common.plotting import pyplot, save_figure
from fairmarket_local.critic.prompting.slot_text import render_slot
from fairmarket_local.critic.quality.audit import RESPONSIVE_STEP, AuditResult, AuditRun, Example
from fairmarket_local.critic.quality.relations import Relation
from fairmarket_local.critic.quality.report import table_csv
from fairmarket_local.metrics.fairness import SCORE_NAMES, FairnessScores

OUTPUT_FILES = ("audit.csv", "audit.md", "audit.png")
_DETAIL_COLUMNS = [
    ("model", "model"), ("template", "template"), ("relation", "relation"), ("claim", "claim"),
    ("variants", "variants"), ("skipped", "skipped"), ("satisfied_pct", "satisfied %"),
    ("worst_violation", "worst violation"), ("responsive_pct", "moved %"), ("fallbacks", "fallbacks"),
]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.3g}"
    return str(value)


def critic_label(model: str, template: str) -> str:
    return model if template == "-" else f"{model} / {template}"


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(row) + " |" for row in rows)]


def summary_markdown(result: AuditResult, relations: Sequence[Relation]) -> str:
    """The critic × relation table of shares satisfied (what the CLI prints)."""
    header = ["critic", *(f"{r.name} ({r.claim()})" for r in relations)]
    rows = [[critic_label(run.model, run.template), *(_fmt(row["satisfied_pct"]) for row in run.rows)]
            for run in result.runs]
    counts = ["variants", *(str(row["variants"]) for row in result.runs[0].rows)] if result.runs else []
    lines = [
        (f"Critic audit on {result.slots} two-sided slots ({result.left_out} one-sided left out): % of variants"
         f" whose scores moved as declared (↑ must not fall, ↓ must not rise, = within ±{result.tolerance:g})."),
        "",
        *_markdown_table(header, [*rows, counts]),
    ]
    return "\n".join(lines) + "\n"


def details_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """Every row of ``audit.csv``: variants, skips, share satisfied, worst violation, moved share, fallbacks."""
    body = [[_fmt(row[key]) for key, _ in _DETAIL_COLUMNS] for row in rows]
    return "\n".join(_markdown_table([title for _, title in _DETAIL_COLUMNS], body)) + "\n"


def side_by_side(left: str, right: str, titles: tuple[str, str]) -> str:
    """Two texts in two columns (a fenced block keeps them aligned)."""
    a, b = [titles[0], *left.splitlines()], [titles[1], *right.splitlines()]
    width = max(len(line) for line in a)
    return "\n".join(["```", *(f"{x:<{width}} | {y}" for x, y in zip_longest(a, b, fillvalue="")), "```"])


def _scores_text(scores: FairnessScores) -> str:
    return " ".join(f"{name} {value:.2f}" for name, value in zip(SCORE_NAMES, scores.values()))


def example_markdown(example: Example) -> str:
    titles = (f"slot {example.slot}: {_scores_text(example.base_scores)}",
              f"{example.relation}: {_scores_text(example.variant_scores)}")
    return (f"- {example.relation}, slot {example.slot}, violation {example.violation:.3g}\n\n"
            + side_by_side(render_slot(example.base), render_slot(example.variant), titles) + "\n")


def examples_markdown(runs: Sequence[AuditRun]) -> str:
    parts = []
    for run in runs:
        if run.examples:
            parts.append(f"### {critic_label(run.model, run.template)}\n")
            parts += [example_markdown(e) for e in run.examples]
    return "\n".join(parts) if parts else "No relation was violated.\n"


def audit_markdown(result: AuditResult, relations: Sequence[Relation]) -> str:
    """The whole ``audit.md``: summary, details and the worst violated pairs."""
    return "\n".join([
        "# Critic audit", "", summary_markdown(result, relations), "## Per critic and relation", "",
        (f"moved %: share of a directional relation's variants whose declared scores moved the declared way by"
         f" at least {RESPONSIVE_STEP:g} (a critic that never moves satisfies every ↑ and ↓; compare with rule)."),
        "", details_markdown(result.rows), "## Worst violated pairs (slot | variant)", "",
        examples_markdown(result.runs),
    ]).rstrip("\n") + "\n"


def write_audit(out: Path, result: AuditResult, relations: Sequence[Relation]) -> list[Path]:
    """Write the three files into ``out``; returns their paths."""
    write_text_atomic(out / "audit.csv", table_csv(result.rows))
    write_text_atomic(out / "audit.md", audit_markdown(result, relations))
    plot_audit(out / "audit.png", result, relations)
    return [out / name for name in OUTPUT_FILES]


def plot_audit(path: Path, result: AuditResult, relations: Sequence[Relation]) -> None:
    """A heat map of the share satisfied, critics down, relations across (grey: no variant)."""
    plt = pyplot()
    shares = np.array([[row["satisfied_pct"] for row in run.rows] for run in result.runs], dtype=np.float64)
    fig, ax = plt.subplots(figsize=(2.5 + 1.1 * len(relations), 1.6 + 0.55 * len(result.runs)),
                           constrained_layout=True)
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="lightgrey")
    ax.imshow(np.ma.masked_invalid(shares), cmap=cmap, vmin=0, vmax=100, aspect="auto")
    for (i, j), value in np.ndenumerate(shares):
        ax.text(j, i, "–" if math.isnan(value) else f"{value:.0f}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(relations)), [f"{r.name}\n{r.claim()}" for r in relations], fontsize=7,
                  rotation=30, ha="right")
    ax.set_yticks(range(len(result.runs)), [critic_label(r.model, r.template) for r in result.runs], fontsize=8)
    ax.set_title(f"% of variants satisfied ({result.slots} slots, tolerance ±{result.tolerance:g})", fontsize=9)
    save_figure(fig, path)
