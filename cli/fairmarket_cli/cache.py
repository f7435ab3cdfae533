"""``fairmarket cache stats|verify|export|import|prune``: maintain the critic's disk memo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from fairmarket_cli.errors import user_errors
from fairmarket_local.common.io import refuse_overwrite
from fairmarket_local.critic.memo.cache_admin import cache_stats, export_cache, import_cache, prune_cache, verify_cache
from fairmarket_local.critic.registry.paths import default_cache_dir

cache_app = typer.Typer(help="Inspect and maintain the critic cache.", no_args_is_help=True)
CacheDirOption = typer.Option(None, "--cache-dir", help="Critic cache folder (default: $FAIRMARKET_HOME/critic-cache).")


def _dir(cache_dir: Optional[Path]) -> Path:
    return cache_dir or default_cache_dir()


@cache_app.command("stats")
def stats(cache_dir: Optional[Path] = CacheDirOption) -> None:
    """Entries per model and template, corrupt entries, size on disk (JSON)."""
    with user_errors():
        typer.echo(json.dumps(cache_stats(_dir(cache_dir)), indent=2))


@cache_app.command("verify")
def verify(cache_dir: Optional[Path] = CacheDirOption,
           delete: bool = typer.Option(False, help="Delete the corrupt entries.")) -> None:
    """Re-key and re-validate every entry; exit 1 if corrupt entries remain."""
    with user_errors():
        report = verify_cache(_dir(cache_dir), delete=delete)
    for key, problem in report["corrupt"].items():
        typer.echo(f"corrupt {key}: {problem}")
    typer.echo(f"checked {report['checked']} entries: {len(report['corrupt'])} corrupt, {report['deleted']} deleted")
    if report["corrupt"] and not delete:
        raise typer.Exit(1)


@cache_app.command("export")
def export(file: Path = typer.Argument(..., help="JSONL file to write."), cache_dir: Optional[Path] = CacheDirOption,
           force: bool = typer.Option(False, help="Replace an existing file.")) -> None:
    """Write every valid entry as one JSON line (portable, reviewable, a distillation data set)."""
    with user_errors():
        refuse_overwrite(file, force)
        count = export_cache(_dir(cache_dir), file)
    typer.echo(f"exported {count} entries to {file}")


@cache_app.command("import")
def import_(file: Path = typer.Argument(..., help="A file written by `fairmarket cache export`."),
            cache_dir: Optional[Path] = CacheDirOption,
            overwrite: bool = typer.Option(False, help="Replace entries that differ (default: keep ours).")) -> None:
    """Add the entries of an export file (every line is checked first)."""
    with user_errors():
        counts = import_cache(_dir(cache_dir), file, overwrite=overwrite)
    typer.echo(", ".join(f"{v} {k}" for k, v in counts.items()))


@cache_app.command("prune")
def prune(
    cache_dir: Optional[Path] = CacheDirOption,
    model_sha256: Optional[str] = typer.Option(None, "--model-sha256", help="Entries of this model (hash prefix)."),
    template: Optional[str] = typer.Option(None, help="Entries of this template (name or name.vN)."),
    older_than_days: Optional[float] = typer.Option(None, min=0, help="Entries older than this."),
) -> None:
    """Delete corrupt entries, and the entries matching every given filter."""
    with user_errors():
        count = prune_cache(_dir(cache_dir), model_sha256, template, older_than_days)
    typer.echo(f"deleted {count} entries")
