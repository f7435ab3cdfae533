"""Benchmark the training loop: agent-steps/s per policy grouping and size, and the critic's cost.

    python scripts/bench_training.py            # rich tables
    python scripts/bench_training.py --json     # machine-readable
    python scripts/bench_training.py --no-llm   # skip the LLM critic comparison
    python scripts/bench_training.py --no-loop --critic MODEL --critic-episodes 6   # only the critic cost

Part 1 trains ``community``-shaped markets (2-day episodes as in ``pilot``, rule critic) with independent, role and
shared groups at 10, 50 and 200 households — and shared groups once more with one minibatch per PPO epoch
(``training.ppo.batch_size`` above the rollout: the knob that trades gradient steps for speed); one warm-up
episode, then the mean of the next ones, whole loop (env, policies, critic, PPO updates). Part 2 trains the
``pilot`` scenario for the same episodes three times, side by side: rule critic, an LLM critic (``--critic``,
the embedded SmolLM2 by default) with a cold cache, and the same LLM run replayed from its cache (no model
loaded).
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from fairmarket_local.common.machine import machine_info
from fairmarket_local.critic.rule import RuleCritic
from fairmarket_local.training import train
from fairmarket_local.training.config import load_run_config
from fairmarket_local.training.replay import replay
from fairmarket_local.training.trainer import Trainer

SIZES = (10, 50, 200)
# label -> (policy groups, extra overrides); a batch size above any rollout gives one minibatch per epoch
MODES = {
    "independent": ("independent", {}),
    "role": ("role", {}),
    "shared": ("shared", {}),
    "shared, one minibatch": ("shared", {"training.ppo.batch_size": 1_000_000}),
}


def bench_loop(sizes: Sequence[int] = SIZES, modes: Sequence[str] = tuple(MODES), episodes: int = 2) -> list[dict]:
    rows = []
    for mode in modes:
        groups, extra = MODES[mode]
        for n in sizes:
            cfg = load_run_config("community", **{"community.n_households": n, "community.n_days": 2,
                                                  "training.groups": groups, "training.episodes": episodes + 1,
                                                  "critic.model": "rule", **extra})
            trainer = Trainer(cfg, RuleCritic())
            trainer.run_episode()  # warm-up: JIT, allocations
            start = time.perf_counter()
            for _ in range(episodes):
                trainer.run_episode()
            seconds = (time.perf_counter() - start) / episodes
            times = {k: sum(r[f"time_{k}"] for r in trainer.rows[1:]) / episodes
                     for k in ("env", "policy", "critic", "update")}
            rows.append({"groups": mode, "households": n, "episode_s": seconds,
                         "agent_steps_per_s": n * trainer.core.episode_slots / seconds, **times})
            del trainer
            gc.collect()  # the previous trainer's objects would otherwise slow the next one's garbage collections
    return rows


def bench_critic_cost(episodes: int = 2, workers: int = 2, critic: str | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        common = {"training.episodes": episodes, "critic.workers": workers}
        train("pilot", out=Path(tmp) / "warm-up", **{"training.episodes": 1, "critic.model": "rule"})
        t = time.perf_counter()
        train("pilot", out=Path(tmp) / "rule", **common, **{"critic.model": "rule"})
        rule_s = time.perf_counter() - t
        t = time.perf_counter()
        llm = train("pilot", out=Path(tmp) / "llm", **common, **({"critic.model": critic} if critic else {}))
        llm_s = time.perf_counter() - t
        t = time.perf_counter()
        report = replay(Path(tmp) / "llm")
        replay_s = time.perf_counter() - t
    return {"critic": critic or load_run_config("pilot").critic.model, "episodes": episodes, "workers": workers,
            "rule_s": rule_s, "llm_cold_s": llm_s, "replay_s": replay_s,
            "llm_over_rule": llm_s / rule_s, "replay_over_rule": replay_s / rule_s,
            "llm_calls": llm.results["critic_cache_misses"], "replay_identical": report["identical"]}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-llm", action="store_true", help="skip the LLM critic comparison")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--critic", help="the LLM critic of part 2 (a model id; default: the pilot's)")
    parser.add_argument("--critic-episodes", type=int, default=2, help="episodes of each part-2 run")
    parser.add_argument("--no-loop", action="store_true", help="skip part 1")
    args = parser.parse_args(argv)
    result = {"machine": machine_info("torch", "stable-baselines3"),
              "loop": [] if args.no_loop else bench_loop(args.sizes)}
    if not args.no_llm:
        result["critic"] = bench_critic_cost(args.critic_episodes, critic=args.critic)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(", ".join(f"{k}: {v}" for k, v in result["machine"].items()))
    table = Table(title="Training loop, rule critic (per episode of 48 slots)")
    for col in ("groups", "households", "agent-steps/s", "episode", "env", "policy", "critic", "update"):
        table.add_column(col, justify="right")
    for r in result["loop"]:
        table.add_row(r["groups"], str(r["households"]), f"{r['agent_steps_per_s']:,.0f}", f"{r['episode_s']:.3f} s",
                      *(f"{r[k]:.3f} s" for k in ("env", "policy", "critic", "update")))
    console.print(table)
    if "critic" in result:
        c = result["critic"]
        table = Table(title=f"pilot, {c['episodes']} episodes: critic cost of {c['critic']}"
                            f" ({c['llm_calls']} LLM calls, {c['workers']} workers)")
        for col in ("rule critic", "LLM, cold cache", "LLM replay (cache)", "LLM / rule", "replay / rule",
                    "replay identical"):
            table.add_column(col, justify="right")
        table.add_row(f"{c['rule_s']:.1f} s", f"{c['llm_cold_s']:.1f} s", f"{c['replay_s']:.1f} s",
                      f"{c['llm_over_rule']:.1f}×", f"{c['replay_over_rule']:.2f}×", str(c["replay_identical"]))
        console.print(table)


if __name__ == "__main__":
    main()
