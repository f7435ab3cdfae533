"""The critic interface: score a batch of slot summaries, count what it cost."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fairmarket_local.env.summary_types import SlotSummary
from fairmarket_local.metrics.fairness import FairnessScores

SOURCES = ("model", "cache", "fallback", "rule", "teacher", "amortized")
#: slots per ``score`` call when a long list is scored (a model critic batches its misses within a call; an
#: amortized critic counts each call as an episode)
SCORE_CHUNK = 64


@dataclass
class CriticStats:
    """Running counters of one critic (all slots it was asked to score since creation)."""

    calls: int = 0  # slots scored
    cache_hits: int = 0
    cache_misses: int = 0
    model_calls: int = 0  # generations, retries included
    retries: int = 0
    fallbacks: int = 0
    corrupt_entries: int = 0
    one_sided: int = 0  # slots scored 1/1/1 without the model: no trade was possible
    load_seconds: float = 0.0
    model_seconds: float = 0.0  # generation time, loading excluded
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def hit_rate(self) -> float:
        looked_up = self.cache_hits + self.cache_misses
        return self.cache_hits / looked_up if looked_up else 0.0


class Critic(ABC):
    """Scores slot summaries (SPEC §5); ``source`` of each result is one of :data:`SOURCES`."""

    def __init__(self) -> None:
        self.stats = CriticStats()

    @abstractmethod
    def score(self, summaries: Sequence[SlotSummary]) -> list[FairnessScores]:
        """Scores of every summary, in order. Never raises for a bad model answer (falls back instead)."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What identifies this critic in a run manifest (model, hashes, template, cache schema)."""

    def episode_metrics(self) -> dict[str, Any]:
        """Columns this critic adds to the metrics row of its latest call (a learning critic's progress)."""
        return {}

    def final_results(self) -> dict[str, Any]:
        """What this critic adds to a finished run's ``results.json``."""
        return {}

    def state(self) -> dict[str, Any] | None:
        """What a checkpoint must hold to resume this critic exactly; ``None``: it learns nothing."""
        return None

    def load_state(self, state: dict[str, Any]) -> None:  # noqa: B027 — optional hook: nothing to do by default
        """Restore :meth:`state`."""

    def export(self, folder: Path) -> None:  # noqa: B027 — optional hook: nothing to do by default
        """Write what this critic learned into ``folder`` (a run's ``policies/``), if anything."""

    def close(self) -> None:  # noqa: B027 — optional hook: nothing to do by default
        """Release the model and the cache (idempotent)."""

    def __enter__(self) -> Critic:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def score_in_chunks(critic: Critic, summaries: Sequence[SlotSummary],
                    advance: Callable[..., None] = lambda n=1, **_: None, chunk: int = SCORE_CHUNK,
                    ) -> list[FairnessScores]:
    """Scores of every summary, ``chunk`` per ``critic.score`` call; ``advance(n, hit_rate=...)`` after each
    call (a progress bar's, see :func:`~fairmarket_local.common.progress.progress_bar`)."""
    out: list[FairnessScores] = []
    for start in range(0, len(summaries), chunk):
        part = summaries[start:start + chunk]
        out.extend(critic.score(part))
        advance(len(part), hit_rate=critic.stats.hit_rate)
    return out
