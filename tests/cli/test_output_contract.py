"""What every command promises about its output: one-line usage errors, strict JSON, a quiet --quiet."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from fairmarket_cli.main import app
from typer.testing import CliRunner

from fairmarket_local.common.io import dumps_strict, write_json

runner = CliRunner()


@pytest.mark.parametrize("args", [["train", "--bogus"], ["train", "--episodes", "x", "--out", "o"], ["nothing"],
                                  ["critic", "score", "--model", "rule"], ["scenarios", "show"],
                                  ["train", "--groups", "solo", "--out", "o"]], ids=" ".join)
def test_a_usage_error_is_one_error_line_and_exit_2(args: list[str]) -> None:
    result = runner.invoke(app, args)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "--help" in lines[0]


def test_no_arguments_prints_the_help() -> None:
    result = runner.invoke(app, [])
    assert result.exit_code == 0 and "Usage" in result.output and "train" in result.output


def test_undefined_values_are_null_in_json(tmp_path) -> None:
    data = {"rho": float("nan"), "inf": float("inf"), "array": np.array([1.0, np.nan]), "n": np.int64(3)}
    assert json.loads(dumps_strict(data)) == {"rho": None, "inf": None, "array": [1.0, None], "n": 3}
    write_json(tmp_path / "x.json", data)
    text = (tmp_path / "x.json").read_text()
    assert "NaN" not in text and json.loads(text, parse_constant=lambda c: pytest.fail(c))["n"] == 3


def test_json_output_of_a_run_is_strict(tmp_path) -> None:
    result = runner.invoke(app, ["train", "--critic", "rule", "--direct", "--episodes", "1", "--out",
                                 str(tmp_path / "r"), "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    strict = {"parse_constant": lambda c: pytest.fail(f"bare {c} in JSON")}
    assert json.loads(result.stdout, **strict)["episodes"] == 1
    for name in ("results.json", "manifest.json"):
        json.loads((tmp_path / "r" / name).read_text(), **strict)


QUIET = """
import logging, warnings
from fairmarket_local.common.progress import third_party_silenced
with third_party_silenced():
    from tqdm.auto import tqdm
    for _ in tqdm(range(3), desc="a third-party bar"):
        pass
    warnings.warn("a third-party warning")
    logging.getLogger("transformers.modeling_utils").warning("a third-party log line")
    logging.getLogger("fairmarket_local.training.checkpoint").warning("our own warning")
    logging.getLogger("somelib").error("an error")
"""


def test_quiet_silences_libraries_but_not_our_warnings_nor_errors() -> None:
    done = subprocess.run([sys.executable, "-c", QUIET], capture_output=True, text=True, timeout=120, check=True)
    assert "our own warning" in done.stderr and "an error" in done.stderr
    for noise in ("third-party bar", "third-party warning", "third-party log line"):
        assert noise not in done.stderr, done.stderr
