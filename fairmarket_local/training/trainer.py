"""The IPPO coordinator (SPEC §7): step the market, act for every group, shape, train.

One rollout is one episode. At its end all of the episode's slots go to the critic in one batch
(*deferred shaping*); the fairness term is added to the economic rewards before each group's
returns and advantages are computed; then every group runs its PPO update.

:meth:`Trainer.run_episode` is four steps with one job each (as SB3's ``collect_rollouts`` / ``train``):
:meth:`~Trainer.collect_rollout` plays the episode into a :class:`Rollout`, :meth:`~Trainer.score` has
the critic score its slots and shapes the rewards (:class:`EpisodeScores`), :meth:`~Trainer.update`
runs every group's PPO update and :meth:`~Trainer.record` builds the episode's metrics row.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from fairmarket_local.critic.base import Critic
from fairmarket_local.env.core import MarketCore
from fairmarket_local.env.make import build_community
from fairmarket_local.env.summary import SlotSummary, slot_summary
from fairmarket_local.metrics.fairness import SCORE_NAMES
from fairmarket_local.shaping import FairnessShaper
from fairmarket_local.training.batched import BatchedPolicies
from fairmarket_local.training.config import RunConfig
from fairmarket_local.training.groups import PolicyGroup, assign_groups, make_group

PPO_LOG_KEYS = ("approx_kl", "entropy_loss", "value_loss", "policy_gradient_loss", "clip_fraction")
CRITIC_STAT_KEYS = ("cache_hits", "cache_misses", "fallbacks", "model_seconds")  # counted per episode


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
        self.last_summaries: list[SlotSummary] = []

    @property
    def done(self) -> bool:
        return self.episode >= self.config.training.episodes

    def run_episode(self) -> dict:
        """Collect one episode, score it, shape it, update every group; returns the metrics row."""
        tau = self.episode / self.config.training.episodes
        timer = _Timer()
        rollout = self.collect_rollout(timer)
        scored = self.score(rollout, tau, timer)
        with timer("update"):
            ppo_log = self.update(rollout, scored.rewards, tau)
        self.episode += 1
        row = self.record(tau, scored, ppo_log, timer)
        self.rows.append(row)
        return row

    def collect_rollout(self, timer: _Timer) -> Rollout:
        """Play the episode ``self.episode`` with every group's current policy (sampled actions)."""
        core = self.core
        n_steps, n = core.episode_slots, core.n
        obs = core.reset(episode_seed(self.config.env.seed, self.episode))
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
        return Rollout(traj_obs, traj_act, values, log_probs, r_econ, side, last_values)

    def score(self, rollout: Rollout, tau: float, timer: _Timer) -> EpisodeScores:
        """The critic's scores of the episode's slots (one batch: deferred shaping) and the rewards they shape."""
        with timer("critic"):
            self.last_summaries = [slot_summary(r) for r in self.core.records]
            stats_before = self.critic.stats.as_dict()
            scores = self.critic.score(self.last_summaries)
            stats_after = self.critic.stats.as_dict()
        score_arr = np.array([s.values() for s in scores], dtype=np.float64)
        rewards, shaping_log = self.shaper.shape(rollout.reward_econ, rollout.side, score_arr, tau)
        # The episode ends by truncation, not termination: bootstrap from the value of the next state.
        rewards[-1] += self.config.training.ppo.gamma * rollout.last_values
        critic_stats = {k: stats_after[k] - stats_before[k] for k in CRITIC_STAT_KEYS}
        return EpisodeScores(score_arr, rewards, shaping_log, critic_stats)

    def update(self, rollout: Rollout, rewards: np.ndarray, tau: float) -> dict[str, float]:
        """One PPO update of every group on its agents' part of the rollout; the mean of each PPO log value."""
        n_steps = rollout.obs.shape[0]
        starts = np.zeros(n_steps, dtype=np.float32)
        starts[0] = 1.0
        logs: dict[str, list[float]] = {k: [] for k in PPO_LOG_KEYS}
        for g in self.groups:
            model, idx, dims = g.model, g.agents, len(g.nvec)
            buffer = model.rollout_buffer
            buffer.reset()
            for t in range(n_steps):
                buffer.add(rollout.obs[t, idx], rollout.actions[t, idx, :dims], rewards[t, idx],
                           np.full(len(idx), starts[t]), torch.as_tensor(rollout.values[t, idx]),
                           torch.as_tensor(rollout.log_probs[t, idx]))
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

    def record(self, tau: float, scored: EpisodeScores, ppo_log: dict[str, float], timer: _Timer) -> dict:
        """The metrics row of the episode just trained (``self.episode``, 1-based)."""
        stats = scored.critic_stats
        return {
            "episode": self.episode,
            "tau": tau,
            **scored.shaping_log,
            "reward_total": float(scored.rewards.mean()),
            **{f"ref_{k}": v for k, v in self.core.kpis.result().items()},
            **{f"critic_{name}": float(scored.scores[:, k].mean()) for k, name in enumerate(SCORE_NAMES)},
            **{f"critic_{k}": stats[k] for k in ("cache_hits", "cache_misses", "fallbacks")},
            **self.critic.episode_metrics(),
            **ppo_log,
            **{f"time_{k}": v for k, v in timer.totals.items()},
            "time_critic_model": stats["model_seconds"],  # part of time_critic
        }


@dataclass
class Rollout:
    """One episode as played, per slot and agent: observation, action, value and log-probability at the
    time, economic reward and side (+1 seller, -1 buyer, 0 neither); the values of the state after it."""

    obs: np.ndarray  # (slots, agents, features)
    actions: np.ndarray  # (slots, agents, 3)
    values: np.ndarray  # (slots, agents)
    log_probs: np.ndarray  # (slots, agents)
    reward_econ: np.ndarray  # (slots, agents)
    side: np.ndarray  # (slots, agents)
    last_values: np.ndarray  # (agents,)


@dataclass
class EpisodeScores:
    """The critic's scores of an episode's slots (slots × ftg, fbs, fpp), the rewards they shape (slots ×
    agents, the last slot bootstrapped), the shaping log and what the critic's counters grew by."""

    scores: np.ndarray
    rewards: np.ndarray
    shaping_log: dict[str, float]
    critic_stats: dict[str, float]


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
