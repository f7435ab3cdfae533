"""The critic's disk memo: keys, modes, claims and read-only caches (``cache.py``); stats, verify, export,
import and prune (``cache_admin.py``)."""

from fairmarket_local.common.lazy import lazy_exports

__all__ = ["CACHE_MODES", "CACHE_SCHEMA", "CacheMode", "ReplayMiss", "ScoreCache", "cache_key"]
__getattr__, __dir__ = lazy_exports(__name__, __all__)
