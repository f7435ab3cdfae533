"""Household load / PV profiles: embedded Fontana data, the community sampler, user data, weather flag."""

from fairmarket_local.common.lazy import lazy_exports

_EXPORTS = {
    "KIND_NAMES": "community",
    "Community": "community",
    "Kind": "community",
    "BatteryConfig": "config",
    "CommunityConfig": "config",
    "MixConfig": "config",
    "community_config": "config",
    "sample_community": "sampler",
    "load_user_data": "user_data",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
