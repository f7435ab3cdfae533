"""Reference continuous double auction: plain Python lists and linear scans.

The test oracle and benchmark baseline for ``auction.clear_cda``; same rules, same result, written
to be read rather than to be fast (O(N^2)).
"""

from __future__ import annotations

import numpy as np

from fairmarket_local.market.trades import QTY_EPS, Trades, as_orders, check_rule


def clear_cda_reference(
    is_bid: np.ndarray, price: np.ndarray, qty: np.ndarray, rule: str = "midpoint"
) -> Trades:
    """Clear orders given in arrival order; see ``auction.clear_cda`` for the rules."""
    maker = check_rule(rule)
    is_bid, price, qty = as_orders(is_bid, price, qty)
    bid_side = [bool(b) for b in is_bid]
    limit = [float(p) for p in price]
    remaining = [float(q) for q in qty]

    resting_bids: list[int] = []
    resting_asks: list[int] = []
    trades: list[tuple[int, int, float, float]] = []

    def crosses(i: int, j: int) -> bool:
        return limit[j] <= limit[i] if bid_side[i] else limit[j] >= limit[i]

    def priority(i: int, j: int) -> tuple[float, int]:
        """Sort key of resting order ``j`` for arriving order ``i``: best price, then earliest."""
        return (limit[j] if bid_side[i] else -limit[j], j)

    for i in range(len(limit)):
        if remaining[i] <= QTY_EPS:
            continue
        own, opposite = (resting_bids, resting_asks) if bid_side[i] else (resting_asks, resting_bids)
        while True:
            candidates = [j for j in opposite if crosses(i, j)]
            if not candidates:
                break
            j = min(candidates, key=lambda j: priority(i, j))
            q = min(remaining[i], remaining[j])
            trade_price = limit[j] if maker else 0.5 * (limit[i] + limit[j])
            trades.append((i, j, q, trade_price) if bid_side[i] else (j, i, q, trade_price))
            remaining[i] -= q
            remaining[j] -= q
            if remaining[j] <= QTY_EPS:
                remaining[j] = 0.0
                opposite.remove(j)
            if remaining[i] <= QTY_EPS:
                remaining[i] = 0.0
                break
        if remaining[i] > 0.0:
            own.append(i)

    filled = [q - r for q, r in zip(qty.tolist(), remaining)]
    return Trades(
        bid_idx=np.array([t[0] for t in trades], dtype=np.int64),
        ask_idx=np.array([t[1] for t in trades], dtype=np.int64),
        qty=np.array([t[2] for t in trades], dtype=np.float64),
        price=np.array([t[3] for t in trades], dtype=np.float64),
        filled=np.array(filled, dtype=np.float64),
    )
