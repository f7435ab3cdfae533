"""Metamorphic relations of slot fairness: a slot changed in a known way, and where each score must go.

A critic whose judgment is meant to differ from the §4 formulas cannot be checked against them, but any
fair judge must move its scores the right way when a slot changes in a known way — or not at all when
the change is irrelevant. Each :class:`Relation` makes one *variant* of a slot summary and declares, per
score, a direction:

- ``up``: must not fall; ``down``: must not rise (the relation's cause, isolated: other scores are not
  claimed);
- ``same``: must not move by more than a tolerance (an irrelevant change: every score).

Every variant is a consistent summary (``consistency.consistency_problem`` finds nothing wrong with it);
a relation that cannot be made for a slot (no trade, a single seller, no room) returns ``None``. A
variant depends only on the slot and its generator, so an audit that runs again asks every critic the
same questions (and its memo answers them).

The directions hold by construction, not by the formulas: more P2P energy with the same surplus and
deficit; fill ratios that Lorenz-dominate the old ones (every inequality index that respects transfers
and scale agrees: Jain's index, Gini); every trade's price as close to, or as far from, the mid price.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.quality.consistency import (
    SIDES,
    Piece,
    copy_summary,
    hundredths,
    kwh,
    merged_trades,
    mid_price,
    money,
    pieces,
    settle,
)
from fairmarket_local.critic.quality.permute import is_permutable, permute_summary
from fairmarket_local.env.summary_types import WEEKDAYS, SlotSummary
from fairmarket_local.metrics.fairness import SCORE_NAMES

Direction = Literal["up", "down", "same"]
Maker = Callable[[SlotSummary, np.random.Generator], SlotSummary | None]
ARROWS: dict[str, str] = {"up": "↑", "down": "↓", "same": "="}
_LORENZ_EPS = 1e-12
#: The least a directional variant must change, so that it is a change a judge can see: one seller's
#: fill ratio by 0.05, or one trade's price by 2 % of the tariff spread.
MIN_FILL_MOVE = 0.05
MIN_PRICE_MOVE = 0.02
_PRICE_SHIFT = 0.05  # $/kWh, added to (or taken from) both tariffs and every price
_ENERGY_FACTOR = 10


@dataclass(frozen=True)
class Relation:
    """One metamorphic relation: ``make`` derives the variant, ``expect`` says where each named score goes."""

    name: str
    family: str  # the score whose cause it isolates, or "invariance"
    make: Maker
    expect: dict[str, Direction]
    description: str

    def claim(self) -> str:
        """The declared directions in brief, e.g. ``ftg ↑`` or ``all =``."""
        if set(self.expect) == set(SCORE_NAMES) and set(self.expect.values()) == {"same"}:
            return "all ="
        return ", ".join(f"{score} {ARROWS[d]}" for score, d in self.expect.items())


# --- FTG: more energy traded locally -----------------------------------------------------------------

def more_local(summary: SlotSummary, rng: np.random.Generator) -> SlotSummary | None:
    """Half of the room left between the seller with the most unsold surplus and the buyer with the most
    unmet deficit is traded between them (at their existing price, else within their orders, else at the
    slot's mean price with both orders widened to admit it) — at most half of what the community as a whole
    left untraded, min(S, D) − E, so that the new energy is balanced locally, not traded past a surplus."""
    seller = _roomiest(summary["sellers"], "surplus_kwh")
    buyer = _roomiest(summary["buyers"], "deficit_kwh")
    if seller is None or buyer is None:
        return None
    extra = min(_room(seller, "surplus_kwh"), _room(buyer, "deficit_kwh"), _untraded(summary)) // 2
    if extra < 1:
        return None
    out = copy_summary(summary)
    out["trades"] = merged_trades([*pieces(out), (seller["id"], buyer["id"], _deal_price(out, seller, buyer), extra)])
    return cast(SlotSummary, _fit_orders(settle(out, summary)))


def _room(party: Mapping[str, Any], energy_key: str) -> int:
    """Hundredths of a kWh a party could still trade without exceeding its actual surplus or deficit."""
    return hundredths(party[energy_key]) - hundredths(party["p2p_kwh"])


def _untraded(summary: Mapping[str, Any]) -> int:
    """Hundredths of a kWh the community could still have balanced locally, min(S, D) − E."""
    surplus = sum(hundredths(s["surplus_kwh"]) for s in summary["sellers"])
    deficit = sum(hundredths(b["deficit_kwh"]) for b in summary["buyers"])
    return min(surplus, deficit) - sum(amount for *_, amount in pieces(summary))


def _roomiest(parties: Sequence[Mapping[str, Any]], energy_key: str) -> Mapping[str, Any] | None:
    best = max(parties, key=lambda p: _room(p, energy_key), default=None)
    return best if best is not None and _room(best, energy_key) > 0 else None


def _deal_price(summary: Mapping[str, Any], seller: Mapping[str, Any], buyer: Mapping[str, Any]) -> float:
    existing = [t["price"] for t in summary["trades"] if (t["seller"], t["buyer"]) == (seller["id"], buyer["id"])]
    if existing:
        return existing[0]
    ask = summary["feed_in"] if seller["price"] is None else seller["price"]
    bid = summary["retail"] if buyer["price"] is None else buyer["price"]
    anchor = _mean_trade_price(summary)
    return money(min(max(anchor, ask), bid) if ask <= bid else anchor)


def _mean_trade_price(summary: Mapping[str, Any]) -> float:
    """The volume-weighted mean trade price, the mid price without trades."""
    volume = math.fsum(t["kwh"] for t in summary["trades"])
    if volume <= 0:
        return mid_price(summary)
    return math.fsum(t["kwh"] * t["price"] for t in summary["trades"]) / volume


def _fit_orders(variant: dict[str, Any]) -> dict[str, Any]:
    """Every order stretched to cover what its party traded, every limit price to admit its trades."""
    for side, role, _, order_key in SIDES:
        for party in variant[side]:
            prices = [t["price"] for t in variant["trades"] if t[role] == party["id"]]
            if not prices:
                continue
            party[order_key] = max(party[order_key], party["p2p_kwh"])
            best = min(prices) if role == "seller" else max(prices)
            limit = party["price"]
            party["price"] = best if limit is None else (min(limit, best) if role == "seller" else max(limit, best))
    return variant


# --- FBS: sellers' fill ratios more or less equal at the same total ------------------------------------

def fills_equal(summary: SlotSummary, rng: np.random.Generator) -> SlotSummary | None:
    """Every seller's sales moved halfway to the slot's common fill ratio (total sold / total surplus)."""
    return _refill(summary, more_equal=True)


def fills_unequal(summary: SlotSummary, rng: np.random.Generator) -> SlotSummary | None:
    """The sellers' sales moved away from their common fill ratio, as far as the surpluses allow (at most
    doubling the distance); a seller already full above it, or empty below it, stays, and the others move
    about their own common ratio."""
    return _refill(summary, more_equal=False)


def _toward_common(sold: np.ndarray, surplus: np.ndarray) -> np.ndarray:
    return sold - 0.5 * _beyond_common(sold, surplus)


def _away_from_common(sold: np.ndarray, surplus: np.ndarray) -> np.ndarray:
    movable = np.ones(len(sold), dtype=bool)
    while movable.sum() >= 2:
        part, cap = sold[movable], surplus[movable]
        beyond = _beyond_common(part, cap)
        stuck = ((beyond > 0) & (part >= cap)) | ((beyond < 0) & (part <= 0))
        if not stuck.any():
            out = sold.copy()
            out[movable] = part + _widest_step(part, cap, beyond) * beyond
            return out
        movable[np.flatnonzero(movable)[stuck]] = False
    return sold


def _beyond_common(sold: np.ndarray, surplus: np.ndarray) -> np.ndarray:
    """Each seller's sales beyond what the common fill ratio (total sold / total surplus) gives it."""
    return sold - surplus * (sold.sum() / surplus.sum())


