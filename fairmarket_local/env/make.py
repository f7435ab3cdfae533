"""``make_env``: a ready environment from a scenario name, file, dict or config, like ``gymnasium.make``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fairmarket_local.env.config import EnvConfig, load_env_config
from fairmarket_local.env.parallel_env import P2PMarketEnv
from fairmarket_local.profiles.community import Community
from fairmarket_local.profiles.sampler import sample_community
from fairmarket_local.profiles.user_data import load_user_data
from fairmarket_local.profiles.weather import apply_forced_weather


def build_community(config: EnvConfig) -> Community:
    """The households of a scenario: sampled from the embedded data, or the user's file."""
    c = config.community
    if c.source == "user":
        assert c.path is not None  # the community config requires a path for user data
        community = load_user_data(c.path, c)
    else:
        community = sample_community(c, seed=config.seed)
    if c.weather != "data":
        community = apply_forced_weather(community, c.cloudy_pv_factor)
    return community


def make_env(scenario: str | Path | dict[str, Any] | EnvConfig = "pilot", **overrides: Any) -> P2PMarketEnv:
    """Build the PettingZoo env of ``scenario``; overrides use dotted keys, e.g.
    ``make_env("community", **{"community.n_households": 20})`` or ``make_env("pilot", seed=3)``."""
    config = load_env_config(scenario, **overrides)
    return P2PMarketEnv(config, build_community(config))
