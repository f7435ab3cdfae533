"""A seeded generator of varied, consistent slot summaries: the situations a fairness critic must tell apart.

Recorded runs repeat a few situations many times (most slots of a sunny hour look alike); a student
critic also needs the rare ones. Each slot is drawn by a *kind*:

- ``market``: random orders, partial fills, prices anywhere between feed-in and retail;
- ``no_trade``: both sides present, nothing traded (every order out of the money);
- ``one_sided``: only sellers or only buyers;
- ``monopoly``: one seller takes every trade although others offered;
- ``even_split``: every seller sells the same share of its surplus;
- ``price_discrimination``: one seller sells to several buyers at very different prices;
- ``buyer_favoured`` / ``seller_favoured``: trades near the feed-in / near the retail price;
- ``fair``: full volume, even split, trades at the mid price.

with few (1–3), some (2–5) or many (4–8) parties per side. Slot ``i`` depends only on ``(seed, i)``, so
a larger ``n`` extends a smaller one. Summaries follow ``env.summary.slot_summary``: kWh rounded to 0.01,
prices to 0.001, trades merged per (seller, buyer, price) and sorted; every quantity is consistent
(sold ≤ offer ≤ surplus, trade prices inside each party's limit price, grid = unmatched energy).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, cast

import numpy as np

from fairmarket_local.env.summary import SUMMARY_SCHEMA, WEEKDAYS
from fairmarket_local.env.summary_types import SlotSummary

KINDS = ("market", "no_trade", "one_sided", "monopoly", "even_split", "price_discrimination",
         "buyer_favoured", "seller_favoured", "fair")
_KIND_WEIGHTS = np.array([0.34, 0.06, 0.04, 0.1, 0.1, 0.1, 0.09, 0.09, 0.08])
_SIZES = ((1, 3), (2, 5), (4, 8))
_SIZE_WEIGHTS = np.array([0.35, 0.5, 0.15])


def generate_slots(n: int, seed: int = 0, kinds: tuple[str, ...] = KINDS) -> list[SlotSummary]:
    """``n`` slot summaries; each carries its ``kind`` under ``"generator"`` (ignored by critics)."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown slot kinds {sorted(unknown)}; choose from {', '.join(KINDS)}")
    weights = np.array([_KIND_WEIGHTS[KINDS.index(k)] for k in kinds])
    return [_slot(np.random.default_rng([seed, i]), kinds, weights / weights.sum()) for i in range(n)]


def _slot(rng: np.random.Generator, kinds: tuple[str, ...], weights: np.ndarray) -> SlotSummary:
    kind = str(rng.choice(kinds, p=weights))
    lo, hi = _SIZES[rng.choice(len(_SIZES), p=_SIZE_WEIGHTS)]
    n_s, n_b = (int(rng.integers(lo, hi + 1)) for _ in range(2))
    if kind == "one_sided":
        n_s, n_b = (n_s, 0) if rng.random() < 0.5 else (0, n_b)
    if kind in ("monopoly", "price_discrimination"):
        n_s, n_b = max(n_s, 2 if kind == "monopoly" else 1), max(n_b, 2)
    retail = round(float(rng.choice([0.30, 0.25, 0.22, 0.35, 0.40])), 3)
    feed_in = round(float(rng.uniform(0.04, 0.12)), 3)
    surplus = _energies(rng, n_s)
    deficit = _energies(rng, n_b)
    sold_plan, bought_plan = _volumes(rng, kind, surplus, deficit)
    pairs = _pair(rng, sold_plan, bought_plan, kind)
    trades = _priced(rng, kind, pairs, retail, feed_in)
    return _summary(rng, kind, retail, feed_in, surplus, deficit, trades)


def _energies(rng: np.random.Generator, n: int) -> np.ndarray:
    """kWh per party, 0.05–4 with a long tail, rounded as summaries round."""
    return np.round(np.clip(rng.lognormal(-0.3, 0.8, n), 0.05, 4.0), 2)


