"""The embedded CityLearn 2022 Fontana data: 17 homes, measured hourly load and PV for one year."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import numpy as np
import pandas as pd

DATA_DIR = files("fairmarket_local.profiles") / "data" / "citylearn2022_fontana"


@dataclass(frozen=True)
class FontanaData:
    """The data set as read-only arrays; columns follow ``household_ids`` (``H01``..``H17``)."""

    household_ids: tuple[str, ...]
    timestamps: np.ndarray  # (8760,) datetime64[m], interval start, fixed PST (UTC-8)
    load_kwh: np.ndarray  # (8760, 17) kWh per hour
    pv_w_per_kwp: np.ndarray  # (8760, 17) mean W per installed kWp in the hour
    pv_kwp: np.ndarray  # (17,)
    battery_capacity_kwh: np.ndarray  # (17,) CityLearn's assumption, not measured
    battery_power_kw: np.ndarray  # (17,)
    battery_efficiency: np.ndarray  # (17,)
    recommended: np.ndarray  # (17,) bool: the 14 clean homes
    _households: pd.DataFrame

    @property
    def households(self) -> pd.DataFrame:
        """The full household table (a copy: kWp, battery, annual totals, quality notes, flag)."""
        return self._households.copy()

    @property
    def recommended_ids(self) -> tuple[str, ...]:
        return tuple(h for h, ok in zip(self.household_ids, self.recommended) if ok)


def _read_csv(name: str, **kwargs: object) -> pd.DataFrame:
    with (DATA_DIR / name).open("rb") as handle:
        return pd.read_csv(handle, compression="gzip" if name.endswith(".gz") else None, **kwargs)


def _read_hourly(name: str) -> pd.DataFrame:
    return _read_csv(name, index_col=0, parse_dates=True)


def _frozen(values: np.ndarray | pd.Series, dtype: type | str = np.float64) -> np.ndarray:
    array = np.array(values, dtype=dtype)
    array.flags.writeable = False
    return array


@lru_cache(maxsize=1)
def load_fontana() -> FontanaData:
    """Read the packaged files once per process."""
    load = _read_hourly("load_kwh_hourly.csv.gz")
    pv = _read_hourly("pv_w_per_kwp_hourly.csv.gz")
    households = _read_csv("households.csv").set_index("household")
    ids = tuple(str(h) for h in load.columns)
    if tuple(pv.columns) != ids or tuple(households.index) != ids or not load.index.equals(pv.index):
        raise RuntimeError("packaged Fontana files disagree on households or timestamps")
    return FontanaData(
        household_ids=ids,
        timestamps=_frozen(load.index.values, "datetime64[m]"),
        load_kwh=_frozen(load.to_numpy()),
        pv_w_per_kwp=_frozen(pv.to_numpy()),
        pv_kwp=_frozen(households["pv_kwp"]),
        battery_capacity_kwh=_frozen(households["battery_kwh"]),
        battery_power_kw=_frozen(households["battery_kw"]),
        battery_efficiency=_frozen(households["battery_efficiency"]),
        recommended=_frozen(households["recommended"], bool),
        _households=households,
    )

