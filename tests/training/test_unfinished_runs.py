"""`evaluate` and `replay` of a run that is unfinished or damaged: one line naming what is wrong, nothing re-run."""

import gzip
import json
import shutil

import pytest
from fairmarket_cli.main import app
from typer.testing import CliRunner

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.training import train
from tests.training.runs import stop_in_episode
from tests.user_errors import assert_one_error_line

runner = CliRunner()
RULE = {"critic.model": "rule", "training.episodes": 3, "training.checkpoint_every": 2}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    return train("pilot", out=tmp_path_factory.mktemp("finished") / "r", **RULE).run_dir


@pytest.fixture
def finished(finished_run, tmp_path):
    shutil.copytree(finished_run, tmp_path / "r")
    return tmp_path / "r"


@pytest.fixture
def unfinished(tmp_path, monkeypatch):
    stop_in_episode(monkeypatch, 3)
    with pytest.raises(FairmarketError, match="stopped"):
        train("pilot", out=tmp_path / "u", **RULE)
    monkeypatch.undo()
    return tmp_path / "u"


def _unfinished_error(result, run, missing):
    assert_one_error_line(result, f"{run} is an unfinished run", missing, f"fairmarket train --resume --out {run}")


def test_evaluate_of_an_unfinished_run_says_how_to_finish_it(unfinished):
    result = runner.invoke(app, ["evaluate", str(unfinished), "--episodes", "1", "--quiet"])
    _unfinished_error(result, unfinished, "policies/group_0000.zip")
    assert not (unfinished / "evaluation.json").exists()


def test_evaluate_without_policies_or_with_a_damaged_one(finished):
    (finished / "policies" / "group_0003.zip").write_bytes(b"PK\x03\x04 cut")
    result = runner.invoke(app, ["evaluate", str(finished), "--episodes", "1", "--quiet"])
    assert_one_error_line(result, "group_0003.zip is not a readable policy", "--resume")
    shutil.rmtree(finished / "policies")
    result = runner.invoke(app, ["evaluate", str(finished), "--episodes", "1", "--quiet"])
    _unfinished_error(result, finished, "policies/group_0000.zip")
    assert runner.invoke(app, ["train", "--resume", "--out", str(finished), "--quiet"]).exit_code == 0
    assert runner.invoke(app, ["evaluate", str(finished), "--episodes", "1", "--quiet"]).exit_code == 0


def test_replay_of_an_unfinished_run_does_not_retrain(unfinished):
    _unfinished_error(runner.invoke(app, ["replay", str(unfinished), "--quiet"]), unfinished, "policies/")
    _unfinished_error(runner.invoke(app, ["replay", str(unfinished), "--critic", "rule"]), unfinished, "policies/")
    assert not (unfinished / "replay").exists()


@pytest.mark.parametrize("damage", ["missing", "not gzip", "not JSON", "not objects"])
def test_replay_critic_names_a_missing_or_bad_slot_file(finished, damage):
    slots = finished / "slots" / "ep_00002.jsonl.gz"
    if damage == "missing":
        slots.unlink()
    elif damage == "not gzip":
        slots.write_bytes(b"\x00\x01 not gzip")
    else:
        slots.write_bytes(gzip.compress(b'{"slot": 1\n' if damage == "not JSON" else b"[1, 2]\n"))
    result = runner.invoke(app, ["replay", str(finished), "--critic", "rule"])
    assert_one_error_line(result, str(slots), "missing" if damage == "missing" else "slot file")


def test_replay_critic_of_an_intact_run_scores_every_slot(finished):
    result = runner.invoke(app, ["replay", str(finished), "--critic", "rule"])
    assert result.exit_code == 0, result.output
    recorded = sum(len(gzip.decompress(p.read_bytes()).splitlines()) for p in (finished / "slots").iterdir())
    assert json.loads(result.stdout)["slots"] == recorded > 0
