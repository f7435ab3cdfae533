"""A Gymnasium view of one household, the others driven by a fixed policy (SB3 ``check_env``-clean)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from fairmarket_local.env.parallel_env import P2PMarketEnv

# Maps all agents' observations (N, OBS_DIM) to their actions (N, 3).
JointPolicy = Callable[[np.ndarray], np.ndarray]


def idle_policy(obs: np.ndarray) -> np.ndarray:
    """Nobody places an order; batteries stay idle."""
    actions = np.zeros((obs.shape[0], 3), dtype=np.int64)
    actions[:, 2] = 1
    return actions


class SingleAgentView(gym.Env):
    """Household ``agent`` of a :class:`P2PMarketEnv` as a single-agent Gymnasium env."""

    # gymnasium declares it an instance attribute; it is a class attribute (ruff RUF012 wants the ClassVar)
    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}  # type: ignore[misc]  # see above

    def __init__(self, env: P2PMarketEnv, agent: str, others: JointPolicy = idle_policy) -> None:
        self.env = env
        self.agent = agent
        self.index = env.possible_agents.index(agent)
        self.others = others
        self.observation_space = env.observation_space(agent)
        self.action_space = env.action_space(agent)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.env.reset(seed=seed, options=options)
        return self.env.core.observe()[self.index], {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        core = self.env.core
        actions = np.asarray(self.others(core.observe()), dtype=np.int64).copy()
        a = np.asarray(action, dtype=np.int64).ravel()
        actions[self.index, : a.size] = a
        _obs, rewards, terms, truncs, infos = self.env.step(
            {agent: actions[i] for i, agent in enumerate(self.env.possible_agents)}
        )
        return (
            core.observe()[self.index],
            rewards[self.agent],
            terms[self.agent],
            truncs[self.agent],
            infos[self.agent],
        )
