"""Matplotlib without a display, and PNGs written atomically."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from fairmarket_local.common.errors import FairmarketError


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg back-end (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path, dpi: int = 110) -> None:
    """Write ``fig`` to ``path`` as PNG through a temporary file, then close it."""
    plt = pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(path)
    except OSError as exc:
        raise FairmarketError(f"cannot write {path}: {exc.strerror or exc}") from None
