"""P2P electricity market: tariffs, batteries, order clearing (CDA / call) and slot settlement."""

from fairmarket_local.market.auction import clear_cda
from fairmarket_local.market.battery import battery_step
from fairmarket_local.market.call import clear_call
from fairmarket_local.market.reference import clear_cda_reference
from fairmarket_local.market.slot import SlotResult, optimal_welfare, run_slot
from fairmarket_local.market.tariffs import TariffConfig, TouPeriod
from fairmarket_local.market.trades import QTY_EPS, Trades

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
