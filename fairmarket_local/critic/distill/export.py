"""A trained student as GGUF files (llama.cpp's converter, :mod:`.gguf_export`) and its registration.

The q8_0 file is registered as a user model with its sha256, the template it was trained for and the
``distilled`` provenance (teacher, data hash, held-out scores), so ``fairmarket train --critic NAME`` can
use it; a learning-curve snapshot gets an unregistered manifest of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fairmarket_local.critic.distill.gguf_export import export_gguf
from fairmarket_local.critic.distill.student import save_hf
from fairmarket_local.critic.registry.manifests import (
    ModelManifest,
    WeightsSource,
    file_sha256,
    refuse_taken_id,
    save_user_manifest,
)


def export_student(model: Any, tokenizer: Any, hf: Path, targets: dict[str, Path]) -> dict[str, Path]:
    """Save ``model`` as a Hugging Face folder ``hf``, then convert it to each GGUF type of ``targets``
    (type → file); the files by type."""
    save_hf(model, tokenizer, hf)
    return {outtype: export_gguf(hf, path, outtype) for outtype, path in targets.items()}


def register_student(name: str, base: ModelManifest, gguf: Path, template: str, info: dict[str, Any],
                     force: bool) -> ModelManifest:
    """Register ``gguf`` as model ``name``: a llama.cpp model distilled from ``info["teacher"]`` into ``base``."""
    refuse_taken_id(name, force)
    layers = info["config"].get("layers")
    cut = f" (first {layers} layers)" if layers else ""
    return save_user_manifest({
        "id": name, "backend": "llama_cpp",
        "description": f"{base.id}{cut} distilled from {info['teacher']} ({info['train_slots']} slots,"
                       f" {info['steps']} steps)",
        "weights": {"path": str(gguf)}, "sha256": file_sha256(gguf), "size": gguf.stat().st_size,
        "licence": base.licence, "n_ctx": 2048, "template": template, "distilled": info,
        "install": f"fairmarket critic distill --teacher {info['teacher']} --base {info['base']} --out {name}",
    })


def snapshot_manifest(final: ModelManifest, gguf: Path) -> ModelManifest:
    """An unregistered manifest for a learning-curve snapshot (scored, never trained with)."""
    return final.model_copy(update={"id": f"{final.id}.{gguf.stem.split('-')[0]}",
                                    "weights": WeightsSource(path=str(gguf)),
                                    "sha256": file_sha256(gguf), "size": gguf.stat().st_size, "distilled": None})
