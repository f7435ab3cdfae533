"""Air-gap readiness: can the critic run here with no network? (``fairmarket doctor``)"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.offline import OFFLINE_ENV
from fairmarket_local.critic.backends.openai_backend import served_models, server_url
from fairmarket_local.critic.backends.table import BACKENDS
from fairmarket_local.critic.memo.cache import open_store
from fairmarket_local.critic.prompting.templates import available_templates
from fairmarket_local.critic.registry.manifests import ModelManifest, scan_models, verified_weights, weights_path
from fairmarket_local.critic.registry.paths import default_cache_dir


@dataclass(frozen=True)
class Check:
    """One readiness check; ``status`` is ok, warn (usable but incomplete) or fail."""

    name: str
    status: str
    detail: str


def run_checks(cache_dir: Path | None = None) -> list[Check]:
    """Every check, in display order."""
    return [_offline(), *(_backend(name) for name in BACKENDS), *_models(), _prompts(),
            _cache(cache_dir or default_cache_dir())]


def backend_missing(backend: str) -> list[str]:
    """Modules ``backend`` needs that are not installed here (found without importing them)."""
    return [m for m in BACKENDS[backend].modules if importlib.util.find_spec(m) is None]


def ready_models() -> list[str]:
    """Registered models that can answer here: back-end installed, weights verified or server answering."""
    return [model_id for model_id, manifest in sorted(scan_models()[0].items()) if _model(manifest).status == "ok"]


def _offline() -> Check:
    unset = [k for k, v in OFFLINE_ENV.items() if os.environ.get(k) != v]
    if unset:
        return Check("offline guards", "warn", f"overridden: {', '.join(unset)}")
    return Check("offline guards", "ok", f"{len(OFFLINE_ENV)} variables set (HF_HUB_OFFLINE=1, ...)")


def _backend(backend: str) -> Check:
    name = f"back-end {backend}"
    spec = BACKENDS[backend]
    if missing := backend_missing(backend):
        return Check(name, "fail" if spec.required else "warn", f"not installed: {', '.join(missing)} ({spec.install})")
    if not spec.modules:
        return Check(name, "ok", "built in (needs an OpenAI-compatible server on this machine)")
    dists = importlib.metadata.packages_distributions()
    return Check(name, "ok",
                 ", ".join(f"{d} {importlib.metadata.version(d)}" for m in spec.modules for d in dists.get(m, [m])))


def _models() -> list[Check]:
    """One check per registered model, and a failed one per manifest that cannot be read."""
    models, broken = scan_models()
    return [*(_model(manifest) for _, manifest in sorted(models.items())),
            *(Check(f"model {path.stem}", "fail", str(error)) for path, error in broken.items())]


def _model(manifest: ModelManifest) -> Check:
    name = f"model {manifest.id}"
    if missing := backend_missing(manifest.backend):
        return Check(name, "warn", f"back-end {manifest.backend} not installed ({', '.join(missing)})")
    if manifest.server is not None:
        return _server(manifest)
    try:
        weights_path(manifest, assemble=False)
        path = verified_weights(manifest)
    except FairmarketError as exc:
        return Check(name, "warn", str(exc))
    terms = manifest.terms_path()
    return Check(name, "ok", f"sha256 verified, {path}" + (f"; terms: {terms}" if terms else ""))


def _server(manifest: ModelManifest) -> Check:
    """Asks the server (on this machine unless the manifest allows a remote one) for its model list."""
    server = manifest.server
    assert server is not None
    name = f"model {manifest.id}"
    try:
        served = served_models(server, server_url(server, manifest.id), timeout=2.0)
    except FairmarketError as exc:
        return Check(name, "warn", f"{exc}; start the server first (see `install:` in {manifest.origin})")
    if server.served_model not in served:
        return Check(name, "warn", f"{server.base_url} serves {', '.join(served) or 'nothing'},"
                                   f" not {server.served_model!r}")
    return Check(name, "ok", f"served as {server.served_model!r} by {server.base_url}")


def _prompts() -> Check:
    found = available_templates()
    return Check("prompt templates", "ok" if found else "fail", ", ".join(found) or "none found")


def _cache(directory: Path) -> Check:
    try:
        with open_store(directory) as store:
            store.set("doctor-probe", "ok")
            store.delete("doctor-probe")
    except Exception as exc:  # any failure means "not writable"
        return Check("critic cache", "fail", f"{directory} is not writable: {exc}")
    return Check("critic cache", "ok", f"{directory} writable")
