"""The embedded Fontana and SimBench EV data: shipped with licences, loaded as documented."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest

from fairmarket_local.profiles.ev import load_ev_profiles
from fairmarket_local.profiles.fontana import load_fontana

DATA = files("fairmarket_local.profiles") / "data"


@pytest.mark.parametrize(
    "folder, names",
    [
        ("citylearn2022_fontana", ["LICENSE-CityLearn-MIT.txt", "README.md", "households.csv",
                                   "load_kwh_hourly.csv.gz", "pv_w_per_kwp_hourly.csv.gz", "context_hourly.csv.gz"]),
        ("simbench_ev", ["LICENSE-SimBench.txt", "README.md", "ev_home_hourly.csv.gz"]),
    ],
)
def test_data_ships_with_licence_and_attribution(folder: str, names: list[str]) -> None:
    for name in names:
        resource = DATA / folder / name
        assert resource.is_file(), name
        assert len(resource.read_bytes()) < 1_000_000, name
    assert "## Attribution" in (DATA / folder / "README.md").read_text(encoding="utf-8")


def test_shapes_and_time_axis() -> None:
    data = load_fontana()
    assert data.load_kwh.shape == data.pv_w_per_kwp.shape == (8760, 17)
    assert data.household_ids == tuple(f"H{i:02d}" for i in range(1, 18))
    assert data.timestamps.dtype == np.dtype("datetime64[m]")
    assert data.timestamps[0] == np.datetime64("2016-07-31T23:00")
    assert (np.diff(data.timestamps) == np.timedelta64(60, "m")).all()


def test_values_are_clean_and_match_the_household_table() -> None:
    data = load_fontana()
    table = data.households
    for array in (data.load_kwh, data.pv_w_per_kwp):
        assert np.isfinite(array).all() and (array >= 0).all()
    np.testing.assert_allclose(data.load_kwh.sum(axis=0), table["annual_load_kwh"], atol=0.1)
    np.testing.assert_allclose(data.pv_w_per_kwp.sum(axis=0) / 1000, table["annual_pv_kwh_per_kwp"], atol=0.1)
    np.testing.assert_array_equal(data.pv_kwp, table["pv_kwp"])
    assert (data.battery_capacity_kwh == 6.4).all() and (data.battery_efficiency == 0.9).all()


def test_recommended_homes_exclude_the_three_faulty_ones() -> None:
    data = load_fontana()
    assert len(data.recommended_ids) == 14
    assert {"H12", "H14", "H15"}.isdisjoint(data.recommended_ids)


def test_cached_and_read_only() -> None:
    data = load_fontana()
    assert load_fontana() is data
    with pytest.raises(ValueError):
        data.load_kwh[0, 0] = 1.0
    table = data.households
    table.loc["H01", "pv_kwp"] = 99.0  # a copy: the cache stays intact
    assert data.households.loc["H01", "pv_kwp"] == 4.0


def test_ev_profiles() -> None:
    ev = load_ev_profiles()
    assert ev.kwh_per_kw.shape == (8760, len(ev.names)) == (8760, 6)
    np.testing.assert_array_equal(ev.charger_kw, [3.7, 3.7, 3.7, 11.0, 11.0, 22.0])
    assert ev.days[0] == np.datetime64("2016-01-01") and ev.days[-1] == np.datetime64("2016-12-31")
    assert np.datetime64("2016-02-29") not in ev.days
    assert (ev.kwh_per_kw >= 0).all() and (ev.kwh_per_kw <= 1).all()
    annual = ev.kwh.sum(axis=0)
    assert ((annual > 500) & (annual < 2000)).all()  # plausible kWh per EV and year
