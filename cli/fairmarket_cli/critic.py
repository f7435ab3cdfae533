"""``fairmarket critic score|compare|distill``: score recorded slots with a critic, compare critics, distil one.

The critic layer is imported inside each command, so ``--help`` starts at once.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from fairmarket_cli.errors import user_errors
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.io import refuse_overwrite, write_jsonl
from fairmarket_local.common.machine import COMPUTE_DTYPES
from fairmarket_local.common.progress import progress_bar
from fairmarket_local.critic.amortized.config import AmortizeConfig
from fairmarket_local.critic.base import SCORE_CHUNK, SOURCES
from fairmarket_local.critic.distill import config as distill_defaults
from fairmarket_local.critic.distill.config import StudentConfig
from fairmarket_local.critic.memo.cache import CACHE_MODES

critic_app = typer.Typer(help="Score slot summaries with a fairness critic, or compare critics.",
                         no_args_is_help=True)
console = Console(stderr=True)
_AMORTIZE = AmortizeConfig()  # the defaults of the amortized critic's options
_STUDENT = StudentConfig()  # the defaults of distill's training options
ComputeDtype = Enum("ComputeDtype", {name: name for name in COMPUTE_DTYPES}, type=str)  # type: ignore[misc]

CacheDirOption = typer.Option(None, "--cache-dir", help="Critic cache folder (default: $FAIRMARKET_HOME/critic-cache).")
CacheModeOption = typer.Option("use", "--cache-mode", help=f"One of {', '.join(CACHE_MODES)}.")
ThreadsOption = typer.Option(1, "--threads", min=1, help="llama.cpp threads per process (1 is best under load).")


def _critic_names(models: str, out: Path, outputs: tuple[str, ...], force: bool) -> list[str]:
    """The ``--models`` list, once the output files in ``out`` are known to be free (one-line errors)."""
    for name in outputs:
        refuse_overwrite(out / name, force)
    names = _csv(models)
    if not names:
        raise FairmarketError(f"--models: no models given in {models!r} (e.g. --models smollm2-135m,rule)")
    return names


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@critic_app.command("score")
def score(
    model: str = typer.Option(..., help="Registered model id (see `fairmarket models list`) or 'rule'."),
    template: Optional[str] = typer.Option(None, help="Prompt template id (name or name.vN) or a .txt path;"
                                           " default: the model's own (distilled critics), else grounded."),
    input_path: Path = typer.Option(..., "--input", help="Slot summaries, one JSON object per line."),
    out: Path = typer.Option(..., help="Scores file to write (JSONL, one line per input slot)."),
    cache_dir: Optional[Path] = CacheDirOption,
    cache_mode: str = CacheModeOption,
    threads: int = ThreadsOption,
    amortize: bool = typer.Option(False, help=f"The model labels a budget of slots (every {SCORE_CHUNK} slots count as"
                                  " an episode) and a learned fairness model scores the others."),
    label_budget: int = typer.Option(_AMORTIZE.label_budget, min=1, help="With --amortize: slots the model labels."),
    labels_per_episode: float = typer.Option(_AMORTIZE.labels_per_episode, min=0.01, help="With --amortize: labels per"
                                           f" {SCORE_CHUNK} slots after the warm-up."),
    export: Optional[Path] = typer.Option(None, help="With --amortize: save the fairness model in this folder"
                                          " (fairness_model.pt, scored later with --model FOLDER/fairness_model.pt)."),
    force: bool = typer.Option(False, help="Replace an existing output file."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Score every slot of INPUT and write {slot, ftg, fbs, fpp, source} lines to OUT."""
    from fairmarket_local.critic.base import score_in_chunks
    from fairmarket_local.critic.factory import make_critic, takes_template
    from fairmarket_local.critic.slots_io import read_summaries

    with user_errors():
        refuse_overwrite(out, force)
        summaries = read_summaries(input_path)
        opts = {"template": template, "n_threads": threads} if takes_template(model) else {}
        learned = AmortizeConfig(enabled=amortize, label_budget=label_budget, labels_per_episode=labels_per_episode,
                                 warmup_labels=min(_AMORTIZE.warmup_labels, label_budget))
        with make_critic(model, cache_dir=cache_dir, cache_mode=cache_mode, amortize=learned, **opts) as critic, \
                progress_bar(len(summaries), f"critic {model}", unit="slots", enabled=not quiet) as advance:
            scored = score_in_chunks(critic, summaries, advance)
            rows = [{"slot": k, **result.as_dict()} for k, result in enumerate(scored)]
            stats = critic.stats
            if export is not None:
                export.mkdir(parents=True, exist_ok=True)
                critic.export(export)
        write_jsonl(out, rows)
    sources = {s: sum(1 for r in rows if r["source"] == s) for s in SOURCES}
    console.print(f"scored {len(rows)} slots ({', '.join(f'{v} {k}' for k, v in sources.items() if v)});"
                  f" model time {stats.model_seconds:.1f} s; wrote {out}")


