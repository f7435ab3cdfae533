"""The experiment report's figures: each function writes one PNG from the gathered results.

``rows`` are held-out evaluation rows (one per arm × grid point × seed: ``arm``, ``point`` label, the
grid values by short key, the KPI columns, ``household_savings`` and ``price_histogram``);
``training`` maps arm → grid-point label → one list of per-episode metric dicts per seed.
Arm colours follow ``colors`` so an arm looks the same in every figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fairmarket_local.common.plotting import pyplot, save_figure

Row = dict[str, Any]
Training = dict[str, dict[str, list[list[Row]]]]
MAX_PANELS = 4  # more grid points than this: training curves pool them into one panel
SENSITIVITY = (("consumer_cost_vs_grid_only", "consumer cost vs grid-only (lower is better)"),
               ("p2p_share_of_demand", "P2P share of demand"),
               ("ftg", "FTG (higher is fairer)"))


def _mean_std(values: list[float]) -> tuple[float, float]:
    array = np.asarray(values, dtype=np.float64)
    return (float(array.mean()), float(array.std())) if len(array) else (np.nan, np.nan)


def _panels(training: Training) -> list[tuple[str, str | None, dict[str, list[list[Row]]]]]:
    """(title, grid-point label or None when pooled, arm → runs): one panel per grid point, or one pooled
    panel when there are many."""
    labels = list(dict.fromkeys(label for per_point in training.values() for label in per_point))
    if len(labels) > MAX_PANELS:
        return [(f"all {len(labels)} grid points", None,
                 {arm: [run for runs in per_point.values() for run in runs] for arm, per_point in training.items()})]
    return [(label or "all runs", label, {arm: per_point[label] for arm, per_point in training.items()
                                         if label in per_point}) for label in labels]


def _median_plateau(rows: list[Row], arm: str, label: str | None) -> float | None:
    episodes = [r["plateau_episode"] for r in rows if r["arm"] == arm and r.get("plateau_episode") is not None
                and (label is None or r["point"] == label)]
    return float(np.median(episodes)) if episodes else None


def training_curves(path: Path, training: Training, metrics: list[tuple[str, str]], colors: dict[str, str],
                    rows: list[Row] | None = None) -> None:
    """One row of panels per metric, one column per grid point: mean over seeds per episode, ±std shaded;
    with the held-out ``rows``, a dashed line at each arm's median plateau episode."""
    plt = pyplot()
    panels = _panels(training)
    fig, axes = plt.subplots(len(metrics), len(panels), figsize=(1.5 + 4.2 * len(panels), 2.9 * len(metrics)),
                             squeeze=False, constrained_layout=True)
    for col, (title, label_of_point, per_arm) in enumerate(panels):
        for row, (key, label) in enumerate(metrics):
            ax = axes[row, col]
            for arm, runs in per_arm.items():
                length = min(len(run) for run in runs)
                values = np.array([[r.get(key, np.nan) for r in run[:length]] for run in runs], dtype=np.float64)
                episodes = [r["episode"] for r in runs[0][:length]]
                mean, std = values.mean(axis=0), values.std(axis=0)
                ax.plot(episodes, mean, color=colors[arm], label=f"{arm} (n={len(runs)})",
                        marker="o" if length <= 20 else None, ms=3)
                ax.fill_between(episodes, mean - std, mean + std, color=colors[arm], alpha=0.2, lw=0)
                median = _median_plateau(rows or [], arm, label_of_point)
                if median is not None:
                    ax.axvline(median, color=colors[arm], ls="--", lw=0.8)
            ax.set_title(f"{label} · {title}", fontsize=9)
            ax.set_xlabel("training episode", fontsize=8)
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    save_figure(fig, path)


