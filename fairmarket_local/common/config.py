"""Validate one config section with pydantic and report the first problem as a one-line ConfigError."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from fairmarket_local.common.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

_MAX_GOT_CHARS = 60


def validate_section(model_cls: type[M], data: Mapping[str, Any] | None, section_name: str) -> M:
    """Build ``model_cls`` from ``data`` (``None`` = all defaults).

    :raises ConfigError: ``config error: <section>.<key>: <reason> (got <value>)``
    """
    try:
        return model_cls.model_validate({} if data is None else data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, section_name)) from None


def format_validation_error(exc: ValidationError, section_name: str) -> str:
    """One line for the first error of ``exc``; later errors are only counted."""
    errors = exc.errors()
    first = errors[0]
    key = ".".join(part for part in [section_name, *(str(p) for p in first["loc"])] if part)
    message = first["msg"].removeprefix("Value error, ")
    line = f"config error: {key}: {message}"
    if first["loc"] and first["type"] != "missing":
        line += f" (got {_short_repr(first['input'])})"
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more)"
    return line


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_GOT_CHARS else text[: _MAX_GOT_CHARS - 3] + "..."


def yaml_names(folder: Path) -> list[str]:
    """Names of the ``*.yaml`` files shipped in ``folder``."""
    return sorted(p.stem for p in folder.glob("*.yaml"))


def read_named_yaml(name_or_path: str | Path, folder: Path, kind: str) -> tuple[Path, dict[str, Any]]:
    """The mapping in ``folder/<name>.yaml`` (a bare name) or in a YAML file path.

    :raises ConfigError: unknown name (listing the known ones), missing file, invalid YAML, not a mapping.
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = folder / f"{name_or_path}.yaml"
        if not path.is_file():
            raise ConfigError(f"unknown {kind} {name_or_path!r}; known: {', '.join(yaml_names(folder))}")
    if not path.is_file():
        raise ConfigError(f"{kind} file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: not valid YAML ({first})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a {kind} must be a mapping of sections")
    return path, data
