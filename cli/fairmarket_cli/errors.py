"""Turn the library's user errors into one line on stderr and exit status 2."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from fairmarket_local.common.errors import FairmarketError


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except FairmarketError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
