"""Order-book inputs and the ``Trades`` result shared by every clearing mechanism.

Quantity epsilon: a remaining quantity ``<= QTY_EPS`` kWh counts as filled (set to exactly 0), and an
order whose quantity is ``<= QTY_EPS`` is ignored. Float subtraction leaves dust such as 5.6e-17
where the exact remainder is 0; without this rule dust would rest on the book and trade.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fairmarket_local.common.errors import ConfigError

QTY_EPS = 1e-12
PRICE_RULES = ("midpoint", "maker")


@dataclass(frozen=True, eq=False)
class Trades:
    """Trades in execution order, and the filled quantity of every order.

    ``bid_idx`` / ``ask_idx`` index the input order arrays (arrival rank). ``filled[i]`` is the
    quantity of order ``i`` that traded; ``qty - filled`` is what rests unmatched.
    """

    bid_idx: np.ndarray  # (K,) int64
    ask_idx: np.ndarray  # (K,) int64
    qty: np.ndarray  # (K,) float64, kWh
    price: np.ndarray  # (K,) float64, $/kWh
    filled: np.ndarray  # (N,) float64, kWh

    def __len__(self) -> int:
        return int(self.qty.size)

    @property
    def volume(self) -> float:
        """Total traded quantity (kWh)."""
        return float(self.qty.sum())


def check_rule(rule: str) -> bool:
    """Return True for the ``maker`` rule, False for ``midpoint``; ConfigError otherwise."""
    if rule not in PRICE_RULES:
        raise ConfigError(f"market.price_rule: unknown rule {rule!r}, expected one of {PRICE_RULES}")
    return rule == "maker"


def as_orders(is_bid: np.ndarray, price: np.ndarray, qty: np.ndarray) -> tuple[np.ndarray, ...]:
    """Coerce order arrays to contiguous bool/float64 and reject malformed input (ValueError)."""
    is_bid = np.ascontiguousarray(is_bid, dtype=np.bool_)
    price = np.ascontiguousarray(price, dtype=np.float64)
    qty = np.ascontiguousarray(qty, dtype=np.float64)
    if not (is_bid.ndim == price.ndim == qty.ndim == 1 and is_bid.size == price.size == qty.size):
        shapes = f"{is_bid.shape}, {price.shape}, {qty.shape}"
        raise ValueError(f"order arrays must be 1-D of equal length, got {shapes}")
    if qty.size and not (np.isfinite(price).all() and np.isfinite(qty).all() and qty.min() >= 0.0):
        raise ValueError("order prices must be finite and quantities finite and >= 0")
    return is_bid, price, qty
