"""Light commands start fast because they import no heavy library (timings are in scripts/bench_startup.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("torch", "numba", "pandas", "stable_baselines3", "gymnasium", "transformers", "matplotlib", "llama_cpp")
LIGHT_COMMANDS = (["--help"], ["version"], ["models", "list"], ["scenarios", "list"], ["cache", "stats"],
                  ["train", "--help"], ["critic", "score", "--help"])

PROBE = """
import json, sys
from typer.testing import CliRunner
from fairmarket_cli.main import app
result = CliRunner().invoke(app, sys.argv[1:])
print(json.dumps({"exit": result.exit_code, "loaded": [m for m in json.loads(HEAVY) if m in sys.modules]}))
"""


@pytest.mark.parametrize("command", LIGHT_COMMANDS, ids=" ".join)
def test_a_light_command_imports_no_heavy_library(command: list[str], tmp_path) -> None:
    code = PROBE.replace("json.loads(HEAVY)", repr(list(HEAVY)))
    done = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "FAIRMARKET_HOME": str(tmp_path)}, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["exit"] in (0, 2) and found["loaded"] == [], found
