"""Model manifests (``models/*.yaml`` shipped, ``$FAIRMARKET_HOME/models/*.yaml`` added by the user).

A manifest says which back-end runs a model, where its weights come from (a path, a file inside an
installed package, chunk packages to assemble, or a local Hugging Face folder), their sha256 and size,
licence and chat format. A model of the ``openai`` back-end has no local weights: it names a server.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import SplitResult, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fairmarket_local.common.canonical import content_hash
from fairmarket_local.common.config import load_yaml, validate_section
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.io import write_text_atomic
from fairmarket_local.critic.backends.table import BackendName
from fairmarket_local.critic.registry.paths import SHIPPED, fairmarket_home
from fairmarket_local.critic.registry.weights import (
    assemble_from_package,
    cached_sha256,
    check_gguf,
    file_sha256,
    package_dir,
)

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class WeightsSource(BaseModel):
    """Exactly one of: ``path``; ``package`` + ``file``; ``assemble`` (a package) + ``file``; ``folder``
    (a local Hugging Face folder: config.json, safetensors, tokenizer — see ``fairmarket models convert``)."""

    model_config = ConfigDict(extra="forbid")
    path: str | None = None
    package: str | None = None
    assemble: str | None = None
    file: str | None = None
    folder: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> WeightsSource:
        kinds = [self.path is not None, self.package is not None, self.assemble is not None, self.folder is not None]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of path, package, assemble, folder")
        if (self.package or self.assemble) and not self.file:
            raise ValueError("package and assemble sources need a file name")
        return self


class PackageFile(BaseModel):
    """A file inside an installed package (e.g. a licence or terms notice)."""

    model_config = ConfigDict(extra="forbid")
    package: str
    file: str


def parse_base_url(text: str) -> SplitResult:
    """``text`` as an ``http`` or ``https`` URL with a host and, if it names one, a valid port.

    :raises ValueError: anything else, saying what is wrong.
    """
    example = "e.g. http://127.0.0.1:8080/v1"
    try:
        url = urlsplit(text)
        url.port  # noqa: B018 — parsing it raises on a port that is not a number from 0 to 65535
    except ValueError as exc:
        raise ValueError(f"not a URL ({exc}); {example}") from None
    if url.scheme not in ("http", "https"):
        raise ValueError(f"not an http:// or https:// URL; {example}")
    if not url.hostname or any(c.isspace() for c in text):
        raise ValueError(f"names no valid host; {example}")
    if url.query or url.fragment:
        raise ValueError(f"has a query or fragment; give the API's base, {example}")
    return url


class ServerSource(BaseModel):
    """An OpenAI-compatible server that already runs the model (back-end ``openai``)."""

    model_config = ConfigDict(extra="forbid")
    base_url: str  # e.g. http://127.0.0.1:8080/v1
    served_model: str  # the name the server lists the model under (GET /models)
    allow_remote: bool = False  # a host that is not this machine must be allowed explicitly
    # json_schema: OpenAI's structured outputs (vllm serve, llama.cpp's llama-server);
    # grammar: the GBNF ``grammar`` field (llama-cpp-python's server, which rejects json_schema)
    response_format: Literal["json_schema", "grammar"] = "json_schema"
    concurrency: int = Field(4, ge=1, le=64)  # requests in flight at once
    timeout_s: float = Field(120.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parse_base_url(value)
        return value


class ModelManifest(BaseModel):
    """One registered model: local ``weights`` (checked by sha256) or, for ``openai``, a ``server``."""

    model_config = ConfigDict(extra="forbid")
    id: str
    backend: BackendName = "llama_cpp"  # a name of the back-end table (backends/table.py)
    description: str = ""
    weights: WeightsSource | None = None
    server: ServerSource | None = None
    # weights: sha256 of the file, or of a folder (see weights_sha256); server: optional, as stated by the user
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    size: int | None = Field(None, gt=0)
    licence: str
    terms: PackageFile | None = None
    chat_format: str | None = None  # llama_cpp only; None: the chat template stored with the weights
    system_role: bool = True  # False: the chat format drops system messages (Gemma)
    n_ctx: int = Field(2048, ge=256)
    dtype: Literal["float32", "bfloat16"] | None = None  # transformers / vllm; None: the back-end's default
    install: str = ""
    template: str | None = None  # the prompt template the model was trained for (distilled critics)
    distilled: dict[str, Any] | None = None  # provenance of a distilled critic: teacher, data hash, held-out scores
    origin: str = Field("", exclude=True)  # the manifest file (set when loaded)

    @model_validator(mode="after")
    def _consistent(self) -> ModelManifest:
        if not _ID.match(self.id):
            raise ValueError(f"model id {self.id!r} must be lower-case letters, digits, '.', '_' or '-'")
        if self.backend == "openai":
            if self.server is None or self.weights is not None:
                raise ValueError("an openai model names a server (base_url, served_model) and no weights")
            return self
        if self.weights is None or self.sha256 is None or self.size is None or self.server is not None:
            raise ValueError(f"a {self.backend} model needs weights, sha256 and size (and no server)")
        folder = self.weights.folder is not None
        if self.backend == "llama_cpp" and folder:
            raise ValueError("llama_cpp needs a GGUF file, not a folder")
        if self.backend == "vllm" and not folder:
            raise ValueError("vllm cannot load GGUF on CPU: convert it once with"
                             " `fairmarket models convert ID --out DIR` and use the folder")
        if self.backend != "llama_cpp" and self.chat_format is not None:
            raise ValueError(f"chat_format is a llama.cpp setting; {self.backend} uses the template stored"
                             " with the weights")
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
    return [SHIPPED / "models", user_models_dir()]


def user_models_dir() -> Path:
    return fairmarket_home() / "models"


def load_manifest(path: Path) -> ModelManifest:
    """:raises FairmarketError: one line naming ``path`` (unreadable, not UTF-8, not YAML, invalid)."""
    manifest = validate_section(ModelManifest, load_yaml(path), "", origin=f"model manifest {path}")
    return manifest.model_copy(update={"origin": str(path)})


def scan_models() -> tuple[dict[str, ModelManifest], dict[Path, FairmarketError]]:
    """Every registered model by id, and the manifests that cannot be loaded with their (one-line) error."""
    models: dict[str, ModelManifest] = {}
    broken: dict[Path, FairmarketError] = {}
    for folder in manifest_dirs():
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                try:
                    manifest = load_manifest(path)
                except FairmarketError as exc:
                    broken[path] = exc
                    continue
                models[manifest.id] = manifest
    return models, broken


def list_models() -> dict[str, ModelManifest]:
    """Every registered model by id.

    :raises FairmarketError: the problem of the first manifest that cannot be loaded.
    """
    models, broken = scan_models()
    if broken:
        raise next(iter(broken.values()))
    return models


def get_model(model_id: str) -> ModelManifest:
    """The manifest of ``model_id``; a broken manifest only matters if its file is named after ``model_id``.

    :raises FairmarketError: unknown id, or the problem of ``<model_id>.yaml``.
    """
    models, broken = scan_models()
    for path, error in broken.items():
        if path.stem == model_id:
            raise error
    if model_id not in models:
        unreadable = f"; unreadable manifests: {', '.join(str(p) for p in broken)}" if broken else ""
        raise FairmarketError(f"unknown model {model_id!r} (registered: {', '.join(sorted(models)) or 'none'};"
                              f" add one with `fairmarket models add PATH`{unreadable})")
    return models[model_id]


def weights_path(manifest: ModelManifest, assemble: bool = True) -> Path:
    """Where the weights are (assembling chunk packages once if ``assemble``): a file, or a folder.

    :raises FairmarketError: the weights are missing, with how to get them.
    """
    source = manifest.weights
    if source is None:
        raise FairmarketError(f"model {manifest.id!r} is served by {manifest.server.base_url}"  # type: ignore[union-attr]  # no weights: a server (validated)
                              " and has no local weights")
    missing = f"weights of model {manifest.id!r} not found"
    local = source.path if source.path is not None else source.folder
    if local is not None:
        path = Path(local).expanduser()
        if not path.is_absolute() and manifest.origin:
            path = Path(manifest.origin).parent / path
        found = path.is_file() if source.path is not None else (path / "config.json").is_file()
        if not found:
            raise FairmarketError(f"{missing} at {path}; {manifest.how_to_get()}")
        return path
    package = source.package or source.assemble
    folder = package_dir(package)  # type: ignore[arg-type]  # no path or folder: a package or assemble (validated)
    if folder is None:
        raise FairmarketError(f"{missing}: package {package} is not installed; {manifest.how_to_get()}")
    if source.package is not None:
        path = folder / source.file  # type: ignore[operator]  # a package source names its file (validated)
        if not path.is_file():
            raise FairmarketError(f"{missing}: {path} is missing; {manifest.how_to_get()}")
        return path
    path = fairmarket_home() / "weights" / source.file  # type: ignore[operator]  # so does an assembled one
    if not path.is_file():
        if not assemble:
            raise FairmarketError(f"{missing}: not assembled yet at {path};"
                                  f" run `fairmarket models verify {manifest.id}`")
        assemble_from_package(package, path)  # type: ignore[arg-type]  # set: checked above
    return path


def _weights_files(path: Path) -> list[Path]:
    """The files that make up a model: the file itself, or every file of a folder (hidden ones aside)."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))