@critic_app.command("compare")
def compare(
    models: str = typer.Option(..., help="Comma-separated model ids; 'rule' adds the reference formulas."),
    templates: str = typer.Option("", help="Comma-separated prompt template ids (default: each model's own, as"
                                  " its manifest names it, else raw,grounded)."),
    input_path: Path = typer.Option(..., "--input", help="Recorded slot summaries (JSONL)."),
    out: Path = typer.Option(..., help="Output folder for critics.csv, critics.md and the plots."),
    cache_dir: Optional[Path] = CacheDirOption,
    cache_mode: str = CacheModeOption,
    limit: Optional[int] = typer.Option(None, min=1, help="Use only the first N slots."),
    invariance_n: int = typer.Option(20, min=0, help="Slots re-scored with sellers/buyers relabelled."),
    repeat_n: int = typer.Option(10, min=0, help="Slots re-scored by a fresh, uncached critic."),
    audit: bool = typer.Option(True, help="Also audit every critic on the compared two-sided slots (the"
                               " `critic audit` relations, memoized) and add its summary columns."),
    audit_n: Optional[int] = typer.Option(None, min=1, help="Audit only the first N two-sided compared slots."),
    workers: int = typer.Option(1, min=1, help="llama.cpp processes per model for the audit (one per free core)."),
    threads: int = ThreadsOption,
    force: bool = typer.Option(False, help="Replace existing output files."),
    json_out: bool = typer.Option(False, "--json", help="Print the table as JSON (one object per critic)."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Compare critics on the same slots: validity, latency, agreement with §4, invariance, repeatability, audit."""
    from fairmarket_local.common.io import dumps_strict
    from fairmarket_local.critic.quality.audit import plan_audit
    from fairmarket_local.critic.quality.compare import compare_critics, critic_pairs
    from fairmarket_local.critic.quality.report import OUTPUT_FILES, write_report
    from fairmarket_local.critic.slots_io import read_summaries
    from fairmarket_local.env.summary import summary_fairness

    with user_errors():
        names = _critic_names(models, out, OUTPUT_FILES, force)
        summaries = read_summaries(input_path)[:limit]
        pairs = critic_pairs(names, _csv(templates))
        plan = plan_audit(summaries, limit=audit_n) if audit else None
        total = len(pairs) * (len(summaries) + (len(plan.batch) if plan else 0))
        with progress_bar(total, "critic compare", unit="slots", enabled=not quiet) as advance:
            rows, runs = compare_critics(
                summaries, names, _csv(templates), cache_dir, cache_mode,  # type: ignore[arg-type]
                invariance_n, repeat_n, threads, advance, audit=plan, workers=workers)
        written = write_report(out, rows, runs, [summary_fairness(s) for s in summaries])
    typer.echo(dumps_strict(rows) if json_out else (out / "critics.md").read_text(encoding="utf-8"))
    console.print("wrote " + ", ".join(str(p) for p in written))


@critic_app.command("distill")
def distill_command(
    out: str = typer.Option(..., help="Id of the new model (registered in $FAIRMARKET_HOME/models)."),
    teacher: str = typer.Option(distill_defaults.DEFAULT_TEACHER, help="Critic whose judgment is learned: a model id"
                                " or 'rule'."),
    template: Optional[str] = typer.Option(None, help="The teacher's prompt template (default: its own, else"
                                           " grounded)."),
    slots: Optional[Path] = typer.Option(None, help="Recorded slot summaries to learn from (JSONL)."),
    generate: int = typer.Option(0, min=0, help="Add N slots from the seeded situation generator."),
    base: str = typer.Option(distill_defaults.DEFAULT_BASE, help="Registered GGUF model to fine-tune."),
    budget_minutes: float = typer.Option(_STUDENT.budget_minutes, min=0.0, help="Training time budget (excludes"
                                         " labelling, export and evaluation)."),
    max_steps: Optional[int] = typer.Option(_STUDENT.max_steps, min=0, help="Stop after N optimiser steps; with"
                                            " --schedule-steps it reproduces a timed run exactly (see distill.json)."),
    schedule_steps: Optional[int] = typer.Option(_STUDENT.schedule_steps, min=1, help="Length of the learning-rate"
                                                 " decay in steps (default: --max-steps, else planned from the"
                                                 " budget)."),
    seed: int = typer.Option(_STUDENT.seed, min=0, help="Seed of the generator, the split and the training order."),
    heldout: int = typer.Option(distill_defaults.DEFAULT_HELDOUT, min=1, help="Slots held out for the evaluation."),
    batch_size: int = typer.Option(_STUDENT.batch_size, min=1, help="Examples per optimiser step."),
    layers: Optional[int] = typer.Option(_STUDENT.layers, min=1, help="Keep only the base's first N transformer layers"
                                         " (a smaller, faster student; default: all)."),
    lr: float = typer.Option(_STUDENT.lr, min=0.0, help=f"Peak learning rate ({_STUDENT.warmup_steps}-step warm-up,"
                             f" then cosine decay to {_STUDENT.final_lr_fraction:g} of it)."),
    student_template: str = typer.Option(distill_defaults.DEFAULT_STUDENT_TEMPLATE, help="The student's prompt"
                                         " template (default: the newest student.vN)."),
    dtype: ComputeDtype = typer.Option(ComputeDtype(_STUDENT.dtype), help="Compute dtype: auto (bfloat16 where the"
                                       " CPU has it natively, else float32), bfloat16 or float32 (recorded in"
                                       " distill.json)."),
    snapshots: str = typer.Option("", help="Comma-separated training minutes at which to export and score a"
                                  " snapshot (learning curve), e.g. 5,15,30."),
    folder: Optional[Path] = typer.Option(None, "--dir", help="Where the weights and tables go (default:"
                                          " $FAIRMARKET_HOME/distilled/OUT)."),
    cache_dir: Optional[Path] = CacheDirOption,
    cache_mode: str = CacheModeOption,
    force: bool = typer.Option(False, help="Replace a model of the same id and its folder."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    quiet: bool = typer.Option(False, help="No progress bars."),
) -> None:
    """Teach a small model the teacher's judgment; export it to GGUF and register it as OUT."""
    import json

    from fairmarket_local.critic.distill.pipeline import distill

    with user_errors():
        try:
            marks = tuple(float(m) for m in _csv(snapshots))
        except ValueError:
            raise FairmarketError(f"--snapshots wants minutes like 5,15,30, not {snapshots!r}") from None
        config = StudentConfig(lr=lr, batch_size=batch_size, layers=layers, budget_minutes=budget_minutes,
                               max_steps=max_steps, schedule_steps=schedule_steps, snapshot_minutes=marks, seed=seed,
                               dtype=dtype.value)
        result = distill(out, teacher=teacher, teacher_template=template, slots=slots, generate=generate, base=base,
                         student_template=student_template, heldout=heldout, config=config, folder=folder,
                         cache_dir=cache_dir, cache_mode=cache_mode, force=force, progress=not quiet)  # type: ignore[arg-type]
    if json_out:
        typer.echo(json.dumps({"model": result.manifest.id, "folder": str(result.folder), **result.info}, default=str))
        return
    typer.echo((result.folder / "heldout.md").read_text(encoding="utf-8"))
    console.print(f"registered {result.manifest.id} ({result.manifest.weights.path}); "  # type: ignore[union-attr]
                  f"{result.info['steps']} steps, {result.info['examples_seen']} examples; use it with"
                  f" `fairmarket train --critic {result.manifest.id}`")


@critic_app.command("audit")
def audit(
    models: str = typer.Option(..., help="Comma-separated model ids; 'rule' adds the reference formulas."),
    templates: str = typer.Option("", help="Comma-separated prompt template ids (default: each model's own, as"
                                  " its manifest names it, else raw,grounded)."),
    input_path: Path = typer.Option(..., "--input", help="Recorded slot summaries (JSONL); one-sided slots,"
                                    " which every critic scores 1/1/1 unasked, are left out."),
    out: Path = typer.Option(..., help="Output folder for audit.csv, audit.md and audit.png."),
    tolerance: float = typer.Option(0.05, min=0.0, max=1.0, help="How far an irrelevant change may move a score."),
    relations: str = typer.Option("", help="Comma-separated relations to check (default: all; see docs/audit.md)."),
    limit: Optional[int] = typer.Option(None, min=1, help="Audit only the first N two-sided slots."),
    examples: int = typer.Option(2, min=0, help="Worst violated pairs shown per critic and relation."),
    cache_dir: Optional[Path] = CacheDirOption,
    cache_mode: str = CacheModeOption,
    threads: int = ThreadsOption,
    workers: int = typer.Option(1, min=1, help="llama.cpp processes per model (one per free core)."),
    force: bool = typer.Option(False, help="Replace existing output files."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Audit critics without assuming a formula: change slots in known ways and check where the scores go."""
    import time

    from fairmarket_local.critic.quality.audit import plan_audit, run_audit
    from fairmarket_local.critic.quality.audit_report import OUTPUT_FILES, summary_markdown, write_audit
    from fairmarket_local.critic.quality.compare import critic_pairs
    from fairmarket_local.critic.quality.relations import select_relations
    from fairmarket_local.critic.slots_io import read_summaries

    with user_errors():
        names = _critic_names(models, out, OUTPUT_FILES, force)
        plan = plan_audit(read_summaries(input_path), select_relations(_csv(relations)), limit)
        if not plan.slots:
            raise FairmarketError(f"{input_path}: no two-sided slot (each lacks sellers or buyers): nothing to audit")
        pairs = critic_pairs(names, _csv(templates))
        start = time.perf_counter()
        with progress_bar(len(pairs) * len(plan.batch), "critic audit", unit="slots", enabled=not quiet) as advance:
            result = run_audit(plan, names, _csv(templates), tolerance=tolerance, cache_dir=cache_dir,
                               cache_mode=cache_mode, n_threads=threads, workers=workers,  # type: ignore[arg-type]
                               examples=examples, advance=advance)
        seconds = time.perf_counter() - start
        written = write_audit(out, result, plan.relations)
    typer.echo(summary_markdown(result, plan.relations))
    console.print(f"audited {len(plan.slots)} slots and {len(plan.variants)} variants with {len(pairs)} critic(s)"
                  f" in {seconds:.1f} s; wrote " + ", ".join(str(p) for p in written))
