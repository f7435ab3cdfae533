"""The fairness model's view of a slot: the sets of sellers, buyers and trades, and a few facts of the slot.

Only the raw content of the canonical summary enters: each party's energies, order price and money, each
trade's energy and price, the tariffs, the hour, the weather and the slot's totals. Ratios of one party's own
numbers (sold of surplus) are facts of that party, and a trade's distance from the mid price (in half-spreads)
a fact of that trade. No reference score of SPEC §4 is computed here — the model
would be the rule critic in disguise — and this module imports nothing that computes one (a test checks).

Energies are divided by the slot's scale (the larger of total surplus and total deficit) and prices placed in
the tariff band (0 at feed-in, 1 at retail), so communities of any size look alike to the model, and scaling
every energy, relabelling or reordering the parties changes no feature. The weekday is left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fairmarket_local.env.summary_types import SlotSummary

PARTY_FEATURES = ("energy", "order", "p2p", "money", "price_in_band", "placed", "p2p_of_energy", "order_of_energy")
TRADE_FEATURES = ("kwh", "price_in_band", "off_mid")
SLOT_FEATURES = ("hour_sin", "hour_cos", "sunny", "retail", "feed_in", "surplus", "deficit", "traded",
                 "grid_import", "grid_export", "log_sellers", "log_buyers", "log_trades")
SETS = ("sellers", "buyers", "trades")


@dataclass(frozen=True)
class SetRows:
    """The elements of one set (sellers, buyers or trades) of many slots, stacked.

    ``slot[i]`` is the slot of row ``i``; ``share[i]`` its energy as a share of its slot's set total (a
    weighted mean over a set is ``sum(share * x)``).
    """

    rows: np.ndarray  # (elements, features) float32
    slot: np.ndarray  # (elements,) int64
    share: np.ndarray  # (elements,) float32


@dataclass(frozen=True)
class SlotBatch:
    """Features of ``n`` two-sided slots."""

    n: int
    slots: np.ndarray  # (n, len(SLOT_FEATURES)) float32
    sets: dict[str, SetRows]

    def take(self, index: list[int] | np.ndarray) -> SlotBatch:
        """The batch of the slots ``index`` (in that order)."""
        index = np.asarray(index, dtype=np.int64)
        where = np.full(self.n, -1, dtype=np.int64)
        where[index] = np.arange(len(index))
        sets = {}
        for name, part in self.sets.items():
            keep = where[part.slot] >= 0
            order = np.argsort(where[part.slot[keep]], kind="stable")
            sets[name] = SetRows(part.rows[keep][order], where[part.slot[keep]][order], part.share[keep][order])
        return SlotBatch(len(index), self.slots[index], sets)


def encode(summaries: Sequence[SlotSummary]) -> SlotBatch:
    """Features of two-sided summaries (each has at least one seller and one buyer)."""
    slots: list[list[float]] = []
    sets: dict[str, tuple[list[list[float]], list[int], list[float]]] = {name: ([], [], []) for name in SETS}
    for k, summary in enumerate(summaries):
        scale = _scale(summary)
        slots.append(_slot_row(summary, scale))
        band = (summary["feed_in"], summary["retail"])
        for name in SETS:
            rows, shares = _set_rows(summary, name, scale, band)
            sets[name][0].extend(rows)
            sets[name][1].extend([k] * len(rows))
            sets[name][2].extend(shares)
    return SlotBatch(
        len(summaries), np.array(slots, dtype=np.float32).reshape(len(summaries), len(SLOT_FEATURES)),
        {name: SetRows(np.array(rows, dtype=np.float32).reshape(len(rows), _width(name)),
                       np.array(slot, dtype=np.int64), np.array(share, dtype=np.float32))
         for name, (rows, slot, share) in sets.items()},
    )


def _width(name: str) -> int:
    return len(TRADE_FEATURES) if name == "trades" else len(PARTY_FEATURES)


def _scale(summary: SlotSummary) -> float:
    surplus = sum(s["surplus_kwh"] for s in summary["sellers"])
    deficit = sum(b["deficit_kwh"] for b in summary["buyers"])
    return max(surplus, deficit, 1e-6)


def _slot_row(summary: SlotSummary, scale: float) -> list[float]:
    angle = 2.0 * math.pi * summary["hour"] / 24.0
    sellers, buyers, trades = summary["sellers"], summary["buyers"], summary["trades"]
    return [
        math.sin(angle), math.cos(angle), 1.0 if summary["weather"] == "sunny" else 0.0,
        summary["retail"], summary["feed_in"],
        sum(s["surplus_kwh"] for s in sellers) / scale, sum(b["deficit_kwh"] for b in buyers) / scale,
        sum(t["kwh"] for t in trades) / scale,
        summary["grid"]["import_kwh"] / scale, summary["grid"]["export_kwh"] / scale,
        math.log1p(len(sellers)), math.log1p(len(buyers)), math.log1p(len(trades)),
    ]


def _set_rows(summary: Mapping[str, Any], name: str, scale: float,
              band: tuple[float, float]) -> tuple[list[list[float]], list[float]]:
    if name == "trades":
        rows = [[t["kwh"] / scale, _in_band(t["price"], band), abs(2.0 * _in_band(t["price"], band) - 1.0)]
                for t in summary["trades"]]
        energies = [t["kwh"] for t in summary["trades"]]
    else:
        energy, order = ("surplus_kwh", "offer_kwh") if name == "sellers" else ("deficit_kwh", "request_kwh")
        parties = summary[name]
        rows = [_party_row(p[energy], p[order], p, scale, band) for p in parties]
        energies = [p[energy] for p in parties]
    total = sum(energies)
    return rows, [e / total if total > 0 else 1.0 / len(energies) for e in energies]


def _party_row(energy: float, order: float, party: Mapping[str, Any], scale: float,
               band: tuple[float, float]) -> list[float]:
    placed = party["price"] is not None
    return [
        energy / scale, order / scale, party["p2p_kwh"] / scale, party["money"] / scale,
        _in_band(party["price"], band) if placed else 0.0, 1.0 if placed else 0.0,
        min(party["p2p_kwh"] / energy, 1.0) if energy > 0 else 0.0,
        min(order / energy, 2.0) if energy > 0 else 0.0,
    ]


def _in_band(price: float, band: tuple[float, float]) -> float:
    feed_in, retail = band
    return (price - feed_in) / (retail - feed_in) if retail > feed_in else 0.5
