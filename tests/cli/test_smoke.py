"""Every documented command once, in its default (table) output mode, as a user types it.

One workspace: a simulated slot file, a short rule-critic run and a tiny study, then each command on them,
in order (one test, so that parallel test workers cannot split the sequence). A command passes when it exits 0,
prints something and no traceback. (`critic distill` is run for real by its own tests; `make run` by
tests/test_make_run.py.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from fairmarket_cli.main import app
from typer.testing import CliRunner

TINY_STUDY = Path(__file__).resolve().parents[1] / "experiments" / "tiny.yaml"
runner = CliRunner()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAIRMARKET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "160")


def run(*args: object) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    shown = " ".join(str(a) for a in args)
    assert result.exit_code == 0, f"fairmarket {shown}\n{result.output}"
    assert "Traceback" not in result.output, shown
    assert result.output.strip(), shown
    return result.output


COMMANDS = [
    ("version",),
    ("scenarios", "list"),
    ("scenarios", "show", "pilot"),
    ("simulate", "--scenario", "pilot", "--policy", "zi", "--days", "1", "--out", "{w}/sim",
     "--record-slots", "{w}/slots.jsonl", "--quiet"),
    ("train", "--scenario", "pilot", "--critic", "rule", "--episodes", "2", "--out", "{w}/run", "--quiet"),
    ("replay", "{w}/run", "--quiet"),
    ("replay", "{w}/run", "--critic", "rule"),
    ("evaluate", "{w}/run", "--episodes", "1", "--quiet"),
    ("critic", "score", "--model", "rule", "--input", "{w}/slots.jsonl", "--out", "{w}/scores.jsonl", "--quiet"),
    ("critic", "score", "--model", "smollm2-135m", "--input", "{w}/slots.jsonl", "--out", "{w}/llm.jsonl",
     "--cache-dir", "{w}/cache", "--quiet"),
    ("critic", "compare", "--models", "rule", "--input", "{w}/slots.jsonl", "--out", "{w}/compare", "--quiet"),
    ("models", "list"),
    ("models", "verify", "smollm2-135m"),
    ("cache", "stats", "--cache-dir", "{w}/cache"),
    ("cache", "verify", "--cache-dir", "{w}/cache"),
    ("cache", "export", "{w}/cache.jsonl", "--cache-dir", "{w}/cache"),
    ("cache", "import", "{w}/cache.jsonl", "--cache-dir", "{w}/imported-cache"),
    ("cache", "prune", "--cache-dir", "{w}/imported-cache"),
    ("doctor",),
    ("experiment", "list"),
    ("experiment", "show", "pilot"),
    ("experiment", "run", TINY_STUDY, "--out", "{w}/study", "--quiet"),
    ("sweep", TINY_STUDY, "--out", "{w}/study", "--workers", "1", "--quiet"),
    ("report", "{w}/study"),
]


@pytest.mark.slow
def test_every_documented_command_runs_in_table_mode(tmp_path: Path) -> None:
    for command in COMMANDS:
        run(*(str(a).format(w=tmp_path) for a in command))


def command_paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and group of the CLI, as the words that name it."""
    below = getattr(command, "commands", {})
    return [path] + [p for name, sub in sorted(below.items()) for p in command_paths(sub, (*path, name))]


def test_every_command_has_help() -> None:
    paths = command_paths(typer.main.get_command(app))
    assert ("critic", "distill") in paths and len(paths) > 25
    for path in paths:
        assert "Usage" in run(*path, "--help")
