"""The embedded SimBench EV home-charging profiles (hourly, 365 days; see data/simbench_ev/README.md)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import numpy as np
import pandas as pd

DATA_FILE = files("fairmarket_local.profiles") / "data" / "simbench_ev" / "ev_home_hourly.csv.gz"


@dataclass(frozen=True)
class EvProfiles:
    """Read-only arrays; row ``i`` is hour-of-year ``i`` (CET standard time, 2016 without 29 Feb)."""

    names: tuple[str, ...]  # e.g. "ev_home_HLS_A_3.7"
    charger_kw: np.ndarray  # (P,) rating of each profile's charger
    kwh_per_kw: np.ndarray  # (8760, P) energy charged per hour per kW of charger
    days: np.ndarray  # (365,) datetime64[D], calendar date of each day of the file

    @property
    def kwh(self) -> np.ndarray:
        """(8760, P) energy charged per hour [kWh] at each profile's own charger rating."""
        return self.kwh_per_kw * self.charger_kw


@lru_cache(maxsize=1)
def load_ev_profiles() -> EvProfiles:
    """Read the packaged file once per process."""
    with DATA_FILE.open("rb") as handle:
        table = pd.read_csv(handle, compression="gzip", index_col=0)
    names = tuple(str(c) for c in table.columns)
    start = np.array(table.index.to_numpy(dtype=str), dtype="datetime64[m]")
    arrays = {
        "charger_kw": np.array([float(name.rsplit("_", 1)[1]) for name in names]),
        "kwh_per_kw": table.to_numpy(dtype=np.float64),
        "days": start[::24].astype("datetime64[D]"),
    }
    for array in arrays.values():
        array.flags.writeable = False
    return EvProfiles(names=names, **arrays)
