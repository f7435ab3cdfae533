"""The community: every household's energy series as arrays (slots x households)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np


class Kind(IntEnum):
    """Household kinds (SPEC §1)."""

    CONSUMER = 0
    PROSUMER = 1
    PROSUMER_BATTERY = 2


KIND_NAMES = {Kind.CONSUMER: "consumer", Kind.PROSUMER: "prosumer", Kind.PROSUMER_BATTERY: "prosumer_battery"}


@dataclass(frozen=True)
class Community:
    """N households over T slots. All energies in kWh per slot; arrays are float64, read-only.

    ``load`` and ``pv`` are the *actual* series (T, N); forecasts are derived by the env.
    ``sunny`` is the weather flag per slot (T,) in {0, 1}, constant within a day.
    Battery arrays are 0 for households without a battery.
    """

    ids: tuple[str, ...]
    kinds: np.ndarray  # (N,) int8, values of Kind
    timestamps: np.ndarray  # (T,) datetime64[m], interval start
    load: np.ndarray  # (T, N)
    pv: np.ndarray  # (T, N)
    sunny: np.ndarray  # (T,) int8
    slot_hours: float = 1.0
    # None (not given) becomes zeros in __post_init__: after construction these are always arrays
    battery_capacity_kwh: np.ndarray = field(default=None)  # type: ignore[arg-type]  # zeros when not given
    battery_power_kw: np.ndarray = field(default=None)  # type: ignore[arg-type]  # zeros when not given
    battery_efficiency: np.ndarray = field(default=None)  # type: ignore[arg-type]  # zeros when not given
    ev_load: np.ndarray | None = None  # (T, N) part of ``load`` that is EV charging, for reporting

    def __post_init__(self) -> None:
        n = len(self.ids)
        zeros = np.zeros(n)
        for name in ("battery_capacity_kwh", "battery_power_kw", "battery_efficiency"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, zeros.copy())
        if self.load.shape != self.pv.shape or self.load.shape[1] != n:
            raise ValueError(f"load {self.load.shape} / pv {self.pv.shape} do not match {n} households")
        if self.timestamps.shape[0] != self.load.shape[0] or self.sunny.shape[0] != self.load.shape[0]:
            raise ValueError("timestamps / sunny length differs from the number of slots")
        if self.ev_load is not None and self.ev_load.shape != self.load.shape:
            raise ValueError(f"ev_load {self.ev_load.shape} does not match load {self.load.shape}")
        for name in ("kinds", "load", "pv", "sunny", "timestamps", "battery_capacity_kwh",
                     "battery_power_kw", "battery_efficiency", "ev_load"):
            if getattr(self, name) is not None:
                getattr(self, name).flags.writeable = False

    @property
    def n_households(self) -> int:
        return len(self.ids)

    @property
    def n_slots(self) -> int:
        return int(self.load.shape[0])

    @property
    def slots_per_day(self) -> int:
        return round(24 / self.slot_hours)

    @property
    def n_days(self) -> int:
        return self.n_slots // self.slots_per_day

    @property
    def has_battery(self) -> np.ndarray:
        return self.battery_capacity_kwh > 0

    def window(self, start_slot: int, n_slots: int) -> Community:
        """The same households restricted to slots [start_slot, start_slot + n_slots)."""
        sl = slice(start_slot, start_slot + n_slots)
        return Community(
            ids=self.ids, kinds=self.kinds, timestamps=self.timestamps[sl], load=self.load[sl],
            pv=self.pv[sl], sunny=self.sunny[sl], slot_hours=self.slot_hours,
            battery_capacity_kwh=self.battery_capacity_kwh, battery_power_kw=self.battery_power_kw,
            battery_efficiency=self.battery_efficiency,
            ev_load=None if self.ev_load is None else self.ev_load[sl],
        )
