"""Where the critic keeps user state: ``$FAIRMARKET_HOME`` (default ``~/.fairmarket``)."""

from __future__ import annotations

import os
from pathlib import Path

import fairmarket_local

#: The top-level ``prompts/`` and ``models/`` folders, linked into the package as ``shipped/`` so that a
#: wheel carries them (a git checkout on a file system without symlinks needs ``git config core.symlinks true``).
SHIPPED = Path(fairmarket_local.__file__).resolve().parent / "shipped"


def fairmarket_home() -> Path:
    """The user's state folder (models registry, assembled weights, default cache)."""
    return Path(os.environ.get("FAIRMARKET_HOME") or Path.home() / ".fairmarket").expanduser()


def default_cache_dir() -> Path:
    """Default folder of the critic's disk memo."""
    return fairmarket_home() / "critic-cache"
