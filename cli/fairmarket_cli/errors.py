"""Every error the user can cause ends as one line on stderr: ``error: …`` and exit status 2."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperGroup

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.progress import third_party_silenced


@contextmanager
def user_errors() -> Iterator[None]:
    """The library's user errors (bad config, data file, model, existing output) as one line."""
    try:
        yield
    except FairmarketError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


#: Click's exceptions, from wherever this typer takes Click (recent releases vendor it as ``typer._click``).
clicks = importlib.import_module(typer.BadParameter.__module__)


class OneLineErrors(TyperGroup):
    """Click's own errors (unknown option, missing or bad value) as one line, not a framed usage box; and
    ``--quiet`` (an option of every long command) silences the libraries underneath too."""

    def main(self, args: list[str] | None = None, *rest: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        quiet = "--quiet" in (sys.argv[1:] if args is None else args)
        with third_party_silenced(quiet):  # set before any library is imported
            return self._main(args, *rest, standalone_mode=standalone_mode, **kwargs)

    def _main(self, args: list[str] | None, *rest: Any, standalone_mode: bool, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(args, *rest, standalone_mode=False, **kwargs)
        try:
            code = super().main(args, *rest, standalone_mode=False, **kwargs)
        except clicks.NoArgsIsHelpError as exc:
            typer.echo(exc.ctx.get_help())
            code = 0
        except clicks.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            typer.echo(f"error: {one_line(exc.format_message())}{where}", err=True)
            code = 2
        except clicks.ClickException as exc:
            typer.echo(f"error: {one_line(exc.format_message())}", err=True)
            code = exc.exit_code
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            code = 130
        sys.exit(code if isinstance(code, int) else 0)


def one_line(text: str) -> str:
    return " ".join(text.split())