def _volumes(rng: np.random.Generator, kind: str, surplus: np.ndarray, deficit: np.ndarray):
    """Energy each seller sells and each buyer buys (equal totals)."""
    if kind in ("no_trade", "one_sided") or not len(surplus) or not len(deficit):
        return np.zeros(len(surplus)), np.zeros(len(deficit))
    cap = min(surplus.sum(), deficit.sum())
    share = 1.0 if kind in ("fair", "even_split") and rng.random() < 0.6 else rng.choice(
        [1.0, rng.uniform(0.05, 1.0)], p=[0.3, 0.7])
    volume = share * cap
    if kind == "monopoly":
        sold = np.zeros(len(surplus))
        top = int(rng.integers(len(surplus)))
        sold[top] = min(volume, surplus[top])
    elif kind in ("even_split", "fair"):
        sold = surplus * (volume / surplus.sum())
    else:
        sold = _greedy(rng, surplus * rng.uniform(0.3, 1.0, len(surplus)), volume)
    buy_caps = deficit if kind == "fair" else deficit * rng.uniform(0.3, 1.0, len(deficit))
    bought = _greedy(rng, buy_caps, sold.sum())
    return sold, _top_up(bought, deficit, sold.sum())


def _greedy(rng: np.random.Generator, caps: np.ndarray, volume: float) -> np.ndarray:
    """Fill ``volume`` from parties in random order, each up to its cap (a CDA's arrival order)."""
    out = np.zeros(len(caps))
    left = volume
    for i in rng.permutation(len(caps)):
        out[i] = min(caps[i], left)
        left -= out[i]
    return out


def _top_up(bought: np.ndarray, deficit: np.ndarray, volume: float) -> np.ndarray:
    """Raise purchases up to each deficit until they total ``volume`` (volume ≤ total deficit)."""
    left = volume - bought.sum()
    for j in range(len(bought)):
        extra = min(deficit[j] - bought[j], left)
        bought[j] += max(extra, 0.0)
        left -= max(extra, 0.0)
    return bought


