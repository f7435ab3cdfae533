"""``fairmarket doctor``: is this machine ready to run the critic fully offline?"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from fairmarket_cli.errors import user_errors

_STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}


def doctor(cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Critic cache folder to check.")) -> None:
    """Air-gap readiness: offline guards, back-ends, models verified, prompts, cache writable."""
    from fairmarket_local.critic.doctor import run_checks

    with user_errors():
        checks = run_checks(cache_dir)
    table = Table(title="fairmarket doctor")
    for column in ("check", "status", "detail"):
        table.add_column(column)
    for check in checks:
        table.add_row(check.name, f"[{_STYLE[check.status]}]{check.status}", check.detail)
    Console(width=160).print(table)
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)
