"""The ``llama_cpp`` back-end: llama-cpp-python in this process, decoding under the score grammar.

The ``Llama`` object keeps the KV cache of its previous prompt, so a template's static prefix is
evaluated once and each slot pays only for its own text. One sequence at a time, not thread-safe:
one engine per process, ``n_threads=1`` per process (more threads stall under any other load).
"""

from __future__ import annotations

import time
from typing import Any

from fairmarket_local.common.canonical import sha256_hex
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.engine import Engine, Generation, Messages
from fairmarket_local.critic.registry import ModelManifest, verified_weights
from fairmarket_local.critic.schema import answer_grammar


class LlamaCppEngine(Engine):
    """Grammar-constrained, greedy (temperature 0) chat completion with a GGUF model."""

    backend = "llama_cpp"

    def __init__(
        self,
        manifest: ModelManifest,
        rationale: bool = False,
        max_tokens: int = 48,
        n_threads: int = 1,
        n_ctx: int | None = None,
    ) -> None:
        self.manifest = manifest
        self.system_role = manifest.system_role
        self.grammar_text = answer_grammar(rationale)
        self.max_tokens = max_tokens
        self.n_threads = n_threads
        self.n_ctx = n_ctx or manifest.n_ctx
        self._llm: Any = None
        self._grammar: Any = None

    def identity(self) -> dict[str, Any]:
        return {"model_sha256": self.manifest.sha256, "chat_template": self.manifest.chat_format or "gguf"}

    def decoding(self) -> dict[str, Any]:
        # n_threads and n_ctx are left out: replies are identical across them (measured).
        return {"temperature": 0.0, "max_tokens": self.max_tokens, "grammar_sha256": sha256_hex(self.grammar_text)}

    def load(self) -> None:
        if self._llm is not None:
            return
        try:
            from llama_cpp import Llama, LlamaGrammar
        except ImportError:
            raise FairmarketError("the llama_cpp back-end needs llama-cpp-python: "
                                  "pip install llama-cpp-python==0.3.36") from None
        path = verified_weights(self.manifest)
        try:
            self._llm = Llama(model_path=str(path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                              n_threads_batch=self.n_threads, chat_format=self.manifest.chat_format,
                              seed=0, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise FairmarketError(f"cannot load model {self.manifest.id!r} from {path}: {exc}") from None
        self._grammar = LlamaGrammar.from_string(self.grammar_text, verbose=False)

    def generate(self, messages: Messages, seed: int) -> Generation:
        self.load()
        start = time.perf_counter()
        reply = self._llm.create_chat_completion(
            messages=messages, temperature=0.0, seed=seed, max_tokens=self.max_tokens, grammar=self._grammar,
        )
        usage = reply.get("usage", {})
        return Generation(
            text=reply["choices"][0]["message"]["content"] or "",
            seconds=time.perf_counter() - start,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
        )

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
