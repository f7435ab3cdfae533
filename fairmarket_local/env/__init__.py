"""Multi-agent environment (SPEC §3): array core, PettingZoo API, single-agent views, slot summaries."""

from fairmarket_local.common.lazy import lazy_exports

__all__ = [
    "SUMMARY_FIELDS",
    "EnvConfig",
    "MarketCore",
    "P2PMarketEnv",
    "SingleAgentView",
    "SlotRecord",
    "SlotSummary",
    "build_community",
    "load_env_config",
    "make_env",
    "scenario_names",
    "slot_summary",
    "summary_fairness",
]
__getattr__, __dir__ = lazy_exports(__name__, __all__)
