import json
import logging

from fairmarket_local.critic.backends.engine import Generation
from fairmarket_local.critic.memo.cache import ScoreCache
from fairmarket_local.critic.model_critic import ModelCritic
from fairmarket_local.critic.prompting.templates import load_template
from fairmarket_local.env.summary import summary_fairness
from tests.critic.critic_helpers import FakeEngine, fake_critic


def test_invalid_answers_are_retried_with_the_next_seed(tmp_path, slots):
    critic = fake_critic(tmp_path / "c", replies=['{"ftg": 7}', '{"ftg": 0.5, "fbs": 0.5, "fpp": 0.5}'])
    score = critic.score(slots[:1])[0]
    assert score.source == "model" and score.values() == (0.5, 0.5, 0.5)
    assert critic.engine.seeds == [0, 1] and critic.stats.retries == 1 and critic.stats.fallbacks == 0


def test_garbage_falls_back_to_rule_scores_and_is_not_cached(tmp_path, slots):
    critic = fake_critic(tmp_path / "c", replies=["no idea", '{"ftg": 1.5, "fbs": 0, "fpp": 0}'], retries=2)
    scores = critic.score(slots[:2])
    assert [s.source for s in scores] == ["fallback", "fallback"]
    assert [s.values() for s in scores] == [summary_fairness(s).values() for s in slots[:2]]
    assert critic.stats.fallbacks == 2 and critic.stats.retries == 4 and critic.engine.calls == 6
    assert fake_critic(tmp_path / "c").score(slots[:2])[0].source == "model"  # nothing was stored


class ExplodingEngine(FakeEngine):
    def generate(self, messages, seed):
        self.calls += 1
        raise RuntimeError("llama_decode returned -1")


def test_engine_exceptions_never_escape(tmp_path, slots, caplog):
    critic = ModelCritic(ExplodingEngine(), load_template("raw"), ScoreCache(None, "off"), "boom", retries=1,
                         skip_one_sided=False)
    with caplog.at_level(logging.WARNING):
        scores = critic.score(slots)
    assert {s.source for s in scores} == {"fallback"} and critic.engine.calls == 2 * len(slots)
    assert "llama_decode returned -1" in caplog.text


class BatchEngine(FakeEngine):
    def __init__(self):
        super().__init__(max_batch=4)
        self.batches: list[int] = []

    def generate_batch(self, batch, seed):
        self.batches.append(len(batch))
        return super().generate_batch(batch, seed)


def test_only_misses_go_to_the_engine_in_chunks_of_max_batch(tmp_path, slots):
    fake_critic(tmp_path / "c").score(slots[:1])
    engine = BatchEngine()
    critic = ModelCritic(engine, load_template("raw"), ScoreCache(tmp_path / "c"), "fake", skip_one_sided=False)
    scores = critic.score(slots)
    assert scores[0].source == "cache" and engine.batches == [4, 1]
    assert critic.stats.cache_hits == 1 and critic.stats.cache_misses == len(slots) - 1


def test_describe_names_model_template_and_cache(tmp_path):
    described = fake_critic(tmp_path / "c").describe()
    assert described["model"] == "fake" and described["template"]["id"] == "raw.v1"
    assert described["cache"]["mode"] == "use" and described["cache"]["schema"] == 1


def test_one_sided_slots_are_scored_one_without_the_model(tmp_path):
    from fairmarket_local.critic.memo.cache import ScoreCache
    from tests.critic.critic_helpers import FakeEngine, make_summary

    engine = FakeEngine()
    critic = ModelCritic(engine, load_template("raw"), ScoreCache(tmp_path / "c"), "fake")
    nobody_sells = make_summary([], [(1.0, 1.0, 0.3, 0.0)], [])
    two_sided = make_summary([(2.0, 2.0, 0.1, 1.0)], [(1.0, 1.0, 0.3, 1.0)], [(1, 1, 1.0, 0.2)])
    scores = critic.score([nobody_sells, two_sided])
    assert scores[0].values() == (1.0, 1.0, 1.0) and scores[0].source == "rule"
    assert scores[1].source == "model"
    assert critic.stats.one_sided == 1 and critic.stats.cache_misses == 1


class EchoEngine(FakeEngine):
    """Answers with a score computed from the prompt, so every answer belongs to exactly one prompt."""

    def __init__(self):
        super().__init__(max_batch=4)
        self.prompts: list[str] = []

    def generate(self, messages, seed):
        self.prompts.append(messages[-1]["content"])
        return Generation(text=json.dumps({"ftg": echo(messages[-1]["content"]), "fbs": 0, "fpp": 0}), seconds=0.0)


def echo(prompt: str) -> float:
    return (len(prompt) % 100) / 100


def test_misses_reach_the_engine_sorted_by_prompt_and_come_back_in_order(slots):
    engine = EchoEngine()
    critic = ModelCritic(engine, load_template("raw"), ScoreCache(None, "off"), "fake", skip_one_sided=False)
    asked = list(reversed(slots))
    prompts = [critic.request(s)["messages"][-1]["content"] for s in asked]
    scores = critic.score(asked)
    assert engine.prompts == sorted(prompts) != prompts  # neighbours share prefixes: llama.cpp reuses its KV cache
    assert [s.ftg for s in scores] == [echo(p) for p in prompts]
