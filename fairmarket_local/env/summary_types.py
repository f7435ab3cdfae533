"""The slot summary's types (SPEC §5) and a machine-readable description of its fields.

:func:`fairmarket_local.env.summary.slot_summary` returns a :class:`SlotSummary`. The key names are part
of the format: summaries on disk and the critic's cache keys are made of them, so they do not change
without a new :data:`SUMMARY_SCHEMA`.

:data:`SUMMARY_FIELDS` is the same description as data, for validators: for each part of a summary (``""``
the summary itself, then ``"sellers"``, ``"buyers"``, ``"trades"`` — one entry of those lists — and
``"grid"``) the required keys, in the order a summary writes them, with the Python types their JSON
values load as. It is derived from the ``TypedDict``s below, so a check built on it follows the types.
This module imports nothing but ``typing``: reading summaries loads neither numpy nor the market.
"""

import types
from typing import Any, Literal, TypedDict, Union, get_args, get_origin, get_type_hints, is_typeddict

SUMMARY_SCHEMA = 1  # the "schema" a summary of this version carries

Weekday = Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
Weather = Literal["sunny", "cloudy"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)
WEATHERS: tuple[Weather, ...] = get_args(Weather)


class SellerSummary(TypedDict):
    """A household with surplus (``id`` S1, S2, ... in household order): its actual surplus, its offer
    and ask ``price`` (``None``: it placed no order), what it sold in the market and its revenue."""

    id: str
    surplus_kwh: float
    offer_kwh: float
    price: float | None
    p2p_kwh: float
    money: float


class BuyerSummary(TypedDict):
    """A household short of energy (``id`` B1, B2, ...): its actual deficit, its request and bid
    ``price`` (``None``: no order), what it bought in the market and what it paid for it."""

    id: str
    deficit_kwh: float
    request_kwh: float
    price: float | None
    p2p_kwh: float
    money: float


class TradeSummary(TypedDict):
    """The energy one seller sold to one buyer at one price (trades merged per seller, buyer, price)."""

    seller: str
    buyer: str
    kwh: float
    price: float


class GridSummary(TypedDict):
    """What the community imported from and exported to the grid in the slot."""

    import_kwh: float
    export_kwh: float


class SlotSummary(TypedDict):
    """One slot as the critic sees it: when, the tariff, the parties, the trades and the grid."""

    schema: int
    day: Weekday
    hour: int
    weather: Weather
    retail: float
    feed_in: float
    sellers: list[SellerSummary]
    buyers: list[BuyerSummary]
    trades: list[TradeSummary]
    grid: GridSummary


def json_types(hint: object) -> tuple[type, ...]:
    """The Python types a JSON value of type ``hint`` loads as.

    A ``float`` may be written as an integer (``(int, float)``), a ``Literal`` has its values' types, a
    ``list[...]`` is a ``list`` and a ``TypedDict`` a ``dict``; a union is the union of its members'.
    ``bool`` is an ``int`` to ``isinstance``: a validator rejects it on its own.
    """
    origin = get_origin(hint)
    if origin is Literal:
        return tuple(dict.fromkeys(type(value) for value in get_args(hint)))
    if origin in (Union, types.UnionType):
        return tuple(dict.fromkeys(t for member in get_args(hint) for t in json_types(member)))
    if origin is not None:
        return (origin,)
    if is_typeddict(hint):
        return (dict,)
    if hint is float:
        return (int, float)
    if hint is None or hint is type(None):
        return (type(None),)
    if isinstance(hint, type):
        return (hint,)
    raise TypeError(f"no JSON type for {hint!r}")


def summary_parts(summary: type = SlotSummary) -> dict[str, type]:
    """The ``TypedDict`` of each part of a summary: ``""`` the summary, then each key whose value is a
    ``TypedDict`` or a list of them (``"sellers"`` → :class:`SellerSummary`, ``"grid"`` → :class:`GridSummary`)."""
    parts: dict[str, type] = {"": summary}
    for key, hint in get_type_hints(summary).items():
        inner = get_args(hint)[0] if get_origin(hint) is list else hint
        if is_typeddict(inner):
            parts[key] = inner
    return parts


def field_types(typed_dict: Any) -> dict[str, tuple[type, ...]]:
    """Every required key of ``typed_dict``, in declaration order, with :func:`json_types` of its type."""
    required = typed_dict.__required_keys__
    return {key: json_types(hint) for key, hint in get_type_hints(typed_dict).items() if key in required}


SUMMARY_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    part: field_types(typed_dict) for part, typed_dict in summary_parts().items()
}
