"""Model manifests (``models/*.yaml`` shipped, ``$FAIRMARKET_HOME/models/*.yaml`` added by the user).

A manifest says which back-end runs a model, where its weights come from (a path, a file inside an
installed package, or chunk packages to assemble), their sha256 and size, licence and chat format.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from fairmarket_local.common.config import validate_section
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.io import write_text_atomic
from fairmarket_local.critic.paths import REPO_ROOT, fairmarket_home
from fairmarket_local.critic.weights import assemble_from_package, cached_sha256, file_sha256, package_dir

Backend = Literal["llama_cpp"]
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class WeightsSource(BaseModel):
    """Exactly one of: ``path``; ``package`` + ``file``; ``assemble`` (a package) + ``file``."""

    model_config = ConfigDict(extra="forbid")
    path: str | None = None
    package: str | None = None
    assemble: str | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> WeightsSource:
        kinds = [self.path is not None, self.package is not None, self.assemble is not None]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of path, package, assemble")
        if (self.package or self.assemble) and not self.file:
            raise ValueError("package and assemble sources need a file name")
        return self


class PackageFile(BaseModel):
    """A file inside an installed package (e.g. a licence or terms notice)."""

    model_config = ConfigDict(extra="forbid")
    package: str
    file: str


class ModelManifest(BaseModel):
    """One registered model."""

    model_config = ConfigDict(extra="forbid")
    id: str
    backend: Backend = "llama_cpp"
    description: str = ""
    weights: WeightsSource
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(gt=0)
    licence: str
    terms: PackageFile | None = None
    chat_format: str | None = None  # None: the chat template stored in the GGUF
    system_role: bool = True  # False: the chat format drops system messages (Gemma)
    n_ctx: int = Field(2048, ge=256)
    install: str = ""
    origin: str = Field("", exclude=True)  # the manifest file (set when loaded)

    @model_validator(mode="after")
    def _id_ok(self) -> ModelManifest:
        if not _ID.match(self.id):
            raise ValueError(f"model id {self.id!r} must be lower-case letters, digits, '.', '_' or '-'")
        return self

    def how_to_get(self) -> str:
        return self.install or f"register the file with `fairmarket models add PATH --id {self.id}`"

    def terms_path(self) -> Path | None:
        """The licence/terms notice that ships with the weights, if the manifest names one."""
        if self.terms is None or (folder := package_dir(self.terms.package)) is None:
            return None
        return folder / self.terms.file


def manifest_dirs() -> list[Path]:
    """Shipped manifests first; user manifests override them by id."""
    return [REPO_ROOT / "models", user_models_dir()]


def user_models_dir() -> Path:
    return fairmarket_home() / "models"


def load_manifest(path: Path) -> ModelManifest:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FairmarketError(f"cannot read model manifest {path}: {exc}") from None
    manifest = validate_section(ModelManifest, data, f"model manifest {path}")
    return manifest.model_copy(update={"origin": str(path)})


def list_models() -> dict[str, ModelManifest]:
    """Every registered model by id."""
    models: dict[str, ModelManifest] = {}
    for folder in manifest_dirs():
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                manifest = load_manifest(path)
                models[manifest.id] = manifest
    return models


def get_model(model_id: str) -> ModelManifest:
    models = list_models()
    if model_id not in models:
        raise FairmarketError(f"unknown model {model_id!r} (registered: {', '.join(sorted(models)) or 'none'};"
                              " add one with `fairmarket models add PATH`)")
    return models[model_id]


def weights_path(manifest: ModelManifest, assemble: bool = True) -> Path:
    """Where the weights are (assembling chunk packages once if ``assemble``).

    :raises FairmarketError: the weights are missing, with how to get them.
    """
    source = manifest.weights
    missing = f"weights of model {manifest.id!r} not found"
    if source.path is not None:
        path = Path(source.path).expanduser()
        if not path.is_absolute() and manifest.origin:
            path = Path(manifest.origin).parent / path
        if not path.is_file():
            raise FairmarketError(f"{missing} at {path}; {manifest.how_to_get()}")
        return path
    package = source.package or source.assemble
    folder = package_dir(package)  # type: ignore[arg-type]
    if folder is None:
        raise FairmarketError(f"{missing}: package {package} is not installed; {manifest.how_to_get()}")
    if source.package is not None:
        path = folder / source.file  # type: ignore[operator]
        if not path.is_file():
            raise FairmarketError(f"{missing}: {path} is missing; {manifest.how_to_get()}")
        return path
    path = fairmarket_home() / "weights" / source.file  # type: ignore[operator]
    if not path.is_file():
        if not assemble:
            raise FairmarketError(f"{missing}: not assembled yet at {path};"
                                  f" run `fairmarket models verify {manifest.id}`")
        assemble_from_package(package, path)  # type: ignore[arg-type]
    return path


def verified_weights(manifest: ModelManifest) -> Path:
    """The weights path after checking size and sha256 against the manifest."""
    path = weights_path(manifest)
    size = path.stat().st_size
    if size != manifest.size:
        raise FairmarketError(f"weights of model {manifest.id!r} at {path} have {size} bytes, the manifest says"
                              f" {manifest.size}; reinstall them ({manifest.how_to_get()})")
    digest = cached_sha256(path)
    if digest != manifest.sha256:
        raise FairmarketError(f"weights of model {manifest.id!r} at {path} have sha256 {digest[:12]}…, the manifest"
                              f" says {manifest.sha256[:12]}…; reinstall them ({manifest.how_to_get()})")
    return path


def add_model(
    path: Path,
    model_id: str | None = None,
    chat_format: str | None = None,
    n_ctx: int = 2048,
    licence: str = "unknown (user file)",
    force: bool = False,
) -> ModelManifest:
    """Register a user GGUF file: hash it and write ``$FAIRMARKET_HOME/models/<id>.yaml``."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise FairmarketError(f"{path} is not a file")
    with open(path, "rb") as fh:
        if fh.read(4) != b"GGUF":
            raise FairmarketError(f"{path} is not a GGUF file (llama_cpp models need GGUF weights)")
    model_id = model_id or re.sub(r"[^a-z0-9._-]+", "-", path.stem.lower()).strip("-")
    if model_id in list_models() and not force:
        raise FairmarketError(f"model {model_id!r} is already registered; choose another --id or pass --force")
    manifest = validate_section(ModelManifest, {
        "id": model_id, "backend": "llama_cpp", "description": f"user model {path.name}",
        "weights": {"path": str(path)}, "sha256": file_sha256(path), "size": path.stat().st_size,
        "licence": licence, "chat_format": chat_format, "n_ctx": n_ctx,
    }, "model")
    target = user_models_dir() / f"{model_id}.yaml"
    write_text_atomic(target, yaml.safe_dump(manifest.model_dump(mode="json", exclude_none=True), sort_keys=False))
    return manifest.model_copy(update={"origin": str(target)})
