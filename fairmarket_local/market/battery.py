"""Home battery: one slot of charge / idle / discharge for all households at once.

The power limit applies on the grid (AC) side: at most ``power_kw * slot_hours`` kWh flow in or out
per slot. Losses are split evenly between charging and discharging, one-way efficiency
``sqrt(round_trip)``: charging draws ``e`` kWh and stores ``e * eta``; discharging delivers ``e`` kWh
and removes ``e / eta``. Households without a battery (capacity, power or efficiency 0) give 0.
"""

from __future__ import annotations

import numpy as np

CHARGE, IDLE, DISCHARGE = 1, 0, -1


def battery_step(
    soc_kwh: np.ndarray,
    action: np.ndarray,
    capacity_kwh: np.ndarray | float,
    power_kw: np.ndarray | float,
    efficiency: np.ndarray | float,
    slot_hours: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply one slot of battery actions.

    :param soc_kwh: (N,) state of charge, within [0, capacity].
    :param action: (N,) int8, +1 charge, 0 idle, -1 discharge (at full power, within SoC bounds).
    :param efficiency: round-trip efficiency in [0, 1].
    :return: ``(new_soc_kwh, grid_side_kwh)``; ``grid_side_kwh > 0`` is extra consumption
        (charging), ``< 0`` is supply (discharging).
    """
    soc = np.asarray(soc_kwh, dtype=np.float64)
    action = np.asarray(action)
    capacity = np.broadcast_to(np.asarray(capacity_kwh, dtype=np.float64), soc.shape)
    eta = np.sqrt(np.broadcast_to(np.asarray(efficiency, dtype=np.float64), soc.shape))
    limit = np.asarray(power_kw, dtype=np.float64) * slot_hours
    if np.any((action < -1) | (action > 1)):
        raise ValueError("battery action must be -1 (discharge), 0 (idle) or +1 (charge)")

    usable = (capacity > 0) & (eta > 0)
    safe_eta = np.where(usable, eta, 1.0)
    headroom = np.maximum(capacity - soc, 0.0) / safe_eta
    charge = np.where(usable & (action == CHARGE), np.minimum(limit, headroom), 0.0)
    available = np.maximum(soc, 0.0) * safe_eta
    discharge = np.where(usable & (action == DISCHARGE), np.minimum(limit, available), 0.0)
    # Clipping only removes float round-off (about 1 ulp) at the SoC bounds.
    new_soc = np.clip(soc + charge * safe_eta - discharge / safe_eta, 0.0, capacity)
    return np.where(usable, new_soc, soc), charge - discharge
