"""Flat and time-of-use tariffs: prices per slot and validation."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from fairmarket_local.common.errors import ConfigError
from fairmarket_local.market.tariffs import TariffConfig, TouPeriod


def hours(day: str, *hh: float) -> np.ndarray:
    """Timestamps on ``day`` at the given hours of day."""
    return np.datetime64(day) + (np.array(hh) * 60).astype("timedelta64[m]")


def test_default_is_flat() -> None:
    tariff = TariffConfig()
    retail, feed_in = tariff.prices(hours("2022-08-01", 0, 12, 23))
    np.testing.assert_array_equal(retail, 0.30)
    np.testing.assert_array_equal(feed_in, 0.08)


def test_fontana_tou_peak_is_15_to_20() -> None:
    retail, feed_in = TariffConfig.fontana_tou().prices(hours("2022-08-06", 14, 14.75, 15, 19, 19.5, 20, 23))
    np.testing.assert_array_equal(retail, [0.21, 0.21, 0.50, 0.50, 0.50, 0.21, 0.21])
    np.testing.assert_array_equal(feed_in, 0.08)


def test_periods_wrap_midnight_and_later_ones_override() -> None:
    tariff = TariffConfig(kind="tou", retail=0.30, feed_in=0.08, periods=[
        TouPeriod(start_hour=22, end_hour=6, retail=0.15, feed_in=0.05),
        TouPeriod(start_hour=23, end_hour=24, retail=0.12),
    ])
    retail, feed_in = tariff.prices(hours("2022-08-01", 5, 6, 21, 22, 23))
    np.testing.assert_array_equal(retail, [0.15, 0.30, 0.30, 0.15, 0.12])
    np.testing.assert_array_equal(feed_in, [0.05, 0.08, 0.08, 0.05, 0.08])


def test_weekday_and_weekend_periods() -> None:
    tariff = TariffConfig(kind="tou", periods=[
        TouPeriod(start_hour=0, end_hour=24, retail=0.40, days="weekday"),
        TouPeriod(start_hour=0, end_hour=24, retail=0.20, days="weekend"),
    ])
    # 2022-08-05 is a Friday, 08-06 a Saturday, 08-07 a Sunday, 08-08 a Monday.
    days = np.array(["2022-08-05T12", "2022-08-06T12", "2022-08-07T12", "2022-08-08T00"],
                    dtype="datetime64[h]")
    retail, _ = tariff.prices(days)
    np.testing.assert_array_equal(retail, [0.40, 0.20, 0.20, 0.40])


def test_prices_accept_any_datetime64_unit_and_empty_input() -> None:
    tariff = TariffConfig.fontana_tou()
    retail, _ = tariff.prices(np.array(["2022-08-01T16:00:00"], dtype="datetime64[s]"))
    assert retail.tolist() == [0.50]
    retail, feed_in = tariff.prices(np.array([], dtype="datetime64[m]"))
    assert retail.shape == feed_in.shape == (0,)


PEAK = {"start_hour": 15, "end_hour": 20}


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"retail": 0.08, "feed_in": 0.08}, "tariff.retail"),
        ({"feed_in": -0.01}, "tariff.feed_in"),
        ({"retail": float("nan")}, "tariff"),
        ({"kind": "tou", "periods": [PEAK | {"retail": 0.05}]}, "tariff.periods[0].retail"),
        ({"kind": "tou", "periods": [PEAK | {"retail": 0.5, "feed_in": 0.6}]}, "tariff.periods[0].retail"),
        ({"kind": "tou", "periods": [PEAK | {"retail": 0.5, "feed_in": -1}]}, "tariff.periods[0].feed_in"),
        ({"kind": "tou", "periods": [{"start_hour": 8, "end_hour": 8, "retail": 0.5}]},
         "tariff.periods[0].end_hour"),
        ({"kind": "tou"}, "tariff.periods"),
        ({"periods": [PEAK | {"retail": 0.5}]}, "tariff.periods"),
    ],
)
def test_invalid_values_raise_config_error_naming_the_key(config: dict, key: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        TariffConfig(**config)
    assert str(excinfo.value).startswith(key)
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize(
    "config",
    [
        {"kind": "dynamic"},
        {"retial": 0.3},
        {"kind": "tou", "periods": [{"start_hour": 25, "end_hour": 2, "retail": 1}]},
    ],
)
def test_malformed_config_is_rejected_by_the_schema(config: dict) -> None:
    with pytest.raises(ValidationError):
        TariffConfig(**config)


def test_round_trips_through_json() -> None:
    tariff = TariffConfig.fontana_tou()
    assert TariffConfig.model_validate_json(tariff.model_dump_json()) == tariff
