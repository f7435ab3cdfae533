"""Exact resume after ``kill -9`` and bit-identical replay from the cached critic (SPEC §7)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.training import train
from fairmarket_local.training.replay import compare_runs, replay

RULE = {"critic.model": "rule", "training.checkpoint_every": 2}


#: A learning critic (rule-taught, so exact and fast) whose labels and weights must survive the kill too.
AMORTIZED = {"enabled": True, "label_budget": 40, "warmup_labels": 10, "labels_per_episode": 3}


def _scenario(tmp_path, episodes, critic=None):
    path = tmp_path / "scenario.yaml"
    data = yaml.safe_load(open(os.path.join(os.path.dirname(__file__), "..", "..", "fairmarket_local",
                                            "scenarios", "pilot.yaml")))
    data["training"].update({"episodes": episodes, "checkpoint_every": 2})
    data["critic"] = {"model": "rule", **(critic or {})}
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("critic", [None, {"amortize": AMORTIZED}], ids=["rule", "amortized"])
def test_kill_9_then_resume_equals_an_uninterrupted_run(tmp_path, critic):
    episodes = 16
    scenario = _scenario(tmp_path, episodes, critic)
    straight = train(scenario, out=tmp_path / "straight")
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "fairmarket_cli.main", "train", "--scenario", str(scenario), "--out", str(killed),
           "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    latest = killed / "checkpoints" / "latest"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if latest.exists() and latest.read_text().strip() >= "ep_00004":
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = json.loads((killed / "metrics.jsonl").read_text().splitlines()[-1])["episode"]
    assert done < episodes
    resumed = subprocess.run([*cmd, "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert compare_runs(straight.run_dir, killed) == []


def test_resume_with_other_settings_is_refused(tmp_path):
    train("pilot", out=tmp_path / "r", **{**RULE, "training.episodes": 2})
    with pytest.raises(FairmarketError, match="other settings"):
        train("pilot", out=tmp_path / "r", resume=True, **{**RULE, "training.episodes": 5})


def test_existing_run_is_not_overwritten(tmp_path):
    train("pilot", out=tmp_path / "r", **{**RULE, "training.episodes": 1})
    before = (tmp_path / "r" / "metrics.jsonl").read_text()
    with pytest.raises(FairmarketError, match="already holds a run"):
        train("pilot", out=tmp_path / "r", **{**RULE, "training.episodes": 1})
    assert (tmp_path / "r" / "metrics.jsonl").read_text() == before


@pytest.mark.parametrize("amortized", [False, True], ids=["rule", "amortized"])
def test_replay_of_a_rule_critic_run_is_identical(tmp_path, amortized):
    amortize = {f"critic.amortize.{k}": v for k, v in AMORTIZED.items()} if amortized else {
        "critic.amortize.enabled": False}
    run = train("pilot", out=tmp_path / "r", **{**RULE, **amortize, "training.episodes": 3})
    report = replay(run.run_dir)
    assert report["identical"], report["differences"]
    assert (run.run_dir / "policies" / "fairness_model.pt").exists() == amortized


TINY_LLM = {"critic.model": "smollm2-135m", "critic.workers": 1, "community.n_households": 5, "community.n_days": 1,
            "training.episodes": 1}


@pytest.mark.slow
def test_llm_run_replays_identically_without_the_model_and_a_missing_answer_names_its_key(tmp_path, monkeypatch):
    pytest.importorskip("llama_cpp")
    run = train("pilot", out=tmp_path / "llm", **TINY_LLM)
    assert run.results["critic_cache_misses"] > 0 and run.results["critic_fallbacks"] == 0

    import fairmarket_local.critic.backends.llama_cpp_backend as backend

    def no_model(*args, **kwargs):
        raise AssertionError("replay must not load the model")

    monkeypatch.setattr(backend, "_load", no_model)
    report = replay(run.run_dir)
    assert report["identical"], report["differences"]

    import diskcache

    with diskcache.Cache(str(run.run_dir / "critic-cache")) as cache:
        victim = next(iter(cache))
        del cache[victim]
    with pytest.raises(FairmarketError, match=victim):
        replay(run.run_dir)
