"""The documentation: the README stays short, the MkDocs site builds strictly and offline, every Python
example of the README and of docs/*.md runs, and every source path the pages name exists.

An example whose first line is ``# not run`` is illustrative only and skipped (keep them rare). The others
run one by one in a fresh interpreter, in an empty folder, with ``FAIRMARKET_HOME`` pointing into it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 300
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
NOT_RUN = "# not run"
# A path of the repository written as a code span: `fairmarket_local/critic/memo/cache.py`, `scripts/`, ...
SOURCE_SPAN = re.compile(r"`((?:fairmarket_local|cli|scripts|tests|models|prompts)/[\w./-]*)`")


def pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def python_blocks() -> list[tuple[str, str]]:
    """(id, code) of every fenced ``python`` block of the README and the docs pages."""
    blocks = []
    for page in pages():
        for k, match in enumerate(FENCE.finditer(page.read_text(encoding="utf-8")), start=1):
            blocks.append((f"{page.relative_to(ROOT)}#{k}", match.group(1)))
    return blocks


BLOCKS = python_blocks()


def test_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines (at most {MAX_README_LINES}: depth goes to docs/)"


def test_the_readme_and_the_docs_have_python_examples() -> None:
    assert any(name.startswith("README.md") for name, _ in BLOCKS), "the README's Python API block is missing"
    assert len(BLOCKS) >= 5


def test_source_paths_named_in_the_docs_exist() -> None:
    """A newcomer reaches the code of a feature in one hop: every repository path a page names is there."""
    missing = []
    for page in pages():
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
            for path in SOURCE_SPAN.findall(line):
                if "*" in path or "NNNN" in path or "<" in path:
                    continue
                if not (ROOT / path.rstrip("/")).exists():
                    missing.append(f"{page.relative_to(ROOT)}:{n}: {path}")
    assert not missing, "paths named in the docs that the repository does not have:\n" + "\n".join(missing)


@pytest.mark.slow
@pytest.mark.parametrize("code", [code for _, code in BLOCKS], ids=[name for name, _ in BLOCKS])
def test_python_example_runs(code: str, tmp_path: Path) -> None:
    if code.lstrip().startswith(NOT_RUN):
        pytest.skip("marked '# not run' (illustrative only)")
    env = {**os.environ, "FAIRMARKET_HOME": str(tmp_path / "home"), "COLUMNS": "120"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, f"the example failed:\n{code}\n--- stdout\n{done.stdout[-3000:]}\n" \
                                 f"--- stderr\n{done.stderr[-3000:]}"


@pytest.mark.slow
def test_mkdocs_builds_strictly_and_offline(tmp_path: Path) -> None:
    for module in ("mkdocs", "material"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install -e '.[test]' installs mkdocs and mkdocs-material)")
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    html = {p: p.read_text(encoding="utf-8") for p in site.rglob("*.html")}
    for page in sorted(DOCS.glob("*.md")):
        assert site / page.with_suffix(".html").name in html, f"{page.name} was not built"
    # offline: no script, stylesheet, font or image is fetched from the network
    remote = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=\"(?:https?:)?//", re.IGNORECASE)
    fetched = [f"{p.relative_to(site)}: {m.group(0)}" for p, text in html.items() for m in remote.finditer(text)]
    assert not fetched, "the site loads resources from the network:\n" + "\n".join(fetched[:10])
    assert (site / "search" / "search_index.js").is_file(), "the offline search index is missing"
