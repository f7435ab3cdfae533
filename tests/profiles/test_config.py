"""The community config section: defaults run, bad values name the key."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from fairmarket_local.common.config import validate_section
from fairmarket_local.common.errors import ConfigError
from fairmarket_local.profiles.config import CommunityConfig, community_config


def test_defaults() -> None:
    cfg = community_config(None)
    assert cfg == CommunityConfig()
    assert (cfg.source, cfg.n_households, cfg.n_days, cfg.slot_minutes, cfg.weather) == ("fontana", 6, 2, 60, "data")
    assert cfg.mix.consumer + cfg.mix.prosumer + cfg.mix.prosumer_battery == pytest.approx(1)
    assert (cfg.battery.capacity_kwh, cfg.battery.power_kw, cfg.battery.efficiency) == (6.4, 5.0, 0.9)


def test_yaml_style_values_are_accepted() -> None:
    cfg = community_config({"pv_kwp": [2, 4], "weather": [1, 0], "slot_minutes": 15, "source": "user", "path": "x.csv"})
    assert cfg.pv_kwp == (2.0, 4.0) and cfg.weather == (1, 0) and cfg.slots_per_day == 96


def test_message_format() -> None:
    with pytest.raises(ConfigError) as info:
        community_config({"n_households": 2})
    assert str(info.value) == "config error: community.n_households: Input should be greater than or equal to 5 (got 2)"


@pytest.mark.parametrize(
    "data, key",
    [
        ({"n_households": 5001}, "community.n_households"),
        ({"source": "csv"}, "community.source"),
        ({"source": "user"}, "community.path"),
        ({"mix": {"consumer": 0.5, "prosumer": 0.2, "prosumer_battery": 0.2}}, "community.mix"),
        ({"mix": {"consumer": -0.1, "prosumer": 0.6, "prosumer_battery": 0.5}}, "community.mix.consumer"),
        ({"mix": {"renter": 1.0}}, "community.mix.renter"),
        ({"ev_fraction": 1.5}, "community.ev_fraction"),
        ({"start_day": 365}, "community.start_day"),
        ({"n_days": 0}, "community.n_days"),
        ({"pv_scale": -1}, "community.pv_scale"),
        ({"demand_scale": 0}, "community.demand_scale"),
        ({"demand_scale": float("inf")}, "community.demand_scale"),
        ({"load_sigma": -0.1}, "community.load_sigma"),
        ({"max_shift_slots": -1}, "community.max_shift_slots"),
        ({"reshuffle_days": "maybe"}, "community.reshuffle_days"),
        ({"pv_kwp": [6, 3]}, "community.pv_kwp"),
        ({"pv_kwp": [0, 3]}, "community.pv_kwp"),
        ({"battery": {"capacity_kwh": 0}}, "community.battery.capacity_kwh"),
        ({"battery": {"power_kw": -5}}, "community.battery.power_kw"),
        ({"battery": {"efficiency": 1.1}}, "community.battery.efficiency"),
        ({"weather": "rainy"}, "community.weather"),
        ({"weather": [1, 0, 1]}, "community.weather"),
        ({"weather": [1, 2]}, "community.weather"),
        ({"sunny_threshold": 0}, "community.sunny_threshold"),
        ({"base_homes": "some"}, "community.base_homes"),
        ({"slot_minutes": 20}, "community.slot_minutes"),
        ({"n_housholds": 10}, "community.n_housholds"),
    ],
)
def test_bad_value_names_the_key(data: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        community_config(data)
    message = str(info.value)
    assert message.startswith(f"config error: {key}: ") and "\n" not in message


def test_validate_section_is_generic() -> None:
    class Section(BaseModel):
        size: int = 1
        count: int = 1

    assert validate_section(Section, {"size": 3}, "demo").size == 3
    with pytest.raises(ConfigError, match=r"^config error: demo: Input should be a valid dictionary"):
        validate_section(Section, ["not", "a", "dict"], "demo")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"\(and 1 more\)$"):
        validate_section(Section, {"size": "x", "count": "y"}, "demo")
