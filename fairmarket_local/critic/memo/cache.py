"""The critic's disk memo (SPEC §5): one JSON entry per (model, prompt, decoding) request.

Keys are the sha256 of the canonical JSON of the whole request, so any change to the model file,
chat template, prompt template, rendered messages, schema, decoding parameters or seed is a new key.
Values are JSON strings (diskcache stores ``str`` as text: nothing is ever pickled) and hold the
request itself, so every entry can be re-keyed and checked (``fairmarket cache verify``) and the
cache doubles as a labelled data set. Only validated answers are stored. Nothing is ever evicted.

Several processes may share one cache: a process *claims* a key (an atomic ``add`` of a lock entry
that expires, naming the process) before computing it, and the others wait for its answer instead of
computing it too; the claim of a process of this machine that is gone (``kill -9``) is dropped at once.

A cache that cannot be written (a read-only folder or mount) is opened read-only: ``replay`` mode and
``fairmarket cache stats | verify | export`` read it; ``use`` and ``refresh`` refuse it in one line.

A corrupted entry (unparseable, wrong key, invalid scores) is treated as a miss, logged and counted,
then overwritten by the fresh answer; in ``replay`` mode it is an error, since it cannot be recomputed.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, get_args

import diskcache

from fairmarket_local.common.canonical import canonical_json, content_hash
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.schema import InvalidAnswer, parse_answer
from fairmarket_local.metrics.fairness import SCORE_NAMES

CACHE_SCHEMA = 1
CacheMode = Literal["use", "replay", "refresh", "off"]
CACHE_MODES: tuple[str, ...] = get_args(CacheMode)
_POLL_SECONDS = 0.02
DB_FILE = diskcache.core.DBNAME

log = logging.getLogger(__name__)


class ReplayMiss(FairmarketError):
    """``replay`` mode found no (valid) entry for a request."""


def check_cache_mode(mode: str) -> None:
    """:raises FairmarketError: ``mode`` is not one of :data:`CACHE_MODES`."""
    if mode not in CACHE_MODES:
        raise FairmarketError(f"unknown cache mode {mode!r} (choose from {', '.join(CACHE_MODES)})")


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
        raise FairmarketError(f"critic cache {directory}: {_diagnosis(directory, str(exc))}") from None
    except OSError as exc:
        raise FairmarketError(f"critic cache {directory}: {_diagnosis(directory, exc.strerror or str(exc))}") from None


def _diagnosis(directory: Path, text: str) -> str:
    """What went wrong and what to do. SQLite reports a disk it cannot write to in many ways (an I/O error,
    "readonly", "unable to open"), so a full disk and a read-only folder are told by the file system."""
    if "full" in text:
        return f"{text}; free some disk space"
    if _disk_full(directory):
        return f"disk full ({text}); free some disk space"
    if not _writable(directory):
        return f"{text}; {_read_only_advice(directory)}"
    if "locked" in text:
        return f"{text}; too many writers at once; retry, or give each run its own --cache-dir"
    return f"{text}; move it away and rebuild it, or import an export (`fairmarket cache import`)"


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent."""
    return next(p for p in (path, *path.absolute().parents) if p.exists())


def _disk_full(directory: Path) -> bool:
    try:
        return os.statvfs(_existing(directory)).f_bavail == 0
    except OSError:
        return False


def _writable(directory: Path) -> bool:
    """The folder (or, before it exists, the folder it would be made in) and its database can be written."""
    db = directory / DB_FILE
    return os.access(_existing(directory), os.W_OK) and (not db.exists() or os.access(db, os.W_OK))


def _read_only_advice(directory: Path) -> str:
    return (f"the folder is read-only: its answers can be read (--cache-mode replay, `fairmarket cache stats`,"
            f" `export`) but none can be stored; make {directory} writable or use another --cache-dir")


def open_store(directory: Path) -> diskcache.Cache | ReadOnlyStore:
    """Open (or create) the diskcache at ``directory`` with no eviction; one that cannot be written is opened
    read-only (:class:`ReadOnlyStore`)."""
    with storage_errors(directory):
        if directory.exists() and not directory.is_dir():
            raise FairmarketError(f"critic cache {directory} is not a directory")
        if (directory / DB_FILE).is_file() and not _writable(directory):
            return ReadOnlyStore(directory)
        return diskcache.Cache(str(directory), eviction_policy="none", size_limit=2**62, timeout=60)


