"""Hand-computed continuous double auction cases, run on the fast and the reference implementation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from fairmarket_local.common.errors import ConfigError
from fairmarket_local.market.auction import clear_cda
from fairmarket_local.market.reference import clear_cda_reference
from fairmarket_local.market.trades import Trades

Clear = Callable[..., Trades]

CLEARERS = pytest.mark.parametrize("clear", [clear_cda, clear_cda_reference], ids=["numba", "reference"])
B, A = True, False


def book(*orders: tuple[bool, float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(is_bid, price, qty) arrays from (side, price, qty) tuples in arrival order."""
    is_bid = np.array([o[0] for o in orders], dtype=bool)
    price = np.array([o[1] for o in orders], dtype=np.float64)
    qty = np.array([o[2] for o in orders], dtype=np.float64)
    return is_bid, price, qty


def assert_trades(trades: Trades, expected: list[tuple[int, int, float, float]]) -> None:
    """Trades equal ``expected`` (bid, ask, qty, price): indices exactly, numbers to 1e-12."""
    assert len(trades) == len(expected)
    if expected:
        bid, ask, qty, price = (np.array(column) for column in zip(*expected))
        np.testing.assert_array_equal(trades.bid_idx, bid)
        np.testing.assert_array_equal(trades.ask_idx, ask)
        np.testing.assert_allclose(trades.qty, qty, rtol=0, atol=1e-12)
        np.testing.assert_allclose(trades.price, price, rtol=0, atol=1e-12)


@CLEARERS
def test_empty_book(clear: Clear) -> None:
    trades = clear(*book())
    assert len(trades) == 0
    assert trades.filled.shape == (0,)
    assert trades.bid_idx.dtype == trades.ask_idx.dtype == np.int64


@CLEARERS
@pytest.mark.parametrize("side", [B, A])
def test_one_sided_book_does_not_trade(clear: Clear, side: bool) -> None:
    trades = clear(*book((side, 0.2, 1.0), (side, 0.1, 2.0), (side, 0.3, 0.5)))
    assert len(trades) == 0
    np.testing.assert_array_equal(trades.filled, 0.0)


@CLEARERS
def test_no_cross_no_trade(clear: Clear) -> None:
    trades = clear(*book((B, 0.10, 1.0), (A, 0.20, 1.0)))
    assert len(trades) == 0


@CLEARERS
def test_exact_cross(clear: Clear) -> None:
    trades = clear(*book((A, 0.2, 1.5), (B, 0.2, 1.5)))
    assert_trades(trades, [(1, 0, 1.5, 0.2)])
    np.testing.assert_array_equal(trades.filled, [1.5, 1.5])


@CLEARERS
def test_partial_fills_and_resting_remainder(clear: Clear) -> None:
    # The ask rests with 3 kWh; two bids take 1 kWh each; 1 kWh of the ask stays on the book.
    trades = clear(*book((A, 0.10, 3.0), (B, 0.20, 1.0), (B, 0.15, 1.0)))
    assert_trades(trades, [(1, 0, 1.0, 0.15), (2, 0, 1.0, 0.125)])
    np.testing.assert_array_equal(trades.filled, [2.0, 1.0, 1.0])


@CLEARERS
def test_arriving_order_sweeps_then_rests(clear: Clear) -> None:
    trades = clear(*book((A, 0.10, 1.0), (A, 0.12, 1.0), (A, 0.25, 1.0), (B, 0.20, 3.0), (A, 0.18, 5.0)))
    # The bid takes both crossing asks, rests with 1 kWh, then the last ask takes that remainder.
    assert_trades(trades, [(3, 0, 1.0, 0.15), (3, 1, 1.0, 0.16), (3, 4, 1.0, 0.19)])
    np.testing.assert_array_equal(trades.filled, [1.0, 1.0, 0.0, 3.0, 1.0])


