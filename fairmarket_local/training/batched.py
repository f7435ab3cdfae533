"""All groups' policy forward passes in a few batched tensor ops instead of N tiny network calls.

Independent agents with the same action space form one *stacked* bucket: their weights are stacked
(G, out, in) and evaluated with one batched matmul. A group of several agents is its own bucket and
runs one ordinary matmul over its members. Actions are sampled with the Gumbel-max trick from our
own seeded ``torch.Generator`` (saved in checkpoints), so sampling never touches global RNG state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import torch
from torch import nn

from fairmarket_local.training.groups import PolicyGroup

IDLE = 1  # battery choice of agents whose action has no battery component


@dataclass
class _Bucket:
    rows: torch.Tensor  # agent index of each row
    groups: list[PolicyGroup]
    stacked: bool  # one parameter set per row (bmm) rather than one for all rows (mm)
    nvec: tuple[int, ...]
    layers: dict[str, list[tuple[torch.Tensor, torch.Tensor]]] | None = None


def _linears(module: nn.Module) -> list[nn.Linear]:
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


def _net_layers(group: PolicyGroup) -> dict[str, list[nn.Linear]]:
    policy = group.model.policy
    return {
        # SB3 types its action head as nn.Module; an MLP policy's is an nn.Linear
        "pi": [*_linears(policy.mlp_extractor.policy_net), cast(nn.Linear, policy.action_net)],
        "vf": [*_linears(policy.mlp_extractor.value_net), policy.value_net],
    }


class BatchedPolicies:
    """Evaluates every group's SB3 policy for all N agents at once."""

    def __init__(self, groups: list[PolicyGroup], n_agents: int, generator: torch.Generator) -> None:
        self.n_agents = n_agents
        self.generator = generator
        self.activation = groups[0].model.policy.activation_fn()
        self.buckets: list[_Bucket] = []
        singles: dict[tuple, list[PolicyGroup]] = {}
        for g in groups:
            if len(g.agents) == 1:
                shapes = tuple(tuple(layer.weight.shape) for ls in _net_layers(g).values() for layer in ls)
                singles.setdefault((g.nvec, shapes), []).append(g)
            else:
                self.buckets.append(_Bucket(torch.as_tensor(g.agents), [g], False, g.nvec))
        for (nvec, _), members in singles.items():
            rows = torch.as_tensor(np.concatenate([g.agents for g in members]))
            self.buckets.append(_Bucket(rows, members, True, nvec))
        self.refresh()

    def refresh(self) -> None:
        """Re-read the weights from the SB3 policies (call after training)."""
        with torch.no_grad():
            for b in self.buckets:
                per_group = [_net_layers(g) for g in b.groups]
                b.layers = {
                    net: [
                        (torch.stack([pg[net][k].weight for pg in per_group]).clone(),
                         torch.stack([pg[net][k].bias for pg in per_group]).clone())
                        for k in range(len(per_group[0][net]))
                    ]
                    for net in ("pi", "vf")
                }

    def _mlp(self, b: _Bucket, net: str, x: torch.Tensor) -> torch.Tensor:
        layers = b.layers[net]  # type: ignore[index]  # refresh() fills every bucket's layers in __init__
        for k, (w, bias) in enumerate(layers):
            if b.stacked:
                x = torch.baddbmm(bias.unsqueeze(2), w, x.unsqueeze(2)).squeeze(2)
            else:
                x = nn.functional.linear(x, w[0], bias[0])
            if k < len(layers) - 1:
                x = self.activation(x)
        return x

    @torch.no_grad()
    def act(self, obs: np.ndarray, deterministic: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Actions (N, 3) for the env, values (N,) and log-probabilities (N,) for all agents."""
        x_all = torch.as_tensor(obs, dtype=torch.float32)
        actions = np.full((self.n_agents, 3), IDLE, dtype=np.int64)
        values = np.empty(self.n_agents, dtype=np.float32)
        log_probs = np.empty(self.n_agents, dtype=np.float32)
        for b in self.buckets:
            x = x_all[b.rows]
            logits = self._mlp(b, "pi", x)
            values[b.rows.numpy()] = self._mlp(b, "vf", x).squeeze(1).numpy()
            chosen, logp = [], torch.zeros(len(b.rows))
            for part in torch.split(logits, list(b.nvec), dim=1):
                log_softmax = torch.log_softmax(part, dim=1)
                if deterministic:
                    a = part.argmax(dim=1)
                else:
                    u = torch.rand(part.shape, generator=self.generator).clamp_(1e-12, 1.0 - 1e-7)
                    a = (part - torch.log(-torch.log(u))).argmax(dim=1)
                chosen.append(a)
                logp += log_softmax.gather(1, a.unsqueeze(1)).squeeze(1)
            rows = b.rows.numpy()
            actions[rows, : len(b.nvec)] = torch.stack(chosen, dim=1).numpy()
            log_probs[rows] = logp.numpy()
        return actions, values, log_probs

    @torch.no_grad()
    def values(self, obs: np.ndarray) -> np.ndarray:
        """State values (N,) of all agents."""
        x_all = torch.as_tensor(obs, dtype=torch.float32)
        values = np.empty(self.n_agents, dtype=np.float32)
        for b in self.buckets:
            values[b.rows.numpy()] = self._mlp(b, "vf", x_all[b.rows]).squeeze(1).numpy()
        return values
