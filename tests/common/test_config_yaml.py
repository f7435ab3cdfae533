"""Config YAML is read strictly, and every config error is one line with the full key from the top of the file."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from fairmarket_local.common.config import MAX_YAML_DEPTH, MAX_YAML_VALUES, load_yaml, short_repr
from fairmarket_local.common.errors import ConfigError, DataError, FairmarketError
from fairmarket_local.env.config import MAX_TARIFF, load_env_config
from fairmarket_local.experiments.config import load_experiment

# 9**10 strings once expanded, in a section the config validates (and rejects: a description is a string)
BILLION_LAUGHS = 'description:\n  - &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"  - &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9))


def _write(tmp_path: Path, text: str | bytes, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _message(exc_type: type[Exception], call, *args, **kwargs) -> str:
    start = time.monotonic()
    with pytest.raises(exc_type) as info:
        call(*args, **kwargs)
    assert time.monotonic() - start < 5
    message = str(info.value)
    assert "\n" not in message
    return message


def test_deep_nesting_is_refused_without_a_recursion_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "community: " + "[" * 100_000 + "]" * 100_000 + "\n")
    message = _message(ConfigError, load_env_config, path)
    assert message == f"{path}:1: not valid YAML (nested deeper than {MAX_YAML_DEPTH} levels)"


def test_deep_block_mappings_name_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "".join("  " * i + f"k{i}:\n" for i in range(2 * MAX_YAML_DEPTH)))
    assert _message(ConfigError, load_yaml, path).startswith(f"{path}:{MAX_YAML_DEPTH}: not valid YAML (nested")


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    path = _write(tmp_path, BILLION_LAUGHS)
    message = _message(ConfigError, load_env_config, path)
    # the first list past the limit: &f holds 9**6 strings
    assert message == f"{path}:7: not valid YAML (anchors and aliases expand to more than {MAX_YAML_VALUES} values)"


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    assert "anchors and aliases expand" in _message(ConfigError, load_yaml, _write(tmp_path, "a: &a [1, *a]\n"))


def test_small_anchors_aliases_and_merge_keys_still_work(tmp_path: Path) -> None:
    path = _write(tmp_path, "base: &b {x: 1, y: 2}\nother: {<<: *b, x: 3}\nlist: [*b, *b]\n")
    assert load_yaml(path) == {"base": {"x": 1, "y": 2}, "other": {"x": 3, "y": 2}, "list": [{"x": 1, "y": 2}] * 2}


@pytest.mark.parametrize(("text", "line", "key"), [
    ("seed: 1\ncommunity: {n_households: 6}\nseed: 2\n", 3, "seed"),
    ("community:\n  n_households: 6\n  pv_scale: 1\n  n_households: 7\n", 4, "n_households"),
    ("market: {tariff: {retail: 0.3, retail: 0.4}}\n", 1, "retail"),
])
def test_a_duplicate_key_names_the_key_file_and_line(tmp_path: Path, text: str, line: int, key: str) -> None:
    path = _write(tmp_path, text)
    assert _message(ConfigError, load_env_config, path) == f"{path}:{line}: not valid YAML (duplicate key '{key}')"


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\ncommunity: [unclosed\n")
    assert _message(ConfigError, load_yaml, path).startswith(f"{path}:3: not valid YAML (expected ',' or ']'")


def test_non_utf8_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: ok\ndescription: caf\xe9\n".encode("latin-1"))
    assert _message(DataError, load_env_config, path) == f"{path}:2: not UTF-8 text (byte 0xe9)"


def test_every_shipped_scenario_and_experiment_still_loads() -> None:
    for name in ("pilot", "community", "mixed", "scale"):
        load_env_config(name)
    for name in ("pilot", "community", "mixed", "scale", "sensitivity"):
        load_experiment(name)


def test_short_repr_never_builds_the_whole_value() -> None:
    laughs = ["lol"] * 9
    for _ in range(12):  # 9**12 strings if printed in full
        laughs = [laughs] * 9
    start = time.monotonic()
    text = short_repr(laughs)
    assert time.monotonic() - start < 0.1 and len(text) <= 60
    recursive: list = []
    recursive.append(recursive)
    assert len(short_repr(recursive)) <= 60
    assert short_repr(np.float64("inf")) == "inf" and short_repr([np.float32(0.5), np.int64(3)]) == "[0.5, 3]"


def test_a_huge_yaml_value_gives_a_short_message(tmp_path: Path) -> None:
    path = _write(tmp_path, yaml.safe_dump({"community": {"weather": list(range(MAX_YAML_VALUES // 2))}}))
    message = _message(ConfigError, load_env_config, path)
    assert message.startswith("config error: community.weather: ") and len(message) < 200


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"market.tariff.retail": 0.05}, "config error: market.tariff.retail: must exceed feed_in (0.08), got 0.05"),
    ({"market.tariff.feed_in": -0.1}, "config error: market.tariff.feed_in: must be >= 0"),
    ({"market.tariff.retail": np.float64("inf")}, "config error: market.tariff: retail and feed_in must be finite"),
    ({"market.tariff.retail": 30},
     f"config error: market.tariff.retail: 30 $/kWh is above the limit of {MAX_TARIFF:g}"),
    ({"market.tariff": {"kind": "tou", "periods": [{"start_hour": 1, "end_hour": 1, "retail": 0.4}]}},
     "config error: market.tariff.periods[0].end_hour: equals start_hour"),
    ({"market.tariff": {"kind": "tou", "periods": [{"start_hour": 1, "end_hour": 2, "retail": 99}]}},
     "config error: market.tariff.periods[0].retail: 99 $/kWh is above the limit"),
    ({"market.tariff": {"kind": "tou", "periods": [{"start_hour": 1, "end_hour": 2, "retail": "x"}]}},
     "config error: market.tariff.periods[0].retail: Input should be a valid number"),
    ({"community.demand_scale": np.float64("inf")}, "config error: community.demand_scale: Input should be a finite"
                                                    " number (got inf)"),
    ({"env.episode_days": 5}, "config error: env.episode_days: 5 is more than community.n_days (2)"),
    ({"seed": -1}, "config error: seed: Input should be greater than or equal to 0 (got -1)"),
])
def test_config_errors_carry_the_full_key(overrides: dict, expected: str) -> None:
    assert _message(ConfigError, load_env_config, "pilot", **overrides).startswith(expected)


def test_a_negative_seed_in_a_scenario_file_names_the_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "seed: -1\n")
    assert _message(ConfigError, load_env_config, path).startswith("config error: seed: Input should be greater")


def test_experiment_errors_name_the_file_and_the_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "scenario: pilot\nseeds: [0, -1]\narms: [{name: a, baseline: zi}]\n", "study.yaml")
    message = _message(FairmarketError, load_experiment, path)
    assert message.startswith(f"config error: experiment {path}: seeds[1]: Input should be greater than or equal to 0")
