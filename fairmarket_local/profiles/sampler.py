"""Seeded community sampler: N households built from real Fontana load and PV shapes (SPEC §1).

Per household: a kind (exact counts from ``mix``, shuffled), a base home, an annual-load factor
(lognormal, mean 1), a circular shift of ±``max_shift_slots`` slots and, if enabled, a reshuffle of
whole days within season and weekday class. PV is the base home's measured W/kWp on the *calendar*
day times a sampled kWp, never shifted or reshuffled, so all households share each day's weather.
Only the slots of the window are gathered, so cost grows with N × window, not N × year.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fairmarket_local.profiles.community import Community, Kind
from fairmarket_local.profiles.config import CommunityConfig, MixConfig
from fairmarket_local.profiles.ev import load_ev_profiles
from fairmarket_local.profiles.fontana import load_fontana
from fairmarket_local.profiles.seasons import day_classes, same_date_index, shuffled_days
from fairmarket_local.profiles.weather import forced_flags, per_slot, sunny_from_pv

DAYS_PER_YEAR = 365
PV_OUTAGE_RATIO = 0.1


@dataclass(frozen=True)
class _Year:
    """The Fontana data as a circular year of 365 days starting at midnight."""

    load_kwh: np.ndarray  # (8760, 17)
    pv_kwh_per_kwp: np.ndarray  # (8760, 17)
    days: np.ndarray  # (365,) datetime64[D]
    classes: np.ndarray  # (365,) day class, see seasons.day_classes
    daily_pv_per_kwp: np.ndarray  # (365, 17) kWh per kWp per day


@lru_cache(maxsize=1)
def _fontana_year() -> _Year:
    data = load_fontana()
    # The data starts at 23:00; rotating by one hour makes day 0 run 00:00-23:00 of 2016-08-01.
    first_midnight = int(np.argmax(data.timestamps == data.timestamps.astype("datetime64[D]")))
    load = np.roll(data.load_kwh, -first_midnight, axis=0)
    pv = _fill_pv_outages(np.roll(data.pv_w_per_kwp, -first_midnight, axis=0) / 1000.0, data.recommended)
    days = data.timestamps[first_midnight].astype("datetime64[D]") + np.arange(DAYS_PER_YEAR)
    arrays = {
        "load_kwh": load,
        "pv_kwh_per_kwp": pv,
        "days": days,
        "classes": day_classes(days),
        "daily_pv_per_kwp": pv.reshape(DAYS_PER_YEAR, 24, -1).sum(axis=1),
    }
    for array in arrays.values():
        array.flags.writeable = False  # shared by every call through the cache
    return _Year(**arrays)


def _fill_pv_outages(pv: np.ndarray, recommended: np.ndarray) -> np.ndarray:
    """Replace days on which a recommended home yields < 10 % of the median recommended home.

    They get that median's hourly profile. In the data this is only H07's first 8 days (a gap stored
    as 0), which would otherwise give its prosumers a sunny week without PV.
    """
    days = pv.reshape(DAYS_PER_YEAR, 24, -1).copy()
    homes = np.flatnonzero(recommended)
    median = np.median(days[:, :, homes], axis=2)  # (365, 24)
    outage = days[:, :, homes].sum(axis=1) < PV_OUTAGE_RATIO * median.sum(axis=1, keepdims=True)
    days[:, :, homes] = np.where(outage[:, None, :], median[:, :, None], days[:, :, homes])
    return days.reshape(pv.shape)


def kind_counts(mix: MixConfig, n_households: int) -> np.ndarray:
    """Households per kind (consumer, prosumer, prosumer_battery), largest-remainder rounding."""
    exact = np.array([mix.consumer, mix.prosumer, mix.prosumer_battery]) * n_households
    counts = np.floor(exact).astype(np.int64)
    by_remainder = np.argsort(-(exact - counts), kind="stable")
    counts[by_remainder[: n_households - counts.sum()]] += 1
    return counts


def _gather(
    hourly: np.ndarray, days: np.ndarray, shift: np.ndarray, columns: np.ndarray, slots_per_day: int
) -> np.ndarray:
    """Per-slot energy (T, N) gathered from an hourly year (8760, columns).

    Household ``n`` reads, for window day ``w``, day ``days[n, w]`` of column ``columns[n]``, delayed by
    ``shift[n]`` slots (circularly). ``days`` and ``shift`` may have a single row to broadcast.
    Sub-hourly slots split the hour's energy evenly.
    """
    per_hour = slots_per_day // 24
    year_slots = hourly.shape[0] * per_hour
    slot = days[:, :, None] * slots_per_day + np.arange(slots_per_day) - shift[:, None, None]
    rows = (slot.reshape(slot.shape[0], -1).T % year_slots) // per_hour
    return hourly[rows, columns] / per_hour


def sample_community(cfg: CommunityConfig, seed: int) -> Community:
    """Sample ``cfg.n_households`` households over the window ``[start_day, start_day + n_days)``.

    Bit-identical for equal ``(cfg, seed)``. Household parameters do not depend on the window.
    """
    data, year = load_fontana(), _fontana_year()
    household_rng, load_days_rng, ev_days_rng = np.random.default_rng(seed).spawn(3)
    n, spd = cfg.n_households, cfg.slots_per_day
    pool = np.flatnonzero(data.recommended) if cfg.base_homes == "recommended" else np.arange(data.recommended.size)

    kinds = household_rng.permutation(np.repeat(np.array(list(Kind), dtype=np.int8), kind_counts(cfg.mix, n)))
    # Base homes cycle through one shuffled pass of the pool, so up to len(pool) households are all
    # different real homes and larger communities use every home equally often.
    base = pool[np.resize(household_rng.permutation(pool.size), n)]
    sigma = cfg.load_sigma
    load_factor = household_rng.lognormal(-0.5 * sigma**2, sigma, n)
    shift = household_rng.integers(-cfg.max_shift_slots, cfg.max_shift_slots + 1, n)
    kwp = np.where(kinds == Kind.CONSUMER, 0.0, household_rng.uniform(*cfg.pv_kwp, n))
    # Drawn for every household so that raising ev_fraction only adds EV owners.
    ev_order = household_rng.permutation(n)
    ev_profile = household_rng.integers(0, len(load_ev_profiles().names), n)

    window = (cfg.start_day + np.arange(cfg.n_days)) % DAYS_PER_YEAR
    if cfg.reshuffle_days:
        load_days = shuffled_days(load_days_rng, n, window, year.classes, year.classes)
    else:
        load_days = window[None, :]
    load = _gather(year.load_kwh, load_days, shift, base, spd) * load_factor
    pv = _gather(year.pv_kwh_per_kwp, window[None, :], np.zeros(1, np.int64), base, spd) * kwp

    owners = np.sort(ev_order[: int(np.floor(cfg.ev_fraction * n + 0.5))])
    ev_load = None
    if owners.size:
        ev_load = np.zeros_like(load)
        ev_load[:, owners] = _ev_overlay(cfg, ev_days_rng, window, shift, ev_profile)[:, owners]
        load += ev_load
        ev_load *= cfg.demand_scale

    battery = kinds == Kind.PROSUMER_BATTERY
    start = (year.days[0] + cfg.start_day).astype("datetime64[m]")
    return Community(
        ids=tuple(f"h{i:04d}" for i in range(n)),
        kinds=kinds,
        timestamps=start + np.arange(cfg.n_days * spd) * np.timedelta64(cfg.slot_minutes, "m"),
        load=load * cfg.demand_scale,
        pv=pv * cfg.pv_scale,
        sunny=per_slot(_daily_weather(cfg, year, window, base, kwp, pool), spd),
        slot_hours=cfg.slot_hours,
        battery_capacity_kwh=np.where(battery, cfg.battery.capacity_kwh, 0.0),
        battery_power_kw=np.where(battery, cfg.battery.power_kw, 0.0),
        battery_efficiency=np.where(battery, cfg.battery.efficiency, 0.0),
        ev_load=ev_load,
    )


def _ev_overlay(
    cfg: CommunityConfig, rng: np.random.Generator, window: np.ndarray, shift: np.ndarray, profile: np.ndarray
) -> np.ndarray:
    """EV charging (T, N) for every household (the caller keeps the owners' columns)."""
    ev, year = load_ev_profiles(), _fontana_year()
    if cfg.reshuffle_days:
        days = shuffled_days(rng, shift.size, window, year.classes, day_classes(ev.days))
    else:
        days = same_date_index(year.days[window], ev.days)[None, :]
    return _gather(ev.kwh, days, shift, profile, cfg.slots_per_day)


def _daily_weather(
    cfg: CommunityConfig, year: _Year, window: np.ndarray, base: np.ndarray, kwp: np.ndarray, pool: np.ndarray
) -> np.ndarray:
    """ω per window day: from the community's kWp-weighted PV per kWp, or forced by the config."""
    if cfg.weather != "data":
        return forced_flags(cfg.weather, cfg.n_days)
    n_homes = year.daily_pv_per_kwp.shape[1]
    weights = np.bincount(base, weights=kwp, minlength=n_homes)
    if weights.sum() == 0:  # no PV in the community: the weather is still the base homes' weather
        weights = np.bincount(pool, minlength=n_homes).astype(np.float64)
    daily = year.daily_pv_per_kwp @ (weights / weights.sum())
    return sunny_from_pv(daily, cfg.sunny_threshold, circular=True)[window]
