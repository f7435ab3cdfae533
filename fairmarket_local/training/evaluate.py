"""Evaluate a trained run on held-out days next to the baseline bidders, same seeds, same KPIs."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fairmarket_local.baselines.policies import POLICIES, make_policy
from fairmarket_local.common.io import write_json, write_text_atomic
from fairmarket_local.common.progress import progress_bar
from fairmarket_local.env.core import MarketCore
from fairmarket_local.env.make import build_community
from fairmarket_local.training.batched import BatchedPolicies
from fairmarket_local.training.groups import assign_groups, make_group
from fairmarket_local.training.manifest import config_of, read_manifest

EVAL_SEED = 1_000_003  # episode seeds of the evaluation, apart from any training seed
COLUMNS = ("consumer_cost_vs_grid_only", "buyer_cost_vs_grid_only", "seller_revenue_vs_feed_in_only",
           "p2p_share_of_demand", "market_efficiency", "gini_household_savings", "utility_net_revenue",
           "ftg", "fbs", "fpp", "constraint_violations")


def evaluate(run_dir: str | Path, episodes: int = 3, progress: bool = False) -> list[dict[str, Any]]:
    """Mean KPIs of the trained policies (greedy actions) and each baseline on the days after training."""
    run_dir = Path(run_dir)
    config = config_of(read_manifest(run_dir))
    community = config.env.community
    held_out = community.model_copy(update={"start_day": (community.start_day + community.n_days) % 365})
    env_config = config.env.model_copy(update={"community": held_out})
    core = MarketCore(env_config, build_community(env_config))
    groups = [make_group(name, agents, nvec, core.episode_slots, config.training.ppo, seed=k)
              for k, (name, agents, nvec) in enumerate(assign_groups(config.training.groups, core))]
    for k, group in enumerate(groups):
        group.model.set_parameters(str(run_dir / "policies" / f"group_{k:04d}.zip"), exact_match=True, device="cpu")
    trained = BatchedPolicies(groups, core.n, torch.Generator().manual_seed(0))
    contenders = {"trained": lambda obs: trained.act(obs, deterministic=True)[0]}
    rows = []
    with progress_bar((len(POLICIES) + 1) * episodes, "evaluate", unit="episodes", enabled=progress) as advance:
        for name in ("trained", *POLICIES):
            results = []
            for e in range(episodes):
                act = contenders.get(name) or make_policy(name, env_config.market, seed=e)
                obs = core.reset(EVAL_SEED + e)
                while not core.done:
                    core.step(act(obs))
                    obs = core.observe()
                results.append(core.kpis.result())
                advance()
            rows.append({"policy": name, **{k: float(np.mean([r[k] for r in results])) for k in COLUMNS}})
    _write(run_dir, rows, held_out.start_day, episodes)
    return rows


def _write(run_dir: Path, rows: list[dict[str, Any]], start_day: int, episodes: int) -> None:
    write_json(run_dir / "evaluation.json", {"start_day": start_day, "episodes": episodes, "rows": rows})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["policy", *COLUMNS])
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(run_dir / "evaluation.csv", out.getvalue())
    lines = ["| policy | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    lines += ["| " + r["policy"] + " | " + " | ".join(f"{r[k]:.4g}" for k in COLUMNS) + " |" for r in rows]
    write_text_atomic(run_dir / "evaluation.md", "\n".join(lines) + "\n")
