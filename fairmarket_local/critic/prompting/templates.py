"""Versioned prompt templates (``prompts/<id>.v<N>.txt``) and the chat messages they render.

A template file is optional ``key: value`` header lines, then ``[system]`` and ``[user]`` sections.
The user section holds a slot placeholder (``{slot}``, ``{slot_brief}``, ``{slot_relative}``,
``{slot_canonical}`` or ``{slot_hundredths}``; optionally ``{totals}``, and for evidence-based templates
``{indicators}``) at its end: everything before the first placeholder is identical for every slot, so
back-ends reuse its KV cache.
Lookup order: a path, ``$FAIRMARKET_HOME/prompts`` (user overrides), then the shipped ``prompts/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fairmarket_local.common.canonical import sha256_hex
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.text import decode_utf8
from fairmarket_local.critic.prompting.slot_text import (
    render_indicators,
    render_slot,
    render_slot_brief,
    render_slot_canonical,
    render_slot_hundredths,
    render_slot_relative,
    render_totals,
)
from fairmarket_local.critic.registry.paths import SHIPPED, fairmarket_home
from fairmarket_local.env.summary_types import SlotSummary

SLOT_RENDERERS = {"{slot}": render_slot, "{slot_brief}": render_slot_brief, "{slot_relative}": render_slot_relative,
                  "{slot_canonical}": render_slot_canonical, "{slot_hundredths}": render_slot_hundredths}
SLOT_PLACEHOLDERS = tuple(SLOT_RENDERERS)
RENDERERS = {**SLOT_RENDERERS, "{totals}": render_totals, "{indicators}": render_indicators}
PLACEHOLDERS = tuple(RENDERERS)
_FILE_NAME = re.compile(r"^(?P<name>[A-Za-z0-9_-]+)\.v(?P<version>\d+)\.txt$")
_SECTION = re.compile(r"^\[(system|user)\]\s*$", re.MULTILINE)


@dataclass(frozen=True)
class PromptTemplate:
    """A parsed template; ``id`` is ``name.vN`` and ``sha256`` hashes the file's exact bytes."""

    id: str
    system: str
    user: str
    sha256: str
    rationale: bool = False

    def messages(self, summary: SlotSummary, system_role: bool = True) -> list[dict[str, str]]:
        """Chat messages for one slot summary; without ``system_role`` (e.g. Gemma, whose chat format
        drops system messages) the instructions open the user message instead."""
        user = self.user
        for placeholder, render in RENDERERS.items():
            if placeholder in user:
                user = user.replace(placeholder, render(summary))
        if not system_role:
            return [{"role": "user", "content": f"{self.system}\n\n{user}"}]
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


def template_dirs() -> list[Path]:
    """Folders searched for templates, first match wins."""
    return [fairmarket_home() / "prompts", SHIPPED / "prompts"]


def available_templates() -> list[str]:
    """Ids (``name.vN``) of every template found."""
    found = {m.group(0)[:-4] for d in template_dirs() if d.is_dir()
             for p in d.iterdir() if (m := _FILE_NAME.match(p.name))}
    return sorted(found)


def load_template(ref: str | Path) -> PromptTemplate:
    """Load ``ref``: a file path, ``name.vN``, or ``name`` (its highest version)."""
    path = Path(ref)
    if path.suffix == ".txt" and path.is_file():
        return _parse_file(path.name.removesuffix(".txt"), path)
    return _load_by_id(str(ref))


def _load_by_id(ref: str) -> PromptTemplate:
    name, _, version = ref.partition(".v")
    for folder in template_dirs():
        if not folder.is_dir():
            continue
        versions = {int(m["version"]): p for p in folder.iterdir()
                    if (m := _FILE_NAME.match(p.name)) and m["name"] == name}
        if version and int(version) in versions:
            path = versions[int(version)]
        elif not version and versions:
            path = versions[max(versions)]
        else:
            continue
        return _parse_file(path.name.removesuffix(".txt"), path)
    known = ", ".join(available_templates()) or "none"
    raise FairmarketError(f"unknown prompt template {ref!r} (available: {known})")


def _parse_file(template_id: str, path: Path) -> PromptTemplate:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FairmarketError(f"cannot read prompt template {path}: {exc.strerror or exc}") from None
    return parse_template(template_id, data, str(path))


def parse_template(template_id: str, data: bytes, origin: str) -> PromptTemplate:
    """Parse a template file's bytes; ``origin`` names it in errors (bytes that are not UTF-8 are a DataError)."""
    text = decode_utf8(data, origin)
    parts = _SECTION.split(text)
    if len(parts) != 5 or parts[1] != "system" or parts[3] != "user":
        raise FairmarketError(f"{origin}: a template needs a [system] section, then a [user] section")
    header = _parse_header(parts[0], origin)
    system, user = parts[2].strip(), parts[4].strip()
    if not any(p in user for p in SLOT_PLACEHOLDERS):
        raise FairmarketError(f"{origin}: the [user] section must contain one of {', '.join(SLOT_PLACEHOLDERS)}")
    first = min(user.index(p) for p in PLACEHOLDERS if p in user)
    if any(p in system for p in PLACEHOLDERS) or _has_static_text_after(user[first:]):
        raise FairmarketError(f"{origin}: placeholders must come last (static text first, slot data last)")
    return PromptTemplate(template_id, system, user, sha256_hex(data), header.get("rationale") == "yes")


def _has_static_text_after(tail: str) -> bool:
    """Only placeholders and short labels may follow the first placeholder."""
    rest = tail
    for p in PLACEHOLDERS:
        rest = rest.replace(p, "")
    return len(rest.strip()) > 80


def _parse_header(text: str, origin: str) -> dict[str, str]:
    header: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep or key.strip() not in {"rationale"}:
            raise FairmarketError(f"{origin}: unknown header line {line.strip()!r} (allowed: 'rationale: yes|no')")
        header[key.strip()] = value.strip()
    return header
