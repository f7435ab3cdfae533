"""Small GGUF files written byte by byte (the format's layout, no library): whole, or cut short."""

import struct
from pathlib import Path


def _string(text: bytes) -> bytes:
    return struct.pack("<Q", len(text)) + text


def write_gguf(path: Path, values: int = 256, alignment: int | None = None) -> Path:
    """A valid GGUF file: an architecture key (and ``general.alignment`` if given), one float32 tensor."""
    keys = [_string(b"general.architecture") + struct.pack("<I", 8) + _string(b"llama")]
    if alignment is not None:
        keys.append(_string(b"general.alignment") + struct.pack("<II", 4, alignment))
    head = b"GGUF" + struct.pack("<IQQ", 3, 1, len(keys)) + b"".join(keys)
    head += _string(b"weights") + struct.pack("<IQIQ", 1, values, 0, 0)  # 1 dim, float32, offset 0
    head += b"\0" * (-len(head) % (alignment or 32))
    path.write_bytes(head + struct.pack(f"<{values}f", *range(values)))
    return path