class ReadOnlyStore:
    """A diskcache folder that cannot be written (a read-only mount or folder), read straight from its SQLite
    file: ``get``, ``iterkeys``, ``len``, ``volume`` and ``in`` as on :class:`diskcache.Cache`; every write is a
    one-line error. Values diskcache keeps in files are read as text; pickled values are never loaded (they
    read as bytes, which :func:`check_entry` rejects)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._db = _connect_read_only(directory / DB_FILE)

    def get(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT mode, filename, value, expire_time FROM Cache WHERE key = ? AND raw = 1",
                               (key,)).fetchone()
        if row is None or (row[3] is not None and row[3] < time.time()):
            return default
        mode, filename, value, _ = row
        if mode == diskcache.core.MODE_TEXT and filename:
            return (self.directory / filename).read_text(encoding="utf-8")
        return value if mode == diskcache.core.MODE_RAW else b""

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def iterkeys(self) -> Iterator[str]:
        for (key,) in self._db.execute("SELECT key FROM Cache WHERE raw = 1 ORDER BY rowid"):
            yield key

    def __len__(self) -> int:
        return int(self._setting("count"))

    def volume(self) -> int:
        ((pages,),) = self._db.execute("PRAGMA page_count").fetchall()
        ((page_size,),) = self._db.execute("PRAGMA page_size").fetchall()
        return pages * page_size + int(self._setting("size"))

    def _setting(self, key: str) -> Any:
        row = self._db.execute("SELECT value FROM Settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row is not None else 0

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise FairmarketError(f"critic cache {self.directory}: {_read_only_advice(self.directory)}")

    set = add = delete = expire = _refuse

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ReadOnlyStore:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()


def _connect_read_only(db: Path) -> sqlite3.Connection:
    """SQLite's read-only mode; where that cannot open the write-ahead log (no ``-shm`` file, and no right to
    make one), the database is opened as immutable: nothing can be writing it then."""
    uri = db.absolute().as_uri()
    try:
        return _opened(f"{uri}?mode=ro")
    except sqlite3.OperationalError:
        return _opened(f"{uri}?mode=ro&immutable=1")


def _opened(uri: str) -> sqlite3.Connection:
    connection = sqlite3.connect(uri, uri=True)
    try:
        connection.execute("SELECT count(*) FROM Settings").fetchone()
    except sqlite3.DatabaseError:
        connection.close()
        raise
    return connection


class ScoreCache:
    """Read/write access to the memo under one of the modes ``use | replay | refresh | off``."""

    def __init__(self, directory: Path | str | None, mode: CacheMode = "use", lock_expire: float = 300.0) -> None:
        check_cache_mode(mode)
        if mode != "off" and directory is None:
            raise FairmarketError(f"cache mode {mode!r} needs a cache directory")
        self.mode: CacheMode = mode
        self.directory = Path(directory) if directory is not None else None
        self.lock_expire = lock_expire
        self._corrupt: set[str] = set()
        self._store = open_store(self.directory) if self.directory and mode != "off" else None
        self._locks: diskcache.Cache | ReadOnlyStore | None = None
        if self.directory is not None and mode in ("use", "refresh"):  # this cache stores answers
            if isinstance(self._store, ReadOnlyStore):
                self._store.close()
                raise FairmarketError(f"critic cache {self.directory}: cache mode {mode!r} stores answers, but"
                                      f" {_read_only_advice(self.directory)}")
            self._locks = open_store(self.directory / "locks")

    @property
    def corrupt(self) -> int:
        """Distinct keys found with a corrupt entry."""
        return len(self._corrupt)

    @property
    def reads(self) -> bool:
        return self.mode in ("use", "replay")

    def get(self, key: str) -> dict[str, Any] | None:
        """The valid entry of ``key``, or ``None`` (miss, corrupt, or a mode that does not read)."""
        return self._read(key) if self.reads else None

    def _read(self, key: str) -> dict[str, Any] | None:
        assert self.directory is not None and self._store is not None  # a mode that reads has both
        with storage_errors(self.directory):
            raw = self._store.get(key)
        if raw is None:
            return None
        try:
            return check_entry(key, raw)
        except InvalidAnswer as exc:
            self._corrupt.add(key)
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
        assert self.directory is not None and self._store is not None  # a mode that stores has both
        with storage_errors(self.directory):
            self._store.set(key, canonical_json(entry))

    def claim(self, key: str) -> bool:
        """True if this process should compute ``key`` (no other process is computing it)."""
        if self._locks is None:
            return True
        assert self.directory is not None  # locks live in the folder
        with storage_errors(self.directory):
            return bool(self._locks.add(key, _holder(), expire=self.lock_expire))

    def release(self, key: str) -> None:
        if self._locks is not None:
            assert self.directory is not None  # locks live in the folder
            with storage_errors(self.directory):
                self._locks.delete(key)

    def wait_for(self, key: str) -> dict[str, Any] | None:
        """Wait while another process holds ``key``; its entry, or ``None`` if it stored none. The claim of a
        process that is gone (killed) is dropped at once, and ``None`` returned: the caller computes the key."""
        assert self.directory is not None and self._locks is not None  # only a claim another process holds waits
        with storage_errors(self.directory):
            while (holder := self._locks.get(key)) is not None:  # expired: absent
                if not _running(holder):
                    self._drop(key, holder)
                    break
                time.sleep(_POLL_SECONDS)
        return self._read(key)

    def _drop(self, key: str, holder: str) -> None:
        log.warning("critic cache %s: the process that claimed key %s (%s) is gone; computing the key here",
                    self.directory, key, holder)
        assert self._locks is not None  # called by wait_for, which holds locks
        # a cache that stores answers has writable locks (diskcache.Cache), never a ReadOnlyStore
        with self._locks.transact():  # type: ignore[union-attr]  # not a claim another waiter made meanwhile
            if self._locks.get(key) == holder:
                self._locks.delete(key)

    def close(self) -> None:
        for store in (self._store, self._locks):
            if store is not None:
                store.close()


def _holder() -> str:
    """Who claims a key: host, pid and the process's start time (so that a reused pid is not taken for it)."""
    pid = os.getpid()
    return f"{socket.gethostname()} {pid} {_start_time(pid)}"


def _running(holder: Any) -> bool:
    """False only when ``holder`` (see :func:`_holder`) has provably stopped: a process of this machine that is
    gone, a zombie, or whose pid now belongs to another process. Claims from other machines just expire."""
    try:
        host, pid_text, started = holder.rsplit(" ", 2)
        pid = int(pid_text)
    except (AttributeError, ValueError):
        return True  # not a claim this version writes
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # running, as another user
    return _start_time(pid) in (started, "")


def _start_time(pid: int) -> str:
    """When process ``pid`` started, in clock ticks since boot (``/proc/PID/stat``); ``"exited"`` for a zombie,
    ``""`` where it cannot be read (no ``/proc``: then only the pid is checked)."""
    try:
        state, *fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
        return "exited" if state in ("Z", "X") else fields[18]
    except (OSError, IndexError, ValueError):
        return ""
