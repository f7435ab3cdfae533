"""Greedy decoding under a grammar that checks the most likely token first.

llama-cpp-python's sampler chain runs the grammar over the whole vocabulary at every step (≈6 ms per
token for SmolLM2's 49,152 tokens on one core: as much as the forward pass of a distilled student).
A greedy reply only needs the best token the grammar allows, and the grammar usually allows the best
token outright: test that one token, and mask the whole vocabulary only when it is refused. The reply
is the same token for token — the first maximum among the allowed tokens, as the chain's greedy
sampler picks it.
"""

from __future__ import annotations

import ctypes
import weakref
from typing import Any

import numpy as np


class GreedyGrammarSampler:
    """Stands in for llama-cpp-python's ``LlamaSampler`` (``sample(ctx, idx)`` picks and accepts)."""

    def __init__(self, llm: Any, grammar: Any) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self.n_vocab = llm.n_vocab()
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            llm._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8"))
        if not self.grammar:
            raise ValueError("llama.cpp rejected the grammar")
        weakref.finalize(self, llama_cpp.llama_sampler_free, self.grammar)
        self._one = (llama_cpp.llama_token_data * 1)()
        self._all = (llama_cpp.llama_token_data * self.n_vocab)()
        fields = np.ctypeslib.as_array(self._all)  # a structured view: id, logit, p
        fields["id"] = np.arange(self.n_vocab)
        self._all_logits = fields["logit"]

    def sample(self, ctx: Any, idx: int) -> int:
        logits = np.ctypeslib.as_array(self._lib.llama_get_logits_ith(ctx.ctx, idx), shape=(self.n_vocab,))
        token = int(np.argmax(logits))
        if not self._allows(token, float(logits[token])):
            self._all_logits[:] = logits
            self._apply(self._all, self.n_vocab)
            token = int(np.argmax(self._all_logits))
        self._lib.llama_sampler_accept(self.grammar, token)
        return token

    def _allows(self, token: int, logit: float) -> bool:
        # ctypes converts the Python numbers; llama_cpp declares the fields as their ctypes types
        self._one[0].id, self._one[0].logit, self._one[0].p = token, logit, 0.0  # type: ignore[assignment]  # see above
        self._apply(self._one, 1)
        return self._one[0].logit != float("-inf")

    def _apply(self, data: Any, size: int) -> None:
        array = self._lib.llama_token_data_array(data=data, size=size, selected=-1, sorted=False)
        self._lib.llama_sampler_apply(self.grammar, ctypes.byref(array))


def use_greedy_grammar(llm: Any) -> None:
    """Make ``llm`` decode greedy grammar-constrained replies with :class:`GreedyGrammarSampler`
    (anything else — sampling, penalties, logits processors — keeps llama-cpp-python's own chain)."""
    original = llm._init_sampler

    def init_sampler(**kwargs: Any) -> Any:
        neutral = (kwargs.get("repeat_penalty", 1.0) == 1.0 and not kwargs.get("frequency_penalty")
                   and not kwargs.get("presence_penalty") and kwargs.get("logits_processor") is None)
        if kwargs.get("grammar") is not None and kwargs.get("temp") == 0.0 and neutral:
            return GreedyGrammarSampler(llm, kwargs["grammar"])
        return original(**kwargs)

    llm._init_sampler = init_sampler
