"""Weather flag ω: clear-sky envelope, threshold, forcing, and as the sampler uses it."""

from __future__ import annotations

import numpy as np
import pytest

from fairmarket_local.profiles.config import community_config
from fairmarket_local.profiles.sampler import sample_community
from fairmarket_local.profiles.weather import clear_sky_envelope, forced_flags, per_slot, sunny_from_pv


def test_envelope_is_a_centred_rolling_max() -> None:
    daily = np.array([1.0, 5.0, 2.0, 0.0, 0.0, 0.0, 3.0])
    np.testing.assert_array_equal(clear_sky_envelope(daily, 3), [5, 5, 5, 2, 0, 3, 3])
    # circular: the first day sees the last one
    np.testing.assert_array_equal(clear_sky_envelope([1.0, 0.0, 0.0, 0.0, 4.0], 3, circular=True), [4, 1, 0, 4, 4])


def test_sunny_when_at_least_threshold_of_envelope() -> None:
    daily = np.array([10.0, 7.0, 6.9, 0.0])
    np.testing.assert_array_equal(sunny_from_pv(daily, 0.7, window_days=15), [1, 1, 0, 0])
    np.testing.assert_array_equal(sunny_from_pv(daily, 0.5, window_days=15), [1, 1, 1, 0])
    assert sunny_from_pv(np.zeros(5)).tolist() == [0] * 5  # no PV at all: cloudy, not NaN


def test_forced_flags() -> None:
    assert forced_flags("sunny", 3).tolist() == [1, 1, 1]
    assert forced_flags("cloudy", 2).tolist() == [0, 0]
    assert forced_flags((1, 0, 1), 3).dtype == np.int8
    with pytest.raises(ValueError):
        forced_flags((1, 0), 3)
    assert per_slot(np.array([1, 0]), 3).tolist() == [1, 1, 1, 0, 0, 0]


def test_sampler_flag_is_constant_within_each_day() -> None:
    community = sample_community(community_config({"n_households": 5, "n_days": 30}), seed=0)
    days = community.sunny.reshape(30, 24)
    assert (days == days[:, :1]).all()
    assert 0 < days[:, 0].mean() < 1  # Fontana has both kinds of days in a month


def test_sampler_weather_can_be_forced_or_tuned() -> None:
    base = {"n_households": 5, "n_days": 3}
    assert sample_community(community_config({**base, "weather": "sunny"}), 0).sunny.all()
    assert not sample_community(community_config({**base, "weather": "cloudy"}), 0).sunny.any()
    forced = sample_community(community_config({**base, "weather": [0, 1, 0]}), 0).sunny
    assert forced[::24].tolist() == [0, 1, 0]
    lenient = {**base, "n_days": 60, "sunny_threshold": 0.01}
    assert sample_community(community_config(lenient), 0).sunny.all()


def test_fontana_year_is_mostly_sunny() -> None:
    year = sample_community(community_config({"n_households": 5, "n_days": 365}), seed=1).sunny[::24]
    assert 0.6 < year.mean() < 0.95
