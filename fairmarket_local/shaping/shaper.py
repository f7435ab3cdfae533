"""``r_i = r_econ_i + β · λ(τ) · Σ_k w_k(role_i) · F_k`` with k ∈ {FTG, FBS, FPP} (SPEC §6).

* ``λ(τ)``: 0 until ``tau0``, then linear (or cosine) up to ``lambda_max`` at ``tau0 + tau_ramp``.
* ``β``: a number, or ``"auto"``: β = ρ · mean|r_econ| / mean(Σ w·F), both running means over all
  rollouts so far, so at full ramp the fairness term is about ρ times the economic signal.
* ``w_k`` per role: an agent is a seller (forecast surplus), a buyer (forecast deficit), or has
  nothing to trade in the slot (``none``).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class ScoreWeights(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ftg: float = Field(1 / 3, ge=0.0)
    fbs: float = Field(1 / 3, ge=0.0)
    fpp: float = Field(1 / 3, ge=0.0)

    def vector(self) -> np.ndarray:
        return np.array([self.ftg, self.fbs, self.fpp])


class RoleWeights(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seller: ScoreWeights = ScoreWeights()
    buyer: ScoreWeights = ScoreWeights()
    none: ScoreWeights = ScoreWeights()


class ShapingConfig(BaseModel):
    """The ``shaping`` section of a training config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    beta: float | Literal["auto"] = "auto"
    rho: float = Field(0.3, ge=0.0)
    lambda_max: float = Field(1.0, ge=0.0)
    tau0: float = Field(0.1, ge=0.0, le=1.0)
    tau_ramp: float = Field(0.4, ge=0.0, le=1.0)
    schedule: Literal["linear", "cosine"] = "linear"
    weights: RoleWeights = RoleWeights()

    @model_validator(mode="after")
    def _beta_non_negative(self) -> ShapingConfig:
        if self.beta != "auto" and self.beta < 0:
            raise ValueError("beta must be >= 0 or 'auto'")
        return self


def ramp(tau: float, cfg: ShapingConfig) -> float:
    """λ(τ) for training progress ``tau`` in [0, 1]."""
    if tau <= cfg.tau0:
        return 0.0
    if cfg.tau_ramp <= 0 or tau >= cfg.tau0 + cfg.tau_ramp:
        return cfg.lambda_max
    x = (tau - cfg.tau0) / cfg.tau_ramp
    if cfg.schedule == "cosine":
        x = 0.5 * (1.0 - math.cos(math.pi * x))
    return cfg.lambda_max * x


class FairnessShaper:
    """Adds the fairness term to a rollout's economic rewards; keeps the running means for β=auto."""

    def __init__(self, cfg: ShapingConfig) -> None:
        self.cfg = cfg
        w = cfg.weights
        # rows: index by side + 1 → buyer (-1), none (0), seller (+1)
        self.role_weights = np.stack([w.buyer.vector(), w.none.vector(), w.seller.vector()])
        self.abs_econ_sum = 0.0
        self.fair_sum = 0.0
        self.count = 0

    def beta(self) -> float:
        if self.cfg.beta != "auto":
            return float(self.cfg.beta)
        if self.count == 0 or self.fair_sum <= 1e-12:
            return 0.0
        return self.cfg.rho * self.abs_econ_sum / self.fair_sum

    def shape(self, r_econ: np.ndarray, side: np.ndarray, scores: np.ndarray, tau: float) -> tuple[np.ndarray, dict]:
        """Shaped rewards (T, N) from economic rewards (T, N), sides (T, N) and scores (T, 3).

        Returns the rewards and a log dict with λ, β and the mean of each term.
        """
        weighted = np.einsum("tnk,tk->tn", self.role_weights[side.astype(np.int64) + 1], scores)
        self.abs_econ_sum += float(np.abs(r_econ).sum())
        self.fair_sum += float(weighted.sum())
        self.count += r_econ.size
        lam, beta = ramp(tau, self.cfg), self.beta()
        fairness_term = beta * lam * weighted
        log = {
            "lambda": lam,
            "beta": beta,
            "reward_econ": float(r_econ.mean()),
            "reward_fairness": float(fairness_term.mean()),
        }
        return r_econ + fairness_term, log

    def state(self) -> dict:
        return {"abs_econ_sum": self.abs_econ_sum, "fair_sum": self.fair_sum, "count": self.count}

    def load_state(self, state: dict) -> None:
        self.abs_econ_sum = float(state["abs_econ_sum"])
        self.fair_sum = float(state["fair_sum"])
        self.count = int(state["count"])
