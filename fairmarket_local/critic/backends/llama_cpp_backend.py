"""The ``llama_cpp`` back-end: llama-cpp-python, decoding under the score grammar.

The ``Llama`` object keeps the KV cache of its previous prompt, so a template's static prefix is
evaluated once and each slot pays only for the part of its text that differs from the previous prompt's (the
critic sends its prompts sorted; each worker gets a contiguous block of a batch, so that it still sees
neighbours). Greedy decoding tests the grammar on the most
likely token first (:mod:`.greedy_grammar`: the same replies, less time per token). It decodes one
sequence at a time and is not thread-safe, so ``workers > 1`` scores a batch in that many processes,
each with its own model and ``n_threads`` threads (1 per process is fastest on a busy machine: more threads stall at
barriers under any other load). Replies do not depend on the worker that computed them.
"""

from __future__ import annotations

import atexit
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from multiprocessing import get_context
from typing import Any

from fairmarket_local.common.canonical import sha256_hex
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.backends.engine import Engine, Generation, Messages
from fairmarket_local.critic.backends.greedy_grammar import use_greedy_grammar
from fairmarket_local.critic.backends.table import BACKENDS
from fairmarket_local.critic.registry.manifests import ModelManifest, verified_weights
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
        workers: int = 1,
    ) -> None:
        self.manifest = manifest
        self.workers = workers
        self.max_batch = 1 if workers == 1 else 16 * workers
        self._pool: ProcessPoolExecutor | None = None
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
        if self._llm is not None or self._pool is not None:
            return
        path = verified_weights(self.manifest)
        args = (str(path), self.manifest.id, self.n_ctx, self.n_threads, self.manifest.chat_format, self.grammar_text)
        if self.workers == 1:
            self._llm, self._grammar = _load(*args)
            return
        _load(*args)  # fail here, with a clear message, rather than inside a worker
        self._pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"),
                                         initializer=_init_worker, initargs=args)

    def generate(self, messages: Messages, seed: int) -> Generation:
        self.load()
        if self._pool is not None:
            return self.generate_batch([messages], seed)[0]
        return _complete(self._llm, self._grammar, messages, seed, self.max_tokens)

    def generate_batch(self, batch: list[Messages], seed: int) -> list[Generation]:
        self.load()
        if self._pool is None:
            return super().generate_batch(batch, seed)
        block = -(-len(batch) // self.workers)  # consecutive prompts to one worker: they share prefixes
        return list(self._pool.map(_worker_complete, batch, repeat(seed), repeat(self.max_tokens), chunksize=block))

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _load(path: str, model_id: str, n_ctx: int, n_threads: int, chat_format: str | None, grammar_text: str):
    try:
        from llama_cpp import Llama, LlamaGrammar
    except ImportError:
        raise FairmarketError("the llama_cpp back-end needs llama-cpp-python: "
                              f"{BACKENDS[LlamaCppEngine.backend].install}") from None
    try:
        llm = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                    chat_format=chat_format, seed=0, verbose=False)
    except (ValueError, RuntimeError, OSError) as exc:
        raise FairmarketError(f"cannot load model {model_id!r} from {path}: {exc}") from None
    use_greedy_grammar(llm)
    return llm, LlamaGrammar.from_string(grammar_text, verbose=False)


def _complete(llm: Any, grammar: Any, messages: Messages, seed: int, max_tokens: int) -> Generation:
    start = time.perf_counter()
    reply = llm.create_chat_completion(
        messages=messages, temperature=0.0, seed=seed, max_tokens=max_tokens, grammar=grammar,
    )
    usage = reply.get("usage", {})
    return Generation(
        text=reply["choices"][0]["message"]["content"] or "",
        seconds=time.perf_counter() - start,
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
        completion_tokens=int(usage.get("completion_tokens", 0)),
    )


_WORKER: dict[str, Any] = {}  # the model of a worker process


def _init_worker(*args: Any) -> None:
    _WORKER["llm"], _WORKER["grammar"] = _load(*args)
    # Free the model before interpreter teardown; llama's __del__ fails noisily once modules are gone.
    atexit.register(_WORKER["llm"].close)


def _worker_complete(messages: Messages, seed: int, max_tokens: int) -> Generation:
    return _complete(_WORKER["llm"], _WORKER["grammar"], messages, seed, max_tokens)
