"""Benchmark the market: numba CDA (``clear_cda``) against the pure-Python reference, and env steps.

    python scripts/bench_market.py            # rich tables
    python scripts/bench_market.py --json     # machine-readable

Books are random: bids and asks 50/50, 11 price levels in [0.08, 0.30] $/kWh, quantities
uniform in [0.001, 5) kWh, already in arrival order. Times are means over distinct books, after JIT
warm-up. Env steps use random actions on Fontana-shaped communities (pilot mix, one week): the array
core (``MarketCore.step``: battery, orders, clearing, settlement, fairness, KPIs) and the PettingZoo
dict API on top of it, one process.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence

import numpy as np

from fairmarket_local.common.machine import machine_info
from fairmarket_local.market.auction import clear_cda
from fairmarket_local.market.reference import clear_cda_reference
from fairmarket_local.market.trades import Trades

SIZES = (10, 100, 1_000, 10_000)
HOUSEHOLDS = (10, 100, 1_000)
LEVELS = np.linspace(0.08, 0.30, 11)


def random_book(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return rng.random(n) < 0.5, rng.choice(LEVELS, n), rng.uniform(0.001, 5.0, n)


def time_clear(clear: Callable[..., Trades], books: Sequence[tuple[np.ndarray, ...]]) -> float:
    """Mean wall time (s) of one clear over distinct books.

    A different book each call, as in a real run: re-clearing one book lets the CPU's branch
    predictor learn it, which makes the heap look about twice as fast as it is.
    """
    start = time.perf_counter()
    for book in books:
        clear(*book)
    return (time.perf_counter() - start) / len(books)


def bench_auction(sizes: Sequence[int] = SIZES, seed: int = 0) -> list[dict[str, float | int]]:
    """Time ``clear_cda`` and the reference per book size (orders per slot)."""
    rng = np.random.default_rng(seed)
    clear_cda(*random_book(10, rng))  # JIT compile (or load from cache) outside the timings
    rows: list[dict[str, float | int]] = []
    for n in sizes:
        books = [random_book(n, rng) for _ in range(max(5, min(2_000, 200_000 // n)))]
        ref_books = books[: max(1, 2_000 // n)]  # a single book at 10,000 orders
        fast_s = time_clear(clear_cda, books)
        ref_s = time_clear(clear_cda_reference, ref_books)
        rows.append({
            "orders": n,
            "trades": len(clear_cda(*books[0])),
            "numba_s": fast_s,
            "numba_orders_per_s": n / fast_s,
            "numba_books": len(books),
            "reference_s": ref_s,
            "reference_orders_per_s": n / ref_s,
            "reference_books": len(ref_books),
            "speedup": ref_s / fast_s,
        })
    return rows


def bench_env(households: Sequence[int] = HOUSEHOLDS, slots: int = 168, seed: int = 0) -> list[dict[str, float | int]]:
    """Time one env step (random actions) per community size, array core and dict API."""
    from fairmarket_local import make_env

    rows: list[dict[str, float | int]] = []
    for n in households:
        env = make_env("pilot", **{"community.n_households": n, "community.n_days": slots // 24,
                                   "env.record_summaries": False})
        core = env.core
        rng = np.random.default_rng(seed)
        nvec = np.array([core.price_levels, len(core.quantity_levels), 3])
        actions = rng.integers(0, nvec, size=(slots, core.n, 3))
        core.reset(seed)
        core.step(actions[0])  # warm-up
        core.reset(seed)
        start = time.perf_counter()
        for t in range(slots):
            core.step(actions[t])
        core_s = (time.perf_counter() - start) / slots
        agents = env.possible_agents
        dict_actions = [{a: actions[t, i] for i, a in enumerate(agents)} for t in range(slots)]
        env.reset(seed=seed)
        start = time.perf_counter()
        for t in range(slots):
            env.step(dict_actions[t])
        dict_s = (time.perf_counter() - start) / slots
        rows.append({
            "households": n,
            "core_step_s": core_s,
            "core_steps_per_s": 1.0 / core_s,
            "core_agent_steps_per_s": n / core_s,
            "dict_step_s": dict_s,
            "dict_agent_steps_per_s": n / dict_s,
        })
    return rows


def _duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _rate(per_second: float) -> str:
    return f"{per_second / 1e6:.2f} M" if per_second >= 1e6 else f"{per_second / 1e3:.0f} k"


def print_report(machine: dict[str, object], rows: list[dict[str, float | int]],
                 env_rows: list[dict[str, float | int]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 100))
    console.print(", ".join(f"{key}: {value}" for key, value in machine.items()))
    table = Table(title="Clearing one slot: continuous double auction")
    table.caption = "time per clear = mean over distinct random books (count in brackets)"
    for column in ("orders", "trades", "numba / clear", "numba orders/s", "reference / clear",
                   "reference orders/s", "speed-up"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            f"{row['orders']:,}",
            f"{row['trades']:,}",
            f"{_duration(row['numba_s'])} ({row['numba_books']})",
            _rate(row["numba_orders_per_s"]),
            f"{_duration(row['reference_s'])} ({row['reference_books']})",
            _rate(row["reference_orders_per_s"]),
            f"{row['speedup']:,.0f}×",
        )
    console.print(table)
    table = Table(title="One env step (random actions), incl. clearing and settlement")
    for column in ("households", "core / step", "core agent-steps/s", "PettingZoo dict / step",
                   "dict agent-steps/s"):
        table.add_column(column, justify="right")
    for row in env_rows:
        table.add_row(
            f"{row['households']:,}",
            _duration(row["core_step_s"]),
            _rate(row["core_agent_steps_per_s"]),
            _duration(row["dict_step_s"]),
            _rate(row["dict_agent_steps_per_s"]),
        )
    console.print(table)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="orders per slot")
    parser.add_argument("--households", type=int, nargs="+", default=list(HOUSEHOLDS), help="env sizes")
    args = parser.parse_args(argv)
    machine = machine_info("numpy", "numba")
    rows = bench_auction(args.sizes)
    env_rows = bench_env(args.households)
    if args.json:
        print(json.dumps({"machine": machine, "auction": rows, "env": env_rows}, indent=2))
    else:
        print_report(machine, rows, env_rows)


if __name__ == "__main__":
    main()
