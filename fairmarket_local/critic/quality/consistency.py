"""Do a slot summary's fields agree with each other? The balance checks beyond the strict reader's field checks.

:func:`consistency_problem` first runs the reader's checks (``slots_io``), then, within the rounding of
``env.summary.slot_summary`` (kWh to 0.01, prices and money to 0.001; merged trades round each piece):

- every party's ``p2p_kwh`` is the sum of its trades and its ``money`` the sum of ``kwh × price``;
- its order (``offer_kwh``/``request_kwh``) covers what it traded, and a party that traded has a limit price;
- every trade is priced inside [feed_in, retail], at or above its seller's ask and at or below its
  buyer's bid;
- the grid exchange covers the listed parties' unmatched energy. It may be larger: a summary lists only
  the households with a forecast side and clips each actual surplus or deficit at zero, so households
  without an order, and parties whose delivery contradicted their forecast, exchange energy that no
  listed field shows (:func:`grid_rest`).

The helpers that rebuild a consistent summary after an edit of its trades live here too (:func:`settle`).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fairmarket_local.critic.slots_io import summary_problem

_EPS = 1e-9
_KWH_HALF_STEP = 0.005  # the largest error of one kWh value rounded to 0.01
_MONEY_HALF_STEP = 0.0005
#: (list key, role in a trade, energy key, order key) of each side of the market.
SIDES = (("sellers", "seller", "surplus_kwh", "offer_kwh"), ("buyers", "buyer", "deficit_kwh", "request_kwh"))

Piece = tuple[str, str, float, int]  # (seller id, buyer id, price, energy in hundredths of a kWh)


def consistency_problem(summary: Any) -> str:
    """What makes ``summary`` an impossible slot, or ``""``."""
    return (summary_problem(summary) or _parties_problem(summary) or _trades_problem(summary)
            or _grid_problem(summary))


def _parties_problem(summary: Mapping[str, Any]) -> str:
    for side, role, _, order_key in SIDES:
        for k, party in enumerate(summary[side]):
            own = [t for t in summary["trades"] if t[role] == party["id"]]
            where = f"{side}[{k}]"
            energy = _energy(own)
            if abs(energy - party["p2p_kwh"]) > _KWH_HALF_STEP * (len(own) + 1) + _EPS:
                return f"{where}.p2p_kwh: {party['p2p_kwh']:g} but its trades total {energy:g} kWh"
            paid = _worth(own)
            slack = _MONEY_HALF_STEP + _KWH_HALF_STEP * len(own) * max((t["price"] for t in own), default=0.0)
            if abs(paid - party["money"]) > slack + _EPS:
                return f"{where}.money: {party['money']:g} but its trades are worth {paid:g}"
            if party["p2p_kwh"] > party[order_key] + _EPS:
                return f"{where}.{order_key}: {party[order_key]:g} kWh is less than the {party['p2p_kwh']:g} traded"
            if own and party["price"] is None:
                return f"{where}.price: traded without a limit price"
    return ""


def _trades_problem(summary: Mapping[str, Any]) -> str:
    limits = {p["id"]: p["price"] for side, *_ in SIDES for p in summary[side]}
    for k, trade in enumerate(summary["trades"]):
        price, ask, bid = trade["price"], limits[trade["seller"]], limits[trade["buyer"]]
        if not summary["feed_in"] - _EPS <= price <= summary["retail"] + _EPS:
            return f"trades[{k}].price: {price:g} is outside [feed_in, retail]"
        if ask is not None and price < ask - _EPS:
            return f"trades[{k}].price: {price:g} is below the seller's ask {ask:g}"
        if bid is not None and price > bid + _EPS:
            return f"trades[{k}].price: {price:g} is above the buyer's bid {bid:g}"
    return ""


def _grid_problem(summary: Mapping[str, Any]) -> str:
    slack = _KWH_HALF_STEP * (1 + 2 * (len(summary["sellers"]) + len(summary["buyers"])))
    for key, rest in zip(("import_kwh", "export_kwh"), grid_rest(summary)):
        if rest < -slack - _EPS:
            return f"grid.{key}: {summary['grid'][key]:g} is less than the listed parties' unmatched energy"
    return ""


def unmatched_energy(summary: Mapping[str, Any]) -> tuple[float, float]:
    """(import, export) the listed parties leave to the grid: unmet deficit and unsold surplus, plus what a
    party traded beyond its actual surplus or deficit."""
    sellers, buyers = summary["sellers"], summary["buyers"]
    short = [max(b["deficit_kwh"] - b["p2p_kwh"], 0.0) for b in buyers] + [
        max(s["p2p_kwh"] - s["surplus_kwh"], 0.0) for s in sellers]
    spare = [max(s["surplus_kwh"] - s["p2p_kwh"], 0.0) for s in sellers] + [
        max(b["p2p_kwh"] - b["deficit_kwh"], 0.0) for b in buyers]
    return math.fsum(short), math.fsum(spare)


def grid_rest(summary: Mapping[str, Any]) -> tuple[float, float]:
    """(import, export) of the grid exchange that no listed party's fields explain."""
    unmatched = unmatched_energy(summary)
    return (summary["grid"]["import_kwh"] - unmatched[0], summary["grid"]["export_kwh"] - unmatched[1])


