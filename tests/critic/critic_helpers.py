"""Test helpers of the critic: hand-made slot summaries and a scripted fake engine."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fairmarket_local.critic.backends.engine import Engine, Generation, Messages
from fairmarket_local.critic.memo.cache import ScoreCache
from fairmarket_local.critic.model_critic import ModelCritic
from fairmarket_local.critic.prompting.templates import load_template
from fairmarket_local.env.summary import summary_fairness
from fairmarket_local.metrics.fairness import FairnessScores

#: How far a greedy answer of one model may move between configurations (back-end, process, kernels of
#: another CPU, batch size): the floating-point order changes, and with it at times the second decimal
#: (0.33 in process against 0.32 from llama.cpp's server on an AVX2-only machine). Bit-identity is only
#: promised within one configuration.
ACROSS_CONFIGURATIONS = 0.02


def assert_copies_indicators(score: FairnessScores, summary: dict[str, Any]) -> None:
    """With the grounded template the small models copy the indicators they are shown."""
    for got, reference in zip(score.values(), summary_fairness(summary).values()):
        assert abs(got - reference) <= ACROSS_CONFIGURATIONS, (score, summary_fairness(summary))


def make_summary(
    sellers: list[tuple[float, float, float | None, float]],
    buyers: list[tuple[float, float, float | None, float]],
    trades: list[tuple[int, int, float, float]],
    hour: int = 12,
    retail: float = 0.3,
    feed_in: float = 0.08,
) -> dict[str, Any]:
    """Parties are ``(energy, order_kwh, price, p2p_kwh)``; trades ``(seller_no, buyer_no, kwh, price)``."""
    def money(i: int, side: int) -> float:
        return round(sum(q * p for s, b, q, p in trades if (s if side == 0 else b) == i), 3)

    return {
        "schema": 1, "day": "Wed", "hour": hour, "weather": "sunny", "retail": retail, "feed_in": feed_in,
        "sellers": [{"id": f"S{k + 1}", "surplus_kwh": e, "offer_kwh": o, "price": p, "p2p_kwh": q,
                     "money": money(k + 1, 0)} for k, (e, o, p, q) in enumerate(sellers)],
        "buyers": [{"id": f"B{k + 1}", "deficit_kwh": e, "request_kwh": o, "price": p, "p2p_kwh": q,
                    "money": money(k + 1, 1)} for k, (e, o, p, q) in enumerate(buyers)],
        "trades": [{"seller": f"S{s}", "buyer": f"B{b}", "kwh": q, "price": p} for s, b, q, p in sorted(trades)],
        "grid": {"import_kwh": round(sum(b[0] - b[3] for b in buyers), 2),
                 "export_kwh": round(sum(s[0] - s[3] for s in sellers), 2)},
    }


SLOTS: list[dict[str, Any]] = [
    # even split at the mid price: everything fair
    make_summary([(2.0, 2.0, 0.19, 1.0), (2.0, 2.0, 0.19, 1.0)], [(2.0, 2.0, 0.19, 2.0)],
                 [(1, 1, 1.0, 0.19), (2, 1, 1.0, 0.19)], hour=11),
    # monopoly: one seller takes all, at the retail price
    make_summary([(2.0, 2.0, 0.25, 2.0), (2.0, 2.0, 0.29, 0.0), (1.0, 1.0, 0.28, 0.0)], [(2.0, 2.0, 0.3, 2.0)],
                 [(1, 1, 2.0, 0.3)], hour=13),
    # no trade although both sides exist
    make_summary([(1.5, 1.5, 0.29, 0.0)], [(3.0, 3.0, 0.1, 0.0)], [], hour=9),
    # night: no sellers
    make_summary([], [(0.8, 0.8, 0.2, 0.0), (1.2, 1.2, 0.25, 0.0)], [], hour=22),
    # partial trade, skewed prices
    make_summary([(3.0, 2.25, 0.12, 1.0), (1.0, 1.0, 0.1, 0.5)], [(1.0, 1.0, 0.2, 1.0), (2.0, 1.5, 0.15, 0.5)],
                 [(1, 1, 1.0, 0.16), (2, 2, 0.5, 0.125)], hour=15),
    # seller with no offer (price None)
    make_summary([(0.5, 0.0, None, 0.0), (2.0, 2.0, 0.2, 1.5)], [(1.5, 1.5, 0.22, 1.5)],
                 [(2, 1, 1.5, 0.21)], hour=14),
]


class FakeEngine(Engine):
    """Replies from a script (cycled), or a fixed valid answer; counts calls; optional delay."""

    backend = "fake"

    def __init__(self, replies: list[str] | None = None, delay: float = 0.0, log_file: Path | None = None,
                 max_batch: int = 1) -> None:
        self.replies = replies or ['{"ftg": 0.5, "fbs": 0.25, "fpp": 1}']
        self.delay, self.log_file, self.max_batch = delay, log_file, max_batch
        self.calls = 0
        self.seeds: list[int] = []

    def identity(self) -> dict[str, Any]:
        return {"model_sha256": "0" * 64, "chat_template": "fake"}

    def decoding(self) -> dict[str, Any]:
        return {"temperature": 0.0}

    def generate(self, messages: Messages, seed: int) -> Generation:
        text = self.replies[self.calls % len(self.replies)]
        self.calls += 1
        self.seeds.append(seed)
        time.sleep(self.delay)
        if self.log_file is not None:
            with open(self.log_file, "a", encoding="utf-8") as fh:
                fh.write(messages[-1]["content"].replace("\n", " ") + "\n")
        return Generation(text=text, seconds=self.delay, prompt_tokens=10, completion_tokens=5)


def fake_critic(cache_dir: Path | None, mode: str = "use", template: str = "raw", retries: int = 2,
                **engine_opts: Any) -> ModelCritic:
    cache = ScoreCache(cache_dir, mode)  # type: ignore[arg-type]
    return ModelCritic(FakeEngine(**engine_opts), load_template(template), cache, model_id="fake", retries=retries,
                       skip_one_sided=False)
