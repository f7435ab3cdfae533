"""Checkpoints: a bad ``latest`` falls back to the newest intact checkpoint; a full disk keeps the previous one."""

import errno
import logging
import os
import shutil
import subprocess
import sys

import pytest
from fairmarket_cli.main import app
from typer.testing import CliRunner

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.rule import RuleCritic
from fairmarket_local.training import checkpoint, run, train
from fairmarket_local.training.checkpoint import load_checkpoint, save_checkpoint
from fairmarket_local.training.manifest import config_of, read_manifest
from fairmarket_local.training.replay import compare_runs
from fairmarket_local.training.trainer import Trainer
from tests.mounts import fill, small_disk
from tests.training.runs import rule_scenario, stop_in_episode
from tests.user_errors import assert_one_error_line

runner = CliRunner()


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A 4-episode run checkpointed every 2 episodes: ep_00002 and ep_00004 on disk."""
    out = tmp_path_factory.mktemp("finished") / "r"
    train("pilot", out=out, **{"critic.model": "rule", "training.episodes": 4, "training.checkpoint_every": 2})
    return out


@pytest.fixture
def ckpts(finished, tmp_path):
    copy = tmp_path / "r"
    shutil.copytree(finished, copy)
    return copy / "checkpoints"


def _restore(checkpoints):
    trainer = Trainer(config_of(read_manifest(checkpoints.parent)), RuleCritic())
    return trainer if load_checkpoint(trainer, checkpoints) else None


def test_latest_names_the_checkpoint_it_restores(ckpts, caplog):
    assert _restore(ckpts).episode == 4 and not caplog.records


@pytest.mark.parametrize("pointer", ["", "\n", "/etc", "../..", "ep_00004/../ep_00002", "ep_00009", "ep_4",
                                     "../../other/checkpoints/ep_00004", b"\xff\xfe\x00garbage"])
def test_a_bad_latest_falls_back_to_the_newest_intact_checkpoint(ckpts, caplog, pointer):
    (ckpts / "latest").write_bytes(pointer if isinstance(pointer, bytes) else pointer.encode())
    with caplog.at_level(logging.WARNING):
        assert _restore(ckpts).episode == 4
    assert len(caplog.records) == 1 and str(ckpts / "ep_00004") in caplog.text


def test_latest_is_never_followed_outside_the_run(ckpts, tmp_path):
    foreign = tmp_path / "other" / "checkpoints"
    shutil.copytree(ckpts, foreign)
    shutil.rmtree(foreign / "ep_00004")
    (ckpts / "latest").write_text("../../other/checkpoints/ep_00002\n")
    shutil.rmtree(ckpts / "ep_00004")
    (ckpts / "ep_00002" / "state.json").write_text("{")
    with pytest.raises(FairmarketError, match="no intact checkpoint") as info:
        _restore(ckpts)
    assert len(str(info.value).splitlines()) == 1


def test_an_unreadable_checkpoint_falls_back_to_the_previous_one(ckpts, caplog):
    for damage in ("state.json", "rng.pt", "group_0000.zip"):
        (ckpts / "ep_00004" / damage).write_bytes(b"\0" * 10)
        with caplog.at_level(logging.WARNING):
            assert _restore(ckpts).episode == 2
        assert f"{ckpts / 'ep_00004'} is unreadable" in caplog.text and str(ckpts / "ep_00002") in caplog.text
        caplog.clear()
        shutil.copytree(ckpts / "ep_00002", ckpts / "ep_00004", dirs_exist_ok=True)
    shutil.rmtree(ckpts / "ep_00004")
    (ckpts / "latest").unlink()
    assert _restore(ckpts).episode == 2  # a pointer lost before it was written


def test_no_intact_checkpoint_is_one_line_and_no_checkpoint_at_all_starts_over(ckpts):
    for folder in ("ep_00002", "ep_00004"):
        (ckpts / folder / "rng.pt").write_text("x")
    with pytest.raises(FairmarketError, match="no intact checkpoint in") as info:
        _restore(ckpts)
    assert len(str(info.value).splitlines()) == 1
    shutil.rmtree(ckpts)
    ckpts.mkdir()
    assert _restore(ckpts) is None


def test_leftovers_of_an_interrupted_save_are_ignored_then_removed(ckpts):
    (ckpts / ".latest.abc123").write_text("ep_00099\n")
    (ckpts / ".tmp-ep_00006").mkdir()
    (ckpts / ".tmp-ep_00006" / "state.json").write_text("{")
    trainer = _restore(ckpts)
    assert trainer.episode == 4
    save_checkpoint(trainer, ckpts)
    assert sorted(p.name for p in ckpts.iterdir()) == ["ep_00002", "ep_00004", "latest"]


def test_resume_from_a_fallback_checkpoint_is_exact(tmp_path, monkeypatch):
    scenario = rule_scenario(tmp_path, episodes=3, checkpoint_every=1)
    straight = train(scenario, out=tmp_path / "straight")
    stop_in_episode(monkeypatch, 3)
    out = tmp_path / "r"
    with pytest.raises(FairmarketError, match="stopped"):
        train(scenario, out=out)
    monkeypatch.undo()
    (out / "checkpoints" / "ep_00002" / "rng.pt").write_bytes(b"")
    # not --quiet: it silences log lines, and this one says which checkpoint the run continues from
    result = subprocess.run([sys.executable, "-m", "fairmarket_cli.main", "train", "--resume", "--out", str(out),
                             "--json"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if "resuming from" in line]
    assert len(warning) == 1 and f"{out / 'checkpoints' / 'ep_00002'} is unreadable" in warning[0]
    assert warning[0].endswith(f"resuming from {out / 'checkpoints' / 'ep_00001'}, the newest intact checkpoint")
    assert compare_runs(straight.run_dir, out) == []


def _full_disk_at_episode_4(monkeypatch, make_full):
    real = run.save_checkpoint

    def save(trainer, checkpoints):
        if trainer.episode == 4:
            make_full()
        return real(trainer, checkpoints)

    monkeypatch.setattr(run, "save_checkpoint", save)


def _check_full_disk_run(result, out, straight, monkeypatch):
    assert_one_error_line(result, "cannot write checkpoint", "ep_00004", "No space left on device", "--resume")
    checkpoints = out / "checkpoints"
    assert (checkpoints / "latest").read_text() == "ep_00002\n"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["ep_00002", "latest"]
    monkeypatch.undo()
    result = runner.invoke(app, ["train", "--resume", "--out", str(out), "--quiet", "--json"])
    assert result.exit_code == 0 and not result.stderr, result.output
    assert compare_runs(straight, out) == []


def test_a_full_disk_during_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch):
    scenario = rule_scenario(tmp_path, episodes=5, checkpoint_every=2)
    straight = train(scenario, out=tmp_path / "straight").run_dir
    with small_disk(tmp_path / "disk") as disk:
        filler = []
        _full_disk_at_episode_4(monkeypatch, lambda: filler.append(fill(disk)))
        result = runner.invoke(app, ["train", "--scenario", str(scenario), "--out", str(disk / "r"), "--quiet"])
        filler[0].unlink()
        _check_full_disk_run(result, disk / "r", straight, monkeypatch)


def test_a_simulated_full_disk_during_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch):
    scenario = rule_scenario(tmp_path, episodes=5, checkpoint_every=2)
    straight = train(scenario, out=tmp_path / "straight").run_dir

    def no_space(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    _full_disk_at_episode_4(monkeypatch, lambda: monkeypatch.setattr(checkpoint, "_write", no_space))
    out = tmp_path / "r"
    result = runner.invoke(app, ["train", "--scenario", str(scenario), "--out", str(out), "--quiet"])
    _check_full_disk_run(result, out, straight, monkeypatch)
