"""The run manifest: what a run was, precisely enough to replay it (SPEC §7)."""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from fairmarket_local.common.canonical import content_hash
from fairmarket_local.common.config import validate_section
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.training.config import RunConfig, load_run_config

PACKAGES = ("fairmarket-local", "numpy", "numba", "torch", "stable_baselines3", "gymnasium", "pettingzoo",
            "llama_cpp_python", "diskcache", "pydantic")
MANIFEST = "manifest.json"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str | None:
    """The source tree's commit, when it is a git checkout (``None`` otherwise)."""
    root = Path(__file__).resolve().parents[2]
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def build_manifest(config: RunConfig, critic: dict[str, Any], group_names: list[str],
                   scenario: str) -> dict[str, Any]:
    """``scenario``: the :func:`scenario_sha256` of the scenario the run was started from."""
    return {
        "kind": "fairmarket-run",
        "schema": 1,
        "config": config.model_dump(mode="json"),
        "scenario_sha256": scenario,
        "seed": config.env.seed,
        "critic": critic,
        "groups": group_names,
        "versions": versions(),
        "git_commit": git_commit(),
        "machine": {"platform": platform.platform(), "processor": platform.processor()},
    }


def scenario_sha256(scenario: str | Path | dict[str, Any]) -> str:
    """The scenario's config before any override: a resume given a scenario checks it is the run's."""
    return content_hash(load_run_config(scenario).model_dump(mode="json"))


def read_manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FairmarketError(f"{run_dir} is not a training run (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise FairmarketError(f"{path} is unreadable: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != "fairmarket-run":
        raise FairmarketError(f"{path} is not a fairmarket run manifest")
    return manifest


def config_of(manifest: dict[str, Any]) -> RunConfig:
    config = manifest.get("config")
    return validate_section(RunConfig, config if isinstance(config, dict) else {}, "manifest config")


def require_finished(run_dir: Path, manifest: dict[str, Any]) -> None:
    """:raises FairmarketError: the run has not written its final policies and results yet."""
    needed = [run_dir / "policies" / f"group_{k:04d}.zip" for k in range(len(manifest.get("groups", [])))]
    missing = next((p for p in [*needed, run_dir / "results.json"] if not p.is_file()), None)
    if missing is not None:
        raise FairmarketError(f"{run_dir} is an unfinished run ({missing.relative_to(run_dir)} is missing); finish it"
                              f" with `fairmarket train --resume --out {run_dir}`")
