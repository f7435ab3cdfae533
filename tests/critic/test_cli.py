"""The critic's CLI commands through typer's CliRunner (registered on a local app as main.py does)."""

import json

import pytest
import typer
from fairmarket_cli.cache import cache_app
from fairmarket_cli.critic import critic_app
from fairmarket_cli.doctor import doctor
from fairmarket_cli.models import models_app
from typer.testing import CliRunner

from tests.critic.critic_helpers import SLOTS
from tests.critic.gguf_files import write_gguf

app = typer.Typer()
app.add_typer(critic_app, name="critic")
app.add_typer(models_app, name="models")
app.add_typer(cache_app, name="cache")
app.command()(doctor)
runner = CliRunner()


@pytest.fixture
def slots_file(tmp_path):
    path = tmp_path / "slots.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in SLOTS))
    return path


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_score_with_rule_writes_jsonl_and_refuses_overwrite(tmp_path, slots_file):
    out = tmp_path / "scores.jsonl"
    result = invoke("critic", "score", "--model", "rule", "--input", slots_file, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["slot"] for r in rows] == list(range(len(SLOTS))) and {r["source"] for r in rows} == {"rule"}
    again = invoke("critic", "score", "--model", "rule", "--input", slots_file, "--out", out, "--quiet")
    assert again.exit_code == 2 and "already exists" in again.output and len(again.output.splitlines()) == 1


def test_user_errors_are_one_line(tmp_path, slots_file):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(SLOTS[0]) + "\n{\"hour\": 3}\n")
    cases = [
        (["critic", "score", "--model", "rule", "--input", bad, "--out", tmp_path / "o"], "bad.jsonl:2: not a slot"),
        (["critic", "score", "--model", "nope", "--input", slots_file, "--out", tmp_path / "o"], "unknown model"),
        (["critic", "score", "--model", "smollm2-135m", "--template", "zzz", "--input", slots_file,
          "--out", tmp_path / "o"], "unknown prompt template"),
        (["critic", "score", "--model", "smollm2-135m", "--input", slots_file, "--out", tmp_path / "o",
          "--cache-mode", "maybe", "--cache-dir", tmp_path / "c"], "unknown cache mode"),
        (["cache", "stats", "--cache-dir", tmp_path / "none"], "no critic cache"),
    ]
    for args, message in cases:
        result = invoke(*args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1


def test_replay_miss_names_the_key(tmp_path, slots_file):
    result = invoke("critic", "score", "--model", "smollm2-135m", "--input", slots_file, "--out", tmp_path / "o",
                    "--cache-mode", "replay", "--cache-dir", tmp_path / "c", "--quiet")
    assert result.exit_code == 2 and "replay mode: no cached answer for key " in result.output


def test_compare_rule_writes_table_and_plots(tmp_path, slots_file):
    out = tmp_path / "cmp"
    result = invoke("critic", "compare", "--models", "rule", "--input", slots_file, "--out", out,
                    "--repeat-n", "2", "--quiet")
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"critics.csv", "critics.md", "agreement.png", "scatter.png"}
    header, row = out.joinpath("critics.csv").read_text().splitlines()
    values = dict(zip(header.split(","), row.split(",")))
    assert values["validity_pct"] == "100.0" and values["mae_fbs"] == "0.0" and values["spearman_fbs"] == "1.0"
    assert values["invariance_pct"] == "100.0" and values["repeatability_pct"] == "100.0"
    assert "| rule | - | 100 |" in result.output
    assert invoke("critic", "compare", "--models", "rule", "--input", slots_file, "--out", out).exit_code == 2


def test_models_list_and_add(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRMARKET_HOME", str(tmp_path / "home"))
    gguf = write_gguf(tmp_path / "tiny.gguf")
    result = invoke("models", "add", gguf, "--chat-format", "chatml")
    assert result.exit_code == 0 and "registered tiny" in result.output
    listed = invoke("models", "list")
    assert listed.exit_code == 0 and "smollm2-135m" in listed.output and "tiny" in listed.output
    assert invoke("models", "verify", "tiny").exit_code == 0
    gguf.write_bytes(gguf.read_bytes()[:-1] + b"\1")  # the same size, another last value
    failed = invoke("models", "verify", "tiny")
    assert failed.exit_code == 1 and "FAIL  tiny" in failed.output


def test_cache_commands_round_trip(tmp_path):
    from tests.critic.critic_helpers import fake_critic

    fake_critic(tmp_path / "c").score(SLOTS[:3])
    assert json.loads(invoke("cache", "stats", "--cache-dir", tmp_path / "c").output)["entries"] == 3
    assert "0 corrupt" in invoke("cache", "verify", "--cache-dir", tmp_path / "c").output
    assert "exported 3" in invoke("cache", "export", tmp_path / "e.jsonl", "--cache-dir", tmp_path / "c").output
    assert "3 added" in invoke("cache", "import", tmp_path / "e.jsonl", "--cache-dir", tmp_path / "d").output
    assert "deleted 3" in invoke("cache", "prune", "--template", "raw", "--cache-dir", tmp_path / "d").output


def test_doctor_reports_readiness(tmp_path):
    result = invoke("doctor", "--cache-dir", tmp_path / "c")
    assert "offline guards" in result.output and "critic cache" in result.output
    assert result.exit_code in (0, 1)
