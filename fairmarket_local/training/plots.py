"""Training curves of a run as one PNG: rewards, cost, P2P share and fairness per episode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fairmarket_local.common.plotting import pyplot, save_figure

PANELS = (
    ("reward per agent-step", ("reward_econ", "reward_fairness", "reward_total")),
    ("consumer cost / grid-only", ("ref_consumer_cost_vs_grid_only",)),
    ("P2P share of demand", ("ref_p2p_share_of_demand",)),
    ("fairness (reference)", ("ref_ftg", "ref_fbs", "ref_fpp")),
    ("fairness (critic)", ("critic_ftg", "critic_fbs", "critic_fpp")),
    ("wall time per episode [s]", ("time_env", "time_policy", "time_critic", "time_update")),
)


def plot_training_curves(rows: list[dict[str, Any]], path: Path) -> None:
    """Write ``path`` (PNG) with one panel per group of metrics."""
    plt = pyplot()
    episodes = [r["episode"] for r in rows]
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5))
    for ax, (title, keys) in zip(axes.flat, PANELS):
        for key in keys:
            ax.plot(episodes, [r.get(key, float("nan")) for r in rows], marker=".", label=key.split("_", 1)[1])
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("episode", fontsize=8)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
