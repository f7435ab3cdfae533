"""Household load / PV profiles: embedded Fontana data, the community sampler, user data, weather flag."""

from fairmarket_local.common.lazy import lazy_exports

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
__getattr__, __dir__ = lazy_exports(__name__, __all__)
