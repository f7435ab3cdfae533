"""Compact text of a slot summary and of its §4 indicators — what a prompt shows the model.

A line-per-party text form takes about a third fewer tokens than the summary's JSON, and prefill
dominates the cost of a model call.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from fairmarket_local.env.summary import summary_fairness
from fairmarket_local.env.summary_types import SlotSummary


def _num(x: float | None, digits: int) -> str:
    """Fixed decimals without trailing zeros (``2.50`` -> ``2.5``): fewer tokens, same information."""
    if x is None:
        return "-"
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") or "0"


def render_slot(summary: SlotSummary) -> str:
    """Slot header, one line per seller and buyer, the trades and the grid exchange."""
    grid = summary["grid"]
    lines = [
        (f"{summary['day']} {summary['hour']:02d}h {summary['weather']}; retail {_num(summary['retail'], 3)}"
        f", feed-in {_num(summary['feed_in'], 3)} per kWh"),
        "sellers (id surplus offered@price sold):",
        *(f"{s['id']} {_num(s['surplus_kwh'], 2)} {_num(s['offer_kwh'], 2)}@{_num(s['price'], 3)}"
          f" {_num(s['p2p_kwh'], 2)}" for s in summary["sellers"]),
        "buyers (id deficit requested@price bought):",
        *(f"{b['id']} {_num(b['deficit_kwh'], 2)} {_num(b['request_kwh'], 2)}@{_num(b['price'], 3)}"
          f" {_num(b['p2p_kwh'], 2)}" for b in summary["buyers"]),
        "trades (seller>buyer kWh@price):",
        " ".join(f"{t['seller']}>{t['buyer']} {_num(t['kwh'], 2)}@{_num(t['price'], 3)}"
                 for t in summary["trades"]) or "none",
        f"grid import {_num(grid['import_kwh'], 2)} kWh, export {_num(grid['export_kwh'], 2)} kWh",
    ]
    return "\n".join(lines)


def render_slot_brief(summary: SlotSummary) -> str:
    """The slot's facts in about half the tokens of :func:`render_slot`: energy and P2P volume per party,
    the trades, prices in cents; orders (which no §4 score uses) are left out."""
    sellers = " ".join(f"{s['id']} {_num(s['surplus_kwh'], 2)}/{_num(s['p2p_kwh'], 2)}" for s in summary["sellers"])
    buyers = " ".join(f"{b['id']} {_num(b['deficit_kwh'], 2)}/{_num(b['p2p_kwh'], 2)}" for b in summary["buyers"])
    trades = " ".join(f"{t['seller']}>{t['buyer']} {_num(t['kwh'], 2)}@{_num(100 * t['price'], 1)}"
                      for t in summary["trades"])
    return "\n".join([
        (f"{summary['hour']:02d}h {summary['weather']}; retail {_num(100 * summary['retail'], 1)},"
        f" feed-in {_num(100 * summary['feed_in'], 1)} c/kWh"),
        f"sellers surplus/sold kWh: {sellers or 'none'}",
        f"buyers deficit/bought kWh: {buyers or 'none'}",
        f"trades kWh@c: {trades or 'none'}",
    ])


def render_slot_relative(summary: SlotSummary) -> str:
    """The slot for a distilled student: what each party did out of what it could, each trade's price as
    its place in the tariff band (% of the half-spread above or below the mid price: +100 % is retail,
    -100 % feed-in) and the energy totals — the scored facts arranged so that the model has little
    arithmetic left to learn."""
    sellers = " ".join(f"{s['id']} {_num(s['p2p_kwh'], 2)}/{_num(s['surplus_kwh'], 2)}" for s in summary["sellers"])
    buyers = " ".join(f"{b['id']} {_num(b['p2p_kwh'], 2)}/{_num(b['deficit_kwh'], 2)}" for b in summary["buyers"])
    mid, half = _mid_and_half_spread(summary)
    trades = " ".join(f"{t['seller']}>{t['buyer']} {_num(t['kwh'], 2)}@{_band(t['price'], mid, half)}"
                      for t in summary["trades"])
    surplus, deficit, volume = _totals(summary)
    return "\n".join([
        f"{summary['hour']:02d}h; retail {_num(100 * summary['retail'], 1)},"
        f" feed-in {_num(100 * summary['feed_in'], 1)} c",
        f"sellers sold/surplus kWh: {sellers or 'none'}",
        f"buyers bought/deficit kWh: {buyers or 'none'}",
        f"trades kWh@price vs mid (% of half-spread): {trades or 'none'}",
        f"totals: surplus {_num(surplus, 2)}, deficit {_num(deficit, 2)}, traded {_num(volume, 2)} kWh",
    ])


def render_slot_canonical(summary: SlotSummary) -> str:
    """:func:`render_slot_relative` without names, every list in a canonical order (largest first):
    sellers by sold then surplus, buyers by bought then deficit, trades by energy then price. No §4 score
    depends on who is who, and any relabelling of the parties gives this very text — a student reading
    it is invariant to seller/buyer order by construction — in about 30 % fewer tokens."""
    surplus, deficit, volume = _totals(summary)
    return "\n".join([*_canonical_lines(summary, _kwh, "kWh"),
                      f"totals surplus/deficit/traded: {_kwh(surplus)}/{_kwh(deficit)}/{_kwh(volume)}"])


def render_slot_hundredths(summary: SlotSummary) -> str:
    """:func:`render_slot_canonical` with every energy a whole number of hundredths of a kWh (``0.44``
    is ``44``: summaries round kWh to 0.01, and a small model's tokenizer spends a token on every digit,
    point and leading zero), and the traded energy set beside the most the community could have traded
    among itself, min(total surplus, total deficit) — the pair a grid-fairness judgment compares, in the
    form the student already reads for each party (done/possible)."""
    surplus, deficit, volume = _totals(summary)
    return "\n".join([*_canonical_lines(summary, _hundredths, "energy"),
                      f"totals surplus/deficit: {_hundredths(surplus)}/{_hundredths(deficit)}",
                      f"traded/possible: {_hundredths(volume)}/{_hundredths(min(surplus, deficit))}"])


def _canonical_lines(summary: SlotSummary, energy: Callable[[float], str], trade_unit: str) -> list[str]:
    """Tariffs, then sellers, buyers and trades, each list largest first, energies formatted by ``energy``."""
    mid, half = _mid_and_half_spread(summary)
    sellers = sorted(((round(s["p2p_kwh"], 2), round(s["surplus_kwh"], 2)) for s in summary["sellers"]), reverse=True)
    buyers = sorted(((round(b["p2p_kwh"], 2), round(b["deficit_kwh"], 2)) for b in summary["buyers"]), reverse=True)
    trades = sorted(((round(t["kwh"], 2), _band_pct(t["price"], mid, half)) for t in summary["trades"]), reverse=True)

    def pairs(rows: list[tuple[float, float]]) -> str:
        return " ".join(f"{energy(a)}/{energy(b)}" for a, b in rows) or "none"

    return [
        f"{summary['hour']:02d}h tariffs {_num(100 * summary['retail'], 1)}/{_num(100 * summary['feed_in'], 1)}c",
        f"sellers sold/surplus: {pairs(sellers)}",
        f"buyers bought/deficit: {pairs(buyers)}",
        f"trades {trade_unit}@band%: {' '.join(f'{energy(q)}@{b}' for q, b in trades) or 'none'}",
    ]


def _kwh(kwh: float) -> str:
    return _num(kwh, 2)


def _hundredths(kwh: float) -> str:
    return str(round(100 * kwh))


def _mid_and_half_spread(summary: SlotSummary) -> tuple[float, float]:
    """The mid price between retail and feed-in, and half their spread."""
    return (summary["retail"] + summary["feed_in"]) / 2.0, (summary["retail"] - summary["feed_in"]) / 2.0


def _totals(summary: SlotSummary) -> tuple[float, float, float]:
    """Total surplus, deficit and traded energy; exact sums, so no party order changes a rounded digit."""
    return (math.fsum(s["surplus_kwh"] for s in summary["sellers"]),
            math.fsum(b["deficit_kwh"] for b in summary["buyers"]),
            math.fsum(t["kwh"] for t in summary["trades"]))


def _band_pct(price: float, mid: float, half: float) -> int:
    """A price as a whole percentage of the half-spread off the mid price (+100 retail, -100 feed-in;
    0 without a spread)."""
    return round(100 * (price - mid) / half) if half > 0 else 0


def _band(price: float, mid: float, half: float) -> str:
    """:func:`_band_pct` signed, with a percent sign (``+0%`` without a spread)."""
    return f"{_band_pct(price, mid, half):+d}%"


def render_totals(summary: SlotSummary) -> str:
    """Plain totals of a slot (no score): what a small model would otherwise have to add up itself."""
    surplus, deficit, volume = _totals(summary)
    mid = (summary["retail"] + summary["feed_in"]) / 2.0
    return (f"totals: surplus {_num(surplus, 2)}, deficit {_num(deficit, 2)}, traded {_num(volume, 2)} kWh;"
            f" mid price {_num(100 * mid, 2)} c")


def render_indicators(summary: SlotSummary) -> str:
    """The computed §4 inputs and scores of a slot (the evidence a small model should use)."""
    surplus = np.array([s["surplus_kwh"] for s in summary["sellers"]], dtype=np.float64)
    sold = np.array([s["p2p_kwh"] for s in summary["sellers"]], dtype=np.float64)
    total, deficit, volume = _totals(summary)
    mid = (summary["retail"] + summary["feed_in"]) / 2.0
    avg_price = sum(t["kwh"] * t["price"] for t in summary["trades"]) / volume if volume > 0 else None
    fills = " ".join(f"{s['id']}={_num(f, 2)}" for s, f in zip(summary["sellers"], _fill_ratios(sold, surplus)))
    ref = summary_fairness(summary)
    return "\n".join([
        f"S={_num(total, 2)} D={_num(deficit, 2)} E={_num(volume, 2)} min(S,D)={_num(min(total, deficit), 2)}",
        f"fill ratios: {fills or 'none'}",
        f"mid price {_num(mid, 3)}, mean trade price {_num(avg_price, 3)}",
        f"computed: ftg {ref.ftg:.2f}, fbs {ref.fbs:.2f}, fpp {ref.fpp:.2f}",
    ])


def _fill_ratios(sold: np.ndarray, surplus: np.ndarray) -> list[float | None]:
    """sold / surplus clipped to 1; ``None`` (shown as ``-``) without surplus, as FBS leaves it out."""
    return [min(1.0, s / x) if x > 0 else None for s, x in zip(sold, surplus)]
