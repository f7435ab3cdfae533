"""Locate model weights without importing their packages, check them by sha256, and check that a GGUF file is whole.

Hashing a 250 MB file takes about a second, so a verified file is remembered by (path, size, mtime, ctime,
inode) in ``$FAIRMARKET_HOME/verified.json`` and not hashed again until one of them changes; ``rehash``
(``fairmarket models verify --rehash``) hashes it anyway, for damage that leaves all of them as they were.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import math
import mmap
from pathlib import Path
from typing import Any

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.io import write_text_atomic
from fairmarket_local.critic.registry.paths import fairmarket_home


def package_dir(package: str) -> Path | None:
    """Folder of an installed package, found without importing it (``None`` if not installed)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


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


def cached_sha256(path: Path, rehash: bool = False) -> str:
    """sha256 of ``path``, reused while its size, mtime, ctime and inode are unchanged (unless ``rehash``).

    The ctime catches a file rewritten and given its old mtime back (``touch -d``, ``cp -p``, ``rsync -t``).
    """
    path = path.resolve()
    stat = path.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "ctime_ns": stat.st_ctime_ns, "inode": stat.st_ino}
    ledger = _read_ledger()
    entry: Any = ledger.get(str(path))  # the ledger is a JSON file: anything may be found
    remembered = isinstance(entry, dict) and {k: entry.get(k) for k in stamp} == stamp
    if remembered and not rehash and isinstance(entry.get("sha256"), str):
        return entry["sha256"]
    digest = file_sha256(path)
    ledger[str(path)] = {**stamp, "sha256": digest}
    try:
        write_text_atomic(_ledger_path(), json.dumps(ledger, indent=1, sort_keys=True))
    except FairmarketError:
        pass  # a read-only home only costs a re-hash next time
    return digest


# GGUF value types (the file format's numbering): bytes of each fixed-size one; 8 is a string, 9 an array
_GGUF_SCALAR_BYTES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_GGUF_STRING, _GGUF_ARRAY, _GGUF_UINT32 = 8, 9, 4
_GGUF_ALIGNMENT = 32  # unless the header's general.alignment says otherwise


class _Truncated(Exception):
    """The GGUF header runs past the end of the file."""


class _Cursor:
    """Little-endian reads through a GGUF header that fail with :class:`_Truncated` past the end."""

    def __init__(self, data: mmap.mmap) -> None:
        self.data, self.pos = data, 0

    def skip(self, n: int) -> None:
        if self.pos + n > len(self.data):
            raise _Truncated
        self.pos += n

    def take(self, n: int) -> bytes:
        start = self.pos
        self.skip(n)
        return self.data[start:self.pos]

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "little")

    def u64(self) -> int:
        return int.from_bytes(self.take(8), "little")

    def string(self) -> bytes:
        return self.take(self.u64())

    def skip_value(self, kind: int) -> None:
        if kind == _GGUF_STRING:
            self.skip(self.u64())
        elif kind == _GGUF_ARRAY:
            item, count = self.u32(), self.u64()
            if item in _GGUF_SCALAR_BYTES:
                self.skip(_GGUF_SCALAR_BYTES[item] * count)
            else:
                for _ in range(count):
                    self.skip_value(item)
        elif kind in _GGUF_SCALAR_BYTES:
            self.skip(_GGUF_SCALAR_BYTES[kind])
        else:
            raise ValueError(f"unknown value type {kind}")


def check_gguf(path: Path) -> None:
    """:raises FairmarketError: ``path`` is not a whole GGUF file: no GGUF magic, a header that runs past the
    end of the file, or fewer bytes than its tensor table needs (a truncated download or copy)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if fh.read(4) != b"GGUF":
            raise FairmarketError(f"{path} is not a GGUF file (llama_cpp models need GGUF weights)")
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            try:
                needed = _gguf_bytes(_Cursor(data))
            except _Truncated:
                raise FairmarketError(f"{path} is truncated: its GGUF header runs past the end of the file"
                                      f" ({size} bytes); copy or download it again") from None
            except ValueError as exc:
                raise FairmarketError(f"{path} is a damaged GGUF file ({exc})") from None
    if size < needed:
        raise FairmarketError(f"{path} is truncated: its GGUF tensor table needs {needed} bytes, the file has"
                              f" {size}; copy or download it again")


def _gguf_bytes(cursor: _Cursor) -> int:
    """Bytes the file must have: its header, aligned, then the data of every tensor of the tensor table."""
    cursor.skip(4)
    version = cursor.u32()
    if version not in (2, 3):
        raise ValueError(f"unsupported version {version}")
    n_tensors, n_values = cursor.u64(), cursor.u64()
    alignment = _GGUF_ALIGNMENT
    for _ in range(n_values):
        key, kind = cursor.string(), cursor.u32()
        if key == b"general.alignment" and kind == _GGUF_UINT32:
            alignment = cursor.u32()
        else:
            cursor.skip_value(kind)
    ends = []
    for _ in range(n_tensors):
        cursor.string()
        elements = math.prod(cursor.u64() for _ in range(cursor.u32()))
        kind, offset = cursor.u32(), cursor.u64()
        ends.append(offset + _tensor_bytes(kind, elements))
    if not ends:
        return cursor.pos
    if alignment < 1:
        raise ValueError(f"alignment {alignment}")
    return -(-cursor.pos // alignment) * alignment + max(ends)


def _tensor_bytes(kind: int, elements: int) -> int:
    """Bytes of ``elements`` values of GGML type ``kind``, from the ``gguf`` package's table of types; 0 where
    it is not installed (then only where each tensor starts is checked)."""
    try:
        from gguf import GGML_QUANT_SIZES, GGMLQuantizationType
    except ImportError:
        return 0
    try:
        block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
    except (ValueError, KeyError):
        raise ValueError(f"unknown tensor type {kind}") from None
    return elements // block * type_size
