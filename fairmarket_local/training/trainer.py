"""The IPPO coordinator (SPEC §7): step the market, act for every group, shape, train.

One rollout is one episode. At its end all of the episode's slots go to the critic in one batch
(*deferred shaping*); the fairness term is added to the economic rewards before each group's
returns and advantages are computed; then every group runs its PPO update.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from fairmarket_local.critic.base import Critic
from fairmarket_local.env.core import MarketCore
from fairmarket_local.env.make import build_community
from fairmarket_local.env.summary import slot_summary
from fairmarket_local.shaping import FairnessShaper
from fairmarket_local.training.batched import BatchedPolicies
from fairmarket_local.training.config import RunConfig
from fairmarket_local.training.groups import PolicyGroup, assign_groups, make_group

PPO_LOG_KEYS = ("approx_kl", "entropy_loss", "value_loss", "policy_gradient_loss", "clip_fraction")


def episode_seed(seed: int, episode: int) -> int:
    """The env seed of ``episode``: independent streams per episode, fixed by the run seed."""
    return int(np.random.SeedSequence([seed, episode]).generate_state(1)[0])


class Trainer:
    """Trains all policy groups of a run in memory; :mod:`fairmarket_local.training.run` persists it."""

    def __init__(self, config: RunConfig, critic: Critic) -> None:
        self.config = config
        self.critic = critic
        seed = config.env.seed
        torch.set_num_threads(1)  # tiny networks: threads only add overhead and nondeterminism
        np.random.seed(seed % 2**32)  # SB3 shuffles minibatches with numpy's global generator
        torch.manual_seed(seed)
        env_config = config.env.model_copy(update={"env": config.env.env.model_copy(update={"record_summaries": True})})
        self.core = MarketCore(env_config, build_community(env_config))
        ppo = config.training.ppo
        self.groups: list[PolicyGroup] = [
            make_group(name, agents, nvec, self.core.episode_slots, ppo, seed=seed + k)
            for k, (name, agents, nvec) in enumerate(assign_groups(config.training.groups, self.core))
        ]
        self.generator = torch.Generator().manual_seed(seed)
        self.policies = BatchedPolicies(self.groups, self.core.n, self.generator)
        self.shaper = FairnessShaper(config.training.shaping)
        self.episode = 0
        self.rows: list[dict] = []
        self.last_summaries: list[dict] = []

    @property
    def done(self) -> bool:
        return self.episode >= self.config.training.episodes

    def run_episode(self) -> dict:
        """Collect one episode, score it, shape it, update every group; returns the metrics row."""
        core, cfg = self.core, self.config
        n_steps, n = core.episode_slots, core.n
        tau = self.episode / cfg.training.episodes
        timer = _Timer()
        obs = core.reset(episode_seed(cfg.env.seed, self.episode))
        traj_obs = np.empty((n_steps, n, obs.shape[1]), dtype=np.float32)
        traj_act = np.empty((n_steps, n, 3), dtype=np.int64)
        values = np.empty((n_steps, n), dtype=np.float32)
        log_probs = np.empty((n_steps, n), dtype=np.float32)
        r_econ = np.empty((n_steps, n))
        side = np.empty((n_steps, n), dtype=np.int8)
        for t in range(n_steps):
            with timer("policy"):
                traj_obs[t] = obs
                traj_act[t], values[t], log_probs[t] = self.policies.act(obs)
            with timer("env"):
                record = core.step(traj_act[t])
                r_econ[t], side[t] = record.reward, record.side
                obs = core.observe()
        with timer("policy"):
            last_values = self.policies.values(obs)
        with timer("critic"):
            self.last_summaries = [slot_summary(r) for r in core.records]
            stats_before = self.critic.stats.as_dict()
            scores = self.critic.score(self.last_summaries)
            stats_after = self.critic.stats.as_dict()
        score_arr = np.array([s.values() for s in scores], dtype=np.float64)
        rewards, shaping_log = self.shaper.shape(r_econ, side, score_arr, tau)
        # The episode ends by truncation, not termination: bootstrap from the value of the next state.
        rewards[-1] += cfg.training.ppo.gamma * last_values
        with timer("update"):
            ppo_log = self._update(traj_obs, traj_act, rewards, values, log_probs, tau)
        self.episode += 1
        row = {
            "episode": self.episode,
            "tau": tau,
            **shaping_log,
            "reward_total": float(rewards.mean()),
            **{f"ref_{k}": v for k, v in core.kpis.result().items()},
            "critic_ftg": float(score_arr[:, 0].mean()),
            "critic_fbs": float(score_arr[:, 1].mean()),
            "critic_fpp": float(score_arr[:, 2].mean()),
            **{f"critic_{k}": stats_after[k] - stats_before[k] for k in ("cache_hits", "cache_misses", "fallbacks")},
            **self.critic.episode_metrics(),
            **ppo_log,
            **{f"time_{k}": v for k, v in timer.totals.items()},
            "time_critic_model": stats_after["model_seconds"] - stats_before["model_seconds"],  # part of time_critic
        }
        self.rows.append(row)
        return row

    def _update(self, obs, act, rewards, values, log_probs, tau) -> dict:
        n_steps = obs.shape[0]
        starts = np.zeros(n_steps, dtype=np.float32)
        starts[0] = 1.0
        logs: dict[str, list[float]] = {k: [] for k in PPO_LOG_KEYS}
        for g in self.groups:
            model, idx, dims = g.model, g.agents, len(g.nvec)
            buffer = model.rollout_buffer
            buffer.reset()
            for t in range(n_steps):
                buffer.add(obs[t, idx], act[t, idx, :dims], rewards[t, idx], np.full(len(idx), starts[t]),
                           torch.as_tensor(values[t, idx]), torch.as_tensor(log_probs[t, idx]))
            buffer.compute_returns_and_advantage(torch.zeros(len(idx)), np.ones(len(idx)))
            model.num_timesteps += n_steps * len(idx)
            model._current_progress_remaining = 1.0 - tau  # SB3 reads it for lr / clip schedules
            model.train()
            for key in PPO_LOG_KEYS:
                value = model.logger.name_to_value.get(f"train/{key}")
                if value is not None:
                    logs[key].append(float(value))
            model.logger.dump()
        self.policies.refresh()
        return {f"ppo_{k}": float(np.mean(v)) for k, v in logs.items() if v}


class _Timer:
    """Accumulates wall time per phase: ``with timer("env"): ...``."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {"env": 0.0, "policy": 0.0, "critic": 0.0, "update": 0.0}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.totals[phase] += time.perf_counter() - start
