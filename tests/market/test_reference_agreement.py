"""Property test: the numba CDA and the pure-Python oracle agree trade by trade.

Hypothesis draws the shape of a book (size, price grid, side mix, quantity style, duplicates) and a
seed; numpy builds the arrays. Drawing every order through hypothesis costs milliseconds per example,
this keeps 10,000 examples fast while the edge cases (empty, one-sided, all-equal prices, duplicate
orders, float dust, large books) are still generated on purpose.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fairmarket_local.market.auction import clear_cda
from fairmarket_local.market.reference import clear_cda_reference

PROPERTY = settings(max_examples=10_000, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
LEVELS = np.linspace(0.08, 0.30, 11)


def build_book(rng: np.random.Generator, n: int, prices: str, sides: str, quantities: str,
               duplicates: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random book of ``n`` orders in arrival order, shaped by the named styles."""
    bid_share = {"mixed": 0.5, "bids": 1.0, "asks": 0.0, "skewed": rng.uniform(0.1, 0.9)}[sides]
    is_bid = rng.random(n) < bid_share
    if prices == "levels":
        price = rng.choice(LEVELS, n)
    elif prices == "equal":
        price = np.full(n, rng.choice(LEVELS))
    elif prices == "two":
        price = rng.choice(LEVELS[[4, 6]], n)
    else:
        price = rng.uniform(0.08, 0.30, n)
    if quantities == "fractions":  # the env's quantity levels of a forecast net position
        qty = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], n) * rng.uniform(0.0, 5.0, n)
    elif quantities == "decimals":  # 0.1 + 0.2 != 0.3: provokes float dust
        qty = rng.integers(0, 10, n) / 10
    else:
        qty = rng.exponential(1.0, n)
    if duplicates and n:
        pick = rng.integers(0, min(n, 3), n)
        is_bid, price, qty = is_bid[pick], price[pick], qty[pick]
    return is_bid, price, qty


PRICE_STYLES = ("levels", "equal", "two", "continuous")
SIDE_STYLES = ("mixed", "bids", "asks", "skewed")
QTY_STYLES = ("fractions", "decimals", "exponential")
N_STYLES = len(PRICE_STYLES) * len(SIDE_STYLES) * len(QTY_STYLES) * 2


@st.composite
def books(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Few draws per example: each hypothesis draw costs more than clearing a small book.
    size = draw(st.integers(0, 26))
    n = size if size <= 24 else 100 + 100 * (size - 25)  # about 1 book in 13 is large
    style = draw(st.integers(0, N_STYLES - 1))
    style, duplicates = divmod(style, 2)
    style, prices = divmod(style, len(PRICE_STYLES))
    quantities, sides = divmod(style, len(SIDE_STYLES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return build_book(rng, n, PRICE_STYLES[prices], SIDE_STYLES[sides], QTY_STYLES[quantities],
                      bool(duplicates))


def assert_close(actual: np.ndarray, expected: np.ndarray, name: str) -> None:
    assert actual.shape == expected.shape, name
    assert actual.size == 0 or np.abs(actual - expected).max() <= 1e-9, name


@pytest.mark.slow
@PROPERTY
@given(book=books(), rule=st.sampled_from(["midpoint", "maker"]))
def test_fast_clearing_matches_reference(book: tuple[np.ndarray, ...], rule: str) -> None:
    fast = clear_cda(*book, rule=rule)
    oracle = clear_cda_reference(*book, rule=rule)
    assert np.array_equal(fast.bid_idx, oracle.bid_idx)
    assert np.array_equal(fast.ask_idx, oracle.ask_idx)
    assert_close(fast.qty, oracle.qty, "qty")
    assert_close(fast.price, oracle.price, "price")
    assert_close(fast.filled, oracle.filled, "filled")
