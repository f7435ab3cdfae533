"""Policy groups: which agents share one SB3 ``PPO`` (SPEC §7).

``independent`` — one PPO per agent (IPPO, the default); ``role`` — one per household kind;
``shared`` — one for all. A group of k agents is one PPO with ``n_envs = k``. In ``shared`` mode the
group's action space has the battery component when any member has a battery; members without one
ignore it (the env leaves their battery idle).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import DummyVecEnv

from fairmarket_local.env.core import MarketCore
from fairmarket_local.env.observation import OBS_BOUND, OBS_DIM
from fairmarket_local.profiles.community import KIND_NAMES, Kind
from fairmarket_local.training.config import GroupMode, PPOConfig


class _SpacesOnly(gym.Env):
    """Carries the spaces SB3 needs to build a policy; the coordinator does the stepping."""

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        self.observation_space = observation_space
        self.action_space = action_space

    def reset(self, *, seed=None, options=None):  # pragma: no cover - never stepped
        raise RuntimeError("placeholder env: the coordinator steps the market")

    def step(self, action):  # pragma: no cover - never stepped
        raise RuntimeError("placeholder env: the coordinator steps the market")


@dataclass
class PolicyGroup:
    """Agents (indices into the env) trained by one PPO."""

    name: str
    agents: np.ndarray
    nvec: tuple[int, ...]
    model: PPO


def assign_groups(mode: GroupMode, core: MarketCore) -> list[tuple[str, np.ndarray, tuple[int, ...]]]:
    """(name, agent indices, action nvec) per group."""
    n = core.n
    ids = core.community.ids
    if mode == "independent":
        return [(ids[i], np.array([i]), tuple(core.action_nvec(i))) for i in range(n)]
    if mode == "shared":
        nvec = max((tuple(core.action_nvec(i)) for i in range(n)), key=len)
        return [("shared", np.arange(n), nvec)]
    groups = []
    for kind in Kind:
        members = np.flatnonzero(core.community.kinds == kind)
        if members.size:
            nvec = max((tuple(core.action_nvec(i)) for i in members), key=len)
            groups.append((KIND_NAMES[kind], members, nvec))
    return groups


def _batch_size(wanted: int, total: int) -> int:
    """Largest minibatch ≤ ``wanted`` that divides the rollout evenly (SB3 warns otherwise)."""
    cap = max(2, min(wanted, total))
    return next(d for d in range(cap, 0, -1) if total % d == 0)


def make_group(name: str, agents: np.ndarray, nvec: tuple[int, ...], n_steps: int, cfg: PPOConfig,
               seed: int) -> PolicyGroup:
    """A PPO whose rollout buffer holds ``n_steps`` slots × ``len(agents)`` agents."""
    obs_space = spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(OBS_DIM,), dtype=np.float32)
    act_space = spaces.MultiDiscrete(list(nvec))
    venv = DummyVecEnv([partial(_SpacesOnly, obs_space, act_space)] * len(agents))
    model = PPO(
        "MlpPolicy",
        venv,
        learning_rate=cfg.learning_rate,
        n_steps=n_steps,
        batch_size=_batch_size(cfg.batch_size, n_steps * len(agents)),
        n_epochs=cfg.n_epochs,
        gamma=cfg.gamma,
        gae_lambda=cfg.gae_lambda,
        clip_range=cfg.clip_range,
        ent_coef=cfg.ent_coef,
        vf_coef=cfg.vf_coef,
        max_grad_norm=cfg.max_grad_norm,
        target_kl=cfg.target_kl,
        policy_kwargs={"net_arch": list(cfg.net_arch)},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    model.set_logger(Logger(folder=None, output_formats=[]))
    return PolicyGroup(name, agents, nvec, model)
