"""`fairmarket train` in a bad environment: one line, exit status 2, and nothing left that blocks a rerun."""

import json

import pytest
import yaml
from fairmarket_cli.main import app
from typer.testing import CliRunner

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.training import train
from tests.mounts import fill, read_only_view, small_disk
from tests.training.runs import before_episode, rule_scenario, stop_in_episode
from tests.user_errors import assert_one_error_line

runner = CliRunner()
FAST = ["--critic", "rule", "--episodes", "2", "--quiet"]


def test_train_into_an_unwritable_folder_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("mine")
    for out in (blocker / "sub", blocker, tmp_path / "file" / "a" / "b"):
        assert_one_error_line(runner.invoke(app, ["train", *FAST, "--out", str(out)]), str(out))
    assert blocker.read_text() == "mine"


def test_train_into_a_read_only_folder_is_one_line(tmp_path):
    (tmp_path / "src").mkdir()
    with read_only_view(tmp_path / "src", tmp_path / "ro") as ro:
        assert_one_error_line(runner.invoke(app, ["train", *FAST, "--out", str(ro / "run")]), str(ro / "run"))
        assert_one_error_line(runner.invoke(app, ["train", *FAST, "--out", str(ro)]), str(ro))


def _ghost_model(home):
    """A registered llama.cpp model whose weights are not there: the run fails at its first scoring."""
    (home / "models").mkdir(parents=True)
    (home / "models" / "ghost.yaml").write_text(yaml.safe_dump({
        "id": "ghost", "backend": "llama_cpp", "weights": {"path": str(home / "ghost.gguf")}, "sha256": "0" * 64,
        "size": 1, "licence": "test"}))


@pytest.mark.parametrize("existed", [False, True])
def test_a_failed_start_leaves_the_folder_as_it_was(tmp_path, monkeypatch, existed):
    monkeypatch.setenv("FAIRMARKET_HOME", str(tmp_path / "home"))
    _ghost_model(tmp_path / "home")
    out = tmp_path / "runs" / "r"
    if existed:
        out.mkdir(parents=True)
    result = runner.invoke(app, ["train", "--critic", "ghost", "--episodes", "2", "--out", str(out), "--quiet"])
    assert_one_error_line(result, "ghost")
    assert (list(out.iterdir()) == []) if existed else not (tmp_path / "runs").exists()
    result = runner.invoke(app, ["train", *FAST, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output


def test_a_failure_after_the_first_checkpoint_keeps_the_run_resumable(tmp_path, monkeypatch):
    stop_in_episode(monkeypatch, 3)
    out = tmp_path / "r"
    with pytest.raises(FairmarketError, match="stopped"):
        train("pilot", out=out, **{"critic.model": "rule", "training.episodes": 3, "training.checkpoint_every": 2})
    assert (out / "checkpoints" / "latest").read_text().strip() == "ep_00002"
    monkeypatch.undo()
    assert len(train(out=out, resume=True).rows) == 3


def test_resume_with_another_scenario_is_refused(tmp_path):
    scenario = rule_scenario(tmp_path, episodes=2, checkpoint_every=1)
    out = tmp_path / "r"
    assert runner.invoke(app, ["train", "--scenario", str(scenario), "--out", str(out), "--quiet"]).exit_code == 0
    before = sorted(p.name for p in out.rglob("*"))
    other = runner.invoke(app, ["train", "--scenario", "pilot", "--resume", "--out", str(out), "--quiet"])
    assert_one_error_line(other, "other settings")
    assert sorted(p.name for p in out.rglob("*")) == before
    for same in (["--scenario", str(scenario)], []):
        result = runner.invoke(app, ["train", *same, "--resume", "--out", str(out), "--quiet", "--json"])
        assert result.exit_code == 0, result.output


def test_a_full_disk_between_checkpoints_is_one_line_and_the_run_resumes(tmp_path, monkeypatch):
    scenario = rule_scenario(tmp_path, episodes=3, checkpoint_every=2)
    with small_disk(tmp_path / "disk") as disk:
        filler = []
        before_episode(monkeypatch, 3, lambda: filler.append(fill(disk)))
        out = disk / "r"
        result = runner.invoke(app, ["train", "--scenario", str(scenario), "--out", str(out), "--quiet"])
        assert_one_error_line(result, f"cannot write {out / 'slots' / 'ep_00003.jsonl.gz'}: No space left on device")
        assert not list((out / "slots").glob("*.tmp"))
        filler[0].unlink()
        monkeypatch.undo()
        result = runner.invoke(app, ["train", "--resume", "--out", str(out), "--quiet", "--json"])
        assert result.exit_code == 0 and json.loads(result.stdout)["episodes"] == 3, result.output
