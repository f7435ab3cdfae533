"""``fairmarket report``: one self-contained HTML page for an experiment folder.

    OUT/report/index.html    inline CSS, every figure embedded as a ``data:image/png`` URI, no scripts and
                             no external URL, so it can be mailed or opened offline
    OUT/report/*.png         the same figures as files
    OUT/report/results.csv, summary.md, intervals.csv, improvement.csv (profiles.csv, critics.csv, critics.md)
                             copies

A section whose data is absent (no training arm, no grid, no critic comparison) is replaced by a one-line note.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.io import refuse_overwrite, write_text_atomic
from fairmarket_local.common.text import decode_utf8
from fairmarket_local.experiments import plots
from fairmarket_local.experiments.config import ExperimentConfig
from fairmarket_local.experiments.convergence import plateau_columns
from fairmarket_local.experiments.jobs import expand
from fairmarket_local.experiments.runner import load_experiment_folder
from fairmarket_local.experiments.stats import KPIS, higher_is_better
from fairmarket_local.experiments.summary import Summary, summarize
from fairmarket_local.training.evaluate import COLUMNS

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.4}
h1{margin-bottom:.1em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2.2em}
table{border-collapse:collapse;font-size:.82em;margin:.6em 0;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:.25em .55em;text-align:left;white-space:nowrap}th{background:#f2f2f2}
tbody tr:nth-child(even){background:#fafafa}.wide{overflow-x:auto}
dl{display:grid;grid-template-columns:max-content auto;gap:.25em 1.2em}dt{font-weight:600}dd{margin:0}
figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #eee}
figcaption,.caption{font-size:.85em;color:#555}.note{color:#777;font-style:italic}.warn{color:#a40}
"""
TRAINING_REWARDS = [("reward_econ", "economic reward"), ("reward_total", "total reward (shaped)")]
TRAINING_FAIRNESS = [("ref_ftg", "reference FTG"), ("ref_fbs", "reference FBS"), ("ref_fpp", "reference FPP")]
TRAINING_P2P = [("ref_p2p_share_of_demand", "P2P share of demand")]


@dataclass(frozen=True)
class Results:
    """The finished jobs of an experiment: held-out rows (see :mod:`.plots`), training curves and cost."""

    config: ExperimentConfig
    rows: list[dict[str, Any]]
    training: plots.Training
    finished: int
    total: int
    seconds: float
    peak_rss_mb: float
    summary: Summary

    @property
    def arms(self) -> list[str]:
        """Arms with results, in config order."""
        present = {r["arm"] for r in self.rows}
        return [a.name for a in self.config.arms if a.name in present]

    @property
    def colors(self) -> dict[str, str]:
        return {arm.name: f"C{k % 10}" for k, arm in enumerate(self.config.arms)}

    @property
    def grid(self) -> dict[str, list[Any]]:
        """Grid values by short key (the results table's column names)."""
        return {key.rsplit(".", 1)[-1]: values for key, values in self.config.grid.items()}


def load_results(out: Path) -> Results:
    """Read ``OUT/experiment.json`` and every ``OUT/results/<job>.json``; one-line errors."""
    config = load_experiment_folder(out)
    jobs = expand(config)
    rows: list[dict[str, Any]] = []
    training: plots.Training = {}
    finished, seconds, peak = 0, 0.0, 0.0
    for job in jobs:
        path = out / "results" / f"{job.id}.json"
        if not path.is_file():
            continue
        grid = {key.rsplit(".", 1)[-1]: value for key, value in job.grid.items()}
        point = ", ".join(f"{key}={value}" for key, value in grid.items())
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
            run = plateau_columns(config.statistics, result["training"])
            rows += [{**{k: row[k] for k in COLUMNS}, **grid, **run, "arm": row["arm"], "seed": job.seed,
                      "point": point,
                      "household_savings": row.get("household_savings", []),
                      "price_histogram": row.get("price_histogram", [])} for row in result["rows"]]
            if result["training"]:
                training.setdefault(job.arms[0][0], {}).setdefault(point, []).append(result["training"])
            seconds += result["seconds"]
            peak = max(peak, result["peak_rss_mb"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FairmarketError(f"{path}: not a readable job result ({type(exc).__name__}: {exc})") from None
        finished += 1
    if not rows:
        raise FairmarketError(f"{out} holds no finished jobs (no results/*.json); run"
                              f" `fairmarket experiment run CONFIG --out {out}` first")
    return Results(config, rows, training, finished, len(jobs), seconds, peak, summarize(config, rows))


def write_report(out: Path, force: bool = False) -> Path:
    """Write ``OUT/report/index.html`` (and its PNGs and tables); returns the page's path."""
    out = Path(out)
    results = load_results(out)
    target = out / "report"
    index = target / "index.html"
    refuse_overwrite(index, force)
    for name in ("results.csv", "summary.md", "intervals.csv", "improvement.csv", "profiles.csv"):
        if (out / name).is_file():
            _copy(out / name, target / name)
    sections = [section(results, out, target) for section in SECTIONS]
    config = results.config
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(config.name)}: experiment report</title><style>{CSS}</style></head>\n<body>"
            f"<h1>Experiment {escape(config.name)}</h1>"
            f'<p class="caption">{escape(config.description) or "(no description)"}</p>\n'
            + "\n".join(sections) + "\n</body></html>\n")
    write_text_atomic(index, page)
    return index


