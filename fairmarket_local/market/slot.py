"""One trading slot end to end: seeded arrival order, P2P clearing, grid settlement.

Per household, with P2P ``sold`` / ``bought`` (kWh) and ``actual_net`` (> 0 surplus, < 0 deficit):
``grid_net = actual_net - (sold - bought)``; a positive ``grid_net`` is exported at the feed-in tariff
and a negative one imported at retail. This one rule covers unmatched deficit, unmatched or unoffered
surplus, and imbalance when delivery differs from the forecast the order was placed on.
``cost = paid - revenue + retail * grid_import - feed_in * grid_export``.

Order prices must lie in [feed_in, retail]; up to ``PRICE_TOL`` outside (float round-off of a price
grid such as ``feed_in + k / 10 * (retail - feed_in)``) they are clipped onto the bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from fairmarket_local.common.errors import ConfigError
from fairmarket_local.market.auction import clear_cda
from fairmarket_local.market.call import clear_call
from fairmarket_local.market.trades import Trades

BUY, NONE, SELL = -1, 0, 1
PRICE_TOL = 1e-9  # $/kWh


@dataclass(frozen=True, eq=False)
class SlotResult:
    """Outcome of one slot. Per-household arrays are (N,); per-trade arrays follow ``trades``."""

    arrival: np.ndarray  # (M,) household of each active order, in arrival order
    trades: Trades  # indices into ``arrival`` (order arrival rank)
    buyer: np.ndarray  # (K,) household of each trade's bid
    seller: np.ndarray  # (K,) household of each trade's ask
    sold: np.ndarray  # kWh sold P2P
    bought: np.ndarray  # kWh bought P2P
    revenue: np.ndarray  # $ received from P2P sales
    paid: np.ndarray  # $ paid for P2P purchases
    grid_import: np.ndarray  # kWh bought from the grid at retail
    grid_export: np.ndarray  # kWh sold to the grid at feed-in
    cost: np.ndarray  # $ net cost (negative: net income)
    grid_only_cost: np.ndarray  # $ net cost had the household traded with the grid only
    p2p_volume: float  # kWh
    p2p_price: float  # volume-weighted mean P2P price, nan without trades
    total_grid_import: float  # kWh
    total_grid_export: float  # kWh
    utility_net_revenue: float  # $ retail * import - feed_in * export


def run_slot(
    order_side: np.ndarray,
    order_price: np.ndarray,
    order_qty: np.ndarray,
    actual_net: np.ndarray,
    retail: float,
    feed_in: float,
    rng: np.random.Generator,
    rule: str = "midpoint",
    mode: Literal["cda", "call"] = "cda",
) -> SlotResult:
    """Clear one slot's orders among N households and settle the rest with the grid.

    :param order_side: (N,) int8, +1 sell, -1 buy, 0 no order.
    :param order_price: (N,) limit price in [feed_in, retail] for every active order (see module doc).
    :param order_qty: (N,) kWh >= 0; households with side 0 or qty 0 place no order.
    :param actual_net: (N,) delivered net position after the battery (kWh, > 0 surplus).
    :param rng: draws the arrival order (``rng.permutation`` over the active orders).
    :param rule: CDA trade price rule, ``"midpoint"`` or ``"maker"`` (ignored in call mode).
    :param mode: ``"cda"`` continuous double auction or ``"call"`` uniform-price call market.
    """
    side = np.asarray(order_side)
    price = np.asarray(order_price, dtype=np.float64)
    qty = np.asarray(order_qty, dtype=np.float64)
    actual_net = np.asarray(actual_net, dtype=np.float64)
    n = actual_net.size
    _check_inputs(side, price, qty, actual_net, retail, feed_in)
    price = np.clip(price, feed_in, retail)

    active = np.flatnonzero((side != NONE) & (qty > 0))
    arrival = active[rng.permutation(active.size)]
    is_bid = side[arrival] == BUY
    if mode == "cda":
        trades = clear_cda(is_bid, price[arrival], qty[arrival], rule)
    elif mode == "call":
        trades = clear_call(is_bid, price[arrival], qty[arrival])
    else:
        raise ConfigError(f"market.mode: unknown mode {mode!r}, expected 'cda' or 'call'")

    buyer = arrival[trades.bid_idx]
    seller = arrival[trades.ask_idx]
    money = trades.qty * trades.price
    sold = np.bincount(seller, weights=trades.qty, minlength=n)
    bought = np.bincount(buyer, weights=trades.qty, minlength=n)
    revenue = np.bincount(seller, weights=money, minlength=n)
    paid = np.bincount(buyer, weights=money, minlength=n)

    grid_net = actual_net - (sold - bought)
    grid_export = np.maximum(grid_net, 0.0)
    grid_import = np.maximum(-grid_net, 0.0)
    cost = paid - revenue + retail * grid_import - feed_in * grid_export
    grid_only_cost = retail * np.maximum(-actual_net, 0.0) - feed_in * np.maximum(actual_net, 0.0)

    volume = float(trades.qty.sum())
    total_import = float(grid_import.sum())
    total_export = float(grid_export.sum())
    return SlotResult(
        arrival=arrival, trades=trades, buyer=buyer, seller=seller, sold=sold, bought=bought,
        revenue=revenue, paid=paid, grid_import=grid_import, grid_export=grid_export,
        cost=cost, grid_only_cost=grid_only_cost,
        p2p_volume=volume,
        p2p_price=float(money.sum()) / volume if volume > 0 else float("nan"),
        total_grid_import=total_import,
        total_grid_export=total_export,
        utility_net_revenue=retail * total_import - feed_in * total_export,
    )


def optimal_welfare(is_bid: np.ndarray, price: np.ndarray, qty: np.ndarray) -> float:
    """Maximum gains from trade, sum of (bid - ask) * q, over any matching of the orders.

    The merit-order matching (highest bids with lowest asks, as in the call market) is optimal.
    """
    trades = clear_call(is_bid, price, qty)
    price = np.asarray(price, dtype=np.float64)
    return float(np.sum(trades.qty * (price[trades.bid_idx] - price[trades.ask_idx])))


def _check_inputs(side: np.ndarray, price: np.ndarray, qty: np.ndarray, actual_net: np.ndarray,
                  retail: float, feed_in: float) -> None:
    n = actual_net.size
    if not (actual_net.ndim == 1 and side.shape == price.shape == qty.shape == (n,)):
        raise ValueError(f"order arrays and actual_net must all have shape ({n},)")
    if not 0 <= feed_in < retail:
        raise ValueError(f"tariffs need 0 <= feed_in < retail, got feed_in={feed_in}, retail={retail}")
    if not np.isfinite(actual_net).all():
        raise ValueError("actual_net must be finite")
    if np.any((side < BUY) | (side > SELL)):
        raise ValueError("order_side must be -1 (buy), 0 (none) or +1 (sell)")
    if not (np.isfinite(qty).all() and np.all(qty >= 0)):
        raise ValueError("order_qty must be finite and >= 0")
    # NaN prices of active orders fail these comparisons too.
    active_price = price[(side != NONE) & (qty > 0)]
    if not np.all((active_price >= feed_in - PRICE_TOL) & (active_price <= retail + PRICE_TOL)):
        raise ValueError(f"order prices must lie in [feed_in, retail] = [{feed_in}, {retail}]")
