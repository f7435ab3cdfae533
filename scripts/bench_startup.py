"""Benchmark the CLI's start-up: wall time of light commands, each in fresh processes, side by side.

    python scripts/bench_startup.py [--runs 5] [--json]

Light commands load no model and no trainer, so their time is Python's start plus the imports the CLI
needs; the target is 0.5 s each. ``python -c pass`` and ``import torch`` are timed beside them as the
floor and as the cost a command pays when it imports torch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from fairmarket_local.common.machine import machine_info, machine_text

CLI = [sys.executable, "-m", "fairmarket_cli.main"]
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import torch": [sys.executable, "-c", "import torch"],
    "fairmarket --help": [*CLI, "--help"],
    "fairmarket version": [*CLI, "version"],
    "fairmarket models list": [*CLI, "models", "list"],
    "fairmarket scenarios list": [*CLI, "scenarios", "list"],
    "fairmarket cache stats": [*CLI, "cache", "stats"],
    "fairmarket train --help": [*CLI, "train", "--help"],
}


def wall_seconds(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per command (median reported)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "FAIRMARKET_HOME": home, "COLUMNS": "120"}
        for command in COMMANDS.values():  # warm the OS file cache once
            wall_seconds(command, env)
        rows = [{"command": name, "median_s": statistics.median(wall_seconds(cmd, env) for _ in range(args.runs))}
                for name, cmd in COMMANDS.items()]
    floor = rows[0]["median_s"]
    for row in rows:
        row["over_python"] = row["median_s"] / floor
    info = machine_info()
    if args.json:
        print(json.dumps({"machine": info, "runs": args.runs, "rows": rows}))
        return
    print(f"CLI start-up, median of {args.runs} fresh processes; {machine_text(info)}")
    for row in rows:
        print(f"  {row['command']:28s} {row['median_s']:6.2f} s  ({row['over_python']:4.1f}x python -c pass)")


if __name__ == "__main__":
    main()
