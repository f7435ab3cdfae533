"""``fairmarket report``: the self-contained HTML report of an experiment folder."""

from __future__ import annotations

from pathlib import Path

import typer

from fairmarket_cli.errors import user_errors
from fairmarket_local.common.io import dumps_strict

OutDirArgument = typer.Argument(..., help="Experiment folder written by `fairmarket experiment run`.")
ForceOption = typer.Option(False, help="Replace an existing OUT_DIR/report/index.html.")
JsonOption = typer.Option(False, "--json", help='Print {"report": path, "images": n} as JSON.')


def report(out_dir: Path = OutDirArgument, force: bool = ForceOption, json_out: bool = JsonOption) -> None:
    """Write OUT_DIR/report/index.html: one self-contained page (tables and embedded plots) to mail or open offline."""
    from fairmarket_local.experiments.report import write_report

    with user_errors():
        index = write_report(out_dir, force=force)
    if json_out:
        images = index.read_text(encoding="utf-8").count("<img ")
        typer.echo(dumps_strict({"report": str(index), "images": images}, indent=None))
        return
    typer.echo(str(index))