def held_out_bars(path: Path, rows: list[Row], arms: list[str], column: str, label: str,
                  colors: dict[str, str]) -> None:
    """Held-out ``column`` per arm (mean ± std over seeds), one bar per grid point."""
    plt = pyplot()
    points = list(dict.fromkeys(r["point"] for r in rows))
    fig, ax = plt.subplots(figsize=(2.5 + 1.2 * len(arms) * max(1, len(points) / 2), 3.6), constrained_layout=True)
    width = 0.8 / len(points)
    for k, point in enumerate(points):
        stats = [_mean_std([r[column] for r in rows if r["arm"] == arm and r["point"] == point]) for arm in arms]
        x = np.arange(len(arms)) + (k - (len(points) - 1) / 2) * width
        ax.bar(x, [m for m, _ in stats], width, yerr=[s for _, s in stats], capsize=3,
               color=[colors[arm] for arm in arms], alpha=1.0 - 0.5 * k / max(1, len(points) - 1),
               edgecolor="black", lw=0.5)
        if point:
            for xi in x:
                ax.annotate(point, (xi, 0), xytext=(0, 2), textcoords="offset points", rotation=90,
                            ha="center", va="bottom", fontsize=6)
    ax.set_xticks(np.arange(len(arms)), arms, fontsize=8)
    ax.set_ylabel(label, fontsize=8)
    ax.set_title(f"held-out {label} (mean ± std over seeds)", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    save_figure(fig, path)


def price_histograms(path: Path, rows: list[Row], arms: list[str], colors: dict[str, str]) -> None:
    """Share of held-out P2P kWh per price bin, one panel per arm (seeds and grid points pooled)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(arms), figsize=(1 + 3.2 * len(arms), 3.2), squeeze=False, sharey=True,
                             constrained_layout=True)
    for ax, arm in zip(axes[0], arms):
        kwh = np.sum([r["price_histogram"] for r in rows if r["arm"] == arm and r["price_histogram"]], axis=0)
        edges = np.linspace(0.0, 1.0, len(kwh) + 1)
        total = float(kwh.sum())
        ax.bar(edges[:-1], kwh / total if total > 0 else kwh, width=np.diff(edges), align="edge",
               color=colors[arm], edgecolor="black", lw=0.4)
        ax.set_title(f"{arm} ({total:.1f} kWh traded)", fontsize=9)
        ax.set_xlabel("price: 0 = feed-in, 1 = retail", fontsize=8)
        ax.set_xlim(0, 1)
        if total == 0:
            ax.text(0.5, 0.5, "no P2P trades", ha="center", transform=ax.transAxes, fontsize=9)
    axes[0, 0].set_ylabel("share of traded kWh", fontsize=8)
    save_figure(fig, path)


def savings_boxes(path: Path, rows: list[Row], arms: list[str], colors: dict[str, str]) -> None:
    """Box plot per arm of per-household mean savings ($ per held-out episode), seeds and grid points pooled."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(2.5 + 1.3 * len(arms), 3.8), constrained_layout=True)
    data = [[s for r in rows if r["arm"] == arm for s in r["household_savings"]] for arm in arms]
    boxes = ax.boxplot(data, patch_artist=True, widths=0.6)
    for patch, arm in zip(boxes["boxes"], arms):
        patch.set(facecolor=colors[arm], alpha=0.6)
    ax.set_xticks(np.arange(1, len(arms) + 1), arms, fontsize=8)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_ylabel("saving vs grid-only ($ per episode)", fontsize=8)
    ax.set_title("per-household savings, held out (one point per household × seed × grid point)", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    save_figure(fig, path)


def _cell(rows: list[Row], arm: str, column: str, where: dict[str, Any]) -> tuple[float, float]:
    return _mean_std([r[column] for r in rows if r["arm"] == arm and all(r[k] == v for k, v in where.items())])


def sensitivity_lines(path: Path, rows: list[Row], arms: list[str], key: str, values: list[Any],
                      colors: dict[str, str]) -> None:
    """Held-out KPIs vs the one grid key: mean ± std over seeds, one line per arm."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(SENSITIVITY), figsize=(4.2 * len(SENSITIVITY), 3.4), constrained_layout=True)
    x = np.arange(len(values))
    for ax, (column, label) in zip(axes, SENSITIVITY):
        for arm in arms:
            stats = [_cell(rows, arm, column, {key: v}) for v in values]
            ax.errorbar(x, [m for m, _ in stats], yerr=[s for _, s in stats], color=colors[arm], label=arm,
                        marker="o", ms=4, capsize=3)
        ax.set_xticks(x, [str(v) for v in values], fontsize=8)
        ax.set_xlabel(key, fontsize=8)
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    save_figure(fig, path)


def sensitivity_heatmaps(path: Path, rows: list[Row], arms: list[str], keys: list[str],
                         values: list[list[Any]]) -> None:
    """Held-out KPI (mean over seeds) over the two grid keys: one row of heatmaps per arm, one column per
    KPI, a colour scale shared by the arms of a KPI."""
    plt = pyplot()
    (ykey, xkey), (yvalues, xvalues) = keys, values
    fig, axes = plt.subplots(len(arms), len(SENSITIVITY), squeeze=False, constrained_layout=True,
                             figsize=(1 + 1.1 * len(SENSITIVITY) * (2 + len(xvalues)), 1 + (1.2 + 0.5 * len(yvalues))
                                      * len(arms)))
    for col, (column, label) in enumerate(SENSITIVITY):
        grids = [np.array([[_cell(rows, arm, column, {ykey: yv, xkey: xv})[0] for xv in xvalues] for yv in yvalues])
                 for arm in arms]
        vmin, vmax = np.nanmin(grids), np.nanmax(grids)
        for row, (arm, grid) in enumerate(zip(arms, grids)):
            ax = axes[row, col]
            image = ax.imshow(grid, cmap="viridis", vmin=vmin, vmax=vmax, aspect="auto", origin="lower")
            for (i, j), value in np.ndenumerate(grid):
                ax.text(j, i, f"{value:.3f}", ha="center", va="center", fontsize=7,
                        color="white" if value < (vmin + vmax) / 2 else "black")
            ax.set_xticks(range(len(xvalues)), [str(v) for v in xvalues], fontsize=7)
            ax.set_yticks(range(len(yvalues)), [str(v) for v in yvalues], fontsize=7)
            ax.set_xlabel(xkey, fontsize=7)
            ax.set_ylabel(ykey, fontsize=7)
            ax.set_title(f"{arm}: {label}", fontsize=8)
        fig.colorbar(image, ax=axes[:, col], shrink=0.8).ax.tick_params(labelsize=7)
    save_figure(fig, path)


FRONTIER = (("ftg", "FTG"), ("fbs", "FBS"), ("fpp", "FPP"),
            ("gini_household_savings", "Gini of savings (lower is fairer)"))
FRONTIER_COST = "consumer_cost_vs_grid_only"


def frontier(path: Path, groups: list[Any], arms: list[str], colors: dict[str, str]) -> None:
    """Consumer cost (x) against each fairness KPI (y): one point per arm and grid point, IQM with 95 % CIs
    as error bars in both directions; an arm's grid points are joined in grid order and labelled."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(FRONTIER), figsize=(4.2 * len(FRONTIER), 3.6), squeeze=False,
                             constrained_layout=True)
    for ax, (kpi, label) in zip(axes[0], FRONTIER):
        for arm in arms:
            members = [g for g in groups if g.arm == arm]
            xs = [g.kpis[FRONTIER_COST] for g in members]
            ys = [g.kpis[kpi] for g in members]
            ax.errorbar([x.point for x in xs], [y.point for y in ys],
                        xerr=[[x.point - x.low for x in xs], [x.high - x.point for x in xs]],
                        yerr=[[y.point - y.low for y in ys], [y.high - y.point for y in ys]],
                        color=colors[arm], marker="o", ms=4, lw=1, capsize=2, label=arm)
            labelled: set[tuple[float, float]] = set()  # a baseline the grid does not move: one label
            for g, x, y in zip(members, xs, ys):
                if len(members) > 1 and (x.point, y.point) not in labelled:
                    labelled.add((x.point, y.point))
                    ax.annotate(", ".join(map(str, g.point)), (x.point, y.point), fontsize=6,
                                textcoords="offset points", xytext=(3, 3))
        ax.set_xlabel("consumer cost vs grid-only (lower is cheaper)", fontsize=8)
        ax.set_ylabel(label, fontsize=8)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    save_figure(fig, path)


PROFILE_LABELS = {"consumer_cost_vs_grid_only": "consumer cost vs grid-only", "ftg": "FTG", "fbs": "FBS",
                  "fpp": "FPP"}


def performance_profiles(path: Path, profiles: list[Any], arms: list[str], colors: dict[str, str]) -> None:
    """One panel per KPI: the share of an arm's seeds at least as good as each threshold, its 95 % CI shaded.
    A curve above another is better everywhere; for the cost, better is at or below the threshold."""
    plt = pyplot()
    kpis = list(dict.fromkeys(p.kpi for p in profiles))
    fig, axes = plt.subplots(1, len(kpis), figsize=(4.2 * len(kpis), 3.4), squeeze=False, constrained_layout=True)
    for ax, kpi in zip(axes[0], kpis):
        for profile in (p for p in profiles if p.kpi == kpi and p.arm in arms):
            shares = profile.shares
            ax.step(profile.thresholds, [s.point for s in shares], where="post", color=colors[profile.arm],
                    label=profile.arm)
            ax.fill_between(profile.thresholds, [s.low for s in shares], [s.high for s in shares], step="post",
                            color=colors[profile.arm], alpha=0.15, lw=0)
        better = "≤" if kpi == FRONTIER_COST else "≥"
        ax.set_xlabel(f"threshold τ of {PROFILE_LABELS.get(kpi, kpi)}", fontsize=8)
        ax.set_ylabel(f"share of seeds with a value {better} τ", fontsize=8)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    save_figure(fig, path)
