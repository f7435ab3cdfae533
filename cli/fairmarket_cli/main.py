"""``fairmarket``: the command line. Each command parses its arguments and calls one library function."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Optional

import typer
import yaml
from rich.console import Console
from rich.table import Table

from fairmarket_cli.cache import cache_app
from fairmarket_cli.critic import critic_app
from fairmarket_cli.doctor import doctor
from fairmarket_cli.errors import OneLineErrors, user_errors
from fairmarket_cli.experiments import experiment_app, sweep
from fairmarket_cli.models import models_app
from fairmarket_cli.report import report
from fairmarket_cli.training import evaluate, replay, train
from fairmarket_local import __version__
from fairmarket_local.common.io import dumps_strict
from fairmarket_local.env.config import load_env_config, scenario_names

app = typer.Typer(
    cls=OneLineErrors,
    help="Fairness-shaped multi-agent RL for P2P electricity markets, fully offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
scenarios_app = typer.Typer(help="List and inspect scenario configs.", no_args_is_help=True)
app.add_typer(scenarios_app, name="scenarios")
app.add_typer(critic_app, name="critic")
app.add_typer(models_app, name="models")
app.add_typer(cache_app, name="cache")
app.add_typer(experiment_app, name="experiment")
app.command()(train)
app.command()(replay)
app.command()(evaluate)
app.command()(doctor)
app.command()(sweep)
app.command()(report)
console = Console()


class PolicyName(StrEnum):
    grid_only = "grid-only"
    truthful = "truthful"
    zi = "zi"


@app.command()
def version() -> None:
    """Print the package version."""
    typer.echo(__version__)


@app.command()
def simulate(
    scenario: str = typer.Option("pilot", help="Scenario name (see `fairmarket scenarios list`) or YAML path."),
    policy: PolicyName = typer.Option(PolicyName.zi, help="Baseline bidder for every household."),
    days: Optional[int] = typer.Option(None, min=1, help="Days to simulate (default: the scenario's)."),
    seed: Optional[int] = typer.Option(None, help="Seed (default: the scenario's)."),
    out: Path = typer.Option(..., help="Output folder; DIR/metrics.json is written there."),
    record_slots: Optional[Path] = typer.Option(None, help="Also write every slot summary to this JSONL file."),
    force: bool = typer.Option(False, help="Replace existing output files."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON instead of a table."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Run baseline bidders through a scenario and write KPIs and fairness to DIR/metrics.json."""
    from fairmarket_local.baselines.simulation import simulate_to_files

    metrics_path = out / "metrics.json"
    with user_errors():
        result = simulate_to_files(metrics_path, record_slots, force, scenario=scenario, policy=policy.value,
                                   days=days, seed=seed, progress=not quiet)
    if as_json:
        typer.echo(dumps_strict(result.metrics, sort_keys=True))
        return
    table = Table(title=f"{result.metrics['scenario']} · {policy.value} · {result.metrics['households']} households"
                        f" · {result.metrics['days']} days")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for key, value in result.metrics["kpis"].items():
        table.add_row(key, f"{value:.4g}")
    console.print(table)
    console.print(f"wrote {metrics_path}" + (f" and {record_slots}" if record_slots else ""))


@scenarios_app.command("list")
def scenarios_list() -> None:
    """Names of the shipped scenarios."""
    for name in scenario_names():
        typer.echo(name)


@scenarios_app.command("show")
def scenarios_show(name: str = typer.Argument(..., help="Scenario name or YAML path.")) -> None:
    """Print a scenario with every default filled in (validated)."""
    with user_errors():
        config = load_env_config(name)
    typer.echo(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