def weights_size(path: Path) -> int:
    """Bytes of a weights file or folder."""
    return sum(p.stat().st_size for p in _weights_files(path))


def weights_sha256(path: Path, rehash: bool = False) -> str:
    """sha256 of a weights file; of a folder, the hash of the canonical JSON ``{relative path: file sha256}``.

    Remembered per file while it is unchanged (see :func:`cached_sha256`); ``rehash`` reads every byte again.
    """
    if path.is_file():
        return cached_sha256(path, rehash)
    return content_hash({p.relative_to(path).as_posix(): cached_sha256(p, rehash) for p in _weights_files(path)})


def verified_weights(manifest: ModelManifest, rehash: bool = False) -> Path:
    """The weights path (file or folder) after checking that a GGUF file is whole, and its size and sha256
    against the manifest (``rehash``: hashed even if a verification is remembered)."""
    path = weights_path(manifest)
    if path.is_file():
        check_gguf(path)
    size = weights_size(path)
    if size != manifest.size:
        raise FairmarketError(f"weights of model {manifest.id!r} at {path} have {size} bytes, the manifest says"
                              f" {manifest.size}; reinstall them ({manifest.how_to_get()})")
    digest = weights_sha256(path, rehash)
    if digest != manifest.sha256:
        raise FairmarketError(f"weights of model {manifest.id!r} at {path} have sha256 {digest[:12]}…, the manifest"
                              f" says {manifest.sha256[:12]}…; reinstall them"  # type: ignore[index]  # weights: a sha256
                              f" ({manifest.how_to_get()})")
    return path


