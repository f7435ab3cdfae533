"""Community sampler: determinism, kinds, scales, shapes, EV overlay, speed."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairmarket_local.profiles.community import Community, Kind
from fairmarket_local.profiles.config import MixConfig, community_config
from fairmarket_local.profiles.fontana import load_fontana
from fairmarket_local.profiles.sampler import kind_counts, sample_community
from fairmarket_local.profiles.seasons import day_classes

ARRAYS = ("kinds", "timestamps", "load", "pv", "sunny", "battery_capacity_kwh", "battery_power_kw",
          "battery_efficiency")


def sample(seed: int = 0, **overrides: object) -> Community:
    return sample_community(community_config({"n_households": 8, "n_days": 3, **overrides}), seed)


def _year(array: np.ndarray) -> np.ndarray:
    """Fontana hourly data rotated so that row 0 is 2016-08-01 00:00, as the sampler sees it."""
    return np.roll(array, -1, axis=0)


def test_same_seed_is_bit_identical_other_seed_differs() -> None:
    first, again, other = sample(7, ev_fraction=0.5), sample(7, ev_fraction=0.5), sample(8, ev_fraction=0.5)
    for name in (*ARRAYS, "ev_load"):
        assert getattr(first, name).tobytes() == getattr(again, name).tobytes(), name
    assert first.ids == again.ids
    assert not np.array_equal(first.load, other.load)


@given(
    n=st.integers(5, 5000),
    weights=st.tuples(*[st.integers(0, 10)] * 3).filter(lambda w: sum(w) > 0),
)
def test_kind_counts_are_exact_roundings(n: int, weights: tuple[int, int, int]) -> None:
    fractions = np.array(weights) / sum(weights)
    mix = MixConfig(consumer=fractions[0], prosumer=fractions[1], prosumer_battery=1 - fractions[:2].sum())
    counts = kind_counts(mix, n)
    assert counts.sum() == n
    assert (np.abs(counts - fractions * n) < 1 + 1e-9).all()


def test_kinds_pv_and_batteries() -> None:
    community = sample(3, n_households=50, mix={"consumer": 0.5, "prosumer": 0.3, "prosumer_battery": 0.2})
    kinds = community.kinds
    assert np.bincount(kinds, minlength=3).tolist() == [25, 15, 10]
    assert (community.pv[:, kinds == Kind.CONSUMER] == 0).all()
    assert (community.pv[:, kinds != Kind.CONSUMER].sum(axis=0) > 0).all()
    battery = kinds == Kind.PROSUMER_BATTERY
    assert (community.battery_capacity_kwh[battery] == 6.4).all()
    assert (community.battery_capacity_kwh[~battery] == 0).all()
    assert (community.battery_efficiency[battery] == 0.9).all() and (community.battery_power_kw[battery] == 5).all()
    assert not (kinds[:25] == Kind.CONSUMER).all()  # shuffled, not in blocks


def test_scales_apply() -> None:
    plain, scaled = sample(1, ev_fraction=0.5), sample(1, ev_fraction=0.5, pv_scale=2.0, demand_scale=1.5)
    np.testing.assert_allclose(scaled.pv, 2.0 * plain.pv, rtol=1e-12)
    np.testing.assert_allclose(scaled.load, 1.5 * plain.load, rtol=1e-12)
    np.testing.assert_allclose(scaled.ev_load, 1.5 * plain.ev_load, rtol=1e-12)


def test_load_and_pv_come_from_real_homes_at_the_right_time() -> None:
    """Without scaling or reshuffling, each load column is a base home shifted by <= 2 slots and each PV
    column is a base home's calendar PV times a kWp in the configured range."""
    data = load_fontana()
    community = sample(2, load_sigma=0.0, reshuffle_days=False, start_day=100)
    hours = slice(100 * 24, 103 * 24)
    load, pv = _year(data.load_kwh), _year(data.pv_w_per_kwp) / 1000
    homes = np.flatnonzero(data.recommended)
    for n in range(community.n_households):
        assert any(
            np.array_equal(community.load[:, n], np.roll(load, shift, axis=0)[hours, h])
            for h in homes for shift in range(-2, 3)
        )
        if community.kinds[n] != Kind.CONSUMER:
            kwp = community.pv[:, n] / np.where(pv[hours, homes] > 0, pv[hours, homes], np.nan).T
            ratios = [np.nanmax(r) for r in kwp if np.nanmax(r) - np.nanmin(r) < 1e-9]
            assert len(ratios) >= 1 and 3.0 <= ratios[0] <= 6.0


