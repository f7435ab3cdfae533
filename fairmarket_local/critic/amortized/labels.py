"""Which slots the teacher labels, and how well the model predicted each label before it learned it."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from fairmarket_local.critic.quality.compare import spearman
from fairmarket_local.metrics.fairness import SCORE_NAMES


def pick_labels(candidates: np.ndarray, disagreement: np.ndarray | None, wanted: int, random_share: float,
                rng: np.random.Generator) -> list[int]:
    """Up to ``wanted`` of ``candidates`` (indices): without ``disagreement`` (the warm-up) all at random;
    else the most disputed ones, plus ``random_share`` of them at random from the rest for coverage."""
    wanted = min(wanted, len(candidates))
    if wanted == 0:
        return []
    if disagreement is None:
        return sorted(rng.choice(candidates, size=wanted, replace=False).tolist())
    n_random = drawn(wanted * random_share, rng)
    order = np.argsort(-disagreement[candidates], kind="stable")
    top = candidates[order[:wanted - n_random]]
    rest = np.setdiff1d(candidates, top)
    extra = rng.choice(rest, size=min(n_random, len(rest)), replace=False) if n_random else np.array([], int)
    return sorted([*top.tolist(), *extra.tolist()])


def drawn(expected: float, rng: np.random.Generator) -> int:
    """A whole number of labels with mean ``expected`` (2.25 is 2, or 3 one time in four): seeded."""
    return int(expected) + int(rng.random() < expected - int(expected))


class Prequential:
    """Predictions made before their labels were learned, against those labels (the latest ``window``)."""

    def __init__(self, window: int) -> None:
        self.pairs: deque[tuple[list[float], list[float]]] = deque(maxlen=window)

    def add(self, predicted: np.ndarray, labels: np.ndarray) -> None:
        self.pairs.extend(zip(predicted.tolist(), labels.tolist()))

    def figures(self) -> dict[str, dict[str, float | None]]:
        """``{"spearman": {ftg, fbs, fpp}, "mae": {…}}``; ``None`` where undefined (too few, or constant)."""
        return agreement(np.array([p for p, _ in self.pairs]), np.array([t for _, t in self.pairs]))

    def state(self) -> dict[str, Any]:
        return {"window": self.pairs.maxlen, "pairs": [list(p) for p in self.pairs]}

    def load_state(self, state: dict[str, Any]) -> None:
        self.pairs = deque((tuple(p) for p in state["pairs"]), maxlen=state["window"])


def agreement(predicted: np.ndarray, labels: np.ndarray) -> dict[str, dict[str, float | None]]:
    """Spearman and MAE per score of (n, 3) predictions against (n, 3) labels; ``None`` where undefined."""
    out: dict[str, dict[str, float | None]] = {"spearman": {}, "mae": {}}
    for k, name in enumerate(SCORE_NAMES):
        mae = float(np.abs(predicted[:, k] - labels[:, k]).mean()) if len(labels) else None
        rho = spearman(predicted[:, k], labels[:, k]) if len(labels) >= 2 else float("nan")
        out["mae"][name] = None if mae is None else round(mae, 6)
        out["spearman"][name] = None if np.isnan(rho) else round(rho, 6)
    return out
