"""P2P electricity market: tariffs, batteries, order clearing (CDA / call) and slot settlement."""

from fairmarket_local.common.lazy import lazy_exports

_EXPORTS = {
    "clear_cda": "auction",
    "battery_step": "battery",
    "clear_call": "call",
    "clear_cda_reference": "reference",
    "SlotResult": "slot",
    "optimal_welfare": "slot",
    "run_slot": "slot",
    "TariffConfig": "tariffs",
    "TouPeriod": "tariffs",
    "QTY_EPS": "trades",
    "Trades": "trades",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
