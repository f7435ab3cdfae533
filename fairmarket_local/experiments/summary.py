"""The study's tables with interval estimates: what ``summary.md`` and the CSVs beside it hold.

    OUT/summary.md        IQM [95 % CI] per arm and grid point; P(improvement) over the reference arms;
                          the plateau of every training arm's runs
    OUT/intervals.csv     the same intervals, one row per (grid point, arm, KPI)
    OUT/improvement.csv   P(arm better than reference) per (grid point, arm, reference, KPI)
    OUT/profiles.csv      performance profiles (share of seeds better than each threshold) per arm and
                          cost/fairness KPI — for a study without a grid, where one figure can show them
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fairmarket_local.common.io import write_text_atomic
from fairmarket_local.experiments.config import ExperimentConfig
from fairmarket_local.experiments.stats import (
    KPIS,
    PROFILE_KPIS,
    KpiIntervals,
    Profile,
    arm_intervals,
    group_rows,
    higher_is_better,
    improvements,
    profiles,
)


@dataclass(frozen=True)
class Summary:
    """Everything the tables show, computed once (the report reads the same record)."""

    grid_keys: list[str]
    intervals: list[KpiIntervals]
    improvements: list[KpiIntervals]
    references: list[str]
    convergence: list[dict[str, Any]]
    profiles: list[Profile]


def summarize(config: ExperimentConfig, rows: list[dict[str, Any]]) -> Summary:
    grid_keys = [k.rsplit(".", 1)[-1] for k in config.grid]
    stats = config.statistics
    references = reference_arms(config)
    return Summary(grid_keys, arm_intervals(rows, grid_keys, stats),
                   improvements(rows, grid_keys, references, stats), references, convergence(rows, grid_keys),
                   [] if grid_keys else profiles(_trading(config, rows), grid_keys, stats, PROFILE_KPIS))


def _trading(config: ExperimentConfig, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of every arm but grid-only: it trades nothing, so its FBS and FPP are 1 by definition and would
    only stretch a profile's axes."""
    grid_only = {arm.name for arm in config.baseline_arms if arm.baseline == "grid-only"}
    return [row for row in rows if row["arm"] not in grid_only]


def reference_arms(config: ExperimentConfig) -> list[str]:
    """The arms others are compared with: the configured ones, else truthful and unshaped training arms."""
    if config.statistics.improvement_over is not None:
        return list(config.statistics.improvement_over)
    unshaped = [arm.name for arm in config.training_arms
                if {**config.overrides, **arm.overrides}.get("training.shaping.lambda_max") == 0]
    return [arm.name for arm in config.baseline_arms if arm.baseline == "truthful"] + unshaped


def convergence(rows: list[dict[str, Any]], grid_keys: list[str]) -> list[dict[str, Any]]:
    """Per (grid point, training arm): runs, how many converged, median plateau episode, episodes run."""
    table = []
    for point, arms in group_rows(rows, grid_keys).items():
        for arm, members in arms.items():
            runs = [m for m in members if m.get("plateau_episode") is not None]
            if runs:
                table.append({"point": point, "arm": arm, "runs": len(runs),
                              "converged": sum(bool(m["converged"]) for m in runs),
                              "median_plateau_episode": int(np.median([m["plateau_episode"] for m in runs])),
                              "episodes": max(m["training_episodes"] for m in runs)})
    return table


def write_tables(out: Path, config: ExperimentConfig, rows: list[dict[str, Any]]) -> Summary:
    summary = summarize(config, rows)
    write_text_atomic(out / "summary.md", summary_markdown(config, summary))
    write_text_atomic(out / "intervals.csv", intervals_csv(summary))
    write_text_atomic(out / "improvement.csv", improvement_csv(summary))
    if summary.profiles:
        write_text_atomic(out / "profiles.csv", profiles_csv(summary))
    return summary


def _csv(head: list[str], body: list[list[Any]]) -> str:
    return "\n".join(",".join(str(cell) for cell in line) for line in [head, *body]) + "\n"


def intervals_csv(summary: Summary) -> str:
    return _csv([*summary.grid_keys, "arm", "seeds", "kpi", "iqm", "ci_low", "ci_high"],
                [[*group.point, group.arm, group.seeds, kpi, f"{i.point:.6g}", f"{i.low:.6g}", f"{i.high:.6g}"]
                 for group in summary.intervals for kpi, i in group.kpis.items()])


def improvement_csv(summary: Summary) -> str:
    return _csv([*summary.grid_keys, "arm", "reference", "kpi", "probability", "ci_low", "ci_high"],
                [[*found.point, found.arm, found.reference, kpi, f"{i.point:.4f}", f"{i.low:.4f}", f"{i.high:.4f}"]
                 for found in summary.improvements for kpi, i in found.kpis.items()])


def profiles_csv(summary: Summary) -> str:
    return _csv(["arm", "kpi", "threshold", "share_better", "ci_low", "ci_high"],
                [[p.arm, p.kpi, f"{tau:.6g}", f"{i.point:.4f}", f"{i.low:.4f}", f"{i.high:.4f}"]
                 for p in summary.profiles for tau, i in zip(p.thresholds, p.shares)])


def _markdown_table(head: list[str], body: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in body)]


def summary_markdown(config: ExperimentConfig, summary: Summary) -> str:
    keys = summary.grid_keys
    stats = config.statistics
    level = f"{stats.confidence:.0%}"
    lines = [f"# {config.name}: held-out evaluation",
             "", f"IQM over seeds [{level} stratified-bootstrap CI, {stats.reps} replications];"
             f" {config.eval_episodes} held-out episodes per seed, the same for every arm.", "",
             *_markdown_table([*keys, "arm", "seeds", *KPIS],
                              [[*map(str, g.point), g.arm, str(g.seeds), *(g.kpis[k].text() for k in KPIS)]
                               for g in summary.intervals])]
    if summary.improvements:
        arrows = ", ".join(f"{k} {'↑' if higher_is_better(k) else '↓'}" for k in KPIS)
        lines += ["", f"## Probability of improvement [{level} CI]", "",
                  f"P(a seed of the arm beats a seed of the reference); better is: {arrows}. 0.5 = no difference.",
                  "", *_markdown_table([*keys, "arm", "over", *KPIS],
                                       [[*map(str, f.point), f.arm, f.reference, *(f.kpis[k].text(2) for k in KPIS)]
                                        for f in summary.improvements])]
    if summary.convergence:
        lines += ["", "## Convergence", "", f"Plateau of `{stats.plateau_metric}` (docs/experiments.md): the"
                  f" episode from which its moving mean stays within {stats.plateau_tolerance:.0%} of its largest"
                  " distance from the final value; converged = on the plateau for at least one more window.", "",
                  *_markdown_table([*keys, "arm", "runs", "converged", "median plateau episode", "episodes"],
                                   [[*map(str, c["point"]), c["arm"], str(c["runs"]), str(c["converged"]),
                                     str(c["median_plateau_episode"]), str(c["episodes"])]
                                    for c in summary.convergence])]
    return "\n".join(lines) + "\n"
