"""Running a study: results table, resume, refusal to mix studies, and executors that agree exactly."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.experiments import gather, load_experiment, run_experiment, runner

TINY = Path(__file__).parent / "tiny.yaml"
VOLATILE = ("seconds", "peak_rss_mb")


def _stable(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in VOLATILE} for row in rows]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("study") / "tiny"
    return out, run_experiment(TINY, out)


def test_a_study_writes_one_row_per_arm_seed_and_grid_point(study) -> None:
    out, rows = study
    assert len(rows) == 2 * 2 * 3  # grid points x seeds x arms
    assert {r["arm"] for r in rows} == {"truthful", "ippo-rule", "ippo-no-fairness"}
    assert {r["pv_scale"] for r in rows} == {0.8, 1.2}
    assert all(r["constraint_violations"] == 0 for r in rows)
    for name in ("experiment.json", "results.csv", "results.jsonl", "summary.md"):
        assert (out / name).is_file()
    assert "ippo-no-fairness" in (out / "summary.md").read_text()
    assert len(list((out / "runs").iterdir())) == 8  # training jobs only


def test_rerunning_resumes_without_running_finished_jobs(study, monkeypatch) -> None:
    out, rows = study
    monkeypatch.setattr(runner, "run_job", lambda *a, **k: pytest.fail("a finished job ran again"))
    assert _stable(run_experiment(TINY, out)) == _stable(rows)


def test_an_interrupted_training_job_resumes_from_its_checkpoint(study, tmp_path: Path) -> None:
    out, rows = study
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    job = "ippo-rule__pv_scale=0.8__s1"
    (copy / "results" / f"{job}.json").unlink()  # as if killed after its last checkpoint
    again = run_experiment(TINY, copy)
    assert _stable(again) == _stable(rows)


def test_a_folder_holding_another_study_is_refused(study, tmp_path: Path) -> None:
    out, _ = study
    other = tmp_path / "other.yaml"
    other.write_text(TINY.read_text().replace("seeds: [0, 1]", "seeds: [5]"))
    before = sorted(p.name for p in (out / "results").iterdir())
    with pytest.raises(FairmarketError, match="holds another experiment"):
        run_experiment(other, out)
    assert sorted(p.name for p in (out / "results").iterdir()) == before
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "mine.txt").write_text("keep")
    with pytest.raises(FairmarketError, match="not empty"):
        run_experiment(TINY, tmp_path / "occupied")
    assert (tmp_path / "occupied" / "mine.txt").read_text() == "keep"


def test_a_typo_in_an_arm_fails_before_any_job(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text().replace("overrides: {}", "overrides: {critic.modle: rule}"))
    with pytest.raises(FairmarketError, match="modle"):
        run_experiment(bad, tmp_path / "out")
    assert not (tmp_path / "out" / "results").exists()


def test_gather_needs_an_experiment_folder(tmp_path: Path) -> None:
    with pytest.raises(FairmarketError, match="not an experiment folder"):
        gather(tmp_path)


@pytest.mark.slow
def test_two_local_workers_give_the_same_table(study, tmp_path: Path) -> None:
    _, rows = study
    assert _stable(run_experiment(TINY, tmp_path / "pool", workers=2)) == _stable(rows)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_real_ray_cluster_on_loopback_gives_the_same_table(study, tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("ray")
    _, rows = study
    port = _free_port()
    ray_bin = Path(sys.executable).with_name("ray")
    # A private HOME: Ray keeps state in ~/.ray (an auth token an earlier local instance left there
    # makes a fresh cluster refuse the driver).
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    temp = Path("/tmp") / f"ray-{port}"  # Ray's socket paths must stay short
    start = [str(ray_bin), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"]
    subprocess.run(start, check=True, env=env, capture_output=True, timeout=120)
    try:
        got = run_experiment(TINY, tmp_path / "ray", executor="ray", address=f"127.0.0.1:{port}")
    finally:
        subprocess.run([str(ray_bin), "stop", "--force"], env=env, capture_output=True, timeout=120, check=False)
        shutil.rmtree(temp, ignore_errors=True)
    assert _stable(got) == _stable(rows)
    stored = json.loads((tmp_path / "ray" / "experiment.json").read_text())
    assert stored == load_experiment(TINY).model_dump(mode="json")


def test_grid_key_order_survives_the_stored_config(tmp_path: Path) -> None:
    config = tmp_path / "two_keys.yaml"
    config.write_text(TINY.read_text().replace("seeds: [0, 1]", "seeds: [0]").replace(
        "  community.pv_scale: [0.8, 1.2]", "  community.pv_scale: [1.2]\n  community.demand_scale: [0.9]").replace(
        "  - {name: ippo-rule, overrides: {}}\n", "").replace(
        "  - {name: ippo-no-fairness, overrides: {training.shaping.lambda_max: 0.0}}\n", ""))
    rows = run_experiment(config, tmp_path / "out")
    assert len(rows) == 1 and rows[0]["pv_scale"] == 1.2 and rows[0]["demand_scale"] == 0.9
    assert gather(tmp_path / "out") == rows