@CLEARERS
def test_price_time_priority_for_arriving_bid(clear: Clear) -> None:
    trades = clear(*book((A, 0.2, 1.0), (A, 0.1, 1.0), (A, 0.1, 1.0), (B, 0.3, 2.5)))
    # Best price first (asks 1 and 2 at 0.1, earliest first), then ask 0 at 0.2 for the rest.
    assert_trades(trades, [(3, 1, 1.0, 0.2), (3, 2, 1.0, 0.2), (3, 0, 0.5, 0.25)])


@CLEARERS
def test_price_time_priority_for_arriving_ask(clear: Clear) -> None:
    trades = clear(*book((B, 0.15, 1.0), (B, 0.25, 1.0), (B, 0.25, 1.0), (A, 0.1, 2.5)))
    assert_trades(trades, [(1, 3, 1.0, 0.175), (2, 3, 1.0, 0.175), (0, 3, 0.5, 0.125)])


@CLEARERS
def test_maker_rule_uses_resting_price(clear: Clear) -> None:
    resting_ask = clear(*book((A, 0.1, 1.0), (B, 0.3, 1.0)), rule="maker")
    resting_bid = clear(*book((B, 0.3, 1.0), (A, 0.1, 1.0)), rule="maker")
    assert_trades(resting_ask, [(1, 0, 1.0, 0.1)])
    assert_trades(resting_bid, [(0, 1, 1.0, 0.3)])


@CLEARERS
def test_midpoint_is_default_rule(clear: Clear) -> None:
    assert_trades(clear(*book((A, 0.1, 1.0), (B, 0.3, 1.0))), [(1, 0, 1.0, 0.2)])


@CLEARERS
@pytest.mark.parametrize("rule", ["midpoint", "maker"])
def test_all_equal_prices_fill_in_arrival_order(clear: Clear, rule: str) -> None:
    trades = clear(*book((B, 0.2, 1.0), (B, 0.2, 2.0), (A, 0.2, 2.0), (A, 0.2, 2.0)), rule=rule)
    assert_trades(trades, [(0, 2, 1.0, 0.2), (1, 2, 1.0, 0.2), (1, 3, 1.0, 0.2)])
    np.testing.assert_array_equal(trades.filled, [1.0, 2.0, 2.0, 1.0])


@CLEARERS
def test_zero_quantity_orders_are_ignored(clear: Clear) -> None:
    trades = clear(*book((A, 0.1, 0.0), (A, 0.2, 1.0), (B, 0.3, 1.0), (B, 0.3, 0.0)))
    assert_trades(trades, [(2, 1, 1.0, 0.25)])
    np.testing.assert_array_equal(trades.filled, [0.0, 1.0, 1.0, 0.0])


@CLEARERS
def test_float_dust_counts_as_filled(clear: Clear) -> None:
    # 0.3 - 0.1 = 0.19999999999999998, so the 0.2 bid keeps 2.8e-17 kWh: dust, not a resting order.
    trades = clear(*book((A, 0.1, 0.3), (B, 0.2, 0.1), (B, 0.2, 0.2), (A, 0.1, 1.0)))
    assert len(trades) == 2
    assert trades.filled[2] == 0.2
    assert trades.filled[3] == 0.0


@CLEARERS
def test_unknown_rule_is_config_error(clear: Clear) -> None:
    with pytest.raises(ConfigError, match="unknown rule 'pay-as-bid'"):
        clear(*book((A, 0.1, 1.0)), rule="pay-as-bid")


@CLEARERS
@pytest.mark.parametrize(
    "orders",
    [
        (np.array([True]), np.array([0.1]), np.array([-1.0])),
        (np.array([True]), np.array([np.nan]), np.array([1.0])),
        (np.array([True, False]), np.array([0.1]), np.array([1.0])),
    ],
    ids=["negative-qty", "nan-price", "shape-mismatch"],
)
def test_malformed_orders_are_rejected(clear: Clear, orders: tuple[np.ndarray, ...]) -> None:
    with pytest.raises(ValueError):
        clear(*orders)


def test_accepts_lists_and_other_dtypes() -> None:
    trades = clear_cda([1, 0], [0.3, 0.1], [1, 1])
    assert_trades(trades, [(0, 1, 1.0, 0.2)])