def _refill(summary: Mapping[str, Any], more_equal: bool) -> SlotSummary | None:
    """Resell the same total among the sellers with a surplus; ``None`` unless the new fill ratios
    Lorenz-dominate the old (``more_equal``) or the old dominate the new, and differ."""
    sellers = [s for s in summary["sellers"] if hundredths(s["surplus_kwh"]) > 0]
    if len(sellers) < 2 or any(s["p2p_kwh"] > s["surplus_kwh"] for s in sellers):
        return None  # a fill ratio above 1 is clipped by any reading: no direction is certain
    surplus = np.array([hundredths(s["surplus_kwh"]) for s in sellers], dtype=np.float64)
    sold = np.array([_sales(summary).get(s["id"], 0) for s in sellers], dtype=np.float64)
    goal = (_toward_common if more_equal else _away_from_common)(sold, surplus)
    target = _round_to_total(goal, int(sold.sum()), surplus.astype(np.int64))
    if np.max(np.abs(target - sold) / surplus) < MIN_FILL_MOVE:
        return None  # no seller's fill ratio can move by MIN_FILL_MOVE (checked again on the variant)
    variant = _resell(summary, {s["id"]: int(q) for s, q in zip(sellers, target)})
    before, after = _fill_ratios(summary), _fill_ratios(variant)
    if before.sum() <= 0 or np.abs(after - before).max() < MIN_FILL_MOVE:
        return None
    better, worse = (after, before) if more_equal else (before, after)
    return variant if lorenz_dominates(better, worse) else None


