"""Relabel a slot's sellers and buyers in a random order: the same situation, told differently.

A fair critic gives a permuted summary the scores of the original (the §4 metrics do).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, cast

import numpy as np

from fairmarket_local.env.summary_types import SlotSummary


def permute_summary(summary: SlotSummary, rng: np.random.Generator) -> SlotSummary:
    """A copy with sellers and buyers shuffled and renamed S1.., B1.. in their new order.

    Trades are renamed consistently and re-sorted, as ``slot_summary`` sorts them.
    """
    out = cast("dict[str, Any]", copy.deepcopy(summary))  # edited by side name below
    rename: dict[str, str] = {}
    for side, prefix in (("sellers", "S"), ("buyers", "B")):
        parties = out[side]
        order = _non_identity_permutation(len(parties), rng)
        out[side] = [dict(parties[i], id=f"{prefix}{k + 1}") for k, i in enumerate(order)]
        rename.update({parties[i]["id"]: f"{prefix}{k + 1}" for k, i in enumerate(order)})
    trades = [dict(t, seller=rename[t["seller"]], buyer=rename[t["buyer"]]) for t in out["trades"]]
    out["trades"] = sorted(trades, key=lambda t: (int(t["seller"][1:]), int(t["buyer"][1:]), t["price"]))
    return cast(SlotSummary, out)


def is_permutable(summary: Mapping[str, Any]) -> bool:
    """True if some relabelling changes the summary (two sellers or two buyers)."""
    return len(summary["sellers"]) > 1 or len(summary["buyers"]) > 1


def _non_identity_permutation(n: int, rng: np.random.Generator) -> list[int]:
    if n < 2:
        return list(range(n))
    while True:
        order = rng.permutation(n).tolist()
        if order != list(range(n)):
            return order
