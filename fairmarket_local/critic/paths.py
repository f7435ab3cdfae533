"""Where the critic keeps user state: ``$FAIRMARKET_HOME`` (default ``~/.fairmarket``)."""

from __future__ import annotations

import os
from pathlib import Path

import fairmarket_local

#: The source checkout (editable install): ``models/`` and ``prompts/`` live beside the package.
REPO_ROOT = Path(fairmarket_local.__file__).resolve().parents[1]


def fairmarket_home() -> Path:
    """The user's state folder (models registry, assembled weights, default cache)."""
    return Path(os.environ.get("FAIRMARKET_HOME") or Path.home() / ".fairmarket").expanduser()


def default_cache_dir() -> Path:
    """Default folder of the critic's disk memo."""
    return fairmarket_home() / "critic-cache"
