"""`fairmarket simulate` and `fairmarket scenarios`: outputs, one-line errors, nothing clobbered."""

import json
import subprocess
import sys

import pytest
import yaml
from fairmarket_cli.main import app
from typer.testing import CliRunner

runner = CliRunner()


def test_simulate_writes_metrics_and_slots(tmp_path):
    slots = tmp_path / "slots.jsonl"
    result = runner.invoke(app, ["simulate", "--scenario", "pilot", "--policy", "zi", "--days", "1",
                                 "--out", str(tmp_path / "run"), "--record-slots", str(slots), "--quiet"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["kpis"]["constraint_violations"] == 0
    lines = slots.read_text().splitlines()
    assert len(lines) == 24 and json.loads(lines[0])["schema"] == 1


def test_simulate_json_output_is_machine_readable(tmp_path):
    result = runner.invoke(app, ["simulate", "--days", "1", "--out", str(tmp_path), "--json", "--quiet"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["policy"] == "zi"


def test_existing_output_is_not_overwritten(tmp_path):
    (tmp_path / "metrics.json").write_text("precious")
    result = runner.invoke(app, ["simulate", "--days", "1", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 2
    assert "already exists" in result.output and "--force" in result.output
    assert (tmp_path / "metrics.json").read_text() == "precious"


@pytest.mark.parametrize(
    "config,expected",
    [
        ({"community": {"n_households": 2}}, "community.n_households"),
        ({"community": {"mix": {"consumer": 0.9, "prosumer": 0.9, "prosumer_battery": 0}}}, "community.mix"),
        ({"market": {"price_levels": 1}}, "market.price_levels"),
        ({"market": {"tariff": {"retail": 0.05, "feed_in": 0.08}}}, "tariff.retail"),
        ({"market": {"price_rule": "random"}}, "market.price_rule"),
        ({"comunity": {}}, "unknown section 'comunity'"),
    ],
)
def test_bad_config_value_is_one_line_error_naming_the_key(tmp_path, config, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["simulate", "--scenario", str(path), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 2
    out = result.output.strip()
    assert out.startswith("error: ") and len(out.splitlines()) == 1 and expected in out
    assert path.read_text() == yaml.safe_dump(config)  # the user's file is untouched


def test_unknown_scenario_and_broken_yaml(tmp_path):
    result = runner.invoke(app, ["simulate", "--scenario", "nope", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 2 and "unknown scenario 'nope'" in result.output
    bad = tmp_path / "broken.yaml"
    bad.write_text("community: [unclosed")
    result = runner.invoke(app, ["simulate", "--scenario", str(bad), "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 2 and "not valid YAML" in result.output


def test_scenarios_list_and_show():
    listed = runner.invoke(app, ["scenarios", "list"]).stdout.split()
    assert {"pilot", "community", "mixed", "scale"} <= set(listed)
    shown = yaml.safe_load(runner.invoke(app, ["scenarios", "show", "community"]).stdout)
    assert shown["community"]["n_households"] == 50


@pytest.mark.parametrize("args", [[], ["simulate"], ["scenarios"], ["scenarios", "show"]])
def test_help_everywhere(args):
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_installed_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "fairmarket_cli.main", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "simulate" in result.stdout
