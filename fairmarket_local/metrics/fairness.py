"""The three reference fairness scores of one slot (SPEC §4), each in [0, 1].

Conventions beyond the bare formulas (stated in SPEC §4 and the README):
- a seller with zero actual surplus is left out of FBS (its fill ratio is undefined);
- fill ratios are clipped to [0, 1] (a seller who sold more than it actually had is "fully served");
- FTG is clipped to [0, 1] for the same reason (P2P volume can exceed min(S, D) under forecast error);
- every score is clipped to [0, 1] when it is made, whoever made it (Jain's index can round to 1 + 2e-16).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

EPS = 1e-9
SCORE_NAMES = ("ftg", "fbs", "fpp")  # the order of every score triple in the toolkit
FbsVariant = Literal["jain", "gini"]


@dataclass(frozen=True)
class FairnessScores:
    """FTG, FBS, FPP in [0, 1]; ``source`` says where they came from (rule, model, cache, fallback)."""

    ftg: float
    fbs: float
    fpp: float
    source: str = "rule"
    rationale: str | None = None

    def __post_init__(self) -> None:
        for key in SCORE_NAMES:
            object.__setattr__(self, key, clip_unit(getattr(self, key)))

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def values(self) -> tuple[float, float, float]:
        return (self.ftg, self.fbs, self.fpp)


def clip_unit(x: float) -> float:
    """``x`` as a float in [0, 1]."""
    return float(min(1.0, max(0.0, x)))


def ftg(total_surplus: float, total_deficit: float, p2p_volume: float) -> float:
    """Fairness to the grid: share of the locally balanceable energy that was traded P2P."""
    balanceable = min(total_surplus, total_deficit)
    if balanceable <= EPS:
        return 1.0
    return clip_unit(p2p_volume / balanceable)


def jain(x: np.ndarray) -> float:
    """Jain's index (Σx)² / (n·Σx²); 1 for ≤ 1 value or all zeros."""
    x = np.asarray(x, dtype=np.float64)
    sq = float(np.dot(x, x))
    if x.size <= 1 or sq <= EPS * EPS:
        return 1.0
    return float(x.sum() ** 2 / (x.size * sq))


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal); 0 for ≤ 1 value or all zeros."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    n = x.size
    total = float(x.sum())
    if n <= 1 or total <= EPS:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2.0 * np.dot(ranks, x) / (n * total)) - (n + 1) / n)


def fbs(sold: np.ndarray, surplus: np.ndarray, variant: FbsVariant = "jain") -> float:
    """Fairness between sellers from each seller's fill ratio ``sold / surplus``."""
    sold = np.asarray(sold, dtype=np.float64)
    surplus = np.asarray(surplus, dtype=np.float64)
    has = surplus > EPS
    x = np.clip(sold[has] / surplus[has], 0.0, 1.0)
    return clip_unit(jain(x) if variant == "jain" else 1.0 - gini(x))


def fpp(qty: np.ndarray, price: np.ndarray, retail: float, feed_in: float) -> float:
    """Fairness of pricing: 1 when every trade splits the retail/feed-in spread evenly."""
    qty = np.asarray(qty, dtype=np.float64)
    volume = float(qty.sum())
    half_spread = (retail - feed_in) / 2.0
    if volume <= EPS or half_spread <= EPS:
        return 1.0
    mid = (retail + feed_in) / 2.0
    deviation = float(np.dot(qty, np.abs(np.asarray(price, dtype=np.float64) - mid)))
    return clip_unit(1.0 - deviation / (volume * half_spread))


def slot_fairness(
    seller_surplus: np.ndarray,
    seller_sold: np.ndarray,
    buyer_deficit: np.ndarray,
    trade_qty: np.ndarray,
    trade_price: np.ndarray,
    retail: float,
    feed_in: float,
    fbs_variant: FbsVariant = "jain",
) -> FairnessScores:
    """All three scores of a slot from its sellers, buyers and trades."""
    volume = float(np.sum(trade_qty))
    return FairnessScores(
        ftg=ftg(float(np.sum(seller_surplus)), float(np.sum(buyer_deficit)), volume),
        fbs=fbs(seller_sold, seller_surplus, fbs_variant),
        fpp=fpp(trade_qty, trade_price, retail, feed_in),
    )
