"""`fairmarket report`: a self-contained HTML page for an experiment folder, rendered cleanly by a real browser."""

import base64
import json
import re
import shutil
from pathlib import Path

import pytest
import typer
from fairmarket_cli.report import report
from typer.testing import CliRunner

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.plotting import pyplot, save_figure
from fairmarket_local.experiments import run_experiment
from fairmarket_local.experiments.report import write_report
from tests.user_errors import assert_one_error_line

TINY = Path(__file__).parent / "tiny.yaml"
FIGURES = ("frontier.png", "training.png", "fairness.png", "p2p_training.png", "p2p_heldout.png", "prices.png",
           "savings.png", "sensitivity.png")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
slow = pytest.mark.slow


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny study (2 grid points × 2 seeds, one baseline, two training arms) with its report."""
    out = tmp_path_factory.mktemp("report") / "tiny"
    run_experiment(TINY, out)
    write_report(out)
    return out


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(report)
    return app


@slow
def test_report_page_figures_and_tables_are_written(experiment: Path) -> None:
    target = experiment / "report"
    page = (target / "index.html").read_text(encoding="utf-8")
    for name in FIGURES:
        assert (target / name).read_bytes().startswith(b"\x89PNG"), name
    assert (target / "results.csv").read_text() == (experiment / "results.csv").read_text()
    for name in ("summary.md", "intervals.csv", "improvement.csv"):
        assert (target / name).read_text() == (experiment / name).read_text()
    for heading in ("Overview", "Main results", "Probability of improvement", "Fairness–cost frontier",
                    "Performance profiles", "Convergence",
                    "Training curves", "Fairness over training", "P2P share of demand",
                    "Price distributions", "Per-household savings", "Sensitivity", "Critic comparison"):
        assert f"<h2>{heading}</h2>" in page
    assert "12 of 12" in page and "Partial results" not in page
    assert "ippo-no-fairness" in page and "truthful" in page
    assert "No critic comparison" in page  # the tiny study has no critic_compare: a note, not a failure
    assert len(IMG.findall(page)) == len(FIGURES)


@slow
def test_page_is_self_contained(experiment: Path) -> None:
    page = (experiment / "report" / "index.html").read_text(encoding="utf-8")
    assert "http://" not in page.lower() and "https://" not in page.lower()
    assert "<script" not in page.lower() and "<link rel=\"stylesheet\"" not in page.lower()
    images = IMG.findall(page)
    assert images
    for tag in images:
        source = re.search(r'src="([^"]*)"', tag).group(1)
        assert source.startswith("data:image/png;base64,"), tag[:80]
        assert base64.b64decode(source.split(",", 1)[1]).startswith(b"\x89PNG")


@slow
def test_existing_report_is_kept_unless_forced(experiment: Path) -> None:
    index = experiment / "report" / "index.html"
    with pytest.raises(FairmarketError, match="already exists"):
        write_report(experiment)
    assert write_report(experiment, force=True) == index
    result = CliRunner().invoke(_cli(), [str(experiment)])
    assert result.exit_code == 2 and "already exists" in result.output
    result = CliRunner().invoke(_cli(), [str(experiment), "--force", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"report": str(index), "images": len(FIGURES)}


def test_a_folder_that_is_not_an_experiment_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(FairmarketError, match="not an experiment folder") as info:
        write_report(tmp_path)
    assert "\n" not in str(info.value)
    result = CliRunner().invoke(_cli(), [str(tmp_path)])
    assert result.exit_code == 2 and result.output.startswith("error: ")


@slow
def test_no_finished_jobs_is_an_error_and_partial_results_are_flagged(experiment: Path, tmp_path: Path) -> None:
    shutil.copy(experiment / "experiment.json", tmp_path / "experiment.json")
    with pytest.raises(FairmarketError, match="no finished jobs"):
        write_report(tmp_path)
    shutil.copytree(experiment / "results", tmp_path / "results")
    (tmp_path / "results" / "ippo-rule__pv_scale=1.2__s1.json").unlink()
    page = write_report(tmp_path).read_text(encoding="utf-8")
    assert "11 of 12" in page and "Partial results" in page


@slow
def test_critic_comparison_table_and_plot_are_included(experiment: Path, tmp_path: Path) -> None:
    shutil.copy(experiment / "experiment.json", tmp_path / "experiment.json")
    shutil.copytree(experiment / "results", tmp_path / "results")
    critics = tmp_path / "critic-compare"
    critics.mkdir()
    (critics / "critics.csv").write_text("model,template,validity_pct,slots_per_s,mae_ftg,spearman_ftg\n"
                                         "rule,-,100.0,5123.4567,0.0,1.0\n"
                                         "smollm2-135m,grounded,96.0,2.5,0.123456,nan\n")
    plt = pyplot()
    fig, ax = plt.subplots()
    ax.bar([0, 1], [0.0, 0.12])
    save_figure(fig, critics / "agreement.png")
    page = write_report(tmp_path).read_text(encoding="utf-8")
    section = page.split("<h2>Critic comparison</h2>", 1)[1]
    assert "smollm2-135m" in section and "0.1235" in section and "5123" in section and "nan" in section
    assert "data:image/png;base64," in section
    assert (tmp_path / "report" / "critics.csv").is_file() and (tmp_path / "report" / "agreement.png").is_file()


@slow
def test_page_renders_in_headless_chromium(experiment: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    index = experiment / "report" / "index.html"
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda message: errors.append(f"console: {message.text}")
                    if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(index.as_uri(), wait_until="load")
            images = page.evaluate("() => Array.from(document.images, i => [i.complete, i.naturalWidth])")
            title = page.title()
        finally:
            browser.close()
    assert not errors
    assert len(images) == len(FIGURES)
    assert all(complete and width > 0 for complete, width in images), images
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert title.startswith("tiny")


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\xff binary", b'{"name": "tiny"', b'{"hello": 1}',
                                     b"[1, 2]", b"null", b'{"name": NaN}'])
def test_a_binary_or_foreign_experiment_json_is_a_one_line_error(tmp_path: Path, content: bytes) -> None:
    stored = tmp_path / "experiment.json"
    stored.write_bytes(content)
    assert_one_error_line(CliRunner().invoke(_cli(), [str(tmp_path)]), str(stored))
    with pytest.raises(FairmarketError, match=re.escape(str(tmp_path))) as info:  # the file, or "holds another"
        run_experiment(TINY, tmp_path)
    assert "\n" not in str(info.value)
    assert stored.read_bytes() == content and sorted(tmp_path.iterdir()) == [stored]
