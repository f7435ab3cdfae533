"""Fixtures of the critic tests: an isolated ``$FAIRMARKET_HOME`` and hand-made slot summaries."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.critic.critic_helpers import SLOTS


@pytest.fixture(scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One home for the whole session, so each model file is hashed (or assembled) once."""
    home = tmp_path_factory.mktemp("fairmarket_home")
    yield home
    shutil.rmtree(home / "weights", ignore_errors=True)  # 250 MB of assembled Gemma per session otherwise


@pytest.fixture(autouse=True)
def isolated_home(session_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FAIRMARKET_HOME", str(session_home))
    return session_home


@pytest.fixture
def slots() -> list[dict[str, Any]]:
    return [dict(s) for s in SLOTS]
