"""Vectorised battery step: power and SoC limits, efficiency, households without a battery."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairmarket_local.market.battery import battery_step

# CityLearn 2022 battery assumption: 6.4 kWh, 5 kW, 90 % round trip.
CAP, POWER, EFF = 6.4, 5.0, 0.9
ETA = np.sqrt(EFF)


def step(soc: float, action: int, capacity: float = CAP, power: float = POWER, efficiency: float = EFF,
         slot_hours: float = 1.0) -> tuple[float, float]:
    new_soc, grid = battery_step(np.array([soc]), np.array([action], np.int8), np.array([capacity]),
                                 np.array([power]), np.array([efficiency]), slot_hours)
    return float(new_soc[0]), float(grid[0])


def test_charge_is_limited_by_power() -> None:
    new_soc, grid = step(0.0, 1)
    assert grid == pytest.approx(POWER)
    assert new_soc == pytest.approx(POWER * ETA)


def test_charge_is_limited_by_headroom() -> None:
    new_soc, grid = step(5.0, 1)
    assert new_soc == pytest.approx(CAP)
    assert grid == pytest.approx((CAP - 5.0) / ETA)


def test_discharge_is_limited_by_power_and_energy() -> None:
    new_soc, grid = step(CAP, -1)
    assert grid == pytest.approx(-POWER)
    assert new_soc == pytest.approx(CAP - POWER / ETA)
    new_soc, grid = step(1.0, -1)
    assert new_soc == pytest.approx(0.0, abs=1e-15)
    assert grid == pytest.approx(-1.0 * ETA)


def test_idle_and_slot_length() -> None:
    assert step(3.0, 0) == (3.0, 0.0)
    _new_soc, grid = step(0.0, 1, slot_hours=0.25)
    assert grid == pytest.approx(POWER * 0.25)


def test_full_cycle_loses_round_trip_efficiency() -> None:
    soc, charged = step(0.0, 1, power=1.0)
    _, discharged = step(soc, -1, power=1.0)
    assert -discharged / charged == pytest.approx(EFF)


def test_households_without_battery_give_zero() -> None:
    soc = np.zeros(3)
    action = np.array([1, -1, 1], np.int8)
    # No capacity / no power / efficiency 0 (the community's default for battery-less homes).
    new_soc, grid = battery_step(soc, action, np.array([0.0, CAP, CAP]), np.array([POWER, 0.0, POWER]),
                                 np.array([EFF, EFF, 0.0]), 1.0)
    np.testing.assert_array_equal(grid, 0.0)
    np.testing.assert_array_equal(new_soc, 0.0)


def test_scalar_parameters_broadcast() -> None:
    _new_soc, grid = battery_step(np.array([0.0, CAP]), np.array([1, -1], np.int8), CAP, POWER, EFF, 1.0)
    np.testing.assert_allclose(grid, [POWER, -POWER])


def test_invalid_action_raises() -> None:
    with pytest.raises(ValueError, match="battery action"):
        battery_step(np.zeros(1), np.array([2]), CAP, POWER, EFF, 1.0)


def random_fleet(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Random batteries with the edge values (empty, full, no battery, lossless, lossy) over-drawn."""
    def with_edges(values: np.ndarray, edges: list[float]) -> np.ndarray:
        pick = rng.random(n) < 0.3
        return np.where(pick, rng.choice(edges, n), values)

    capacity = with_edges(rng.uniform(0, 20, n), [0.0, 6.4])
    soc = with_edges(rng.random(n), [0.0, 1.0]) * capacity
    power = with_edges(rng.uniform(0, 10, n), [0.0, 5.0])
    efficiency = with_edges(rng.random(n), [0.0, 1.0, 0.9])
    action = rng.integers(-1, 2, n).astype(np.int8)
    return soc, action, capacity, power, efficiency


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 2**32 - 1), slot_hours=st.sampled_from([0.25, 0.5, 1.0]))
def test_limits_hold(seed: int, slot_hours: float) -> None:
    soc, action, capacity, power, efficiency = random_fleet(np.random.default_rng(seed), 16)
    new_soc, grid = battery_step(soc, action, capacity, power, efficiency, slot_hours)
    assert np.all((new_soc >= 0.0) & (new_soc <= capacity))
    assert np.all(np.abs(grid) <= power * slot_hours)
    assert np.all(grid * action >= 0)  # charging draws, discharging supplies, idle is 0
    eta = np.sqrt(efficiency)
    has_battery = (capacity > 0) & (eta > 0)
    expected = np.where(grid > 0, grid * eta, grid / np.where(has_battery, eta, 1.0))
    assert np.all(np.abs(np.where(has_battery, new_soc - soc, grid) - expected) <= 1e-9)
    assert np.all(grid[~has_battery] == 0.0)
