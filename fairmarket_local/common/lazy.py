"""Lazy public names of a package: ``import fairmarket_local.x`` stays cheap, a name loads its module on use.

Commands such as ``fairmarket --help`` or ``models list`` must start in a fraction of a second, and a
package that imported every public name at once would pull torch, numba and pandas into each of them.
A package lists its public names in ``__all__``; the module that defines (or imports) each one is found by
reading the package's files, so no second table has to be kept. A name a sub-package lists in its own
``__all__`` is found there too (the critic re-exports names of its rooms this way).
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any


def lazy_exports(package: str, names: list[str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for ``package`` that load each of ``names`` on first use.

    A public name must not also be the name of a submodule: importing that submodule would shadow it.
    """

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(_defined_in(package)[name]), name)
        setattr(sys.modules[package], name, value)  # later look-ups are plain attribute reads
        return value

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__


@cache
def _defined_in(package: str) -> dict[str, str]:
    """Each top-level name bound by a module of ``package`` (defined, assigned or imported there) → that module;
    then each name a sub-package lists in its ``__all__`` → that sub-package."""
    found: dict[str, str] = {}
    folder = Path(sys.modules[package].__file__).parent  # type: ignore[arg-type]  # a package has a __file__
    for path in sorted(folder.glob("*.py")):
        if path.name == "__init__.py":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            for name in _bound(node):
                found.setdefault(name, f"{package}.{path.stem}")
    for init in sorted(folder.glob("*/__init__.py")):
        for name in _listed(ast.parse(init.read_text(encoding="utf-8"))):
            found.setdefault(name, f"{package}.{init.parent.name}")
    return found


def _listed(module: ast.Module) -> list[str]:
    """The names of a module's ``__all__ = [...]`` (none if it has no such list)."""
    for node in module.body:
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
                and isinstance(node.value, (ast.List, ast.Tuple))):
            return [e.value for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def _bound(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    if isinstance(node, ast.ImportFrom):
        return [alias.asname or alias.name for alias in node.names]
    return []
