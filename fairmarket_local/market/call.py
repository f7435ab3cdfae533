"""Uniform-price call market: one merit-order clearing of all the slot's orders at once.

Bids are sorted by price descending and asks ascending, ties broken by arrival index. Walking both
lists, the best remaining bid is matched with the best remaining ask while bid >= ask, so the matched
volume is where the demand and supply curves cross. Every trade gets one uniform price: the midpoint
of the last (marginal) matched bid and ask. Any price in [last ask, last bid] clears that volume; the
midpoint splits the marginal pair's surplus evenly, and since every matched bid is >= the last bid and
every matched ask <= the last ask, no trader pays above its bid or receives below its ask.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from fairmarket_local.market.trades import QTY_EPS, Trades, as_orders


@njit(cache=True)
def _merit_order_walk(
    bids: np.ndarray, asks: np.ndarray, price: np.ndarray, qty: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rem = qty.copy()
    n = bids.size + asks.size
    t_bid = np.empty(n, np.int64)
    t_ask = np.empty(n, np.int64)
    t_qty = np.empty(n, np.float64)
    b = 0
    a = 0
    k = 0
    while b < bids.size and a < asks.size:
        i = bids[b]
        j = asks[a]
        if price[i] < price[j]:
            break
        q = min(rem[i], rem[j])
        t_bid[k] = i
        t_ask[k] = j
        t_qty[k] = q
        k += 1
        rem[i] -= q
        rem[j] -= q
        if rem[i] <= QTY_EPS:
            rem[i] = 0.0
            b += 1
        if rem[j] <= QTY_EPS:
            rem[j] = 0.0
            a += 1
    return t_bid[:k].copy(), t_ask[:k].copy(), t_qty[:k].copy(), qty - rem


def clear_call(is_bid: np.ndarray, price: np.ndarray, qty: np.ndarray) -> Trades:
    """Clear all orders at one uniform price (merit order; ties by arrival index).

    Same inputs and result type as ``auction.clear_cda``; zero-quantity orders are ignored and
    trades are listed in merit order.
    """
    is_bid, price, qty = as_orders(is_bid, price, qty)
    active = np.flatnonzero(qty > QTY_EPS)
    bids = active[is_bid[active]]
    asks = active[~is_bid[active]]
    # Stable sorts keep arrival order among equal prices.
    bids = bids[np.argsort(-price[bids], kind="stable")]
    asks = asks[np.argsort(price[asks], kind="stable")]
    bid_idx, ask_idx, t_qty, filled = _merit_order_walk(bids, asks, price, qty)
    uniform = 0.5 * (price[bid_idx[-1]] + price[ask_idx[-1]]) if bid_idx.size else 0.0
    return Trades(bid_idx, ask_idx, t_qty, np.full(bid_idx.size, uniform), filled)
