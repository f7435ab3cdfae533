"""Multi-agent environment (SPEC §3): array core, PettingZoo API, single-agent views, slot summaries."""

from fairmarket_local.env.config import EnvConfig, load_env_config, scenario_names
from fairmarket_local.env.core import MarketCore, SlotRecord
from fairmarket_local.env.make import build_community, make_env
from fairmarket_local.env.parallel_env import P2PMarketEnv
from fairmarket_local.env.single_agent import SingleAgentView
from fairmarket_local.env.summary import slot_summary, summary_fairness

__all__ = [
    "EnvConfig", "MarketCore", "P2PMarketEnv", "SingleAgentView", "SlotRecord", "build_community",
    "load_env_config", "make_env", "scenario_names", "slot_summary", "summary_fairness",
]
