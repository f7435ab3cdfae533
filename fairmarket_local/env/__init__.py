"""Multi-agent environment (SPEC §3): array core, PettingZoo API, single-agent views, slot summaries."""

from fairmarket_local.common.lazy import lazy_exports

_EXPORTS = {
    "EnvConfig": "config",
    "load_env_config": "config",
    "scenario_names": "config",
    "MarketCore": "core",
    "SlotRecord": "core",
    "build_community": "make",
    "make_env": "make",
    "P2PMarketEnv": "parallel_env",
    "SingleAgentView": "single_agent",
    "slot_summary": "summary",
    "summary_fairness": "summary",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
