"""The main job: the Makefile's `run` recipe, shortened to one episode, trains and prints the held-out table."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_make_run_trains_and_prints_the_held_out_table(tmp_path):
    stamp = ".venv/.installed"  # the set-up is the one this suite runs in: never redone here
    done = subprocess.run(
        ["make", "--no-print-directory", "-o", stamp, "run", f"BIN={Path(sys.executable).parent}",
         f"OUT={tmp_path / 'quickstart'}", "RUN_ARGS=--episodes 1 --quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=900, env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    table = done.stdout[done.stdout.index("held-out days"):]
    for row in ("consumer_cost_vs_grid_only", "p2p_share_of_demand", "gini_household_savings", "ftg", "fbs", "fpp"):
        assert row in table, row
    for column in ("trained", "grid-only", "truthful", "zi"):
        assert column in table, column
    assert (tmp_path / "quickstart" / "evaluation.json").is_file()