def add_model(
    path: Path,
    model_id: str | None = None,
    chat_format: str | None = None,
    n_ctx: int = 2048,
    licence: str = "unknown (user file)",
    force: bool = False,
) -> ModelManifest:
    """Register a user GGUF file: check it is whole, hash it and write ``$FAIRMARKET_HOME/models/<id>.yaml``."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise FairmarketError(f"{path} is not a file")
    check_gguf(path)
    model_id = model_id or re.sub(r"[^a-z0-9._-]+", "-", path.stem.lower()).strip("-")
    refuse_taken_id(model_id, force)
    return save_user_manifest({
        "id": model_id, "backend": "llama_cpp", "description": f"user model {path.name}",
        "weights": {"path": str(path)}, "sha256": file_sha256(path), "size": path.stat().st_size,
        "licence": licence, "chat_format": chat_format, "n_ctx": n_ctx,
    })


def refuse_taken_id(model_id: str, force: bool) -> None:
    """:raises FairmarketError: ``model_id`` is registered already and ``force`` is off."""
    if model_id in list_models() and not force:
        raise FairmarketError(f"model {model_id!r} is already registered; choose another --id or pass --force")


def save_user_manifest(data: dict[str, Any]) -> ModelManifest:
    """Validate a manifest and write it to ``$FAIRMARKET_HOME/models/<id>.yaml``."""
    manifest = validate_section(ModelManifest, data, "model")
    target = user_models_dir() / f"{manifest.id}.yaml"
    write_text_atomic(target, yaml.safe_dump(manifest.model_dump(mode="json", exclude_none=True), sort_keys=False))
    return manifest.model_copy(update={"origin": str(target)})
