"""What this CPU can do: dtypes and kernels are chosen by it, and every measured figure names it.

Machines of one pool differ (some have AVX-512 with native bfloat16, some only AVX2), so nothing that
depends on the instruction set is hard-coded: bf16 is used only where the CPU computes it natively
(emulated bf16 matmuls were measured 68x slower than float32 on an AVX2-only EPYC).
"""

from __future__ import annotations

import os
import platform
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
COMPUTE_DTYPES = ("auto", "bfloat16", "float32")
_ISA_LEVELS = (("avx512f", "AVX512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2"))


@cache
def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of ``/proc/cpuinfo`` (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return fields
    for line in text.splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (``avx2``, ``avx512_bf16``, …)."""
    return frozenset(_cpuinfo().get("flags", "").split())


def cpu_name() -> str:
    return _cpuinfo().get("model name") or platform.processor() or platform.machine()


def vector_isa() -> str:
    """The widest vector instruction set: AVX512, AVX2, AVX, SSE4.2 or the architecture's name."""
    flags = cpu_flags()
    return next((name for flag, name in _ISA_LEVELS if flag in flags), platform.machine())


def native_bf16() -> bool:
    """True where the CPU has bfloat16 arithmetic (AVX512-BF16 or AMX)."""
    return bool(cpu_flags() & _BF16_FLAGS)


def compute_dtype(requested: str = "auto") -> str:
    """``bfloat16`` or ``float32``: ``auto`` picks bf16 only where it is native."""
    if requested not in COMPUTE_DTYPES:
        raise ValueError(f"compute dtype {requested!r} is not one of {', '.join(COMPUTE_DTYPES)}")
    if requested != "auto":
        return requested
    return "bfloat16" if native_bf16() else "float32"


def machine_info(*packages: str) -> dict[str, object]:
    """The machine a figure was measured on: CPU, instruction set, cores, Python and package versions."""
    info: dict[str, object] = {"cpu": cpu_name(), "isa": vector_isa(), "native_bf16": native_bf16(),
                               "cores": os.cpu_count(), "python": platform.python_version()}
    for package in packages:
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            continue
    return info


def machine_text(info: dict[str, object]) -> str:
    """``machine_info`` on one line, for a benchmark's header."""
    return ", ".join(f"{key} {value}" for key, value in info.items())
