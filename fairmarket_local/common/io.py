"""Safe output: never clobber what the user already has, never leave a half-written file."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from fairmarket_local.common.errors import FairmarketError


def refuse_overwrite(path: Path, force: bool) -> None:
    """Raise a one-line error if ``path`` exists and ``force`` is not set."""
    if path.exists() and not force:
        raise FairmarketError(f"{path} already exists; choose another path or pass --force to replace it")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if "tmp" in locals() and os.path.exists(tmp):
            os.unlink(tmp)
        raise FairmarketError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_json(path: Path, obj: Any) -> None:
    """Pretty JSON, atomically."""
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, allow_nan=True) + "\n")


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """One canonical JSON object per line, atomically."""
    from fairmarket_local.common.canonical import canonical_json

    write_text_atomic(path, "".join(canonical_json(r) + "\n" for r in rows))


def jsonl_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, text) of every non-blank line; an unreadable file is a one-line error."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise FairmarketError(f"cannot read {path}: {exc.strerror or exc}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line