def test_reshuffled_days_keep_season_and_weekday_class() -> None:
    data = load_fontana()
    community = sample(4, load_sigma=0.0, max_shift_slots=0, start_day=150, n_days=4)
    load = _year(data.load_kwh).reshape(365, 24, 17)
    classes = day_classes(np.datetime64("2016-08-01") + np.arange(365))
    for n in range(community.n_households):
        for w, day in enumerate(community.load[:, n].reshape(4, 24)):
            source_days = np.flatnonzero((load == day[None, :, None]).all(axis=1).any(axis=1))
            assert (classes[source_days] == classes[150 + w]).any()


def test_window_is_a_view_of_a_fixed_sampled_year() -> None:
    long, short = sample(5, start_day=10, n_days=4, ev_fraction=0.4), sample(5, start_day=12, n_days=2, ev_fraction=0.4)
    for name in ("load", "pv", "sunny", "timestamps", "ev_load"):
        np.testing.assert_array_equal(getattr(short, name), getattr(long, name)[48:], err_msg=name)


def test_window_wraps_around_the_year() -> None:
    wrapped, start = sample(6, start_day=364, n_days=2), sample(6, start_day=0, n_days=1)
    assert wrapped.timestamps[0] == np.datetime64("2017-07-31T00:00")
    assert (np.diff(wrapped.timestamps) == np.timedelta64(60, "m")).all()
    np.testing.assert_array_equal(wrapped.pv[24:], start.pv)


def test_sub_hourly_slots_split_the_hour() -> None:
    hourly, quarter = sample(9, max_shift_slots=0), sample(9, max_shift_slots=0, slot_minutes=15)
    assert quarter.n_slots == 4 * hourly.n_slots and quarter.slot_hours == 0.25
    np.testing.assert_allclose(quarter.pv.reshape(-1, 4, 8).sum(axis=1), hourly.pv, rtol=1e-12)
    np.testing.assert_allclose(quarter.load.reshape(-1, 4, 8).sum(axis=1), hourly.load, rtol=1e-12)


def test_ev_overlay_adds_energy_to_owners_only() -> None:
    without, with_ev = sample(11, n_households=40, n_days=7), sample(11, n_households=40, n_days=7, ev_fraction=0.25)
    assert without.ev_load is None
    owners = with_ev.ev_load.sum(axis=0) > 0
    assert 0 < owners.sum() <= 10
    np.testing.assert_allclose(with_ev.load - with_ev.ev_load, without.load, rtol=1e-12, atol=1e-12)
    assert with_ev.load.sum() > without.load.sum()
    more = sample(11, n_households=40, n_days=7, ev_fraction=0.5)
    assert (more.ev_load.sum(axis=0)[owners] > 0).all()  # raising the fraction only adds owners
    with pytest.raises(ValueError):
        with_ev.ev_load[0, 0] = 1.0


@pytest.mark.parametrize("n", [5, 5000])
def test_sizes_and_ids(n: int) -> None:
    started = time.perf_counter()
    community = sample_community(community_config({"n_households": n, "n_days": 7, "ev_fraction": 0.2}), seed=0)
    elapsed = time.perf_counter() - started
    assert community.load.shape == community.pv.shape == (168, n)
    assert community.ids[0] == "h0000" and community.ids[-1] == f"h{n - 1:04d}"
    assert np.isfinite(community.load).all() and (community.load >= 0).all() and (community.pv >= 0).all()
    assert elapsed < 2.0  # ~0.1 s on 2 cores; generous for a loaded CI machine


def test_lognormal_load_factor_has_mean_one() -> None:
    cfg = {"n_households": 5000, "n_days": 7, "max_shift_slots": 0, "reshuffle_days": False}
    spread, flat = sample(12, **cfg), sample(12, **cfg, load_sigma=0.0)
    factor = spread.load.sum(axis=0) / flat.load.sum(axis=0)
    assert abs(factor.mean() - 1) < 0.02 and abs(np.log(factor).std() - 0.25) < 0.02


def test_pv_outage_of_h07_is_filled() -> None:
    """H07 reports no PV for 2016-08-01..08 while the other homes produce; prosumers must not inherit that."""
    community = sample(13, n_households=300, n_days=9)
    daily = community.pv.reshape(9, 24, -1).sum(axis=1)
    assert (daily[:, community.kinds != Kind.CONSUMER] > 0).all()
