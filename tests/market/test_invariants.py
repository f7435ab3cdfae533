"""Property tests of the market invariants (SPEC §2) on random slots, CDA and call mode.

Hypothesis draws the shape of a slot (size, tariff, price grid, order and delivery styles, price
rule) and a seed; numpy builds the arrays (see test_reference_agreement.py for why). Every example
checks every invariant, one named check each, so each invariant sees 10,000 slots per mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fairmarket_local.market.slot import SlotResult, optimal_welfare, run_slot
from fairmarket_local.market.trades import QTY_EPS

PROPERTY = settings(max_examples=10_000, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
TARIFFS = ((0.30, 0.08), (0.50, 0.08), (0.21, 0.0), "random")
PRICE_STYLES = ("levels", "equal", "ends", "continuous")
ORDER_STYLES = ("forecast", "random_side", "all_sell", "all_buy")
DELIVERY_STYLES = ("exact", "noisy", "unrelated")
RULES = ("midpoint", "maker")
STYLE_SIZES = (len(TARIFFS), len(PRICE_STYLES), len(ORDER_STYLES), len(DELIVERY_STYLES), len(RULES))
TOL = 1e-9


@dataclass(frozen=True)
class Slot:
    """Inputs of one ``run_slot`` call."""

    side: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    actual_net: np.ndarray
    retail: float
    feed_in: float
    rule: str


def build_slot(rng: np.random.Generator, n: int, styles: tuple[int, ...]) -> Slot:
    tariff, prices, orders, delivery, rule = styles
    if TARIFFS[tariff] == "random":
        feed_in = float(rng.uniform(0.0, 0.2))
        retail = feed_in + float(rng.uniform(0.001, 0.5))
    else:
        retail, feed_in = TARIFFS[tariff]
    levels = np.linspace(feed_in, retail, 11)
    price = {
        "levels": lambda: rng.choice(levels, n),
        "equal": lambda: np.full(n, rng.choice(levels)),
        "ends": lambda: rng.choice(levels[[0, -1]], n),
        "continuous": lambda: rng.uniform(feed_in, retail, n),
    }[PRICE_STYLES[prices]]()

    forecast = rng.normal(0.0, 2.0, n) * (rng.random(n) < 0.9)  # some households exactly balanced
    side = np.sign(forecast).astype(np.int8)
    if ORDER_STYLES[orders] == "random_side":
        side = rng.integers(-1, 2, n).astype(np.int8)
    elif ORDER_STYLES[orders] == "all_sell":
        side = np.ones(n, np.int8)
    elif ORDER_STYLES[orders] == "all_buy":
        side = -np.ones(n, np.int8)
    qty = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], n) * np.abs(forecast)

    if DELIVERY_STYLES[delivery] == "exact":
        actual_net = forecast
    elif DELIVERY_STYLES[delivery] == "noisy":
        actual_net = forecast * rng.normal(1.0, 0.2, n)
    else:
        actual_net = rng.normal(0.0, 2.0, n)
    return Slot(side, price, qty, actual_net, retail, feed_in, RULES[rule])


@st.composite
def slots(draw: st.DrawFn) -> tuple[Slot, int]:
    # Few draws per example: each hypothesis draw costs more than a small slot.
    size = draw(st.integers(0, 41))
    n = size if size <= 40 else 500
    code = draw(st.integers(0, int(np.prod(STYLE_SIZES)) - 1))
    styles = tuple(int(s) for s in np.unravel_index(code, STYLE_SIZES))
    seed = draw(st.integers(0, 2**32 - 1))
    return build_slot(np.random.default_rng(seed), n, styles), seed


def check_energy_balance(slot: Slot, res: SlotResult) -> None:
    delivered = res.sold - res.bought + res.grid_export - res.grid_import
    assert np.all(np.abs(slot.actual_net - delivered) <= TOL), "household energy balance"
    assert abs(slot.actual_net.sum() - delivered.sum()) <= TOL * max(1, slot.actual_net.size), "community"
    assert abs(res.sold.sum() - res.bought.sum()) <= TOL, "P2P energy sold == bought"
    assert np.all(res.grid_import >= 0) and np.all(res.grid_export >= 0)
    assert np.all((res.grid_import == 0) | (res.grid_export == 0)), "import and export at once"


def check_money_balance(slot: Slot, res: SlotResult) -> None:
    assert abs(res.paid.sum() - res.revenue.sum()) <= TOL, "P2P money paid == received"
    assert abs(res.cost.sum() - res.utility_net_revenue) <= TOL * max(1, slot.actual_net.size), "grid money"


def check_individual_rationality(slot: Slot, res: SlotResult) -> None:
    assert np.all(res.trades.price <= slot.price[res.buyer]), "a buyer paid above its bid"
    assert np.all(res.trades.price >= slot.price[res.seller]), "a seller received below its ask"
    assert np.all(slot.side[res.buyer] == -1) and np.all(slot.side[res.seller] == 1)


def check_price_bounds(slot: Slot, res: SlotResult) -> None:
    assert np.all((res.trades.price >= slot.feed_in) & (res.trades.price <= slot.retail))


def check_no_crossed_book(slot: Slot, res: SlotResult) -> None:
    resting = slot.qty[res.arrival] - res.trades.filled > QTY_EPS
    is_bid = slot.side[res.arrival] == -1
    bids = slot.price[res.arrival][resting & is_bid]
    asks = slot.price[res.arrival][resting & ~is_bid]
    assert bids.size == 0 or asks.size == 0 or bids.max() < asks.min(), "crossed book left"


def check_fills(slot: Slot, res: SlotResult) -> None:
    qty = slot.qty[res.arrival]
    filled = res.trades.filled
    assert np.all((filled >= 0) & (filled <= qty)), "filled outside [0, qty]"
    traded = np.bincount(res.trades.bid_idx, res.trades.qty, qty.size)
    traded += np.bincount(res.trades.ask_idx, res.trades.qty, qty.size)
    assert np.all(np.abs(traded - filled) <= TOL), "filled != sum of the order's trades"
    assert np.all(res.trades.qty > 0), "empty trade"


def check_welfare(slot: Slot, res: SlotResult, mode: str) -> None:
    welfare = float(np.sum(res.trades.qty * (slot.price[res.buyer] - slot.price[res.seller])))
    is_bid = slot.side[res.arrival] == -1
    best = optimal_welfare(is_bid, slot.price[res.arrival], slot.qty[res.arrival])
    assert welfare <= best + TOL, "welfare above the optimum"
    if mode == "call":
        assert welfare == pytest.approx(best, abs=TOL), "call market misses the optimum"


@pytest.mark.slow
@PROPERTY
@given(case=slots())
@pytest.mark.parametrize("mode", ["cda", "call"])
def test_invariants_hold(mode: str, case: tuple[Slot, int]) -> None:
    slot, seed = case
    res = run_slot(slot.side, slot.price, slot.qty, slot.actual_net, slot.retail, slot.feed_in,
                   np.random.default_rng(seed), rule=slot.rule, mode=mode)
    check_energy_balance(slot, res)
    check_money_balance(slot, res)
    check_individual_rationality(slot, res)
    check_price_bounds(slot, res)
    check_no_crossed_book(slot, res)
    check_fills(slot, res)
    check_welfare(slot, res, mode)
