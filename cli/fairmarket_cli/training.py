"""``fairmarket train | replay | evaluate``: thin wrappers over :mod:`fairmarket_local.training`.

The training layer (torch, SB3) is imported inside each command, so ``--help`` starts at once.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, Optional, get_args

import typer
from rich.console import Console
from rich.table import Table

from fairmarket_cli.errors import user_errors
from fairmarket_local.common.io import dumps_strict
from fairmarket_local.training.config import GroupMode

console = Console()
Groups = Enum("Groups", {mode: mode for mode in get_args(GroupMode)}, type=str)  # type: ignore[misc]


def train(
    scenario: Optional[str] = typer.Option(None, help="Scenario name or YAML path (default: pilot; with --resume:"
                                                      " the run's)."),
    critic: Optional[str] = typer.Option(None, help="Critic model id (see `fairmarket models list`) or 'rule'."),
    template: Optional[str] = typer.Option(None, help="Prompt template id (raw, grounded, ...)."),
    episodes: Optional[int] = typer.Option(None, min=1, help="Training episodes (one PPO update each)."),
    seed: Optional[int] = typer.Option(None, help="Run seed (default: the scenario's)."),
    groups: Optional[Groups] = typer.Option(None, help="Policy groups: one PPO per agent, per kind, or shared."),
    amortize: Optional[bool] = typer.Option(None, "--amortize/--direct", help="The critic labels a budget of slots"
                                            " and a learned fairness model scores every slot (--amortize), or the"
                                            " critic scores every slot (--direct); default: the scenario's."),
    label_budget: Optional[int] = typer.Option(None, min=1, help="Slots the critic labels in the whole run"
                                               " (critic.amortize.label_budget)."),
    labels_per_episode: Optional[float] = typer.Option(None, min=0.01, help="Labels asked per episode after the"
                                                       " warm-up, a fraction on average"
                                                       " (critic.amortize.labels_per_episode)."),
    out: Path = typer.Option(..., help="Run folder."),
    resume: bool = typer.Option(False, help="Continue the run in OUT from its last checkpoint."),
    force: bool = typer.Option(False, help="Replace an existing run in OUT."),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Train fairness-shaped IPPO bidders; writes checkpoints, metrics, TensorBoard logs and policies to OUT."""
    from fairmarket_local.training.run import train as run_training

    options = {"critic.model": critic, "critic.template": template, "training.episodes": episodes, "seed": seed,
               "training.groups": groups.value if groups else None, "critic.amortize.enabled": amortize,
               "critic.amortize.label_budget": label_budget,
               "critic.amortize.labels_per_episode": labels_per_episode}
    overrides: dict[str, Any] = {key: value for key, value in options.items() if value is not None}
    with user_errors():
        result = run_training(scenario, out=out, resume=resume, force=force, progress=not quiet, **overrides)
    if as_json:
        typer.echo(dumps_strict(result.results))
        return
    print_training_table(out, result.results)


def print_training_table(out: Path, r: dict[str, Any]) -> None:
    table = Table(title=f"{out}: {r['episodes']} episodes — first vs last episodes (mean of up to 3)")
    for column in ("metric", "first", "last"):
        table.add_column(column, justify="right" if column != "metric" else "left")
    for key in r["first"]:
        table.add_row(key, _number(r["first"][key]), _number(r["last"][key]))
    console.print(table)
    secs = ", ".join(f"{k.replace('critic_model', 'of which the model')} {v:.1f} s" for k, v in r["seconds"].items())
    console.print(f"critic: {r['critic_cache_hits']} cache hits, {r['critic_cache_misses']} misses, "
                  f"{r['critic_fallbacks']} fallbacks · time: {secs}")
    if "amortized" in r:
        a = r["amortized"]
        console.print(f"amortized critic: {a['labels']} teacher labels; agreement with the teacher (Spearman"
                      f" ftg/fbs/fpp) prequential {_triple(a['prequential']['spearman'])}, on"
                      f" {a['heldout']['slots']} held-out slots {_triple(a['heldout']['spearman'])}")


def _number(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.4g}"


def _triple(scores: dict[str, float | None]) -> str:
    return "/".join("-" if v is None else f"{v:.2f}" for v in scores.values())


def replay(
    run: Path = typer.Argument(..., help="A finished run folder."),
    critic: Optional[str] = typer.Option(None, help="Re-score the recorded slots with this critic instead."),
    template: Optional[str] = typer.Option(None, help="Template for --critic (default: the run's)."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Re-run RUN from its manifest and cached critic and check it is bit-identical (exit 1 if not)."""
    from fairmarket_local.training.replay import replay as run_replay
    from fairmarket_local.training.replay import rescore

    with user_errors():
        if critic is not None:
            typer.echo(dumps_strict(rescore(run, critic, template)))
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
    from fairmarket_local.training.evaluate import COLUMNS
    from fairmarket_local.training.evaluate import evaluate as run_evaluation

    with user_errors():
        rows = run_evaluation(run, episodes=episodes, progress=not quiet)
    if as_json:
        typer.echo(dumps_strict(rows))
        return
    table = Table(title=f"{run}: held-out days, {episodes} episodes each (also in evaluation.md/.csv/.json)")
    table.add_column("KPI")
    for row in rows:
        table.add_column(row["policy"], justify="right")
    for key in COLUMNS:  # the KPIs; per-household savings and price histograms are in the files
        table.add_row(key, *(_number(row[key]) for row in rows))
    console.print(table)