def settle(variant: dict[str, Any], base: Mapping[str, Any], energy_factor: float = 1.0) -> dict[str, Any]:
    """``variant`` (changed in place and returned) made consistent after an edit of its trades or energies.

    A party whose trades differ from its trades in ``base`` has its money recomputed from them, and its P2P
    energy too unless only prices changed (a recorded summary's ``p2p_kwh`` is the rounded sum of unrounded
    trades, so it is kept where it still holds); ``energy_factor`` ≠ 1 (every energy scaled) recomputes
    every party. Orders are left alone: a caller that moved energy stretches them. The grid
    exchange becomes the variant's unmatched energy plus the base's unexplained rest (a positive rest
    scaled with the energies; a negative one is rounding).
    """
    for side, role, *_ in SIDES:
        before, after = _trades_by_party(base, role), _trades_by_party(variant, role)
        for party in variant[side]:
            old, new = before.get(party["id"], []), after.get(party["id"], [])
            if old == new and energy_factor == 1:
                continue
            if energy_factor != 1 or hundredths(_energy(new)) != hundredths(_energy(old)):
                party["p2p_kwh"] = kwh(_energy(new))
            party["money"] = money(_worth(new))
    unmatched, rest = unmatched_energy(variant), grid_rest(base)
    variant["grid"] = {key: kwh(max(u + (energy_factor * r if r > 0 else r), 0.0))
                       for key, u, r in zip(("import_kwh", "export_kwh"), unmatched, rest)}
    return variant


def _energy(trades: Sequence[Mapping[str, Any]]) -> float:
    return math.fsum(t["kwh"] for t in trades)


def _worth(trades: Sequence[Mapping[str, Any]]) -> float:
    return math.fsum(t["kwh"] * t["price"] for t in trades)


def _trades_by_party(summary: Mapping[str, Any], role: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for trade in summary["trades"]:
        out[trade[role]].append(trade)
    return out


def copy_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of a summary (JSON values only: a JSON round trip is several times faster than deepcopy)."""
    return json.loads(json.dumps(summary))


def pieces(summary: Mapping[str, Any]) -> list[Piece]:
    """The slot's trades as (seller, buyer, price, hundredths of a kWh), in the summary's order."""
    return [(t["seller"], t["buyer"], t["price"], hundredths(t["kwh"])) for t in summary["trades"]]


def merged_trades(parts: Iterable[Piece]) -> list[dict[str, Any]]:
    """Trades as ``slot_summary`` writes them: merged per (seller, buyer, price), sorted, none empty."""
    total: dict[tuple[str, str, float], int] = defaultdict(int)
    for seller, buyer, price, amount in parts:
        total[(seller, buyer, price)] += amount
    trades = [{"seller": s, "buyer": b, "kwh": amount / 100, "price": p}
              for (s, b, p), amount in total.items() if amount > 0]
    return sorted(trades, key=lambda t: (int(t["seller"][1:]), int(t["buyer"][1:]), t["price"]))


def hundredths(energy: float) -> int:
    """A kWh value as a whole number of hundredths (summaries round kWh to 0.01)."""
    return round(energy * 100)


def kwh(energy: float) -> float:
    return round(float(energy), 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def money(value: float) -> float:
    return round(float(value), 3) + 0.0


def mid_price(summary: Mapping[str, Any]) -> float:
    return (summary["retail"] + summary["feed_in"]) / 2.0
