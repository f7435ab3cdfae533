"""What an agent may see (SPEC §3): only its own forecasts and state plus public slot statistics."""

from __future__ import annotations

import numpy as np

OBS_FEATURES: tuple[str, ...] = (
    "load_forecast",        # this slot, / agent energy scale
    "pv_forecast",
    "load_forecast_next",   # next slot
    "pv_forecast_next",
    "net_forecast",         # pv - load this slot (before the battery), / scale
    "soc",                  # battery state of charge in [0, 1]; 0 without battery
    "has_battery",
    "hour_sin",
    "hour_cos",
    "weekday_sin",
    "weekday_cos",
    "sunny",                # weather flag of the day
    "retail",               # / max retail price of the episode
    "feed_in",              # / max retail price of the episode
    "prev_p2p_price",       # previous slot's mean P2P price, position in [feed_in, retail]; 0.5 if none
    "prev_p2p_volume",      # previous slot's P2P volume / Σ agent scales
)
OBS_DIM = len(OBS_FEATURES)
OBS_BOUND = 10.0  # observations are clipped to [-OBS_BOUND, OBS_BOUND]


def calendar_features(timestamps: np.ndarray) -> np.ndarray:
    """(T, 4) hour sin/cos and weekday sin/cos from interval-start timestamps."""
    minutes = timestamps.astype("datetime64[m]").astype(np.int64)
    hour = (minutes % (24 * 60)) / 60.0
    # 1970-01-01 was a Thursday: shift so Monday = 0.
    weekday = ((minutes // (24 * 60)) + 3) % 7
    h, w = 2 * np.pi * hour / 24.0, 2 * np.pi * weekday / 7.0
    return np.stack([np.sin(h), np.cos(h), np.sin(w), np.cos(w)], axis=1)


def build_observations(
    t: int,
    load_fc: np.ndarray,
    pv_fc: np.ndarray,
    scale: np.ndarray,
    soc_frac: np.ndarray,
    has_battery: np.ndarray,
    calendar: np.ndarray,
    sunny: np.ndarray,
    retail: np.ndarray,
    feed_in: np.ndarray,
    prev_price_pos: float,
    prev_volume_frac: float,
) -> np.ndarray:
    """(N, OBS_DIM) float32 observations of slot ``t`` for every agent at once."""
    n = load_fc.shape[1]
    nxt = min(t + 1, load_fc.shape[0] - 1)
    p_max = float(retail.max())
    obs = np.empty((n, OBS_DIM), dtype=np.float64)
    obs[:, 0] = load_fc[t] / scale
    obs[:, 1] = pv_fc[t] / scale
    obs[:, 2] = load_fc[nxt] / scale
    obs[:, 3] = pv_fc[nxt] / scale
    obs[:, 4] = obs[:, 1] - obs[:, 0]
    obs[:, 5] = soc_frac
    obs[:, 6] = has_battery
    obs[:, 7:11] = calendar[t]
    obs[:, 11] = sunny[t]
    obs[:, 12] = retail[t] / p_max
    obs[:, 13] = feed_in[t] / p_max
    obs[:, 14] = prev_price_pos
    obs[:, 15] = prev_volume_frac
    return np.clip(obs, -OBS_BOUND, OBS_BOUND).astype(np.float32)
