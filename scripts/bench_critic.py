"""Benchmark the fairness critic: slots/s per model, cold vs warm cache, batch 1 vs N, cache lookups/s.

    python scripts/bench_critic.py --models smollm2-135m,gemma3-270m,rule --slots 16 [--json]

Slots come from ``--input`` (JSONL summaries) or a simulated pilot scenario. Every model run uses a
fresh temporary cache, so "cold" always means real model calls.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fairmarket_local.critic import make_critic
from fairmarket_local.critic.cache import ScoreCache, cache_key
from fairmarket_local.critic.slots_io import read_summaries


def machine_info() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    try:
        llama = version("llama-cpp-python")
    except PackageNotFoundError:
        llama = None
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "llama_cpp_python": llama,
            "load_avg_1min": os.getloadavg()[0]}


def timed_score(critic: Any, summaries: list[dict], batch: int) -> float:
    """slots/s scoring ``summaries`` in calls of ``batch`` slots (model loading excluded)."""
    loading = critic.stats.load_seconds
    start = time.perf_counter()
    for i in range(0, len(summaries), batch):
        critic.score(summaries[i:i + batch])
    elapsed = time.perf_counter() - start - (critic.stats.load_seconds - loading)
    return len(summaries) / elapsed


def bench_model(model: str, template: str, summaries: list[dict], batch: int, threads: int) -> dict[str, Any]:
    """Cold (fresh cache) and warm slots/s in batches of ``batch``, and cold one slot per call."""
    opts: dict[str, Any] = {} if model == "rule" else {"template": template, "n_threads": threads}
    row: dict[str, Any] = {"model": model, "template": "-" if model == "rule" else template, "slots": len(summaries)}
    with tempfile.TemporaryDirectory() as tmp:
        with make_critic(model, cache_dir=Path(tmp) / "batched", **opts) as critic:
            row[f"cold_batch{batch}_slots_per_s"] = timed_score(critic, summaries, batch)
            row["warm_slots_per_s"] = timed_score(critic, summaries, batch)
            stats = critic.stats
        if model != "rule":
            with make_critic(model, cache_dir=Path(tmp) / "single", **opts) as critic:
                row["cold_batch1_slots_per_s"] = timed_score(critic, summaries, 1)
            row["fallbacks"] = stats.fallbacks
            row["model_call_s"] = stats.model_seconds / max(stats.model_calls, 1)
            row["prompt_tokens_per_call"] = stats.prompt_tokens / max(stats.model_calls, 1)
    return row


def bench_lookups(n: int = 10_000) -> dict[str, float]:
    """Raw memo hits/s (key already known) and key+hit/s (hash a request, then read)."""
    with tempfile.TemporaryDirectory() as tmp:
        cache = ScoreCache(Path(tmp))
        requests = [{"i": i, "messages": [{"role": "user", "content": "x" * 800}]} for i in range(n)]
        keys = [cache_key(r) for r in requests]
        for key, request in zip(keys, requests):
            cache.put(key, {"request": request, "scores": {"ftg": 1, "fbs": 1, "fpp": 1}})
        start = time.perf_counter()
        for key in keys:
            cache.get(key)
        hits = n / (time.perf_counter() - start)
        start = time.perf_counter()
        for request in requests:
            cache.get(cache_key(request))
        keyed = n / (time.perf_counter() - start)
        cache.close()
    return {"lookups_per_s": hits, "hash_and_lookup_per_s": keyed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="smollm2-135m,rule")
    parser.add_argument("--template", default="grounded")
    parser.add_argument("--input", type=Path, help="slot summaries (JSONL); default: a simulated pilot day")
    parser.add_argument("--slots", type=int, default=16)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    if args.input:
        summaries = read_summaries(args.input)
    else:
        from fairmarket_local.baselines import simulate

        summaries = simulate("pilot", policy="zi", days=max(1, args.slots // 24 + 1), record_slots=True).summaries
    summaries = summaries[:args.slots]
    result = {
        "machine": machine_info(),
        "models": [bench_model(m, args.template, summaries, args.batch, args.threads)
                   for m in args.models.split(",")],
        "cache": bench_lookups(),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(" · ".join(f"{k} {v}" for k, v in result["machine"].items()))
    for row in result["models"]:
        print("  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    print("  ".join(f"{k}={v:,.0f}" for k, v in result["cache"].items()))


if __name__ == "__main__":
    main()
