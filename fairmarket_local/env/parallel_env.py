"""PettingZoo ``ParallelEnv`` over :class:`MarketCore`: the dict API is only the boundary."""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from fairmarket_local.env.config import EnvConfig
from fairmarket_local.env.core import MarketCore, SlotRecord
from fairmarket_local.env.observation import OBS_BOUND, OBS_DIM
from fairmarket_local.env.summary import SlotSummary, slot_summary
from fairmarket_local.profiles.community import Community

ROLE = {1: "seller", -1: "buyer", 0: "none"}


class P2PMarketEnv(ParallelEnv):
    """One agent per household bidding (price level, quantity level[, battery]) every slot.

    Observations are the agent's own forecasts and state plus public statistics of the previous
    slot (see :data:`fairmarket_local.env.observation.OBS_FEATURES`). Rewards are the economic
    reward of SPEC §6 (fairness shaping is added by the trainer, not here). An episode ends by
    truncation after ``episode_days`` days.
    """

    metadata: ClassVar[dict[str, Any]] = {"name": "fairmarket_p2p_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, config: EnvConfig, community: Community) -> None:
        self.config = config
        self.core = MarketCore(config, community)
        self.possible_agents = list(community.ids)
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        self.agents: list[str] = []
        self.last_record: SlotRecord | None = None

    @functools.cache  # noqa: B019 — PettingZoo's per-agent space pattern; a process builds few envs
    def observation_space(self, agent: str) -> spaces.Box:
        return spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(OBS_DIM,), dtype=np.float32)

    @functools.cache  # noqa: B019 — as above
    def action_space(self, agent: str) -> spaces.MultiDiscrete:
        return spaces.MultiDiscrete(self.core.action_nvec(self._index[agent]))

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        obs = self.core.reset(seed)
        self.agents = list(self.possible_agents)
        self.last_record = None
        return self._obs_dict(obs), {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        grid = np.zeros((self.core.n, 3), dtype=np.int64)
        grid[:, 2] = 1  # agents without an action place no order and leave the battery idle
        for agent, action in actions.items():
            a = np.asarray(action, dtype=np.int64).ravel()
            grid[self._index[agent], : a.size] = a
        record = self.core.step(grid)
        self.last_record = record
        obs = self._obs_dict(self.core.observe())
        res = record.result
        rewards, infos = {}, {}
        for agent in self.agents:
            i = self._index[agent]
            rewards[agent] = float(record.reward[i])
            infos[agent] = {
                "role": ROLE[int(record.side[i])],
                "cost": float(res.cost[i]),
                "grid_only_cost": float(res.grid_only_cost[i]),
                "p2p_kwh": float(res.sold[i] + res.bought[i]),
                "p2p_money": float(res.revenue[i] - res.paid[i]),
                "grid_import_kwh": float(res.grid_import[i]),
                "grid_export_kwh": float(res.grid_export[i]),
                "reward_econ": float(record.reward[i]),
            }
        done = self.core.done
        terminations = {a: False for a in self.agents}
        truncations = {a: done for a in self.agents}
        if done:
            self.agents = []
        return obs, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """Global state for centralised critics: every agent's observation, stacked."""
        return self.core.observe().ravel()

    @property
    def last_summary(self) -> SlotSummary | None:
        """Canonical summary (SPEC §5) of the slot just traded."""
        return None if self.last_record is None else slot_summary(self.last_record)

    def episode_summaries(self) -> list[SlotSummary]:
        """Summaries of every slot of the current episode so far."""
        return [slot_summary(r) for r in self.core.records]

    def episode_kpis(self) -> dict[str, float]:
        """KPIs (SPEC §4) of the current episode so far."""
        return self.core.kpis.result()

    def _obs_dict(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        return {a: obs[self._index[a]] for a in self.agents}
