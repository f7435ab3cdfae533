"""The code passes ``ruff check`` and ``mypy`` with the settings of pyproject.toml (as ``make test`` runs them first),
and every ``# type: ignore`` of the package names its error code and says why."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["fairmarket_local", "cli", "scripts", "tests"]


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed (the `test` extra)")
def test_ruff_check_passes() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", *PATHS], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed (the `test` extra)")
def test_mypy_passes_on_the_package() -> None:
    # the package and the settings come from [tool.mypy]; a cold run checks ~125 modules in about a minute
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_type_ignore_names_its_code_and_a_reason() -> None:
    justified = re.compile(r"# type: ignore\[[a-z-]+(, [a-z-]+)*\]  # \S")
    bare = [f"{path.relative_to(ROOT)}:{k}" for path in sorted((ROOT / "fairmarket_local").rglob("*.py"))
            for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if "# type: ignore" in line and not justified.search(line)]
    assert not bare, "a `# type: ignore[code]  # reason` each: " + ", ".join(bare)
