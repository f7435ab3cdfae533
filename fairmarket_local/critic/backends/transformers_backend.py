"""The ``transformers`` back-end: torch on CPU, greedy, under the score grammar through xgrammar.

Loads a registered GGUF file (dequantised by transformers; needs ``gguf`` and ``accelerate``) or a local
Hugging Face folder, and decodes a batch of prompts at once with left padding. Slower than llama.cpp on
CPU (≈3 s per slot for SmolLM2 at one thread), but it runs any model transformers can load.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.backends.engine import BatchedEngine, Generation, Messages
from fairmarket_local.critic.backends.table import BACKENDS
from fairmarket_local.critic.registry.manifests import ModelManifest, verified_weights


class TransformersEngine(BatchedEngine):
    """A causal LM in this process; ``n_threads`` sets torch's (process-wide) thread count at load."""

    backend = "transformers"
    max_batch = 8

    def __init__(self, manifest: ModelManifest, rationale: bool = False, max_tokens: int = 48,
                 n_threads: int = 1) -> None:
        super().__init__(manifest, rationale, max_tokens, default_dtype="float32")
        self.n_threads = n_threads
        self._model: Any = None
        self._tokenizer: Any = None
        self._grammar: Any = None

    def load(self) -> None:
        if self._model is not None:
            return
        try:
            import torch
            import xgrammar
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise FairmarketError(f"the transformers back-end needs {exc.name}:"
                                  f" {BACKENDS[self.backend].install}") from None
        path = verified_weights(self.manifest)
        torch.set_num_threads(self.n_threads)
        where = hf_location(path)
        try:
            tokenizer = AutoTokenizer.from_pretrained(**where)
            model = AutoModelForCausalLM.from_pretrained(**where, dtype=getattr(torch, self.dtype)).eval()
        except (OSError, ValueError, RuntimeError, ImportError) as exc:
            raise FairmarketError(f"cannot load model {self.manifest.id!r} from {path}: {exc}") from None
        if not tokenizer.chat_template:
            raise FairmarketError(f"model {self.manifest.id!r} has no chat template in its weights;"
                                  " use the llama_cpp back-end with a chat_format")
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        info = xgrammar.TokenizerInfo.from_huggingface(tokenizer, vocab_size=model.config.vocab_size)
        self._grammar = xgrammar.GrammarCompiler(info).compile_grammar(self.grammar_text)
        self._model, self._tokenizer = model, tokenizer

    def generate_batch(self, batch: list[Messages], seed: int) -> list[Generation]:
        self.load()
        import torch
        from xgrammar.contrib.hf import LogitsProcessor

        tokenizer = self._tokenizer
        texts = [tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in batch]
        encoded = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        torch.manual_seed(seed)
        start = time.perf_counter()
        with torch.inference_mode():
            output = self._model.generate(
                **encoded, do_sample=False, temperature=None, top_p=None, top_k=None,
                max_new_tokens=self.max_tokens, pad_token_id=tokenizer.pad_token_id,
                logits_processor=[LogitsProcessor(self._grammar)],  # one per call: it keeps state
            )
        seconds = (time.perf_counter() - start) / len(batch)
        new_tokens = output[:, encoded["input_ids"].shape[1]:]
        stop = torch.tensor([t for t in (tokenizer.pad_token_id, tokenizer.eos_token_id) if t is not None])
        return [Generation(text=tokenizer.decode(row, skip_special_tokens=True), seconds=seconds,
                           prompt_tokens=int(mask.sum()), completion_tokens=int((~torch.isin(row, stop)).sum()))
                for row, mask in zip(new_tokens, encoded["attention_mask"])]

    def close(self) -> None:
        self._model = self._tokenizer = self._grammar = None


def hf_location(path: Path) -> dict[str, str]:
    """``from_pretrained`` arguments for a weights folder or a GGUF file."""
    if path.is_dir():
        return {"pretrained_model_name_or_path": str(path)}
    return {"pretrained_model_name_or_path": str(path.parent), "gguf_file": path.name}
