"""``fairmarket experiment run|list|show`` and ``fairmarket sweep``: studies of arms × seeds × grid points."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Optional

import typer
import yaml

from fairmarket_cli.errors import user_errors
from fairmarket_local.common.io import dumps_strict
from fairmarket_local.experiments.config import experiment_names, load_experiment

experiment_app = typer.Typer(help="Run the studies of SPEC §8 (pilot, community, mixed, scale, sensitivity).",
                             no_args_is_help=True)


class ExecutorName(StrEnum):
    local = "local"
    ray = "ray"


ConfigArgument = typer.Argument(..., help="Experiment name (see `fairmarket experiment list`) or YAML path.")
OutOption = typer.Option(..., help="Experiment folder (rerun the same command to resume).")
ForceOption = typer.Option(False, help="Start over in a folder that holds another experiment.")
JsonOption = typer.Option(False, "--json", help="Print the results table as JSON lines.")
QuietOption = typer.Option(False, help="No progress bar.")


def _run(config: str, out: Path, executor: ExecutorName, workers: int, address: Optional[str], force: bool,
         json_out: bool, quiet: bool) -> None:
    from fairmarket_local.experiments.runner import run_experiment

    with user_errors():
        rows = run_experiment(config, out, executor=executor.value, workers=workers, address=address,
                              force=force, progress=not quiet)
    if json_out:
        for row in rows:
            typer.echo(dumps_strict(row, indent=None))
        return
    if not rows:
        typer.echo("no finished jobs yet", err=True)
        return
    typer.echo((out / "summary.md").read_text(encoding="utf-8"))
    typer.echo(f"wrote {out}/results.csv, summary.md; `fairmarket report {out}` makes the HTML report", err=True)


@experiment_app.command("run")
def run(
    config: str = ConfigArgument,
    out: Path = OutOption,
    workers: int = typer.Option(1, min=1, help="Jobs run side by side in local processes."),
    force: bool = ForceOption,
    json_out: bool = JsonOption,
    quiet: bool = QuietOption,
) -> None:
    """Run (or resume) a study: every arm × seed × grid point, evaluated on held-out days."""
    _run(config, out, ExecutorName.local, workers, None, force, json_out, quiet)


@experiment_app.command("list")
def list_experiments() -> None:
    """Names and descriptions of the shipped experiments."""
    for name in experiment_names():
        typer.echo(f"{name:12s} {load_experiment(name).description}")


@experiment_app.command("show")
def show(config: str = ConfigArgument) -> None:
    """Print an experiment's validated config as YAML."""
    with user_errors():
        typer.echo(yaml.safe_dump(load_experiment(config).model_dump(mode="json"), sort_keys=False))


def sweep(
    config: str = ConfigArgument,
    out: Path = OutOption,
    executor: ExecutorName = typer.Option(ExecutorName.local, help="local processes, or tasks on a Ray cluster."),
    address: Optional[str] = typer.Option(None, help="Ray cluster address (host:port); default: start a local"
                                          " Ray instance."),
    workers: int = typer.Option(2, min=1, help="Local processes, or CPUs of a local Ray instance."),
    force: bool = ForceOption,
    json_out: bool = JsonOption,
    quiet: bool = QuietOption,
) -> None:
    """Run a study's jobs in parallel, locally or on Ray; results are gathered into one table."""
    _run(config, out, executor, workers, address, force, json_out, quiet)
