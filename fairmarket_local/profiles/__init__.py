"""Household load / PV profiles: embedded Fontana data, the community sampler, user data, weather flag."""

from fairmarket_local.profiles.community import KIND_NAMES, Community, Kind
from fairmarket_local.profiles.config import BatteryConfig, CommunityConfig, MixConfig, community_config
from fairmarket_local.profiles.sampler import sample_community
from fairmarket_local.profiles.user_data import load_user_data

__all__ = [
    "KIND_NAMES",
    "BatteryConfig",
    "Community",
    "CommunityConfig",
    "Kind",
    "MixConfig",
    "community_config",
    "load_user_data",
    "sample_community",
]
