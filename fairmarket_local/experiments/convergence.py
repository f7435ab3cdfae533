"""Has a training run stopped learning? A plateau criterion on its per-episode training curve.

The curve (by default the economic reward of each training episode) is smoothed by a moving mean over
``w`` episodes. The *plateau* starts at the first episode from which the smoothed curve stays inside a
band around its final value, the band being ``tolerance`` times the largest distance of the smoothed
curve from that final value. The run has *converged* when it then stayed on the plateau for at least one
more window: a run still climbing at its end has its plateau start within the last window and is not
converged. The study configs' episode counts were chosen so that every trained run converges
(docs/experiments.md, "How many episodes").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fairmarket_local.experiments.stats import StatisticsConfig


@dataclass(frozen=True)
class Plateau:
    """Where a training curve flattened: its first episode (1-based) and whether it held long enough."""

    episodes: int
    window: int
    episode: int
    converged: bool


def window_for(episodes: int, window: int = 0) -> int:
    """The moving-mean window: ``window`` if given, else a tenth of the run, at least 5 (at most the run)."""
    return max(1, min(episodes, window or max(5, episodes // 10)))


def plateau(curve: Sequence[float], tolerance: float = 0.1, window: int = 0) -> Plateau:
    """The plateau of ``curve`` (one value per training episode)."""
    values = np.asarray(curve, dtype=np.float64)
    w = window_for(len(values), window)
    if len(values) == 0:
        return Plateau(0, w, 0, False)
    smooth = np.convolve(values, np.ones(w) / w, mode="valid")
    distance = np.abs(smooth - smooth[-1])
    outside = np.flatnonzero(distance > tolerance * distance.max())
    first = int(outside[-1]) + 1 if len(outside) else 0  # first smoothed point that never leaves the band
    start = first + w  # the episode (1-based) ending that point's window
    return Plateau(len(values), w, start, len(values) - start >= w)


def plateau_columns(stats: StatisticsConfig, training: list[dict[str, Any]]) -> dict[str, Any]:
    """``training_episodes``, ``plateau_episode`` and ``converged`` of a job's training curve (None without one)."""
    if not training:
        return {"training_episodes": None, "plateau_episode": None, "converged": None}
    found = plateau([episode[stats.plateau_metric] for episode in training], stats.plateau_tolerance,
                    stats.plateau_window)
    return {"training_episodes": found.episodes, "plateau_episode": found.episode, "converged": found.converged}
