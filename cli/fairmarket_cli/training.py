"""``fairmarket train | replay | evaluate``: thin wrappers over :mod:`fairmarket_local.training`."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from fairmarket_cli.errors import user_errors
from fairmarket_local.training import train as run_training
from fairmarket_local.training.evaluate import COLUMNS as EVALUATION_COLUMNS
from fairmarket_local.training.evaluate import evaluate as run_evaluation
from fairmarket_local.training.replay import replay as run_replay
from fairmarket_local.training.replay import rescore

console = Console()


class Groups(str, Enum):
    independent = "independent"
    role = "role"
    shared = "shared"


def train(
    scenario: Optional[str] = typer.Option(None, help="Scenario name or YAML path (default: pilot; with --resume:"
                                                      " the run's)."),
    critic: Optional[str] = typer.Option(None, help="Critic model id (see `fairmarket models list`) or 'rule'."),
    template: Optional[str] = typer.Option(None, help="Prompt template id (raw, grounded, ...)."),
    episodes: Optional[int] = typer.Option(None, min=1, help="Training episodes (one PPO update each)."),
    seed: Optional[int] = typer.Option(None, help="Run seed (default: the scenario's)."),
    groups: Optional[Groups] = typer.Option(None, help="Policy groups: one PPO per agent, per kind, or shared."),
    out: Path = typer.Option(..., help="Run folder."),
    resume: bool = typer.Option(False, help="Continue the run in OUT from its last checkpoint."),
    force: bool = typer.Option(False, help="Replace an existing run in OUT."),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Train fairness-shaped IPPO bidders; writes checkpoints, metrics, TensorBoard logs and policies to OUT."""
    overrides: dict[str, Any] = {}
    for key, value in (("critic.model", critic), ("critic.template", template), ("training.episodes", episodes),
                       ("seed", seed), ("training.groups", groups.value if groups else None)):
        if value is not None:
            overrides[key] = value
    with user_errors():
        result = run_training(scenario, out=out, resume=resume, force=force, progress=not quiet, **overrides)
    if as_json:
        typer.echo(json.dumps(result.results, indent=2))
        return
    r = result.results
    table = Table(title=f"{out}: {r['episodes']} episodes — first vs last episodes (mean of up to 3)")
    for column in ("metric", "first", "last"):
        table.add_column(column, justify="right" if column != "metric" else "left")
    for key in r["first"]:
        table.add_row(key, f"{r['first'][key]:.4g}", f"{r['last'][key]:.4g}")
    console.print(table)
    secs = ", ".join(f"{k} {v:.1f} s" for k, v in r["seconds"].items())
    console.print(f"critic: {r['critic_cache_hits']} cache hits, {r['critic_cache_misses']} misses, "
                  f"{r['critic_fallbacks']} fallbacks · time: {secs}")


def replay(
    run: Path = typer.Argument(..., help="A finished run folder."),
    critic: Optional[str] = typer.Option(None, help="Re-score the recorded slots with this critic instead."),
    template: Optional[str] = typer.Option(None, help="Template for --critic (default: the run's)."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Re-run RUN from its manifest and cached critic and check it is bit-identical (exit 1 if not)."""
    with user_errors():
        if critic is not None:
            typer.echo(json.dumps(rescore(run, critic, template), indent=2))
            return
        report = run_replay(run, progress=not quiet)
    if report["identical"]:
        typer.echo("identical")
        return
    typer.echo("different:\n  " + "\n  ".join(report["differences"][:20]), err=True)
    raise typer.Exit(1)


def evaluate(
    run: Path = typer.Argument(..., help="A finished run folder."),
    episodes: int = typer.Option(3, min=1, help="Evaluation episodes per policy."),
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Run the trained policies greedily on held-out days next to grid-only, truthful and ZI bidders."""
    with user_errors():
        rows = run_evaluation(run, episodes=episodes, progress=not quiet)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{run}: held-out days, {episodes} episodes each (also in evaluation.md/.csv/.json)")
    table.add_column("KPI")
    for row in rows:
        table.add_column(row["policy"], justify="right")
    for key in EVALUATION_COLUMNS:  # the KPIs; per-household savings and price histograms are in the files
        table.add_row(key, *(f"{row[key]:.4g}" for row in rows))
    console.print(table)
