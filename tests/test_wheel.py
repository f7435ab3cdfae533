"""A built wheel works outside the checkout: templates, model manifests, scenarios and data ship inside it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

USE_THE_WHEEL = """
import json, sys
import fairmarket_local
from fairmarket_local.critic.prompting.templates import available_templates, load_template
from fairmarket_local.critic.registry.manifests import get_model
from fairmarket_local.env.config import scenario_names
from fairmarket_local.experiments.config import experiment_names
load_template("grounded"), load_template("student")
print(json.dumps({"package": fairmarket_local.__file__, "templates": available_templates(),
                  "model": get_model("smollm2-135m").id, "scenarios": scenario_names(),
                  "experiments": experiment_names()}))
"""


def tracked_copy(target: Path) -> Path:
    """The checkout's tracked files as they are now (symlinks kept), so the build leaves nothing in the repo."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in tracked.decode().split("\0"):
        source, copy = REPO / name, target / name
        if not name or not (source.exists() or source.is_symlink()):
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            copy.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, copy)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tracked_copy(tmp_path_factory.mktemp("source"))
    out = tmp_path_factory.mktemp("dist")
    # no build isolation: the build uses this environment's setuptools, and nothing is downloaded
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "--wheel-dir", str(out), str(source)], check=True, capture_output=True, timeout=600)
    return next(out.glob("fairmarket_local-*.whl"))


@pytest.mark.slow
def test_the_wheel_carries_prompts_manifests_scenarios_and_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in ("prompts", "models"):
        in_repo = sorted(p.name for p in (REPO / shipped).iterdir() if p.is_file())
        in_wheel = sorted(Path(n).name for n in names if n.startswith(f"fairmarket_local/shipped/{shipped}/"))
        assert in_wheel == in_repo, shipped
    tracked = subprocess.run(["git", "ls-files", "fairmarket_local"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    data_files = [n for n in tracked if not n.endswith(".py") and not (REPO / n).is_symlink()]
    assert data_files and not [n for n in data_files if n not in names]  # every file the package reads
    assert any(n.startswith("fairmarket_cli/") for n in names)


@pytest.mark.slow
def test_the_installed_wheel_works_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target), "FAIRMARKET_HOME": str(tmp_path / "home")}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run([sys.executable, "-c", USE_THE_WHEEL], cwd=elsewhere, env=env, capture_output=True,
                          text=True, check=True, timeout=300)
    found = json.loads(done.stdout)
    assert Path(found["package"]).is_relative_to(target)  # the wheel's copy, not the checkout's
    assert "grounded.v1" in found["templates"] and found["model"] == "smollm2-135m"
    assert "pilot" in found["scenarios"] and "pilot" in found["experiments"]
    cli = subprocess.run([sys.executable, "-m", "fairmarket_cli.main", "models", "list"], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0 and "smollm2-135m" in cli.stdout, cli.stderr
