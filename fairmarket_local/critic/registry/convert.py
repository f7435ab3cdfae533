"""One-time conversion of a registered GGUF model into a bf16 safetensors folder (``fairmarket models convert``).

vLLM cannot load GGUF on CPU; transformers can read GGUF and write the dequantised weights, with the
tokenizer and chat template, as a Hugging Face folder. The folder is registered as a new model (its
sha256 covers every file, see :func:`~fairmarket_local.critic.registry.manifests.weights_sha256`).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.backends.table import TRANSFORMERS_EXTRA
from fairmarket_local.critic.registry.manifests import (
    ModelManifest,
    get_model,
    refuse_taken_id,
    save_user_manifest,
    verified_weights,
    weights_sha256,
    weights_size,
)


def convert_model(model_id: str, out: Path, backend: str = "vllm", new_id: str | None = None,
                  force: bool = False) -> ModelManifest:
    """Write ``model_id``'s GGUF weights to ``out`` as bf16 safetensors and register it for ``backend``.

    :raises FairmarketError: unknown model, no GGUF, a chat format the folder cannot carry, ``out`` not
        empty, an id already taken (without ``force``), or transformers missing.
    """
    if backend not in ("vllm", "transformers"):
        raise FairmarketError(f"convert writes a folder for the vllm or transformers back-end, not {backend!r}")
    source = get_model(model_id)
    new_id = new_id or f"{model_id}-{backend}"
    if source.chat_format is not None:
        raise FairmarketError(f"model {model_id!r} has no chat template in its weights (chat_format:"
                              f" {source.chat_format}); a converted folder would have none either")
    out = Path(out).expanduser().resolve()
    if out.exists() and any(out.iterdir()) and not force:
        raise FairmarketError(f"{out} is not empty; choose another --out or pass --force")
    refuse_taken_id(new_id, force)
    gguf = verified_weights(source)
    if gguf.is_dir():
        raise FairmarketError(f"model {model_id!r} is a folder already ({gguf})")
    write_hf_folder(gguf, out)
    return save_user_manifest({
        "id": new_id, "backend": backend, "description": f"{model_id} as bf16 safetensors (converted from {gguf.name})",
        "weights": {"folder": str(out)}, "sha256": weights_sha256(out),
        "size": weights_size(out), "licence": source.licence,
        "terms": source.terms.model_dump() if source.terms else None, "system_role": source.system_role,
        "n_ctx": source.n_ctx, "dtype": "bfloat16",
        "install": f"fairmarket models convert {model_id} --out {out} --id {new_id} --force",
    })


def write_hf_folder(gguf: Path, out: Path) -> None:
    """Dequantise ``gguf`` to bf16 and save model + tokenizer into ``out`` (replaced only when complete)."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise FairmarketError(f"converting needs {exc.name}: {TRANSFORMERS_EXTRA}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.bfloat16)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # transformers keeps a GGUF "quantizer" on the model and refuses to save it; the tensors are plain bf16.
        model.hf_quantizer = None  # type: ignore[assignment]  # transformers types it a quantizer; None drops it
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except (OSError, ValueError, RuntimeError) as exc:
        raise FairmarketError(f"cannot convert {gguf}: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
