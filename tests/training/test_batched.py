"""Batched forward passes agree with each SB3 policy evaluated on its own."""

import numpy as np
import pytest
import torch

from fairmarket_local.critic.rule import RuleCritic
from fairmarket_local.training.config import load_run_config
from fairmarket_local.training.trainer import Trainer


@pytest.mark.parametrize("groups", ["independent", "role", "shared"])
def test_batched_matches_sb3(groups):
    trainer = Trainer(load_run_config("pilot", **{"training.groups": groups, "critic.model": "rule"}), RuleCritic())
    obs = trainer.core.reset(0)
    actions, values, _ = trainer.policies.act(obs, deterministic=True)
    for g in trainer.groups:
        x = torch.as_tensor(obs[g.agents])
        sb3_actions, sb3_values, _sb3_logp = g.model.policy.forward(x, deterministic=True)
        assert np.array_equal(actions[g.agents, : len(g.nvec)], sb3_actions.numpy())
        assert np.allclose(values[g.agents], sb3_values.detach().numpy().ravel(), atol=1e-5)


def test_sampled_log_probs_match_sb3_and_battery_idle_without_battery():
    trainer = Trainer(load_run_config("pilot", **{"critic.model": "rule"}), RuleCritic())
    obs = trainer.core.reset(0)
    actions, _, logp = trainer.policies.act(obs)
    for g in trainer.groups:
        dims = len(g.nvec)
        _, sb3_logp, _ = g.model.policy.evaluate_actions(torch.as_tensor(obs[g.agents]),
                                                           torch.as_tensor(actions[g.agents, :dims]))
        assert np.allclose(logp[g.agents], sb3_logp.detach().numpy(), atol=1e-5)
        if dims == 2:
            assert np.all(actions[g.agents, 2] == 1)


def test_sampling_is_seeded():
    def sample(seed):
        trainer = Trainer(load_run_config("pilot", **{"critic.model": "rule", "seed": seed}), RuleCritic())
        return trainer.policies.act(trainer.core.reset(0))[0]

    assert np.array_equal(sample(3), sample(3))
    assert not np.array_equal(sample(3), sample(4))