def _sales(summary: Mapping[str, Any]) -> dict[str, int]:
    """Hundredths of a kWh each seller sold, from the trades."""
    out: dict[str, int] = {}
    for seller, _, _, amount in pieces(summary):
        out[seller] = out.get(seller, 0) + amount
    return out


def _widest_step(sold: np.ndarray, surplus: np.ndarray, beyond: np.ndarray) -> float:
    """The largest step ≤ 1 along ``beyond`` that keeps every seller's sales within [0, surplus]."""
    limits = [1.0]
    limits += [float((c - s) / b) for s, c, b in zip(sold, surplus, beyond) if b > 0]
    limits += [float(s / -b) for s, b in zip(sold, beyond) if b < 0]
    return max(min(limits), 0.0)


def _round_to_total(values: np.ndarray, total: int, caps: np.ndarray) -> np.ndarray:
    """Whole numbers within [0, caps] summing to ``total``, each the floor or ceiling of its value."""
    out = np.clip(np.floor(values + 1e-9), 0, caps).astype(np.int64)
    for i in np.argsort(-(values - out), kind="stable"):
        if out.sum() >= total:
            break
        if out[i] < caps[i]:
            out[i] += 1
    return out


def _resell(summary: Mapping[str, Any], sales: dict[str, int]) -> SlotSummary:
    """A copy whose sellers sell ``sales`` (hundredths): the sellers who sell less give up their latest
    trades, each at its buyer and price, to the sellers who sell more."""
    before = _sales(summary)
    cut = {s: before.get(s, 0) - q for s, q in sales.items() if before.get(s, 0) > q}
    gain = {s: q - before.get(s, 0) for s, q in sales.items() if q > before.get(s, 0)}
    kept: list[Piece] = []
    pool: list[tuple[str, float, int]] = []
    for seller, buyer, price, amount in reversed(pieces(summary)):
        given = min(amount, cut.get(seller, 0))
        if given:
            cut[seller] -= given
            pool.append((buyer, price, given))
        kept.append((seller, buyer, price, amount - given))
    asks = {s["id"]: s["price"] for s in summary["sellers"]}
    for seller, wanted in gain.items():
        pool.sort(key=lambda piece: asks[seller] is None or piece[1] >= asks[seller])  # admissible ones first
        while wanted and pool:
            buyer, price, amount = pool.pop()
            taken = min(amount, wanted)
            kept.append((seller, buyer, price, taken))
            wanted -= taken
            if amount > taken:
                pool.append((buyer, price, amount - taken))
    out = copy_summary(summary)
    out["trades"] = merged_trades(kept)
    return cast(SlotSummary, _fit_orders(settle(out, summary)))


