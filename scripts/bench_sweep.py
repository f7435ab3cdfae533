"""Benchmark the experiment executors: one sweep of 8 training runs with 1 vs 2 workers, side by side.

    python scripts/bench_sweep.py [--runs 8] [--episodes 40] [--ray] [--json]

Each run trains the ``pilot`` scenario (rule critic) with its own seed and is evaluated on held-out
days; the same jobs go through ``run_experiment`` with ``workers=1`` (in this process), ``workers=2``
(a local process pool) and, with ``--ray``, a local Ray instance with 2 CPUs. The result tables must be
identical; the speed-up is the ratio of wall times.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from fairmarket_local.common.machine import machine_info, machine_text
from fairmarket_local.experiments import ExperimentConfig, run_experiment

VOLATILE = ("seconds", "peak_rss_mb")


def study(runs: int, episodes: int) -> ExperimentConfig:
    return ExperimentConfig(name="bench-sweep", scenario="pilot", seeds=list(range(runs)), eval_episodes=1,
                            overrides={"training.episodes": episodes, "critic.model": "rule"},
                            arms=[{"name": "ippo-rule"}])


def timed(config: ExperimentConfig, out: Path, **executor) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    rows = run_experiment(config, out, **executor)
    return time.perf_counter() - start, [{k: v for k, v in r.items() if k not in VOLATILE} for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--episodes", type=int, default=40)
    parser.add_argument("--ray", action="store_true", help="also time a local Ray instance with 2 CPUs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    config = study(args.runs, args.episodes)
    with tempfile.TemporaryDirectory() as tmp:
        one, rows1 = timed(config, Path(tmp) / "one", workers=1)
        two, rows2 = timed(config, Path(tmp) / "two", workers=2)
        result = {"runs": args.runs, "episodes": args.episodes, "one_worker_s": one, "two_workers_s": two,
                  "speedup": one / two, "identical": rows1 == rows2,
                  "machine": machine_info()}
        if args.ray:
            ray_s, rows3 = timed(config, Path(tmp) / "ray", executor="ray", workers=2)
            result.update(ray_s=ray_s, ray_speedup=one / ray_s, ray_identical=rows3 == rows1)
    if args.json:
        print(json.dumps(result))
        return
    print(f"sweep of {args.runs} runs ({args.episodes} episodes each, pilot, rule critic)"
          f" on {machine_text(result['machine'])}")
    print(f"  1 worker : {one:7.1f} s")
    print(f"  2 workers: {two:7.1f} s   speed-up {result['speedup']:.2f}x   identical tables: {result['identical']}")
    if args.ray:
        print(f"  Ray (2)  : {result['ray_s']:7.1f} s   speed-up {result['ray_speedup']:.2f}x"
              f"   identical tables: {result['ray_identical']}")


if __name__ == "__main__":
    main()
