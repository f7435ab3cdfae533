"""The repository is self-contained: no reference to files outside the checkout, install hints name
files and make targets that exist, and the specification (``docs/spec.md``, cited as ``SPEC §N``) is
in the repository with its sections §1–§8."""

from __future__ import annotations

import ast
import re
import subprocess
import tomllib
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "docs" / "spec.md"
SPEC_SECTIONS = {
    1: "households and data",
    2: "market",
    3: "environment",
    4: "fairness metrics",
    5: "critic",
    6: "reward shaping",
    7: "training",
    8: "experiments",
}
# Built from pieces so that this file does not match its own patterns.
OUTSIDE = tuple("".join(parts) for parts in (
    ("../", "shared"),
    ("share", "d/SPEC"),
    ("share", "d/notes"),
    ("note", "s/local", "-llm"),
    ("note", "s/machines.md"),
    ("/work/", "shared"),
    ("vllm-cpu-", "runtime-reqs"),
))
BINARY_SUFFIXES = {".gz", ".zip", ".png", ".jpg", ".jpeg", ".gif", ".pdf", ".parquet", ".pq", ".gguf",
                   ".safetensors", ".bin", ".pyc"}
# Where a pinned version or an extra may be named: an install hint must agree with one of them.
PIN_SOURCES = ("pyproject.toml", "requirements-vllm.txt", "requirements.lock", "Makefile")


@lru_cache(maxsize=1)
def tracked_files() -> tuple[Path, ...]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        pytest.skip("not a git checkout")
    paths = (ROOT / name for name in out.decode().split("\0") if name)
    return tuple(p for p in paths if p.is_file())


def read_text(path: Path) -> str | None:
    """The file's text, or ``None`` for binary files."""
    if path.suffix.lower() in BINARY_SUFFIXES:
        return None
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def text_files() -> list[tuple[Path, str]]:
    files = set(tracked_files()) | {p for p in (ROOT / "docs").glob("*.md")}
    return [(p, t) for p in sorted(files) if (t := read_text(p)) is not None]


def test_no_reference_outside_the_checkout() -> None:
    found = [f"{path.relative_to(ROOT)}:{n}: {pattern}"
             for path, text in text_files()
             for n, line in enumerate(text.splitlines(), 1)
             for pattern in OUTSIDE if pattern in line]
    assert not found, "references to files outside the repository:\n" + "\n".join(found)


def test_relative_markdown_links_resolve_inside_the_repository() -> None:
    link = re.compile(r"\]\(([^)\s]+)\)")
    broken = []
    for path, text in text_files():
        if path.suffix != ".md":
            continue
        for target in link.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # a URL, or an anchor on the same page
            resolved = (path.parent / target.split("#", 1)[0]).resolve()
            if (ROOT not in resolved.parents and resolved != ROOT) or not resolved.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert not broken, "links that do not resolve inside the repository:\n" + "\n".join(broken)


def test_spec_is_in_the_repository_with_its_sections() -> None:
    assert SPEC.is_file(), "docs/spec.md is missing"
    headings = {int(m.group(1)): m.group(2).lower()
                for m in re.finditer(r"^## (\d+)\. (.+)$", SPEC.read_text(encoding="utf-8"), re.MULTILINE)}
    for number, title in SPEC_SECTIONS.items():
        assert number in headings, f"docs/spec.md has no heading '## {number}. ...'"
        assert title in headings[number], f"docs/spec.md §{number} is {headings[number]!r}, expected {title!r}"


def test_spec_citations_name_existing_sections() -> None:
    citation = re.compile(r"SPEC §(\d+)(?:\s*[–-]\s*§(\d+))?")
    bad = [f"{path.relative_to(ROOT)}: {m.group(0)}"
           for path, text in text_files()
           for m in citation.finditer(text)
           if any(int(g) not in SPEC_SECTIONS for g in m.groups() if g)]
    assert not bad, "citations of sections docs/spec.md does not have:\n" + "\n".join(bad)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/spec.md" in readme, "the README must point at docs/spec.md"


def _install_hints() -> list[tuple[str, str]]:
    """(where, text) of every install hint: the strings of the package that say ``pip install`` or ``make``
    (the back-end table's among them), and the ``install:`` field of every shipped model manifest."""
    hints = []
    for path in sorted((ROOT / "fairmarket_local").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(
                    r"pip install|`make ", node.value):
                hints.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.value))
    for path in sorted((ROOT / "models").glob("*.yaml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("install:"):
                hints.append((str(path.relative_to(ROOT)), line))
    return hints


def test_install_hints_name_real_files_and_targets() -> None:
    hints = _install_hints()
    assert any("make vllm" in text for _, text in hints), "the vllm back-end's hint should say `make vllm`"
    targets = set(re.findall(r"^([A-Za-z0-9_.-]+):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE))
    missing = []
    for where, text in hints:
        for target in re.findall(r"`make ([a-z][a-z0-9_-]*)`", text):
            if target not in targets:
                missing.append(f"{where}: make target {target!r}")
        for name in re.findall(r"[\w./-]+\.(?:txt|lock|toml|cfg)\b", text):
            if not (ROOT / name).is_file():
                missing.append(f"{where}: {name}")
    assert not missing, "install hints name what the repository does not have:\n" + "\n".join(missing)


def test_install_hints_agree_with_the_pins_and_extras() -> None:
    """A version an install hint pins is the one the repository pins; an extra it names is in pyproject.toml."""
    pinned = "\n".join((ROOT / name).read_text(encoding="utf-8") for name in PIN_SOURCES)
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
                 ["optional-dependencies"])
    wrong = []
    for where, text in _install_hints():
        for pin in re.findall(r"[A-Za-z0-9][\w.-]*==[\w.]*\w", text):
            if pin not in pinned:
                wrong.append(f"{where}: {pin} is pinned nowhere in {', '.join(PIN_SOURCES)}")
        for listed in re.findall(r"\.\[([\w,-]+)\]", text):
            wrong += [f"{where}: no extra {extra!r} in pyproject.toml" for extra in listed.split(",")
                      if extra not in extras]
    assert not wrong, "\n".join(wrong)


def test_requirements_files_named_in_the_package_exist() -> None:
    named = set()
    for path in [*ROOT.joinpath("fairmarket_local").rglob("*.py"), *ROOT.joinpath("cli").rglob("*.py"),
                 ROOT / "Makefile", ROOT / "README.md"]:
        named |= set(re.findall(r"requirements[\w.-]*\.(?:txt|lock)", path.read_text(encoding="utf-8")))
    missing = sorted(n for n in named if not (ROOT / n).is_file())
    assert not missing, f"named but not in the repository root: {missing}"
