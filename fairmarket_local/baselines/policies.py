"""Baseline bidders acting on observations only (same partial view as the learners).

- ``grid-only``: places no P2P order (everything settles with the grid).
- ``truthful``: offers/requests the full forecast position at its reservation price
  (buyers at the retail price, sellers at the feed-in tariff).
- ``zi``: zero-intelligence-constrained (Gode & Sunder 1993): full quantity at a price level
  drawn uniformly from the whole admissible range [feed-in, retail], which never loses money.

All three run a battery by the same self-consumption rule (charge on a forecast surplus,
discharge on a forecast deficit), so comparisons isolate the effect of the market.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fairmarket_local.env.config import MarketConfig
from fairmarket_local.env.observation import OBS_FEATURES

NET = OBS_FEATURES.index("net_forecast")
SOC = OBS_FEATURES.index("soc")
POLICIES = ("grid-only", "truthful", "zi")

Policy = Callable[[np.ndarray], np.ndarray]


def self_consumption(obs: np.ndarray) -> np.ndarray:
    """Battery choice per agent: 2 charge on surplus (if not full), 0 discharge on deficit (if not empty)."""
    net, soc = obs[:, NET], obs[:, SOC]
    choice = np.ones(obs.shape[0], dtype=np.int64)
    choice[(net > 0) & (soc < 1.0)] = 2
    choice[(net < 0) & (soc > 0.0)] = 0
    return choice


def make_policy(name: str, market: MarketConfig, seed: int = 0) -> Policy:
    """A joint policy mapping observations (N, OBS_DIM) to actions (N, 3)."""
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}; known: {', '.join(POLICIES)}")
    top_price = market.price_levels - 1
    full = len(market.quantity_levels) - 1
    rng = np.random.default_rng(seed)

    def act(obs: np.ndarray) -> np.ndarray:
        n = obs.shape[0]
        actions = np.zeros((n, 3), dtype=np.int64)
        actions[:, 2] = self_consumption(obs)
        if name == "grid-only":
            return actions
        actions[:, 1] = full
        if name == "truthful":
            actions[:, 0] = np.where(obs[:, NET] < 0, top_price, 0)
        else:
            actions[:, 0] = rng.integers(0, top_price + 1, size=n)
        return actions

    return act
