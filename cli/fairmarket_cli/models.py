"""``fairmarket models list|verify|add|convert``: the registry of local critic models."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from fairmarket_cli.errors import user_errors
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.registry.manifests import add_model, get_model, scan_models, verified_weights

models_app = typer.Typer(help="List, verify and register local critic models.", no_args_is_help=True)
console = Console()


@models_app.command("list")
def list_() -> None:
    """Registered models with back-end, size, licence and manifest; then one line per unreadable manifest."""
    models, broken = scan_models()
    table = Table()
    table.add_column("id", no_wrap=True)
    for column in ("back-end", "size MB", "licence", "chat format"):
        table.add_column(column)
    table.add_column("manifest", overflow="fold")
    for model in models.values():
        size = f"{model.size / 1e6:.0f}" if model.size else "-"
        template = model.chat_format or ("server" if model.server else "from weights")
        table.add_row(model.id, model.backend, size, model.licence, template, model.origin)
    console.print(table)
    for error in broken.values():
        typer.echo(f"error: {error}", err=True)
    if broken:
        raise typer.Exit(2)


@models_app.command("verify")
def verify(
    model_ids: Optional[list[str]] = typer.Argument(None, help="Model ids (default: all)."),
    rehash: bool = typer.Option(False, help="Hash every file again, even one verified before and unchanged since."),
) -> None:
    """Check each model's weights against its sha256 and that a GGUF file is whole (assembling chunked weights once).

    A verified file is remembered by its size and times; --rehash reads it again (damage that changed no time)."""
    with user_errors():
        ids = model_ids or _all_ids()
        failed = 0
        for model_id in ids:
            try:
                manifest = get_model(model_id)
                if manifest.server is not None:
                    typer.echo(f"skip  {model_id}  served by {manifest.server.base_url} (no local weights)")
                    continue
                path = verified_weights(manifest, rehash=rehash)
                typer.echo(f"ok    {model_id}  {path}")
            except FairmarketError as exc:
                failed += 1
                typer.echo(f"FAIL  {model_id}  {exc}")
    if failed:
        raise typer.Exit(1)


def _all_ids() -> list[str]:
    """Every registered id, and the file name of each unreadable manifest (so that verify reports it)."""
    models, broken = scan_models()
    return sorted(set(models) | {path.stem for path in broken})


@models_app.command("add")
def add(
    path: Path = typer.Argument(..., help="A GGUF file."),
    model_id: Optional[str] = typer.Option(None, "--id", help="Model id (default: from the file name)."),
    chat_format: Optional[str] = typer.Option(None, help="llama.cpp chat format if the GGUF has no template."),
    n_ctx: int = typer.Option(2048, min=256, help="Context length."),
    licence: str = typer.Option("unknown (user file)", help="Licence of the weights."),
    force: bool = typer.Option(False, help="Replace a model with the same id."),
) -> None:
    """Register a local GGUF file (checks it is whole, hashes it) in $FAIRMARKET_HOME/models."""
    with user_errors():
        manifest = add_model(path, model_id, chat_format=chat_format, n_ctx=n_ctx, licence=licence, force=force)
    typer.echo(f"registered {manifest.id} (sha256 {manifest.sha256[:12]}…) in {manifest.origin}")


@models_app.command("convert")
def convert(
    model_id: str = typer.Argument(..., help="A registered GGUF model."),
    out: Path = typer.Option(..., "--out", help="Folder to write (bf16 safetensors + tokenizer)."),
    backend: str = typer.Option("vllm", help="Back-end of the new model: vllm or transformers."),
    new_id: Optional[str] = typer.Option(None, "--id", help="Id of the new model (default: ID-BACKEND)."),
    force: bool = typer.Option(False, help="Overwrite the folder and replace a model with the same id."),
) -> None:
    """Convert a GGUF model once into a safetensors folder (vLLM cannot read GGUF on CPU) and register it."""
    from fairmarket_local.critic.registry.convert import convert_model

    with user_errors():
        manifest = convert_model(model_id, out, backend=backend, new_id=new_id, force=force)
    typer.echo(f"registered {manifest.id} ({manifest.backend}, folder {out}) in {manifest.origin}")