def _fill_ratios(summary: Mapping[str, Any]) -> np.ndarray:
    """sold / surplus of the sellers with a surplus, as the summary shows them."""
    return np.array([s["p2p_kwh"] / s["surplus_kwh"] for s in summary["sellers"] if hundredths(s["surplus_kwh"]) > 0])


def lorenz_dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """True if ``a`` is at least as equal as ``b`` (of as many values): every share of the smallest
    values of ``a`` holds at least the share of the total that the same number of ``b``'s smallest hold."""
    if a.sum() <= 0 or b.sum() <= 0:
        return bool(a.sum() <= 0)
    ca, cb = np.cumsum(np.sort(a)) / a.sum(), np.cumsum(np.sort(b)) / b.sum()
    return bool(np.all(ca >= cb - _LORENZ_EPS))


# --- FPP: trade prices toward the mid price or toward a band edge -------------------------------------

def price_to_mid(summary: SlotSummary, rng: np.random.Generator) -> SlotSummary | None:
    """Every trade's price moved halfway to the mid price, within its seller's ask and its buyer's bid."""
    return _reprice(summary, toward_mid=True)


def price_to_edge(summary: SlotSummary, rng: np.random.Generator) -> SlotSummary | None:
    """Every trade's price moved halfway to the band edge on its side of the mid price (retail above,
    feed-in below), within its seller's ask and its buyer's bid."""
    return _reprice(summary, toward_mid=False)


def _reprice(summary: Mapping[str, Any], toward_mid: bool) -> SlotSummary | None:
    limits = {p["id"]: p["price"] for side, *_ in SIDES for p in summary[side]}
    moved = []
    for seller, buyer, price, amount in pieces(summary):
        ask = summary["feed_in"] if limits[seller] is None else limits[seller]
        bid = summary["retail"] if limits[buyer] is None else limits[buyer]
        goal = _mid_goal(summary, price, ask, bid) if toward_mid else _edge_goal(summary, price, ask, bid)
        moved.append((seller, buyer, _milli_toward(goal, price), amount))
    spread = summary["retail"] - summary["feed_in"]
    if max((abs(new[2] - old[2]) for new, old in zip(moved, pieces(summary))), default=0.0) < MIN_PRICE_MOVE * spread:
        return None
    out = copy_summary(summary)
    out["trades"] = merged_trades(moved)
    return cast(SlotSummary, settle(out, summary))


def _mid_goal(summary: Mapping[str, Any], price: float, ask: float, bid: float) -> float:
    return min(max(price + 0.5 * (mid_price(summary) - price), ask), bid)


def _edge_goal(summary: Mapping[str, Any], price: float, ask: float, bid: float) -> float:
    up_room, down_room = min(bid, summary["retail"]) - price, price - max(ask, summary["feed_in"])
    mid = mid_price(summary)
    upward = price > mid or (price == mid and up_room >= down_room)
    return price + 0.5 * (up_room if upward else -down_room)


def _milli_toward(goal: float, price: float) -> float:
    """``goal`` rounded to 0.001 toward ``price`` (so the move never overshoots)."""
    target = goal * 1000
    whole = math.floor(target + 1e-6) if goal >= price else math.ceil(target - 1e-6)
    return money(whole / 1000)


# --- invariances: changes no fair judge may notice ----------------------------------------------------

def relabel(summary: SlotSummary, rng: np.random.Generator) -> SlotSummary | None:
    """Sellers and buyers listed in another order and renamed S1.., B1.. accordingly."""
    if not is_permutable(summary):
        return None
    out = permute_summary(summary, rng)
    return out if out != summary else None  # parties alike in every field: no new listing exists


