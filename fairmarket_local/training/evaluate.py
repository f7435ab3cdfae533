"""Evaluate a trained run on held-out days next to the baseline bidders, same seeds, same KPIs."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fairmarket_local.baselines.policies import POLICIES, make_policy
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.io import write_json, write_text_atomic
from fairmarket_local.common.progress import progress_bar
from fairmarket_local.env.config import EnvConfig
from fairmarket_local.env.core import MarketCore, SlotRecord
from fairmarket_local.env.make import build_community
from fairmarket_local.training.batched import BatchedPolicies
from fairmarket_local.training.checkpoint import UNREADABLE
from fairmarket_local.training.config import RunConfig
from fairmarket_local.training.groups import assign_groups, make_group
from fairmarket_local.training.manifest import config_of, read_manifest, require_finished

EVAL_SEED = 1_000_003  # episode seeds of the evaluation, apart from any training seed
COLUMNS = ("consumer_cost_vs_grid_only", "buyer_cost_vs_grid_only", "seller_revenue_vs_feed_in_only",
           "p2p_share_of_demand", "market_efficiency", "gini_household_savings", "utility_net_revenue",
           "ftg", "fbs", "fpp", "constraint_violations")


PRICE_BINS = 20  # histogram of trade prices, as a position between feed-in (0) and retail (1)
Act = Callable[[np.ndarray], np.ndarray]


def evaluate(run_dir: str | Path, episodes: int = 3, progress: bool = False) -> list[dict[str, Any]]:
    """Mean KPIs of the trained policies (greedy actions) and each baseline on the days after training."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    require_finished(run_dir, manifest)
    config = config_of(manifest)
    env_config = held_out_config(config)
    contenders = {"trained": trained_policy(run_dir, config, env_config),
                  **{name: baseline_policy(name, env_config) for name in POLICIES}}
    rows = evaluate_policies(env_config, contenders, episodes, progress)
    _write(run_dir, rows, env_config.community.start_day, episodes)
    return rows


def held_out_config(config: RunConfig) -> EnvConfig:
    """The run's environment on the days right after its training days, recording every slot."""
    community = config.env.community
    held_out = community.model_copy(update={"start_day": (community.start_day + community.n_days) % 365})
    env = config.env.env.model_copy(update={"record_summaries": True})
    return config.env.model_copy(update={"community": held_out, "env": env})


def trained_policy(run_dir: Path, config: RunConfig, env_config: EnvConfig) -> Callable[[int], Act]:
    """A factory of the run's final policies acting greedily (one per episode, all the same)."""
    core = MarketCore(env_config, build_community(env_config))
    groups = [make_group(name, agents, nvec, core.episode_slots, config.training.ppo, seed=k)
              for k, (name, agents, nvec) in enumerate(assign_groups(config.training.groups, core))]
    for k, group in enumerate(groups):
        path = run_dir / "policies" / f"group_{k:04d}.zip"
        try:
            group.model.set_parameters(str(path), exact_match=True, device="cpu")
        except UNREADABLE as exc:
            raise FairmarketError(f"{path} is not a readable policy ({type(exc).__name__}); rewrite the"
                                  f" policies from the last checkpoint: `fairmarket train --resume --out {run_dir}`"
                                  ) from None
    trained = BatchedPolicies(groups, core.n, torch.Generator().manual_seed(0))
    return lambda episode: (lambda obs: trained.act(obs, deterministic=True)[0])


def baseline_policy(name: str, env_config: EnvConfig) -> Callable[[int], Act]:
    """A factory of baseline bidder ``name``, seeded by the episode."""
    return lambda episode: make_policy(name, env_config.market, seed=episode)


def evaluate_policies(env_config: EnvConfig, contenders: dict[str, Callable[[int], Act]], episodes: int,
                      progress: bool = False) -> list[dict[str, Any]]:
    """One row per contender: KPIs averaged over ``episodes`` held-out episodes (same seeds for all),
    plus each household's mean saving and a histogram of trade prices."""
    core = MarketCore(env_config, build_community(env_config))
    rows = []
    with progress_bar(len(contenders) * episodes, "evaluate", unit="episodes", enabled=progress) as advance:
        for name, factory in contenders.items():
            results, savings, prices = [], [], np.zeros(PRICE_BINS)
            for e in range(episodes):
                act = factory(e)
                obs = core.reset(EVAL_SEED + e)
                while not core.done:
                    core.step(act(obs))
                    obs = core.observe()
                results.append(core.kpis.result())
                savings.append(core.kpis.grid_only_cost - core.kpis.cost)
                prices += _price_histogram(core.records)
                advance()
            rows.append({"policy": name, **{k: float(np.mean([r[k] for r in results])) for k in COLUMNS},
                         "household_savings": np.mean(savings, axis=0).round(4).tolist(),
                         "price_histogram": prices.round(4).tolist()})
    return rows


def _price_histogram(records: list[SlotRecord]) -> np.ndarray:
    """kWh traded per price bin, prices placed between feed-in (0) and retail (1) of their slot."""
    out = np.zeros(PRICE_BINS)
    for r in records:
        trades = r.result.trades
        if len(trades.qty) and r.retail > r.feed_in:
            where = np.clip((trades.price - r.feed_in) / (r.retail - r.feed_in), 0.0, 1.0)
            out += np.histogram(where, bins=PRICE_BINS, range=(0.0, 1.0), weights=trades.qty)[0]
    return out


def _write(run_dir: Path, rows: list[dict[str, Any]], start_day: int, episodes: int) -> None:
    write_json(run_dir / "evaluation.json", {"start_day": start_day, "episodes": episodes, "rows": rows})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["policy", *COLUMNS], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(run_dir / "evaluation.csv", out.getvalue())
    lines = ["| policy | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    lines += ["| " + r["policy"] + " | " + " | ".join(f"{r[k]:.4g}" for k in COLUMNS) + " |" for r in rows]
    write_text_atomic(run_dir / "evaluation.md", "\n".join(lines) + "\n")
