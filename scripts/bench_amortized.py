"""Benchmark the amortized critic: rule, direct LLM and amortized LLM training side by side, in one run.

    python scripts/bench_amortized.py [--episodes 20] [--model smollm2-135m] [--label-budget 100] [--json]

Each arm trains the ``pilot`` scenario with the same seed for the same episodes, then is evaluated on the
same held-out days: the ``rule`` critic; the LLM scoring every two-sided slot (``direct``); the LLM labelling
at most ``--label-budget`` slots while a learned fairness model scores the rest (``amortized``). Reported per
arm: wall time split by phase (env, policy, critic, PPO update), teacher calls, the amortized critic's
agreement with its teacher on held-out slots, and the held-out KPIs of the trained bidders. Each arm has a
cold cache of its own.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from fairmarket_local.common.machine import machine_info, machine_text
from fairmarket_local.training.evaluate import evaluate
from fairmarket_local.training.run import train

KPIS = ("consumer_cost_vs_grid_only", "p2p_share_of_demand", "gini_household_savings", "ftg", "fbs", "fpp")


def arms(model: str, label_budget: int) -> dict[str, dict[str, Any]]:
    direct = {"critic.model": model, "critic.amortize.enabled": False}
    amortized = {"critic.model": model, "critic.amortize.enabled": True, "critic.amortize.label_budget": label_budget,
                 "critic.amortize.warmup_labels": min(40, label_budget)}
    return {"rule": {"critic.model": "rule", "critic.amortize.enabled": False}, "direct": direct,
            "amortized": amortized}


def run_arm(name: str, overrides: dict[str, Any], episodes: int, folder: Path) -> dict[str, Any]:
    start = time.perf_counter()
    run = train("pilot", out=folder / name, **overrides, **{"training.episodes": episodes})
    wall = time.perf_counter() - start
    trained = next(r for r in evaluate(folder / name, episodes=3) if r["policy"] == "trained")
    rows, results = run.rows, run.results
    amortized = results.get("amortized", {})
    return {
        "arm": name, "wall_s": wall, **{f"{k}_s": v for k, v in results["seconds"].items()},
        "teacher_calls": sum(r.get("critic_teacher_calls", r["critic_cache_misses"]) for r in rows),
        "heldout_slots": amortized.get("heldout", {}).get("slots"),
        **{f"heldout_spearman_{k}": v for k, v in amortized.get("heldout", {}).get("spearman", {}).items()},
        **{f"eval_{k}": trained[k] for k in KPIS},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--model", default="smollm2-135m", help="the LLM of the direct and amortized arms")
    parser.add_argument("--label-budget", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_arm(name, overrides, args.episodes, Path(tmp))
                for name, overrides in arms(args.model, args.label_budget).items()]
    info = machine_info("torch", "llama-cpp-python")
    if args.json:
        print(json.dumps({"machine": info, "episodes": args.episodes, "rows": rows}))
        return
    print(f"pilot, {args.episodes} episodes per arm, critic {args.model}; {machine_text(info)}")
    for row in rows:
        print(f"  {row['arm']:9s} wall {row['wall_s']:7.1f} s (critic {row['critic_s']:6.1f}, model"
              f" {row['critic_model_s']:6.1f}, update"
              f" {row['update_s']:5.1f}, env+policy {row['env_s'] + row['policy_s']:4.1f}) · teacher calls"
              f" {row['teacher_calls']:5d} · held-out cost {row['eval_consumer_cost_vs_grid_only']:.3f},"
              f" Gini {row['eval_gini_household_savings']:.3f}")
    rule, direct, amortized = rows
    print(f"  direct / rule wall: {direct['wall_s'] / rule['wall_s']:.1f}x · amortized / rule:"
          f" {amortized['wall_s'] / rule['wall_s']:.1f}x ·"
          f" amortized / direct: {amortized['wall_s'] / direct['wall_s']:.2f}x")
    if amortized["heldout_slots"]:
        rho = "/".join(f"{amortized[f'heldout_spearman_{k}'] or float('nan'):.2f}" for k in ("ftg", "fbs", "fpp"))
        print(f"  amortized agreement with its teacher on {amortized['heldout_slots']} held-out slots: Spearman {rho}")


if __name__ == "__main__":
    main()
