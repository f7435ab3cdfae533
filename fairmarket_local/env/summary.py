"""Canonical, anonymised JSON summary of one slot — the critic's whole view of it (SPEC §5).

Sellers and buyers are listed by household index and renamed S1.., B1..; numbers are rounded
(kWh to 0.01, prices and money to 0.001) so that equal situations give byte-equal summaries.
Trades are merged per (seller, buyer, price) and sorted, so the random arrival order never shows.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from fairmarket_local.env.summary_types import (
    SUMMARY_SCHEMA,
    WEEKDAYS,
    BuyerSummary,
    SellerSummary,
    SlotSummary,
    TradeSummary,
)
from fairmarket_local.metrics.fairness import FairnessScores, slot_fairness

if TYPE_CHECKING:  # the critic reads summaries without loading the market's compiled core
    from fairmarket_local.env.core import SlotRecord

__all__ = ["SUMMARY_SCHEMA", "WEEKDAYS", "SlotSummary", "slot_summary", "summary_fairness"]


def _kwh(x: float) -> float:
    return round(float(x), 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def _money(x: float) -> float:
    return round(float(x), 3) + 0.0


def slot_summary(record: SlotRecord) -> SlotSummary:
    """The canonical summary dict of a finished slot (its keys and types: :class:`SlotSummary`)."""
    res = record.result
    minutes = int(record.timestamp.astype("datetime64[m]").astype(np.int64))
    seller_ids = np.flatnonzero(record.side > 0)
    buyer_ids = np.flatnonzero(record.side < 0)
    s_name = {int(i): f"S{k + 1}" for k, i in enumerate(seller_ids)}
    b_name = {int(i): f"B{k + 1}" for k, i in enumerate(buyer_ids)}

    def party(i: int, energy_key: str, energy: float, order_key: str, p2p: float, money: float) -> dict[str, Any]:
        placed = record.qty[i] > 0
        return {
            "id": s_name.get(i) or b_name[i],
            energy_key: _kwh(energy),
            order_key: _kwh(record.qty[i]),
            "price": _money(record.price[i]) if placed else None,
            "p2p_kwh": _kwh(p2p),
            "money": _money(money),
        }

    # party() writes SellerSummary's keys (surplus_kwh, offer_kwh) or BuyerSummary's (deficit_kwh, request_kwh)
    sellers = [
        party(int(i), "surplus_kwh", max(record.actual_net[i], 0.0), "offer_kwh", res.sold[i], res.revenue[i])
        for i in seller_ids
    ]
    buyers = [
        party(int(i), "deficit_kwh", max(-record.actual_net[i], 0.0), "request_kwh", res.bought[i], res.paid[i])
        for i in buyer_ids
    ]
    merged: dict[tuple[int, int, float], float] = defaultdict(float)
    for s, b, q, p in zip(res.seller, res.buyer, res.trades.qty, res.trades.price):
        merged[(int(s), int(b), _money(p))] += float(q)
    trades: list[TradeSummary] = [
        {"seller": s_name[s], "buyer": b_name[b], "kwh": _kwh(q), "price": p}
        for (s, b, p), q in sorted(merged.items())
    ]
    return {
        "schema": SUMMARY_SCHEMA,
        "day": WEEKDAYS[((minutes // 1440) + 3) % 7],
        "hour": (minutes % 1440) // 60,
        "weather": "sunny" if record.sunny else "cloudy",
        "retail": _money(record.retail),
        "feed_in": _money(record.feed_in),
        "sellers": cast(list[SellerSummary], sellers),
        "buyers": cast(list[BuyerSummary], buyers),
        "trades": trades,
        "grid": {"import_kwh": _kwh(res.grid_import.sum()), "export_kwh": _kwh(res.grid_export.sum())},
    }


def summary_fairness(summary: SlotSummary, fbs_variant: str = "jain") -> FairnessScores:
    """The reference scores recomputed from a summary alone (what a critic can know)."""
    sellers, buyers, trades = summary["sellers"], summary["buyers"], summary["trades"]
    return slot_fairness(
        seller_surplus=np.array([s["surplus_kwh"] for s in sellers], dtype=np.float64),
        seller_sold=np.array([s["p2p_kwh"] for s in sellers], dtype=np.float64),
        buyer_deficit=np.array([b["deficit_kwh"] for b in buyers], dtype=np.float64),
        trade_qty=np.array([t["kwh"] for t in trades], dtype=np.float64),
        trade_price=np.array([t["price"] for t in trades], dtype=np.float64),
        retail=float(summary["retail"]),
        feed_in=float(summary["feed_in"]),
        fbs_variant=fbs_variant,  # type: ignore[arg-type]  # a str: anything but "jain" is Gini
    )
