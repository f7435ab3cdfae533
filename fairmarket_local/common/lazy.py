"""Lazy public names of a package: ``import fairmarket_local.x`` stays cheap, a name loads its module on use.

Commands such as ``fairmarket --help`` or ``models list`` must start in a fraction of a second, and a
package that imported every public name at once would pull torch, numba and pandas into each of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for ``package``; ``exports`` maps each public name to the
    module that defines it: a submodule's name, or a full ``fairmarket_local.…`` path.

    A public name must not also be the name of a submodule: importing that submodule would shadow it.
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        where = exports[name]
        module = where if where.startswith("fairmarket_local.") else f"{package}.{where}"
        value = getattr(importlib.import_module(module), name)
        setattr(importlib.import_module(package), name, value)  # later look-ups are plain attribute reads
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
