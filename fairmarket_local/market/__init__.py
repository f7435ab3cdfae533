"""P2P electricity market: tariffs, batteries, order clearing (CDA / call) and slot settlement."""

from fairmarket_local.common.lazy import lazy_exports

__all__ = [
    "QTY_EPS",
    "SlotResult",
    "TariffConfig",
    "TouPeriod",
    "Trades",
    "battery_step",
    "clear_call",
    "clear_cda",
    "clear_cda_reference",
    "optimal_welfare",
    "run_slot",
]
__getattr__, __dir__ = lazy_exports(__name__, __all__)
