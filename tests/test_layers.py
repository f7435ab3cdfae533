"""The package follows the data's path; a lower layer never imports a higher one (nor the CLI).

profiles, market, metrics → env → baselines, critic, shaping → training → experiments → CLI, all on common.
Packages of one tier do not import each other either. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fairmarket_local"
TIERS = [{"common"}, {"profiles", "market", "metrics"}, {"env"}, {"baselines", "critic", "shaping"}, {"training"},
         {"experiments"}]
TIER = {name: level for level, names in enumerate(TIERS) for name in names}


def imported(path: Path) -> set[str]:
    """Top-level names imported by a module (``fairmarket_local.X`` gives ``X``; the CLI gives ``cli``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        for module in modules:
            parts = module.split(".")
            if parts[0] == "fairmarket_local" and len(parts) > 1:
                names.add(parts[1])
            elif parts[0] == "fairmarket_cli":
                names.add("cli")
    return names


def test_every_package_has_a_tier() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(TIER)


def test_no_layer_imports_a_higher_one() -> None:
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if len(parts) == 1:  # fairmarket_local/__init__.py: the package's front door
            continue
        own = parts[0]
        for name in imported(path) - {own}:
            if name == "cli" or name not in TIER or TIER[name] >= TIER[own]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert not wrong, "\n".join(wrong)
