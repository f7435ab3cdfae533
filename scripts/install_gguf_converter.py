"""Set-up step: install llama.cpp's HF → GGUF converter next to the venv (used by `fairmarket critic distill`).

llama-cpp-python's wheel has no converter, but its source distribution on PyPI carries llama.cpp's
`convert_hf_to_gguf.py` with the `conversion/` package and the `gguf-py` library it must import (the
`gguf` release on PyPI is older and fails). This downloads that sdist for the installed
llama-cpp-python version — from the package registry, at set-up time only — and extracts those parts
to `<venv>/share/llama.cpp/`. Run: `python scripts/install_gguf_converter.py [--sdist FILE]`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

PARTS = ("convert_hf_to_gguf.py", "LICENSE")
FOLDERS = ("conversion/", "gguf-py/")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, help="a downloaded llama_cpp_python-*.tar.gz (skips the download)")
    parser.add_argument("--dest", type=Path, default=Path(sys.prefix) / "share" / "llama.cpp")
    args = parser.parse_args()
    if (args.dest / "convert_hf_to_gguf.py").is_file():
        print(f"converter already installed in {args.dest}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        sdist = args.sdist or _download(Path(tmp))
        staging = Path(tmp) / "staging"
        _extract(sdist, staging)
        args.dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(args.dest, ignore_errors=True)  # a partial earlier install
        staging.rename(args.dest)
    print(f"installed llama.cpp's convert_hf_to_gguf.py into {args.dest}")
    return 0


def _download(folder: Path) -> Path:
    wanted = f"llama-cpp-python=={version('llama-cpp-python')}"
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                    wanted, "-d", str(folder)], check=True)
    return next(folder.glob("llama_cpp_python-*.tar.gz"))


def _extract(sdist: Path, staging: Path) -> None:
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            _, sep, inside = member.name.partition("/vendor/llama.cpp/")
            if sep and member.isfile() and (inside in PARTS or inside.startswith(FOLDERS)):
                member.name = inside
                tar.extract(member, staging, filter="data")
    if not (staging / "convert_hf_to_gguf.py").is_file():
        raise SystemExit(f"{sdist}: no vendor/llama.cpp/convert_hf_to_gguf.py inside")


if __name__ == "__main__":
    sys.exit(main())