# --- HTML pieces -------------------------------------------------------------------------------------------


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{escape(title)}</h2>{''.join(parts)}</section>"


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def _table(head: list[str], body: list[list[str]]) -> str:
    """An HTML table of already-formatted (unescaped) cells."""
    rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in body)
    return (f'<div class="wide"><table><thead><tr>{"".join(f"<th>{escape(h)}</th>" for h in head)}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>")


def _image(path: Path, caption: str) -> str:
    """``path`` embedded as a data URI, with a caption."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{escape(caption)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _plot(target: Path, name: str, caption: str, draw: Callable[[Path], None]) -> str:
    """Draw ``OUT/report/<name>`` and return it embedded."""
    draw(target / name)
    return _image(target / name, caption)


def _kv(mapping: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in mapping.items())


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s" if minutes else f"{seconds:.1f} s"


# --- sections: each takes (results, experiment folder, report folder) and returns HTML ------------------------


def _overview(results: Results, out: Path, target: Path) -> str:
    config = results.config
    arms = "".join(
        f"<li><b>{escape(arm.name)}</b>: "
        + (f"baseline bidder <code>{escape(arm.baseline)}</code>" if arm.baseline is not None else
           f"trained, overrides <code>{escape(_kv(arm.overrides))}</code>" if arm.overrides else "trained (defaults)")
        + "</li>" for arm in config.arms)
    facts = [("scenario", config.scenario), ("seeds", ", ".join(map(str, config.seeds))),
             ("held-out episodes", f"{config.eval_episodes} per evaluation"),
             ("overrides (all arms)", _kv(config.overrides) or "none"),
             ("grid", "; ".join(f"{key}: {values}" for key, values in config.grid.items()) or "none"),
             ("jobs finished", f"{results.finished} of {results.total}"),
             ("compute time", f"{_duration(results.seconds)} summed over jobs (peak RSS {results.peak_rss_mb:.0f} MB)")]
    partial = ('<p class="warn">Partial results: some jobs have not finished; rerun'
               " <code>fairmarket experiment run</code> to complete them.</p>"
               if results.finished < results.total else "")
    return _section("Overview",
                    "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts) + "</dl>",
                    partial, f"<p><b>Arms</b></p><ul>{arms}</ul>")


def _results_table(results: Results, out: Path, target: Path) -> str:
    summary, stats = results.summary, results.config.statistics
    body = [[*map(str, g.point), g.arm, str(g.seeds), *(g.kpis[k].text() for k in KPIS)] for g in summary.intervals]
    caption = (f"Held-out evaluation, the same {results.config.eval_episodes} episode(s) for every arm and seed:"
               f" IQM over seeds [{stats.confidence:.0%} stratified-bootstrap CI, {stats.reps} replications;"
               " rliable]. Cost ratios below 1 are cheaper than grid-only; FTG, FBS and FPP are in [0, 1], higher"
               " is fairer. Per-seed rows: results.csv; the intervals: intervals.csv.")
    return _section("Main results", f'<p class="caption">{escape(caption)}</p>',
                    _table([*summary.grid_keys, "arm", "seeds", *KPIS], body))


def _improvement(results: Results, out: Path, target: Path) -> str:
    summary = results.summary
    title = "Probability of improvement"
    if not summary.improvements:
        return _section(title, _note("No reference arm (truthful, or a training arm with lambda_max 0) to compare"
                                     " with; set statistics.improvement_over."))
    better = ", ".join(f"{k} {'higher' if higher_is_better(k) else 'lower'}" for k in KPIS)
    level = f"{results.config.statistics.confidence:.0%}"
    caption = (f"P(a seed of the arm beats a seed of the reference arm) with its {level} bootstrap CI; 0.5 is no"
               f" difference, an interval above 0.5 a reliable improvement. Better is: {better}.")
    body = [[*map(str, f.point), f.arm, f.reference, *(f.kpis[k].text(2) for k in KPIS)] for f in summary.improvements]
    return _section(title, f'<p class="caption">{escape(caption)}</p>',
                    _table([*summary.grid_keys, "arm", "over", *KPIS], body))


def _convergence(results: Results, out: Path, target: Path) -> str:
    summary, stats = results.summary, results.config.statistics
    title = "Convergence"
    if not summary.convergence:
        return _section(title, _note("No training runs finished (baseline arms only)."))
    caption = (f"Plateau of the training curve {stats.plateau_metric}: the episode from which its moving mean stays"
               f" within {stats.plateau_tolerance:.0%} of its largest distance from the final value; a run has"
               " converged when it then stays on the plateau for one more window (docs/experiments.md).")
    body = [[*map(str, c["point"]), c["arm"], str(c["runs"]), str(c["converged"]), str(c["median_plateau_episode"]),
             str(c["episodes"])] for c in summary.convergence]
    return _section(title, f'<p class="caption">{escape(caption)}</p>', _table(
        [*summary.grid_keys, "arm", "runs", "converged", "median plateau episode", "episodes"], body))


def _frontier(results: Results, out: Path, target: Path) -> str:
    return _section("Fairness–cost frontier", _plot(
        target, "frontier.png", "Held-out consumer cost against FTG, FBS, FPP and the Gini of household savings:"
        " IQM over seeds with 95 % CIs in both directions, one point per arm and grid point (labelled with its"
        " grid values). Up and left is fairer and cheaper, except for the Gini (down and left).",
        lambda p: plots.frontier(p, results.summary.intervals, results.arms, results.colors)))


def _profiles(results: Results, out: Path, target: Path) -> str:
    title = "Performance profiles"
    if not results.summary.profiles:
        return _section(title, _note("Shown for a study without a grid; the frontier plot sums up a grid."))
    level = f"{results.config.statistics.confidence:.0%}"
    return _section(title, _plot(
        target, "profiles.png", "Share of an arm's seeds at least as good as each threshold: a held-out consumer"
        f" cost at or below it, an FTG, FBS or FPP at or above it; with {level} stratified-bootstrap CIs shaded"
        " (rliable's performance profiles): a curve above another is better over the whole distribution of"
        " seeds, not only on average. The numbers: profiles.csv.",
        lambda p: plots.performance_profiles(p, results.summary.profiles, results.arms, results.colors)))


def _training_section(title: str, name: str, metrics: list[tuple[str, str]], what: str
                      ) -> Callable[[Results, Path, Path], str]:
    def section(results: Results, out: Path, target: Path) -> str:
        if not results.training:
            return _section(title, _note("No training runs finished (baseline arms only)."))
        return _section(title, _plot(
            target, name, f"{what} per training episode: mean over seeds, shaded ±1 std; one line per training arm,"
            f" one column per grid point (pooled beyond {plots.MAX_PANELS}); a dashed line marks each arm's"
            " median plateau episode (Convergence).",
            lambda p: plots.training_curves(p, results.training, metrics, results.colors, results.rows)))
    return section


def _p2p(results: Results, out: Path, target: Path) -> str:
    over_training = (_plot(target, "p2p_training.png", "P2P share of demand per training episode (reference"
                           " evaluation of the training episode): mean over seeds, shaded ±1 std.",
                           lambda p: plots.training_curves(p, results.training, TRAINING_P2P, results.colors,
                                                           results.rows))
                     if results.training else _note("No training runs finished: no P2P share over training."))
    held_out = _plot(target, "p2p_heldout.png", "Held-out P2P share of demand per arm (mean ± std over seeds),"
                     " one bar per grid point.", lambda p: plots.held_out_bars(
                         p, results.rows, results.arms, "p2p_share_of_demand", "P2P share of demand", results.colors))
    return _section("P2P share of demand", over_training, held_out)


def _pooled(results: Results, target: Path, title: str, key: str, what: str, png: str, caption: str,
            draw: Callable[..., None]) -> str:
    """A section over the held-out rows' ``key`` (seeds and grid points pooled), or a note without it."""
    if not any(r[key] for r in results.rows):
        return _section(title, _note(f"The results hold no {what} (older results)."))
    return _section(title, _plot(target, png, caption, lambda p: draw(p, results.rows, results.arms, results.colors)))


def _prices(results: Results, out: Path, target: Path) -> str:
    return _pooled(results, target, "Price distributions", "price_histogram", "price histograms", "prices.png",
                   "Held-out P2P trade prices, placed between the slot's feed-in tariff (0) and retail price (1);"
                   " share of traded kWh per bin, seeds and grid points pooled.", plots.price_histograms)


def _savings(results: Results, out: Path, target: Path) -> str:
    return _pooled(results, target, "Per-household savings", "household_savings", "per-household savings",
                   "savings.png", "Held-out saving of each household vs grid-only ($, mean per episode); one box"
                   " per arm over households × seeds × grid points.", plots.savings_boxes)


def _sensitivity(results: Results, out: Path, target: Path) -> str:
    keys, values = list(results.grid), list(results.grid.values())
    title = "Sensitivity"
    if len(keys) == 1:
        return _section(title, _plot(
            target, "sensitivity.png", f"Held-out consumer cost vs grid-only, P2P share and FTG against {keys[0]}:"
            " mean ± std over seeds, one line per arm.",
            lambda p: plots.sensitivity_lines(p, results.rows, results.arms, keys[0], values[0], results.colors)))
    if len(keys) == 2:
        return _section(title, _plot(
            target, "sensitivity.png", f"Held-out consumer cost vs grid-only, P2P share and FTG (absolute values,"
            f" mean over seeds) over {keys[0]} × {keys[1]}: one row per arm; each KPI's colour scale is shared by"
            " all arms.", lambda p: plots.sensitivity_heatmaps(p, results.rows, results.arms, keys, values)))
    return _section(title, _note("The experiment has no grid: nothing to vary." if not keys else
                                 f"The grid has {len(keys)} keys; sensitivity plots need one or two."))


def _critics(results: Results, out: Path, target: Path) -> str:
    source = out / "critic-compare"
    title = "Critic comparison"
    if not (source / "critics.csv").is_file():
        return _section(title, _note("No critic comparison (the config has no critic_compare, or it has not run)."))
    table = _read_csv(source / "critics.csv")
    for name in ("critics.csv", "critics.md"):
        if (source / name).is_file():
            _copy(source / name, target / name)
    parts = [_table(table[0], [[_number(cell) for cell in row] for row in table[1:]])]
    if (source / "agreement.png").is_file():
        _copy(source / "agreement.png", target / "agreement.png")
        parts.append(_image(target / "agreement.png", "Critic agreement with the reference scores: MAE, Spearman"
                            " correlation and throughput per model / template."))
    return _section(title, *parts)


def _number(cell: str) -> str:
    """A fractional CSV number to 4 significant digits; anything else unchanged."""
    try:
        value = float(cell)
    except ValueError:
        return cell
    return cell if value.is_integer() else f"{value:.4g}"


def _read_csv(path: Path) -> list[list[str]]:
    try:
        text = decode_utf8(path.read_bytes(), path)
    except OSError as exc:
        raise FairmarketError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise FairmarketError(f"{path}: not a CSV table ({exc})") from None
    if not table:
        raise FairmarketError(f"{path} is empty")
    return table


def _copy(source: Path, target: Path) -> None:
    """Copy a file through a temporary name, so ``target`` is never half-written."""
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, tmp)
        tmp.replace(target)
    except OSError as exc:
        raise FairmarketError(f"cannot copy {source} to {target}: {exc.strerror or exc}") from None


SECTIONS: list[Callable[[Results, Path, Path], str]] = [
    _overview, _results_table, _improvement, _frontier, _profiles, _convergence,
    _training_section("Training curves", "training.png", TRAINING_REWARDS, "Economic and total (shaped) reward"),
    _training_section("Fairness over training", "fairness.png", TRAINING_FAIRNESS,
                      "Reference FTG, FBS and FPP of the training episode"),
    _p2p, _prices, _savings, _sensitivity, _critics,
]
