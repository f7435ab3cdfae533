"""The amortized critic: a teacher critic labels a budget of slots, a learned fairness model scores the rest.

Each call (in training: one episode's slots) goes:
1. slots without sellers or without buyers are exact (1, 1, 1), as for every critic;
2. while the budget lasts, some two-sided slots not labelled yet are chosen — at random during the warm-up,
   then the ones the ensemble disagrees on most plus a random share — and the model's prediction for each is
   recorded *before* the teacher's answer is learned (the prequential figures);
3. the teacher scores them through its own disk memo (so a replay needs no model), and the ensemble is
   refitted on every label so far: a hundred full-batch steps from its current weights, or a thousand
   from fresh weights whenever the labels have grown by a quarter and when the budget is spent (seconds);
4. labelled slots get the teacher's answer (``source="teacher"``), the others the ensemble's mean
   (``source="amortized"``).

A seeded reservoir of unlabelled slots is kept; :meth:`AmortizedCritic.final_results` has the teacher score
it at the end, the honest held-out agreement. Everything that decides a later answer — weights, optimiser
states, labels, random state, reservoir — is in :meth:`AmortizedCritic.state` for checkpoints.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fairmarket_local.common.canonical import content_hash
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.amortized.config import AmortizeConfig
from fairmarket_local.critic.amortized.features import SlotBatch, encode
from fairmarket_local.critic.amortized.labels import Prequential, agreement, drawn, pick_labels
from fairmarket_local.critic.amortized.model import FairnessEnsemble
from fairmarket_local.critic.base import Critic, CriticStats
from fairmarket_local.critic.registry.weights import file_sha256
from fairmarket_local.env.summary_types import SlotSummary
from fairmarket_local.metrics.fairness import SCORE_NAMES, FairnessScores

ONE_SIDED = FairnessScores(1.0, 1.0, 1.0, source="rule")
EXPORT = "fairness_model.pt"
DECIMALS = 4  # the last bits of a float sum depend on the batch and the parties' order; four decimals do not


def rounded_mean(members: np.ndarray) -> np.ndarray:
    """The ensemble's answer: the members' mean, rounded."""
    return members.mean(axis=0).round(DECIMALS)


def _scores(values: Sequence[float] | np.ndarray, source: str) -> FairnessScores:
    """The three scores of ``values`` (in :data:`SCORE_NAMES` order) from ``source``."""
    ftg, fbs, fpp = values
    return FairnessScores(ftg, fbs, fpp, source=source)


def one_sided_first(summaries: Sequence[SlotSummary], stats: CriticStats) -> tuple[list[FairnessScores], list[int]]:
    """Scores with every one-sided slot exact (1, 1, 1: no trade was possible), and the two-sided ones' indices."""
    judged = [i for i, s in enumerate(summaries) if s["sellers"] and s["buyers"]]
    stats.calls += len(summaries) - len(judged)
    stats.one_sided += len(summaries) - len(judged)
    return [ONE_SIDED] * len(summaries), judged


