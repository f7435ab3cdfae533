"""What a model back-end must provide to :class:`ModelCritic`: text generation under the answer grammar."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fairmarket_local.common.canonical import sha256_hex
from fairmarket_local.critic.schema import answer_grammar

if TYPE_CHECKING:
    from fairmarket_local.critic.registry.manifests import ModelManifest

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Generation:
    """One model reply with its cost."""

    text: str
    seconds: float
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Engine(ABC):
    """A loaded (or lazily loaded) model that answers chat messages under the score schema.

    ``identity()`` and ``decoding()`` enter the cache key, so they must not need the model loaded
    (``replay`` runs never load it).
    """

    backend: str = ""
    #: how many prompts :meth:`generate_batch` handles at once (1 = one after the other)
    max_batch: int = 1
    #: False when the chat format drops system messages (the prompt then merges them into the user turn)
    system_role: bool = True

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """Model sha256 and chat template: what, besides the prompt, determines the reply."""

    @abstractmethod
    def decoding(self) -> dict[str, Any]:
        """Decoding parameters that change the reply (temperature, max tokens, grammar hash, ...)."""

    def load(self) -> None:  # noqa: B027 — optional hook: nothing to do by default
        """Load the model now (idempotent); a failure is a :class:`FairmarketError`, not a bad answer."""

    @abstractmethod
    def generate(self, messages: Messages, seed: int) -> Generation:
        """Reply to one conversation."""

    def generate_batch(self, batch: list[Messages], seed: int) -> list[Generation]:
        """Reply to several conversations (back-ends that batch override this)."""
        return [self.generate(messages, seed) for messages in batch]

    def close(self) -> None:  # noqa: B027 — optional hook: nothing to do by default
        """Free the model."""


class BatchedEngine(Engine):
    """Shared by the in-process back-ends that decode many prompts at once (transformers, vllm).

    They run registered weights with the chat template stored beside them, under the same GBNF grammar
    as ``llama_cpp`` (xgrammar reads it), so every in-process back-end answers in one language: three
    numbers in [0, 1] with at most two decimals. A batch's time is shared evenly by its replies.
    """

    def __init__(self, manifest: ModelManifest, rationale: bool, max_tokens: int, default_dtype: str) -> None:
        self.manifest = manifest
        self.system_role = manifest.system_role
        self.grammar_text = answer_grammar(rationale)
        self.max_tokens = max_tokens
        self.dtype = manifest.dtype or default_dtype

    def identity(self) -> dict[str, Any]:
        return {"model_sha256": self.manifest.sha256, "chat_template": "weights"}

    def decoding(self) -> dict[str, Any]:
        return {"temperature": 0.0, "max_tokens": self.max_tokens, "grammar_sha256": sha256_hex(self.grammar_text),
                "dtype": self.dtype}

    def generate(self, messages: Messages, seed: int) -> Generation:
        return self.generate_batch([messages], seed)[0]

    @abstractmethod
    def generate_batch(self, batch: list[Messages], seed: int) -> list[Generation]:
        """Reply to every conversation of ``batch`` in one decoding pass."""
