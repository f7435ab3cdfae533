"""How training time and memory grow with the community: 50, 1,000 and 5,000 households.

    python scripts/bench_scale.py [--sizes 50,1000,5000] [--episodes 1] [--json]

Each size trains the ``scale`` scenario (2-day episodes, role groups, rule critic) for ``--episodes``
episodes in a fresh process and reports wall time per episode (env, policy, critic, update split) and the
process's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

from fairmarket_local.common.machine import machine_info

CHILD = """
import json, resource, sys, time
from fairmarket_local.training import train
n, episodes, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
start = time.perf_counter()
run = train("scale", out=out, force=True, **{"community.n_households": n, "training.episodes": episodes})
wall = time.perf_counter() - start
rows = run.rows
print(json.dumps({"households": n, "episodes": episodes, "wall_s": wall,
                  "episode_s": sum(r["time_env"] + r["time_policy"] + r["time_critic"] + r["time_update"]
                                   for r in rows) / len(rows),
                  **{k: sum(r[f"time_{k}"] for r in rows) / len(rows) for k in ("env", "policy", "critic", "update")},
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,1000,5000")
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run([sys.executable, "-c", CHILD, str(n), str(args.episodes), f"{tmp}/run"],
                                  capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if not args.json:
            r = rows[-1]
            print(f"{n:6d} households: {r['episode_s']:8.1f} s/episode (env {r['env']:.1f}, policy {r['policy']:.1f},"
                  f" critic {r['critic']:.1f}, update {r['update']:.1f}); run {r['wall_s']:.1f} s;"
                  f" peak RSS {r['peak_rss_mb']:,.0f} MB", flush=True)
    if args.json:
        print(json.dumps({"machine": machine_info(),
                          "rows": rows}))


if __name__ == "__main__":
    main()
