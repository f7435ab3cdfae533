"""Hand-computed uniform-price call market cases."""

from __future__ import annotations

import numpy as np

from fairmarket_local.market.call import clear_call


def test_merit_order_and_uniform_price() -> None:
    is_bid = np.array([True, False, True, False, True, False])
    price = np.array([0.10, 0.20, 0.30, 0.08, 0.25, 0.28])
    qty = np.array([1.0, 1.0, 1.0, 1.5, 1.0, 1.0])
    trades = clear_call(is_bid, price, qty)
    # Bids 0.30 (2), 0.25 (4), 0.10 (0) meet asks 0.08 (3), 0.20 (1), 0.28 (5); the marginal pair
    # is bid 0.25 / ask 0.20, so all 2 kWh trade at 0.225.
    np.testing.assert_array_equal(trades.bid_idx, [2, 4, 4])
    np.testing.assert_array_equal(trades.ask_idx, [3, 3, 1])
    np.testing.assert_allclose(trades.qty, [1.0, 0.5, 0.5])
    np.testing.assert_allclose(trades.price, 0.225)
    np.testing.assert_allclose(trades.filled, [0.0, 0.5, 1.0, 1.5, 1.0, 0.0])


def test_ties_follow_arrival_index() -> None:
    is_bid = np.array([False, True, True, False])
    price = np.array([0.1, 0.2, 0.2, 0.1])
    qty = np.array([1.0, 1.0, 1.0, 0.5])
    trades = clear_call(is_bid, price, qty)
    np.testing.assert_array_equal(trades.bid_idx, [1, 2])
    np.testing.assert_array_equal(trades.ask_idx, [0, 3])
    np.testing.assert_allclose(trades.qty, [1.0, 0.5])


def test_no_crossing_and_empty_books() -> None:
    assert len(clear_call(np.array([True, False]), np.array([0.1, 0.2]), np.ones(2))) == 0
    empty = clear_call(np.zeros(0, bool), np.zeros(0), np.zeros(0))
    assert len(empty) == 0 and empty.filled.shape == (0,)


def test_zero_quantity_orders_are_ignored() -> None:
    trades = clear_call(np.array([True, False, False]), np.array([0.3, 0.1, 0.2]), np.array([1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(trades.ask_idx, [2])
    np.testing.assert_allclose(trades.price, 0.25)
