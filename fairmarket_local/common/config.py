"""Read config YAML strictly and validate config sections with pydantic; every problem is one line."""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import yaml
from pydantic import BaseModel, ValidationError
from yaml.composer import ComposerError

from fairmarket_local.common.errors import ConfigError
from fairmarket_local.common.text import decode_utf8

M = TypeVar("M", bound=BaseModel)

MAX_YAML_DEPTH = 50
# Values of a document once every alias is replaced by its anchor's content: stops "billion laughs".
MAX_YAML_VALUES = 100_000
_MAX_GOT_CHARS = 60
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses duplicate keys, deep nesting and aliases that expand too far."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> yaml.Node | None:
        if self._depth >= MAX_YAML_DEPTH:
            raise ComposerError(None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:  # anchor: str | None (the stubs say otherwise)
        node = super().compose_mapping_node(anchor)
        seen: set[tuple[str, str]] = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE_TAG:
                if (key.tag, key.value) in seen:
                    raise ComposerError(None, None, f"duplicate key {short_repr(key.value)}", key.start_mark)
                seen.add((key.tag, key.value))
        return node

    def compose_document(self) -> yaml.Node | None:
        node = super().compose_document()
        if node is not None:
            _expanded_size(node, {})
        return node


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Values under ``node`` once aliases are expanded; memoised per node, so linear in the distinct nodes.

    :raises ComposerError: at the first node that expands to more than ``MAX_YAML_VALUES`` values.
    """
    if id(node) not in sizes:
        sizes[id(node)] = MAX_YAML_VALUES + 1  # an alias inside its own anchor expands without end
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        size = 1 + sum(_expanded_size(child, sizes) for child in children)
        if size > MAX_YAML_VALUES:
            raise ComposerError(None, None, f"anchors and aliases expand to more than {MAX_YAML_VALUES} values",
                                node.start_mark)
        sizes[id(node)] = size
    return sizes[id(node)]


def load_yaml(path: Path) -> Any:
    """The content of a YAML file, read strictly (see :class:`_StrictLoader`).

    :raises ConfigError: unreadable file or invalid YAML, naming the file and line.
    :raises DataError: bytes that are not UTF-8.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return yaml.load(decode_utf8(data, path), Loader=_StrictLoader)  # a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML ({exc.problem or exc.context})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).strip() or type(exc).__name__})") from None


def validate_section(model_cls: type[M], data: Mapping[str, Any] | None, section_name: str, origin: str = "") -> M:
    """Build ``model_cls`` from ``data`` (``None`` = all defaults); ``origin`` names the file it came from.

    :raises ConfigError: ``config error: [<origin>: ]<section>.<key>: <reason> (got <value>)``
    """
    try:
        return model_cls.model_validate({} if data is None else data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, section_name, origin)) from None


def format_validation_error(exc: ValidationError, section_name: str, origin: str = "") -> str:
    """One line for the first error of ``exc``; later errors are only counted."""
    errors = exc.errors()
    first = errors[0]
    key = dotted_key(section_name, *first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    line = "config error: " + ": ".join(part for part in (origin, key, message) if part)
    if first["loc"] and first["type"] != "missing":
        line += f" (got {short_repr(first['input'])})"
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more)"
    return line


def dotted_key(*parts: str | int) -> str:
    """``market.tariff.periods[0].retail`` from its parts (empty parts are left out)."""
    key = ""
    for part in parts:
        if isinstance(part, int):
            key += f"[{part}]"
        elif part:
            key += f".{part}" if key else part
    return key


class _ValueRepr(reprlib.Repr):
    """``repr`` that shows only the first items of large containers, and numpy scalars as plain numbers."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother = 3, _MAX_GOT_CHARS, _MAX_GOT_CHARS

    def repr1(self, x: Any, level: int) -> str:
        return super().repr1(x.item() if isinstance(x, np.generic) else x, level)


_VALUE_REPR = _ValueRepr()


def short_repr(value: Any) -> str:
    """At most ``_MAX_GOT_CHARS`` characters of ``repr(value)``, without ever building the whole of it."""
    text = _VALUE_REPR.repr(value)
    return text if len(text) <= _MAX_GOT_CHARS else text[: _MAX_GOT_CHARS - 3] + "..."


def yaml_names(folder: Path) -> list[str]:
    """Names of the ``*.yaml`` files shipped in ``folder``."""
    return sorted(p.stem for p in folder.glob("*.yaml"))


def read_named_yaml(name_or_path: str | Path, folder: Path, kind: str) -> tuple[Path, dict[str, Any]]:
    """The mapping in ``folder/<name>.yaml`` (a bare name) or in a YAML file path.

    :raises ConfigError: unknown name (listing the known ones), missing file, invalid YAML, not a mapping
        (:func:`load_yaml`).
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = folder / f"{name_or_path}.yaml"
        if not path.is_file():
            raise ConfigError(f"unknown {kind} {name_or_path!r}; known: {', '.join(yaml_names(folder))}")
    if not path.is_file():
        raise ConfigError(f"{kind} file not found: {path}")
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a {kind} must be a mapping of sections")
    return path, data
