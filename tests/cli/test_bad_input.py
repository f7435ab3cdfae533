"""Bad input at the command line: one line ``error: …`` naming the file / line / key, exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fairmarket_cli.main import app
from typer.testing import CliRunner

from fairmarket_local.critic.registry.manifests import get_model
from tests.critic.critic_helpers import SLOTS

runner = CliRunner()
GOOD = "".join(json.dumps(s) + "\n" for s in SLOTS)
BAD_SLOTS = {
    "nan": (SLOTS[0] | {"retail": float("nan")}, "not JSON (NaN is not a JSON number)"),
    "hour": (SLOTS[0] | {"hour": 99}, "hour: 99 is not an hour of the day"),
    "energy": (SLOTS[0] | {"sellers": [SLOTS[0]["sellers"][0] | {"surplus_kwh": -2.0}]}, "negative energy"),
    "schema": (SLOTS[0] | {"schema": 9}, "schema: 9 is unknown"),
    "tariff": (SLOTS[0] | {"feed_in": 0.4}, "retail: must exceed feed_in"),
}


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("FAIRMARKET_HOME", str(folder))
    return folder


def _one_line_error(*args: object) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def _slots_file(tmp_path: Path, extra: str | bytes) -> Path:
    path = tmp_path / "slots.jsonl"
    path.write_bytes(GOOD.encode() + (extra if isinstance(extra, bytes) else extra.encode()))
    return path


@pytest.mark.parametrize("case", sorted(BAD_SLOTS))
@pytest.mark.parametrize("model", ["rule", "smollm2-135m"])
def test_critic_score_refuses_bad_slots(tmp_path: Path, case: str, model: str) -> None:
    summary, problem = BAD_SLOTS[case]
    path = _slots_file(tmp_path, json.dumps(summary) + "\n")
    line = _one_line_error("critic", "score", "--model", model, "--input", path, "--out", tmp_path / "o.jsonl",
                           "--cache-mode", "off", "--quiet")
    assert f"{path}:{len(SLOTS) + 1}: " in line and problem in line
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("models", ["rule", "smollm2-135m,rule"])
def test_critic_compare_refuses_bad_slots(tmp_path: Path, models: str) -> None:
    path = _slots_file(tmp_path, json.dumps(BAD_SLOTS["hour"][0]) + "\n")
    line = _one_line_error("critic", "compare", "--models", models, "--input", path, "--out", tmp_path / "cmp",
                           "--cache-mode", "off", "--quiet")
    assert f"{path}:{len(SLOTS) + 1}: not a slot summary (hour: 99" in line


@pytest.mark.parametrize("command", [["critic", "score", "--model", "rule", "--out", "o.jsonl"],
                                     ["critic", "compare", "--models", "rule", "--out", "cmp"]])
def test_slot_files_that_are_not_utf8(tmp_path: Path, command: list[str]) -> None:
    path = _slots_file(tmp_path, b'{"day": "\xff"}\n')
    line = _one_line_error(*command, "--input", path, "--quiet")
    assert line == f"error: {path}:{len(SLOTS) + 1}: not UTF-8 text (byte 0xff)"


def test_cache_import_of_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_bytes(b'{"key": "k"}\n\x80\n')
    line = _one_line_error("cache", "import", path, "--cache-dir", tmp_path / "cache")
    assert line == f"error: {path}:2: not UTF-8 text (byte 0x80)"


def test_cache_import_refuses_nan(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text('{"key": "k", "entry": {"scores": {"ftg": NaN, "fbs": 1, "fpp": 1}}}\n')
    line = _one_line_error("cache", "import", path, "--cache-dir", tmp_path / "cache")
    assert line.startswith(f"error: {path}:1: not a valid cache export line (NaN is not a JSON number")


def test_compare_without_models(tmp_path: Path) -> None:
    path = _slots_file(tmp_path, "")
    for models in (",", " , ,", ""):
        line = _one_line_error("critic", "compare", "--models", models, "--input", path, "--out", tmp_path / "cmp")
        assert "--models: no models given" in line


@pytest.mark.parametrize("model", ["rule", "smollm2-135m"])
def test_an_unknown_cache_mode_is_refused_by_every_critic(tmp_path: Path, model: str) -> None:
    path = _slots_file(tmp_path, "")
    line = _one_line_error("critic", "score", "--model", model, "--input", path, "--out", tmp_path / "o.jsonl",
                           "--cache-mode", "bogus", "--quiet")
    assert line == "error: unknown cache mode 'bogus' (choose from use, replay, refresh, off)"


def test_a_template_file_that_is_not_utf8(tmp_path: Path) -> None:
    template = tmp_path / "mine.v1.txt"
    template.write_bytes(b"[system]\nJudge fairly.\n[user]\nSlot \xe9t\xe9:\n{slot}\n")
    line = _one_line_error("critic", "score", "--model", "smollm2-135m", "--template", template,
                           "--input", _slots_file(tmp_path, ""), "--out", tmp_path / "o.jsonl", "--cache-mode", "off")
    assert line == f"error: {template}:4: not UTF-8 text (byte 0xe9)"


def test_a_user_prompt_override_that_is_not_utf8(tmp_path: Path, home: Path) -> None:
    (home / "prompts").mkdir(parents=True)
    (home / "prompts" / "raw.v1.txt").write_bytes(b"[system]\n\xff\n[user]\n{slot}\n")
    line = _one_line_error("critic", "score", "--model", "smollm2-135m", "--template", "raw.v1",
                           "--input", _slots_file(tmp_path, ""), "--out", tmp_path / "o.jsonl", "--cache-mode", "off")
    assert line == f"error: {home / 'prompts' / 'raw.v1.txt'}:2: not UTF-8 text (byte 0xff)"


@pytest.fixture
def broken_manifest(home: Path) -> Path:
    folder = home / "models"
    folder.mkdir(parents=True)
    path = folder / "mine.yaml"
    path.write_bytes(b"id: mine\nlicence: caf\xe9\n")
    return path


def test_models_list_shows_the_good_models_and_flags_the_broken_manifest(broken_manifest: Path) -> None:
    result = runner.invoke(app, ["models", "list"])
    assert result.exit_code == 2
    assert "smollm2-135m" in result.stdout and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: {broken_manifest}:2: not UTF-8 text (byte 0xe9)"]


def test_a_broken_manifest_is_an_error_only_for_its_model(tmp_path: Path, broken_manifest: Path) -> None:
    line = _one_line_error("critic", "score", "--model", "mine", "--input", _slots_file(tmp_path, ""),
                           "--out", tmp_path / "o.jsonl")
    assert line == f"error: {broken_manifest}:2: not UTF-8 text (byte 0xe9)"
    assert get_model("smollm2-135m").id == "smollm2-135m"
    other = _one_line_error("critic", "score", "--model", "nope", "--input", _slots_file(tmp_path, ""),
                            "--out", tmp_path / "o.jsonl")
    assert "unknown model 'nope'" in other and f"unreadable manifests: {broken_manifest}" in other
    result = runner.invoke(app, ["critic", "score", "--model", "rule", "--input", _slots_file(tmp_path, ""),
                                 "--out", tmp_path / "o.jsonl", "--quiet"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("text", "expected"), [
    ("id: mine\nid: again\n", "{path}:2: not valid YAML (duplicate key 'id')"),
    ("id: mine\nlicence: [x\n", "{path}:3: not valid YAML (expected ',' or ']'"),
    ("id: mine\n", "config error: model manifest {path}: licence: Field required"),
])
def test_manifest_problems_are_one_line(tmp_path: Path, home: Path, text: str, expected: str) -> None:
    path = home / "models" / "mine.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    line = _one_line_error("critic", "score", "--model", "mine", "--input", _slots_file(tmp_path, ""),
                           "--out", tmp_path / "o.jsonl")
    assert line.startswith("error: " + expected.format(path=path))


@pytest.mark.parametrize("command", [["simulate", "--scenario", "pilot", "--days", "1"],
                                     ["train", "--critic", "rule", "--episodes", "1"]])
def test_a_negative_seed_is_a_config_error(tmp_path: Path, command: list[str]) -> None:
    line = _one_line_error(*command, "--seed", "-1", "--out", tmp_path / "run", "--quiet")
    assert line == "error: config error: seed: Input should be greater than or equal to 0 (got -1)"


def test_scenario_files_with_duplicate_keys_or_long_episodes(tmp_path: Path) -> None:
    duplicate = tmp_path / "dup.yaml"
    duplicate.write_text("community:\n  n_households: 6\n  n_households: 8\n")
    line = _one_line_error("simulate", "--scenario", duplicate, "--out", tmp_path / "a", "--quiet")
    assert line == f"error: {duplicate}:3: not valid YAML (duplicate key 'n_households')"
    long = tmp_path / "long.yaml"
    long.write_text("community: {n_days: 2}\nenv: {episode_days: 3}\n")
    line = _one_line_error("simulate", "--scenario", long, "--out", tmp_path / "b", "--quiet")
    assert line.startswith("error: config error: env.episode_days: 3 is more than community.n_days (2)")