def weekday(summary: SlotSummary, rng: np.random.Generator) -> SlotSummary | None:
    """The same slot on another day of the week."""
    out = copy_summary(summary)
    out["day"] = WEEKDAYS[(WEEKDAYS.index(summary["day"]) + int(rng.integers(1, len(WEEKDAYS)))) % len(WEEKDAYS)]
    return cast(SlotSummary, out)


def energy_x10(summary: SlotSummary, rng: np.random.Generator) -> SlotSummary | None:
    """Every energy ten times larger (surplus, deficit, orders, trades, grid): the same shares. P2P energy and
    money are recomputed from the scaled trades, and an order stretched where that adds a rounding step."""
    out = copy_summary(summary)
    for side, _, energy_key, order_key in SIDES:
        for party in out[side]:
            for key in (energy_key, order_key):
                party[key] = kwh(_ENERGY_FACTOR * party[key])
    for trade in out["trades"]:
        trade["kwh"] = kwh(_ENERGY_FACTOR * trade["kwh"])
    return cast(SlotSummary, _fit_orders(settle(out, summary, energy_factor=_ENERGY_FACTOR)))


def price_shift(summary: SlotSummary, rng: np.random.Generator) -> SlotSummary | None:
    """Both tariffs and every order and trade price shifted by the same 0.05 $/kWh (down when the
    feed-in tariff allows and a coin says so, else up): the same spread and the same place in it."""
    shift = -_PRICE_SHIFT if summary["feed_in"] >= _PRICE_SHIFT and rng.random() < 0.5 else _PRICE_SHIFT
    out = copy_summary(summary)
    for key in ("retail", "feed_in"):
        out[key] = money(out[key] + shift)
    for side, *_ in SIDES:
        for party in out[side]:
            if party["price"] is not None:
                party["price"] = money(party["price"] + shift)
    for trade in out["trades"]:
        trade["price"] = money(trade["price"] + shift)
    return cast(SlotSummary, settle(out, summary))


_ALL_SAME: dict[str, Direction] = {score: "same" for score in SCORE_NAMES}

#: The relations every audit, test and doc page reads, in the order they are reported.
RELATIONS: tuple[Relation, ...] = (
    Relation("more_local", "ftg", more_local, {"ftg": "up"},
             "more energy traded P2P with the same surplus and deficit"),
    Relation("fills_equal", "fbs", fills_equal, {"fbs": "up"},
             "sellers' fill ratios more equal (Lorenz-dominating) at the same total sold"),
    Relation("fills_unequal", "fbs", fills_unequal, {"fbs": "down"},
             "sellers' fill ratios less equal (Lorenz-dominated) at the same total sold"),
    Relation("price_to_mid", "fpp", price_to_mid, {"fpp": "up"},
             "every trade price halfway to the mid price (within the orders)"),
    Relation("price_to_edge", "fpp", price_to_edge, {"fpp": "down"},
             "every trade price halfway to the band edge on its side (within the orders)"),
    Relation("relabel", "invariance", relabel, _ALL_SAME, "sellers and buyers reordered and renamed"),
    Relation("weekday", "invariance", weekday, _ALL_SAME, "another weekday name"),
    Relation("energy_x10", "invariance", energy_x10, _ALL_SAME, "every energy × 10"),
    Relation("price_shift", "invariance", price_shift, _ALL_SAME,
             "tariffs and all prices shifted together by ±0.05 $/kWh"),
)
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(r.family for r in RELATIONS))


def select_relations(names: Sequence[str]) -> tuple[Relation, ...]:
    """The relations called ``names``, in table order; all of them when ``names`` is empty."""
    known = {r.name: r for r in RELATIONS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise FairmarketError(f"unknown relation {unknown[0]!r} (choose from {', '.join(known)})")
    return tuple(r for r in RELATIONS if not names or r.name in names)