class AmortizedCritic(Critic):
    """Scores like ``teacher`` after learning from at most ``config.label_budget`` of its answers."""

    def __init__(self, teacher: Critic, config: AmortizeConfig, seed: int = 0) -> None:
        super().__init__()
        self.teacher, self.config = teacher, config
        self.stats = teacher.stats  # one set of counters: the teacher's cache hits, misses and fallbacks
        self.model = FairnessEnsemble(config.ensemble, config.hidden, config.learning_rate, seed)
        self.rng = np.random.default_rng([seed, 7])
        self.labels: dict[str, tuple[SlotSummary, list[float], list[float]]] = {}  # key: summary, scores, boot
        self.asked = 0  # labels asked of the teacher (fallback answers included: they cost its time)
        self.prequential = Prequential(config.prequential_window)
        self.reservoir: list[tuple[str, SlotSummary]] = []
        self.reservoir_seen = 0
        self.asked_last = 0
        self.next_fresh_fit = 1  # label count at which the ensemble next restarts from fresh weights

    def score(self, summaries: Sequence[SlotSummary]) -> list[FairnessScores]:
        out, judged = one_sided_first(summaries, self.stats)
        if not judged:
            self.asked_last = 0
            return out
        slots = [summaries[i] for i in judged]
        keys = [content_hash(s) for s in slots]
        batch = encode(slots)
        self.asked_last = self._learn(slots, keys, batch)
        self._keep_for_heldout(slots, keys)
        predicted = rounded_mean(self.model.predict(batch))
        for j, i in enumerate(judged):
            label = self.labels.get(keys[j])
            out[i] = (_scores(label[1], "teacher") if label is not None else _scores(predicted[j], "amortized"))
        return out

    def _learn(self, slots: list[SlotSummary], keys: list[str], batch: SlotBatch) -> int:
        """Ask the teacher for this call's share of labels and refit; the number of labels asked."""
        cfg = self.config
        first = {k: j for j, k in reversed(list(enumerate(keys)))}
        fresh = np.array(sorted(j for k, j in first.items() if k not in self.labels), dtype=np.int64)
        left = cfg.label_budget - self.asked
        if left <= 0 or not len(fresh):
            return 0
        warming = self.asked < cfg.warmup_labels
        wanted = min(left, cfg.warmup_labels - self.asked if warming else drawn(cfg.labels_per_episode, self.rng))
        disagreement = None if warming or not self.model.fitted else self._disagreement(batch)
        chosen = pick_labels(fresh, disagreement, wanted, cfg.random_share, self.rng)
        answered = self.teacher.score([slots[j] for j in chosen])
        self.asked += len(chosen)
        # a fallback is the reference formula, not the teacher's judgment: it is not learned
        learned = [j for j, a in zip(chosen, answered) if a.source != "fallback"]
        answers = np.array([a.values() for a in answered if a.source != "fallback"]).reshape(-1, 3)
        if not learned:
            return len(chosen)
        if self.model.fitted:
            self.prequential.add(rounded_mean(self.model.predict(batch.take(learned))), answers)
        for j, values in zip(learned, answers.tolist()):
            self.labels[keys[j]] = (slots[j], values, self.rng.poisson(1.0, size=cfg.ensemble).tolist())
        self._fit()
        return len(chosen)

    def _disagreement(self, batch: SlotBatch) -> np.ndarray:
        """Per slot: the members' standard deviation, averaged over the three scores."""
        return self.model.predict(batch).std(axis=0).mean(axis=1)

    def _fit(self) -> None:
        """A few steps from the current weights; from fresh weights when the labels have grown by
        ``fresh_fit_growth`` since the last fresh start, and once more when the budget is spent (the model that
        serves the rest of the run)."""
        summaries, targets, boot = zip(*self.labels.values())
        steps = self.config.fit_steps
        if len(self.labels) >= self.next_fresh_fit or self.asked >= self.config.label_budget:
            self.model.reset()
            self.next_fresh_fit = math.ceil(self.config.fresh_fit_growth * len(self.labels))
            steps = self.config.full_fit_steps
        self.model.fit(encode(list(summaries)), np.array(targets), steps, np.array(boot).T)

    def _keep_for_heldout(self, slots: list[SlotSummary], keys: list[str]) -> None:
        """Reservoir sampling (seeded) over the distinct unlabelled slots seen so far."""
        held = {k for k, _ in self.reservoir}
        for key, summary in dict(zip(keys, slots)).items():
            if key in self.labels or key in held:
                continue
            self.reservoir_seen += 1
            if len(self.reservoir) < self.config.heldout:
                self.reservoir.append((key, summary))
            else:
                slot = int(self.rng.integers(self.reservoir_seen))
                if slot < self.config.heldout:
                    self.reservoir[slot] = (key, summary)
            held.add(key)

    # --- what the trainer and the run record ----------------------------------------------------------------

    def episode_metrics(self) -> dict[str, Any]:
        figures = self.prequential.figures()
        return {"critic_teacher_calls": self.asked_last, "amortized_labels": len(self.labels),
                **{f"amortized_prequential_{kind}_{name}": figures[kind][name]
                   for kind in ("spearman", "mae") for name in SCORE_NAMES}}

    def final_results(self) -> dict[str, Any]:
        """Labels, prequential agreement, and the teacher's verdict on the held-out reservoir."""
        held = [summary for key, summary in self.reservoir if key not in self.labels]
        answers = self.teacher.score(held) if held else []
        kept = [k for k, a in enumerate(answers) if a.source != "fallback"]
        predicted = rounded_mean(self.model.predict(encode([held[k] for k in kept]))) if kept else np.zeros((0, 3))
        truth = np.array([answers[k].values() for k in kept]).reshape(-1, 3)
        return {"amortized": {"labels": len(self.labels), "asked": self.asked,
                              "prequential": self.prequential.figures(),
                              "heldout": {"slots": len(kept), **agreement(predicted, truth)}}}

    def export(self, folder: Path) -> None:
        """The trained ensemble as ``folder/fairness_model.pt`` (its settings and weights)."""
        torch.save({"config": self.config.model_dump(), "net": self.model.state()["net"]}, folder / EXPORT)

    def state(self) -> dict[str, Any]:
        return {
            "model": self.model.state(), "rng": self.rng.bit_generator.state, "asked": self.asked,
            "labels": [[k, *v] for k, v in self.labels.items()], "prequential": self.prequential.state(),
            "reservoir": [list(item) for item in self.reservoir], "reservoir_seen": self.reservoir_seen,
            "next_fresh_fit": self.next_fresh_fit,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.model.load_state(state["model"])
        self.rng.bit_generator.state = state["rng"]
        self.asked = state["asked"]
        self.labels = {k: (summary, scores, boot) for k, summary, scores, boot in state["labels"]}
        self.prequential.load_state(state["prequential"])
        self.reservoir = [(k, summary) for k, summary in state["reservoir"]]
        self.reservoir_seen = state["reservoir_seen"]
        self.next_fresh_fit = state["next_fresh_fit"]

    def describe(self) -> dict[str, Any]:
        return {"amortized": self.config.model_dump(), "teacher": self.teacher.describe()}

    def close(self) -> None:
        self.teacher.close()


class FairnessModelCritic(Critic):
    """An exported fairness model scoring on its own, frozen: measurable by ``critic compare`` like any critic."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        try:
            saved = torch.load(self.path, weights_only=True)
            config = AmortizeConfig.model_validate(saved["config"])
            self.model = FairnessEnsemble(config.ensemble, config.hidden, config.learning_rate, seed=0)
            self.model.net.load_state_dict(saved["net"])
        except (OSError, KeyError, TypeError, ValueError, RuntimeError, pickle.UnpicklingError) as exc:
            raise FairmarketError(f"{self.path}: not a fairness model exported by an amortized run"
                                  f" ({type(exc).__name__})") from None
        self.sha256 = file_sha256(self.path)

    def score(self, summaries: Sequence[SlotSummary]) -> list[FairnessScores]:
        out, judged = one_sided_first(summaries, self.stats)
        self.stats.calls += len(judged)
        predicted = rounded_mean(self.model.predict(encode([summaries[i] for i in judged])))
        for j, i in enumerate(judged):
            out[i] = _scores(predicted[j], "amortized")
        return out

    def describe(self) -> dict[str, Any]:
        return {"backend": "fairness_model", "model": str(self.path), "sha256": self.sha256}
