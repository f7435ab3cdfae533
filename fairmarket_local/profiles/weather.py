"""The daily weather flag ω: sunny (1) or cloudy (0), from PV data or set by the scenario.

From data, a day is sunny when its PV energy is at least ``threshold`` times its seasonal clear-sky
envelope, the centred rolling maximum of daily PV over ``window_days`` days (the sunniest nearby day
stands in for clear sky, so the ratio is insensitive to the season's day length).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from fairmarket_local.profiles.community import Community

ENVELOPE_DAYS = 15


def clear_sky_envelope(daily_pv: np.ndarray, window_days: int = ENVELOPE_DAYS, circular: bool = False) -> np.ndarray:
    """Centred rolling max of ``daily_pv`` (D,) over ``window_days`` (odd) days.

    ``circular`` wraps around (a full year); otherwise the window shrinks at the edges.
    """
    daily_pv = np.asarray(daily_pv, dtype=np.float64)
    half = window_days // 2
    if circular:
        padded = np.pad(daily_pv, half, mode="wrap")
    else:
        padded = np.pad(daily_pv, half, constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return windows.max(axis=1)


def sunny_from_pv(
    daily_pv: np.ndarray, threshold: float = 0.7, window_days: int = ENVELOPE_DAYS, circular: bool = False
) -> np.ndarray:
    """ω per day (D,) int8. Days whose envelope is 0 (no PV at all nearby) count as cloudy."""
    envelope = clear_sky_envelope(daily_pv, window_days, circular)
    return ((envelope > 0) & (np.asarray(daily_pv) >= threshold * envelope)).astype(np.int8)


def forced_flags(setting: str | Sequence[int], n_days: int) -> np.ndarray:
    """ω per day (D,) int8 set by the scenario: ``"sunny"``, ``"cloudy"`` or one 0/1 per day."""
    if setting == "sunny":
        return np.ones(n_days, dtype=np.int8)
    if setting == "cloudy":
        return np.zeros(n_days, dtype=np.int8)
    if isinstance(setting, str):
        raise ValueError(f"unknown weather setting {setting!r}")
    flags = np.asarray(setting, dtype=np.int8)
    if flags.shape != (n_days,) or not np.isin(flags, (0, 1)).all():
        raise ValueError(f"weather needs {n_days} flags in {{0, 1}}, got {list(setting)}")
    return flags


def per_slot(daily_flags: np.ndarray, slots_per_day: int) -> np.ndarray:
    """Repeat each day's flag over its slots: (D * slots_per_day,) int8."""
    return np.repeat(np.asarray(daily_flags, dtype=np.int8), slots_per_day)


def apply_forced_weather(community: Community, alpha: float) -> Community:
    """Scale PV by κ = α + (1 − α)·ω per slot, for weather set by the scenario.

    Measured PV already carries its clouds, so this is applied only when the scenario (not the
    data) decides which days are cloudy.
    """
    kappa = alpha + (1.0 - alpha) * community.sunny.astype(np.float64)
    return dataclasses.replace(community, pv=community.pv * kappa[:, None])
