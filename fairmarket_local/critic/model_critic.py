"""A critic backed by a language model: prompt, disk memo, batching, validation, retries, fallback.

For a batch of summaries: look every request up in the memo, claim the misses (so parallel processes
do not compute the same key twice), send only the claimed misses to the engine — sorted by prompt text, so
that consecutive prompts share long prefixes (llama.cpp keeps the previous prompt's KV cache) — in chunks of
its ``max_batch``, validate each reply, retry the invalid ones with the next seed, and replace those
still invalid by the reference scores (``source="fallback"``, never cached). Keys another process
was computing are then read back from the memo (or computed here if it stored nothing).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from fairmarket_local.critic.backends.engine import Engine, Generation
from fairmarket_local.critic.base import Critic
from fairmarket_local.critic.memo.cache import CACHE_SCHEMA, ScoreCache, cache_key
from fairmarket_local.critic.prompting.templates import PromptTemplate
from fairmarket_local.critic.schema import InvalidAnswer, answer_schema, parse_answer
from fairmarket_local.env.summary import summary_fairness
from fairmarket_local.env.summary_types import SlotSummary
from fairmarket_local.metrics.fairness import SCORE_NAMES, FairnessScores

log = logging.getLogger(__name__)


class ModelCritic(Critic):
    """Scores slots with ``engine`` under ``template``, memoized in ``cache``."""

    def __init__(
        self, engine: Engine, template: PromptTemplate, cache: ScoreCache, model_id: str,
        seed: int = 0, retries: int = 2, skip_one_sided: bool = True,
    ) -> None:
        super().__init__()
        self.engine, self.template, self.cache = engine, template, cache
        self.model_id, self.seed, self.retries = model_id, seed, retries
        self.skip_one_sided = skip_one_sided

    def request(self, summary: SlotSummary) -> dict[str, Any]:
        """Everything that determines the model's reply to ``summary`` (the cache key's content)."""
        return {
            "backend": self.engine.backend,
            **self.engine.identity(),
            "template": {"id": self.template.id, "sha256": self.template.sha256},
            "messages": self.template.messages(summary, self.engine.system_role),
            "schema": answer_schema(self.template.rationale),
            "decoding": self.engine.decoding(),
            "seed": self.seed,
        }

    def score(self, summaries: Sequence[SlotSummary]) -> list[FairnessScores]:
        if not self.skip_one_sided:
            return self._score_with_model(summaries)
        # A slot without sellers or without buyers allows no trade: all three scores are 1 by
        # definition (SPEC §4), so the model is not asked (about half the slots: nights).
        judged = [i for i, s in enumerate(summaries) if s["sellers"] and s["buyers"]]
        out = [FairnessScores(1.0, 1.0, 1.0, source="rule")] * len(summaries)
        self.stats.calls += len(summaries) - len(judged)
        self.stats.one_sided += len(summaries) - len(judged)
        for i, scores in zip(judged, self._score_with_model([summaries[i] for i in judged])):
            out[i] = scores
        return out

    def _score_with_model(self, summaries: Sequence[SlotSummary]) -> list[FairnessScores]:
        self.stats.calls += len(summaries)
        requests = [self.request(s) for s in summaries]
        keys = [cache_key(r) for r in requests]
        results: dict[str, FairnessScores] = {}
        for key in dict.fromkeys(keys):
            entry = self.cache.get(key)
            if entry is not None:
                results[key] = _scores(entry, "cache")
        self.stats.cache_hits += sum(1 for k in keys if k in results)
        pending = [k for k in dict.fromkeys(keys) if k not in results]
        self.stats.cache_misses += sum(1 for k in keys if k not in results)
        self.cache.require(pending)
        first = {k: i for i, k in reversed(list(enumerate(keys)))}
        claimed = [k for k in pending if self.cache.claim(k)]
        for key in claimed:  # another process may have stored it between our look-up and our claim
            entry = self.cache.get(key)
            if entry is not None:
                results[key] = _scores(entry, "cache")
                self.cache.release(key)
        claimed = sorted((k for k in claimed if k not in results), key=lambda k: _prompt_order(requests[first[k]]))
        for start in range(0, len(claimed), self.engine.max_batch):
            chunk = claimed[start:start + self.engine.max_batch]
            try:
                results.update(self._compute({k: requests[first[k]] for k in chunk},
                                             {k: summaries[first[k]] for k in chunk}))
            finally:
                for key in chunk:
                    self.cache.release(key)
        for key in pending:
            if key not in results:
                entry = self.cache.wait_for(key)
                results[key] = (_scores(entry, "cache") if entry is not None else
                                self._compute({key: requests[first[key]]}, {key: summaries[first[key]]})[key])
        self.stats.corrupt_entries = self.cache.corrupt
        return [results[k] for k in keys]

    def _compute(self, requests: dict[str, dict], summaries: dict[str, SlotSummary]) -> dict[str, FairnessScores]:
        """Generate, validate, retry; store valid answers, fall back for the rest."""
        out: dict[str, FairnessScores] = {}
        todo = list(requests)
        for attempt in range(self.retries + 1):
            if not todo:
                break
            if attempt:
                self.stats.retries += len(todo)
            for key, generation in zip(todo, self._generate([requests[k]["messages"] for k in todo], attempt)):
                entry = self._validate(requests[key], generation, attempt)
                if entry is not None:
                    self.cache.put(key, entry)
                    out[key] = _scores(entry, "model")
            todo = [k for k in todo if k not in out]
        for key in todo:
            self.stats.fallbacks += 1
            ref = summary_fairness(summaries[key])
            out[key] = FairnessScores(ref.ftg, ref.fbs, ref.fpp, source="fallback")
        return out

    def _generate(self, batch: list[list[dict[str, str]]], attempt: int) -> list[Generation | None]:
        """Replies to ``batch``; ``None`` for each when the engine failed (logged, then retried)."""
        start = time.perf_counter()
        self.engine.load()
        self.stats.load_seconds += time.perf_counter() - start
        start = time.perf_counter()
        try:
            generations: list[Generation | None] = list(self.engine.generate_batch(batch, self.seed + attempt))
        except Exception as exc:  # a model failure must never stop training
            log.warning("critic %s: generation failed (%s: %s)", self.model_id, type(exc).__name__, exc)
            generations = [None] * len(batch)
        self.stats.model_calls += len(batch)
        self.stats.model_seconds += time.perf_counter() - start
        return generations

    def _validate(self, request: dict, generation: Generation | None, attempt: int) -> dict[str, Any] | None:
        if generation is None:
            return None
        self.stats.prompt_tokens += generation.prompt_tokens
        self.stats.completion_tokens += generation.completion_tokens
        try:
            values, rationale = parse_answer(generation.text, self.template.rationale)
        except InvalidAnswer as exc:
            log.info("critic %s: invalid answer %r (%s)", self.model_id, generation.text[:200], exc)
            return None
        return {
            "request": request,
            "scores": dict(zip(SCORE_NAMES, values)),
            "rationale": rationale,
            "raw": generation.text,
            "latency_s": round(generation.seconds, 6),
            "prompt_tokens": generation.prompt_tokens,
            "completion_tokens": generation.completion_tokens,
            "attempt": attempt,
            "created": round(time.time(), 3),
        }

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.engine.backend, "model": self.model_id, **self.engine.identity(),
            "template": {"id": self.template.id, "sha256": self.template.sha256},
            "decoding": self.engine.decoding(), "seed": self.seed, "retries": self.retries,
            "skip_one_sided": self.skip_one_sided,
            "cache": {"schema": CACHE_SCHEMA, "mode": self.cache.mode,
                      "dir": str(self.cache.directory) if self.cache.directory else None},
        }

    def close(self) -> None:
        self.engine.close()
        self.cache.close()


def _prompt_order(request: dict[str, Any]) -> list[str]:
    """Sorting prompts by their messages' text puts those with a common prefix next to each other; the
    order changes no key and no reply, only how much of each prompt the engine evaluates again."""
    return [message["content"] for message in request["messages"]]


def _scores(entry: dict[str, Any], source: str) -> FairnessScores:
    s = entry["scores"]
    return FairnessScores(s["ftg"], s["fbs"], s["fpp"], source=source, rationale=entry.get("rationale"))