def _pair(rng: np.random.Generator, sold: np.ndarray, bought: np.ndarray, kind: str) -> list[tuple[int, int, float]]:
    """Split the sellers' sales over the buyers' purchases: (seller, buyer, kWh) at 0.01 kWh resolution."""
    s_left = np.floor(sold * 100 + 1e-6).astype(np.int64)
    b_left = np.floor(bought * 100 + 1e-6).astype(np.int64)
    pairs: list[tuple[int, int, float]] = []
    pieces = np.zeros(len(sold), dtype=np.int64)
    s_order = list(rng.permutation(len(sold)))
    b_order = list(rng.permutation(len(bought)))
    while s_order and b_order:
        i, j = s_order[0], b_order[0]
        q = min(s_left[i], b_left[j])
        if kind == "price_discrimination" and q > 2 and len(b_order) > 1 and pieces[i] < 2:
            q = max(1, q // 2)  # spread one seller over two or three buyers
        pieces[i] += 1
        if q > 0:
            pairs.append((int(i), int(j), q / 100))
            s_left[i] -= q
            b_left[j] -= q
        if s_left[i] <= 0:
            s_order.pop(0)
        if b_left[j] <= 0:
            b_order.pop(0)
        elif kind == "price_discrimination":
            b_order.append(b_order.pop(0))
    return pairs


def _priced(rng: np.random.Generator, kind: str, pairs: list[tuple[int, int, float]], retail: float,
            feed_in: float) -> list[tuple[int, int, float, float]]:
    """Attach a price to every (seller, buyer, kWh)."""
    spread = retail - feed_in
    mid = (retail + feed_in) / 2
    if kind == "fair":
        low, high = mid - 0.02 * spread, mid + 0.02 * spread
    elif kind == "buyer_favoured":
        low, high = feed_in, feed_in + 0.25 * spread
    elif kind == "seller_favoured":
        low, high = retail - 0.25 * spread, retail
    else:
        centre = rng.uniform(feed_in, retail)
        width = rng.uniform(0.02, 0.5) * spread
        low, high = max(feed_in, centre - width), min(retail, centre + width)
    if kind == "price_discrimination":
        low, high = feed_in, retail
    return [(s, b, q, round(float(rng.uniform(low, high)), 3)) for s, b, q in pairs]


def _summary(rng: np.random.Generator, kind: str, retail: float, feed_in: float, surplus: np.ndarray,
             deficit: np.ndarray, trades: list[tuple[int, int, float, float]]) -> SlotSummary:
    merged: dict[tuple[int, int, float], float] = defaultdict(float)
    for s, b, q, p in trades:
        merged[(s, b, p)] += q
    sold, bought = np.zeros(len(surplus)), np.zeros(len(deficit))
    money_s, money_b = np.zeros(len(surplus)), np.zeros(len(deficit))
    ask = np.full(len(surplus), retail)
    bid = np.full(len(deficit), feed_in)
    for (s, b, p), q in merged.items():
        sold[s] += q
        bought[b] += q
        money_s[s] += q * p
        money_b[b] += q * p
        ask[s] = min(ask[s], p)
        bid[b] = max(bid[b], p)
    no_trade = kind == "no_trade"
    sellers = [_party(rng, f"S{i + 1}", "surplus_kwh", surplus[i], "offer_kwh", sold[i], money_s[i],
                      _limit(rng, feed_in, ask[i], no_trade, retail, True))
               for i in range(len(surplus))]
    buyers = [_party(rng, f"B{j + 1}", "deficit_kwh", deficit[j], "request_kwh", bought[j], money_b[j],
                     _limit(rng, bid[j], retail, no_trade, feed_in, False))
              for j in range(len(deficit))]
    volume = sum(merged.values())
    minutes = int(rng.integers(0, 7 * 24))
    return cast(SlotSummary, {  # a SlotSummary with one more key, "generator"
        "schema": SUMMARY_SCHEMA,
        "day": WEEKDAYS[minutes // 24],
        "hour": minutes % 24,
        "weather": "sunny" if rng.random() < 0.7 else "cloudy",
        "retail": retail,
        "feed_in": feed_in,
        "sellers": sellers,
        "buyers": buyers,
        "trades": [{"seller": f"S{s + 1}", "buyer": f"B{b + 1}", "kwh": round(q, 2), "price": p}
                   for (s, b, p), q in sorted(merged.items())],
        "grid": {"import_kwh": round(max(float(deficit.sum()) - volume, 0.0), 2) + 0.0,
                 "export_kwh": round(max(float(surplus.sum()) - volume, 0.0), 2) + 0.0},
        "generator": kind,
    })


def _limit(rng: np.random.Generator, low: float, high: float, no_trade: bool, out_of_money: float,
           seller: bool) -> float:
    """A limit price in [low, high] — a seller's ask at or below its lowest trade price, a buyer's bid at
    or above its highest —; in a ``no_trade`` slot an order no counter-party accepts (sellers near
    retail, buyers near feed-in)."""
    if no_trade:
        edge = rng.uniform(0.0, 0.1) * abs(out_of_money)
        return out_of_money - edge if seller else out_of_money + edge
    return float(rng.uniform(low, high))


def _party(rng: np.random.Generator, name: str, energy_key: str, energy: float, order_key: str, p2p: float,
           money: float, price: float) -> dict[str, Any]:
    placed = p2p > 0 or rng.random() < 0.85
    order = min(energy, p2p + rng.uniform(0.0, max(energy - p2p, 0.0))) if placed else 0.0
    order = max(order, p2p)
    return {
        "id": name,
        energy_key: round(float(energy), 2) + 0.0,
        order_key: round(float(order), 2) + 0.0,
        "price": round(float(price), 3) if placed else None,
        "p2p_kwh": round(float(p2p), 2) + 0.0,
        "money": round(float(money), 3) + 0.0,
    }
