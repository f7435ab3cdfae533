"""Maintenance of a critic cache: stats, verify, export/import (JSONL), prune."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import diskcache

from fairmarket_local.common.canonical import canonical_json
from fairmarket_local.common.errors import DataError, FairmarketError
from fairmarket_local.common.io import jsonl_lines, write_text_atomic
from fairmarket_local.common.text import loads_strict
from fairmarket_local.critic.memo.cache import CACHE_SCHEMA, check_entry, open_store, storage_errors
from fairmarket_local.critic.schema import InvalidAnswer


def _open_existing(directory: Path) -> diskcache.Cache:
    if not (directory / "cache.db").is_file():
        raise FairmarketError(f"no critic cache at {directory}")
    return open_store(directory)


def _entries(store: diskcache.Cache, directory: Path) -> Iterator[tuple[str, dict[str, Any] | None, str]]:
    """``(key, entry or None if corrupt, problem)`` for every stored key, sorted."""
    with storage_errors(directory):
        keys = sorted(store.iterkeys())
    for key in keys:
        with storage_errors(directory):
            raw = store.get(key)
        try:
            yield key, check_entry(key, raw), ""
        except InvalidAnswer as exc:
            yield key, None, str(exc)


def cache_stats(directory: Path) -> dict[str, Any]:
    """Entry counts (total, corrupt, per model and template) and size on disk."""
    store = _open_existing(directory)
    try:
        models: Counter[str] = Counter()
        templates: Counter[str] = Counter()
        corrupt = 0
        for _, entry, _ in _entries(store, directory):
            if entry is None:
                corrupt += 1
                continue
            models[f"{entry['request']['backend']}:{entry['request']['model_sha256'][:12]}"] += 1
            templates[entry["request"]["template"]["id"]] += 1
        with storage_errors(directory):
            volume = store.volume()
        return {"directory": str(directory), "cache_schema": CACHE_SCHEMA, "entries": sum(models.values()) + corrupt,
                "corrupt": corrupt, "bytes": volume, "models": dict(models), "templates": dict(templates)}
    finally:
        store.close()


def verify_cache(directory: Path, delete: bool = False) -> dict[str, Any]:
    """Re-key and re-validate every entry; ``delete`` removes the corrupt ones."""
    store = _open_existing(directory)
    try:
        problems = {key: why for key, entry, why in _entries(store, directory) if entry is None}
        checked = len(store)
        if delete:
            with storage_errors(directory):
                for key in problems:
                    store.delete(key)
        return {"checked": checked, "corrupt": problems, "deleted": len(problems) if delete else 0}
    finally:
        store.close()


def export_cache(directory: Path, path: Path) -> int:
    """Write every valid entry as ``{"key": ..., "entry": {...}}`` lines; returns the count."""
    store = _open_existing(directory)
    try:
        lines = [canonical_json({"key": k, "entry": e}) + "\n" for k, e, _ in _entries(store, directory) if e]
    finally:
        store.close()
    write_text_atomic(path, "".join(lines))
    return len(lines)


def import_cache(directory: Path, path: Path, overwrite: bool = False) -> dict[str, int]:
    """Add the entries of an export file; every line is checked before anything is written.

    An existing key with a different entry is kept unless ``overwrite``.
    """
    rows = _read_export(path)
    store = open_store(directory)
    counts = {"added": 0, "same": 0, "kept": 0, "replaced": 0}
    try:
        with storage_errors(directory):
            for key, value in rows:
                old = store.get(key)
                if old is None:
                    counts["added"] += 1
                elif old == value:
                    counts["same"] += 1
                    continue
                elif not overwrite:
                    counts["kept"] += 1
                    continue
                else:
                    counts["replaced"] += 1
                store.set(key, value)
    finally:
        store.close()
    return counts


def _read_export(path: Path) -> list[tuple[str, str]]:
    rows = []
    for number, line in jsonl_lines(path):
        try:
            row = loads_strict(line)
            key, value = row["key"], canonical_json(row["entry"])
            check_entry(key, value)
        except (ValueError, KeyError, TypeError, InvalidAnswer) as exc:
            raise DataError(f"{path}:{number}: not a valid cache export line ({exc})") from None
        rows.append((key, value))
    return rows


def prune_cache(
    directory: Path,
    model_sha256: str | None = None,
    template: str | None = None,
    older_than_days: float | None = None,
) -> int:
    """Delete corrupt entries and those matching every given filter (none given: corrupt ones only)."""
    filters = model_sha256 is not None or template is not None or older_than_days is not None
    cutoff = time.time() - older_than_days * 86400 if older_than_days is not None else None
    store = _open_existing(directory)
    try:
        doomed = [key for key, entry, _ in _entries(store, directory)
                  if entry is None or (filters and _matches(entry, model_sha256, template, cutoff))]
        with storage_errors(directory):
            for key in doomed:
                store.delete(key)
    finally:
        store.close()
    locks = directory / "locks"
    if locks.is_dir():
        with open_store(locks) as lock_store, storage_errors(directory):
            lock_store.expire()
    return len(doomed)


def _matches(entry: dict[str, Any], model_sha256: str | None, template: str | None, cutoff: float | None) -> bool:
    request = entry["request"]
    template_id = request["template"]["id"]  # "name.vN": match the name or the exact id
    return ((model_sha256 is None or request["model_sha256"].startswith(model_sha256))
            and (template is None or template in (template_id, template_id.split(".v")[0]))
            and (cutoff is None or entry.get("created", 0.0) < cutoff))
