"""The critic's disk memo (SPEC §5): one JSON entry per (model, prompt, decoding) request.

Keys are the sha256 of the canonical JSON of the whole request, so any change to the model file,
chat template, prompt template, rendered messages, schema, decoding parameters or seed is a new key.
Values are JSON strings (diskcache stores ``str`` as text: nothing is ever pickled) and hold the
request itself, so every entry can be re-keyed and checked (``fairmarket cache verify``) and the
cache doubles as a labelled data set. Only validated answers are stored. Nothing is ever evicted.

Several processes may share one cache: a process *claims* a key (an atomic ``add`` of a lock entry
that expires) before computing it, and the others wait for its answer instead of computing it too.

A corrupted entry (unparseable, wrong key, invalid scores) is treated as a miss, logged and counted,
then overwritten by the fresh answer; in ``replay`` mode it is an error, since it cannot be recomputed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import diskcache

from fairmarket_local.common.canonical import canonical_json, content_hash
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.schema import InvalidAnswer, parse_answer
from fairmarket_local.metrics.fairness import SCORE_NAMES

CACHE_SCHEMA = 1
CacheMode = Literal["use", "replay", "refresh", "off"]
CACHE_MODES: tuple[str, ...] = ("use", "replay", "refresh", "off")
_POLL_SECONDS = 0.02

log = logging.getLogger(__name__)


class ReplayMiss(FairmarketError):
    """``replay`` mode found no (valid) entry for a request."""


def cache_key(request: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``request`` plus the cache schema version."""
    return content_hash({"cache_schema": CACHE_SCHEMA, "request": request})


def check_entry(key: str, raw: Any) -> dict[str, Any]:
    """Parse and validate a stored value.

    :raises InvalidAnswer: not a JSON string, not keyed by ``key``, or scores outside the schema.
    """
    if not isinstance(raw, str):
        raise InvalidAnswer(f"value is a {type(raw).__name__}, not a JSON string")
    try:
        entry = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidAnswer(f"value is not JSON: {exc}") from None
    if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
        raise InvalidAnswer("value has no request")
    if cache_key(entry["request"]) != key:
        raise InvalidAnswer("value belongs to another key")
    scores = entry.get("scores")
    if not isinstance(scores, dict):
        raise InvalidAnswer("value has no scores")
    parse_answer(json.dumps({k: scores.get(k) for k in SCORE_NAMES}))
    return entry


@contextmanager
def storage_errors(directory: Path) -> Iterator[None]:
    """Turn sqlite / file-system failures of the cache into one-line user errors."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if "full" in text:
            hint = "free some disk space"
        elif "locked" in text:
            hint = "too many writers at once; retry, or give each run its own --cache-dir"
        else:
            hint = "move it away and rebuild it, or import an export (`fairmarket cache import`)"
        raise FairmarketError(f"critic cache {directory}: {text}; {hint}") from None
    except OSError as exc:
        raise FairmarketError(f"critic cache {directory}: {exc.strerror or exc}") from None


def open_store(directory: Path) -> diskcache.Cache:
    """Open (or create) the diskcache at ``directory`` with no eviction."""
    with storage_errors(directory):
        if directory.exists() and not directory.is_dir():
            raise FairmarketError(f"critic cache {directory} is not a directory")
        return diskcache.Cache(str(directory), eviction_policy="none", size_limit=2**62, timeout=60)


class ScoreCache:
    """Read/write access to the memo under one of the modes ``use | replay | refresh | off``."""

    def __init__(self, directory: Path | str | None, mode: CacheMode = "use", lock_expire: float = 300.0) -> None:
        if mode not in CACHE_MODES:
            raise FairmarketError(f"unknown cache mode {mode!r} (choose from {', '.join(CACHE_MODES)})")
        if mode != "off" and directory is None:
            raise FairmarketError(f"cache mode {mode!r} needs a cache directory")
        self.mode: CacheMode = mode
        self.directory = Path(directory) if directory is not None else None
        self.lock_expire = lock_expire
        self.corrupt = 0
        self._store = open_store(self.directory) if self.directory and mode != "off" else None
        writes = self.directory is not None and mode in ("use", "refresh")
        self._locks = open_store(self.directory / "locks") if writes else None  # type: ignore[operator]

    @property
    def reads(self) -> bool:
        return self.mode in ("use", "replay")

    def get(self, key: str) -> dict[str, Any] | None:
        """The valid entry of ``key``, or ``None`` (miss, corrupt, or a mode that does not read)."""
        return self._read(key) if self.reads else None

    def _read(self, key: str) -> dict[str, Any] | None:
        with storage_errors(self.directory):  # type: ignore[arg-type]
            raw = self._store.get(key)  # type: ignore[union-attr]
        if raw is None:
            return None
        try:
            return check_entry(key, raw)
        except InvalidAnswer as exc:
            self.corrupt += 1
            if self.mode == "replay":
                raise FairmarketError(f"corrupted entry {key} in critic cache {self.directory}: {exc}") from None
            log.warning("critic cache %s: corrupted entry %s (%s); recomputing it", self.directory, key, exc)
            return None

    def require(self, missing: list[str]) -> None:
        """In ``replay`` mode, fail naming the first key of ``missing`` (keys without a valid entry)."""
        if self.mode == "replay" and missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise ReplayMiss(f"replay mode: no cached answer for key {missing[0]}{more} in critic cache "
                             f"{self.directory}; re-run with --cache-mode use to compute it")

    def put(self, key: str, entry: dict[str, Any]) -> None:
        """Store a validated entry (``use`` and ``refresh`` only)."""
        if self.mode not in ("use", "refresh"):
            return
        with storage_errors(self.directory):  # type: ignore[arg-type]
            self._store.set(key, canonical_json(entry))  # type: ignore[union-attr]

    def claim(self, key: str) -> bool:
        """True if this process should compute ``key`` (no other process is computing it)."""
        if self._locks is None:
            return True
        with storage_errors(self.directory):  # type: ignore[arg-type]
            return bool(self._locks.add(key, time.time(), expire=self.lock_expire))

    def release(self, key: str) -> None:
        if self._locks is not None:
            with storage_errors(self.directory):  # type: ignore[arg-type]
                self._locks.delete(key)

    def wait_for(self, key: str) -> dict[str, Any] | None:
        """Wait while another process holds ``key``; its entry, or ``None`` if it stored none."""
        with storage_errors(self.directory):  # type: ignore[arg-type]
            while key in self._locks:  # type: ignore[operator]  # expired locks read as absent
                time.sleep(_POLL_SECONDS)
        return self._read(key)

    def close(self) -> None:
        for store in (self._store, self._locks):
            if store is not None:
                store.close()
