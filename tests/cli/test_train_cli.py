"""`fairmarket train | replay | evaluate` from the command line (rule critic: fast and exact)."""

import json

from fairmarket_cli.main import app
from typer.testing import CliRunner

runner = CliRunner()


def test_train_replay_evaluate(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "--critic", "rule", "--episodes", "3", "--out", str(out), "--json",
                                 "--quiet"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["episodes"] == 3
    for name in ("manifest.json", "metrics.csv", "metrics.jsonl", "results.json", "training_curves.png", "policies",
                 "checkpoints", "tensorboard", "slots"):
        assert (out / name).exists(), name
    assert runner.invoke(app, ["replay", str(out), "--quiet"]).stdout.strip() == "identical"
    table = runner.invoke(app, ["evaluate", str(out), "--episodes", "1", "--json", "--quiet"])
    rows = json.loads(table.stdout)
    assert [r["policy"] for r in rows] == ["trained", "grid-only", "truthful", "zi"]
    assert all(r["constraint_violations"] == 0 for r in rows)
    rescored = json.loads(runner.invoke(app, ["replay", str(out), "--critic", "rule"]).stdout)
    assert rescored["mae"] == {"ftg": 0.0, "fbs": 0.0, "fpp": 0.0}


def test_train_errors_are_one_line(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["train", "--critic", "rule", "--out", str(out), "--quiet"])
    assert result.exit_code == 2 and "already holds a run" in result.output
    assert (out / "notes.txt").read_text() == "mine"
    result = runner.invoke(app, ["train", "--critic", "no-such-model", "--out", str(tmp_path / "x"), "--quiet"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
    result = runner.invoke(app, ["replay", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "not a training run" in result.output
