"""One trading slot: hand-computed settlement, input validation, determinism, optimal welfare."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fairmarket_local.common.errors import ConfigError
from fairmarket_local.market.slot import SlotResult, optimal_welfare, run_slot

RETAIL, FEED_IN = 0.30, 0.08


def hand_slot(mode: str = "cda") -> SlotResult:
    # 0 sells 2 kWh at >= 0.10 and delivers 2.5; 1 buys 1 kWh at <= 0.20 and needs 1.5;
    # 2 has 0.7 kWh surplus but no order; 3 needs 0.4 kWh and orders nothing (qty 0).
    return run_slot(
        order_side=np.array([1, -1, 0, -1], dtype=np.int8),
        order_price=np.array([0.10, 0.20, 0.0, 0.0]),
        order_qty=np.array([2.0, 1.0, 0.0, 0.0]),
        actual_net=np.array([2.5, -1.5, 0.7, -0.4]),
        retail=RETAIL,
        feed_in=FEED_IN,
        rng=np.random.default_rng(0),
        mode=mode,
    )


@pytest.mark.parametrize("mode", ["cda", "call"])
def test_hand_computed_settlement(mode: str) -> None:
    res = hand_slot(mode)
    assert sorted(res.arrival.tolist()) == [0, 1]
    np.testing.assert_array_equal(res.buyer, [1])
    np.testing.assert_array_equal(res.seller, [0])
    np.testing.assert_allclose(res.sold, [1.0, 0, 0, 0])
    np.testing.assert_allclose(res.bought, [0, 1.0, 0, 0])
    np.testing.assert_allclose(res.revenue, [0.15, 0, 0, 0])
    np.testing.assert_allclose(res.paid, [0, 0.15, 0, 0])
    np.testing.assert_allclose(res.grid_export, [1.5, 0, 0.7, 0])
    np.testing.assert_allclose(res.grid_import, [0, 0.5, 0, 0.4])
    np.testing.assert_allclose(res.cost, [-0.27, 0.30, -0.056, 0.12])
    np.testing.assert_allclose(res.grid_only_cost, [-0.2, 0.45, -0.056, 0.12])
    assert res.p2p_volume == pytest.approx(1.0)
    assert res.p2p_price == pytest.approx(0.15)
    assert res.total_grid_import == pytest.approx(0.9)
    assert res.total_grid_export == pytest.approx(2.2)
    assert res.utility_net_revenue == pytest.approx(0.094)


def test_empty_slot() -> None:
    empty = np.zeros(0)
    res = run_slot(empty.astype(np.int8), empty, empty, empty, RETAIL, FEED_IN, np.random.default_rng(0))
    assert res.sold.shape == (0,) and len(res.trades) == 0
    assert np.isnan(res.p2p_price)
    assert res.p2p_volume == res.total_grid_import == res.utility_net_revenue == 0.0


def test_no_trade_gives_nan_price_and_grid_only_cost() -> None:
    res = run_slot(np.array([1, -1], np.int8), np.array([0.30, 0.08]), np.ones(2), np.array([1.0, -1.0]),
                   RETAIL, FEED_IN, np.random.default_rng(0))
    assert np.isnan(res.p2p_price)
    np.testing.assert_allclose(res.cost, res.grid_only_cost)


def random_slot(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    forecast = rng.normal(0.0, 2.0, n)
    side = np.sign(forecast).astype(np.int8)
    price = rng.choice(np.linspace(FEED_IN, RETAIL, 11), n)
    qty = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], n) * np.abs(forecast)
    return side, price, qty, forecast * rng.normal(1.0, 0.05, n)


@pytest.mark.parametrize("mode", ["cda", "call"])
def test_same_seed_gives_bit_identical_result(mode: str) -> None:
    orders = random_slot(1000, seed=7)
    first, second = (run_slot(*orders, RETAIL, FEED_IN, np.random.default_rng(42), mode=mode)
                     for _ in range(2))
    assert len(first.trades) > 100
    for field in dataclasses.fields(SlotResult):
        a, b = getattr(first, field.name), getattr(second, field.name)
        if field.name == "trades":
            for column in ("bid_idx", "ask_idx", "qty", "price", "filled"):
                assert getattr(a, column).tobytes() == getattr(b, column).tobytes(), column
        else:
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), field.name


def test_arrival_order_follows_the_seed() -> None:
    orders = random_slot(200, seed=1)
    first = run_slot(*orders, RETAIL, FEED_IN, np.random.default_rng(1))
    other = run_slot(*orders, RETAIL, FEED_IN, np.random.default_rng(2))
    assert not np.array_equal(first.arrival, other.arrival)
    assert sorted(first.arrival.tolist()) == sorted(other.arrival.tolist())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"order_price": np.array([0.31, 0.2])}, r"\[feed_in, retail\]"),
        ({"order_price": np.array([0.07, 0.2])}, r"\[feed_in, retail\]"),
        ({"order_price": np.array([np.nan, 0.2])}, r"\[feed_in, retail\]"),
        ({"order_side": np.array([2, -1])}, "order_side"),
        ({"order_qty": np.array([-1.0, 1.0])}, "order_qty"),
        ({"actual_net": np.array([np.inf, 1.0])}, "actual_net"),
        ({"actual_net": np.zeros(3)}, "shape"),
        ({"feed_in": 0.30}, "feed_in < retail"),
        ({"feed_in": -0.01}, "feed_in < retail"),
    ],
)
def test_invalid_inputs_raise(change: dict, message: str) -> None:
    kwargs = {
        "order_side": np.array([1, -1], np.int8),
        "order_price": np.array([0.1, 0.2]),
        "order_qty": np.ones(2),
        "actual_net": np.array([1.0, -1.0]),
        "retail": RETAIL,
        "feed_in": FEED_IN,
        "rng": np.random.default_rng(0),
    } | change
    with pytest.raises(ValueError, match=message):
        run_slot(**kwargs)


def test_round_off_outside_the_bounds_is_clipped() -> None:
    # 0.08 + 1.0 * (0.21 - 0.08) == 0.21000000000000002: the top level of a 0.21 / 0.08 price grid.
    top = 0.08 + 1.0 * (0.21 - 0.08)
    assert top > 0.21
    res = run_slot(np.array([1, -1], np.int8), np.array([np.nextafter(0.08, 0), top]), np.ones(2), np.zeros(2),
                   0.21, 0.08, np.random.default_rng(0), rule="maker")
    assert 0.08 <= res.trades.price.min() and res.trades.price.max() <= 0.21


def test_inactive_orders_may_have_any_price() -> None:
    run_slot(np.array([0, 1], np.int8), np.array([9.0, 0.2]), np.array([1.0, 0.0]), np.zeros(2),
             RETAIL, FEED_IN, np.random.default_rng(0))


def test_unknown_mode_and_rule_are_config_errors() -> None:
    args = (np.array([1], np.int8), np.array([0.1]), np.ones(1), np.ones(1), RETAIL, FEED_IN)
    with pytest.raises(ConfigError, match=r"market\.mode"):
        run_slot(*args, np.random.default_rng(0), mode="batch")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"market\.price_rule"):
        run_slot(*args, np.random.default_rng(0), rule="vwap")


def test_optimal_welfare_is_the_merit_order_surplus() -> None:
    is_bid = np.array([True, False, True, False])
    price = np.array([0.30, 0.10, 0.25, 0.28])
    qty = np.array([1.0, 1.5, 1.0, 1.0])
    # 1 kWh (0.30 - 0.10) + 0.5 kWh (0.25 - 0.10); the 0.25 bid does not cross the 0.28 ask.
    assert optimal_welfare(is_bid, price, qty) == pytest.approx(0.275)
    assert optimal_welfare(np.zeros(0, bool), np.zeros(0), np.zeros(0)) == 0.0


def test_cda_can_fall_short_of_optimal_welfare() -> None:
    # The early 0.12 bid takes the only ask; the 0.30 bid arrives to an empty book.
    side = np.array([1, -1, -1], np.int8)
    price = np.array([0.10, 0.12, 0.30])
    qty = np.ones(3)

    class Identity:
        def permutation(self, n: int) -> np.ndarray:
            return np.arange(n)

    actual_net = np.array([1.0, -1.0, -1.0])
    res = run_slot(side, price, qty, actual_net, RETAIL, FEED_IN, Identity())  # type: ignore[arg-type]
    welfare = float(np.sum(res.trades.qty * (price[res.buyer] - price[res.seller])))
    assert welfare == pytest.approx(0.02)
    assert optimal_welfare(side == -1, price, qty) == pytest.approx(0.20)
