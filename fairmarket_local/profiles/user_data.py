"""User household data from CSV or Parquet, strictly validated.

Schema (Markdown, copied into the README): one row per household and slot, rows in any order. The
file type comes from the extension: `.csv`, `.csv.gz` (UTF-8, comma-separated, header row) or
`.parquet`, `.pq`.

| column | required | meaning |
|---|---|---|
| `timestamp` | yes | slot start, ISO 8601 (`2024-06-01 13:00`), local standard time (see below) |
| `household_id` | yes | any non-empty text. Households keep the order in which they first appear. |
| `load_kwh` | yes | consumption in the slot [kWh], >= 0 |
| `pv_kwh` | yes | PV generation in the slot [kWh], >= 0 |
| `battery_capacity_kwh` | no | usable capacity [kWh], >= 0 (0 = no battery) |
| `battery_power_kw` | no | charge/discharge power limit [kW], > 0 where there is a battery |
| `battery_efficiency` | no | round-trip efficiency in (0, 1] where there is a battery |
| `kind` | no | `consumer`, `prosumer` or `prosumer_battery` |

```
timestamp,household_id,load_kwh,pv_kwh
2024-06-01 00:00,alice,0.42,0.0
2024-06-01 00:00,bob,0.31,0.0
2024-06-01 01:00,alice,0.39,0.0
```

Rules:
- A UTC offset in `timestamp` (`+01:00`) must be the same on every row; it is dropped and the
  wall-clock time kept, so daylight-saving time is not supported.
- No other columns. An empty cell, `nan`, `NaN` or `NA` in a numeric column is an error.
- The three battery columns come together. Battery values and `kind` describe the household, so all
  of its rows repeat them.
- Without `kind`, a household with a battery is `prosumer_battery`, one with any PV `prosumer`, else
  `consumer`. With `kind`, it must agree with the data (a consumer has no PV; only a
  `prosumer_battery` has a battery); without battery columns, `prosumer_battery` households get
  `community.battery`.
- Timestamps form one regular grid of `community.slot_minutes` slots covering whole days (first slot
  at 00:00) without gaps, and every household has exactly one row for every timestamp.
- More than 50 kWh per hour of slot in `load_kwh` or `pv_kwh` is taken as a unit mistake (W or Wh
  instead of kWh).
- `community.start_day` / `n_days` select whole days counted from the first day of the file;
  `pv_scale` and `demand_scale` apply; with `weather: data`, a day is sunny when the community's PV
  reaches `sunny_threshold` x the maximum of the days within ±7 days in the file.

Errors are one line, `<file>: row <r>, column <c>: <problem>`, with rows counted as in the CSV file
(header = row 1, first data row = row 2; Parquet rows are counted the same way).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from fairmarket_local.common.errors import ConfigError, DataError
from fairmarket_local.profiles.community import KIND_NAMES, Community, Kind
from fairmarket_local.profiles.config import CommunityConfig
from fairmarket_local.profiles.weather import forced_flags, per_slot, sunny_from_pv

REQUIRED = ("timestamp", "household_id", "load_kwh", "pv_kwh")
BATTERY = ("battery_capacity_kwh", "battery_power_kw", "battery_efficiency")
OPTIONAL = (*BATTERY, "kind")
NUMERIC = ("load_kwh", "pv_kwh", *BATTERY)
MAX_KWH_PER_HOUR = 50.0
CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")

Battery = tuple[np.ndarray, np.ndarray, np.ndarray]  # (capacity kWh, power kW, efficiency) per household

_KIND_BY_NAME = {name: kind for kind, name in KIND_NAMES.items()}
_NAN_TOKENS = ["", "nan", "NaN", "NA"]
_UTC_OFFSET = r"(Z|[+-]\d{2}(?::?\d{2})?)$"


class _Reporter:
    """Builds the one-line errors for one file."""

    def __init__(self, path: Path) -> None:
        self.file = str(path)

    def file_error(self, problem: str) -> DataError:
        return DataError(f"{self.file}: {problem}")

    def error(self, position: int, column: str, problem: str) -> DataError:
        """``position`` is the 0-based data row, or -1 for the header."""
        row = 1 if position < 0 else int(position) + 2
        return DataError(f"{self.file}: row {row}, column {column}: {problem}")


def load_user_data(path: str | os.PathLike[str], cfg: CommunityConfig) -> Community:
    """Read, validate and window a user data file (schema in the module docstring)."""
    path = Path(path)
    report = _Reporter(path)
    table = _read_table(path, report)
    _check_columns(table, report)

    timestamps = _timestamps(table["timestamp"], report)
    households = _texts(table["household_id"], "household_id", report)
    values = {c: _numbers(table[c], c, report) for c in NUMERIC if c in table}
    kind_names = _kind_names(table["kind"], report) if "kind" in table else None
    codes, ids = pd.factorize(households)  # households in order of first appearance
    first_rows = np.unique(codes, return_index=True)[1]
    grid = _check_grid(timestamps, codes, first_rows, cfg, report)
    _check_units(values, cfg.slot_hours, report)

    slot_of = np.searchsorted(grid, timestamps)
    load, pv = np.empty((grid.size, ids.size)), np.empty((grid.size, ids.size))
    load[slot_of, codes] = values["load_kwh"]
    pv[slot_of, codes] = values["pv_kwh"]

    if "battery_capacity_kwh" in values:
        battery = _battery(values, codes, first_rows, report)
        kinds = _kinds(kind_names, codes, first_rows, values["pv_kwh"], battery[0], report)
    else:
        kinds = _kinds(kind_names, codes, first_rows, values["pv_kwh"], None, report)
        battery = _config_battery(kinds, cfg)

    spd = cfg.slots_per_day
    days = _window_days(grid.size // spd, cfg, report)
    window = slice(days.start * spd, days.stop * spd)
    return Community(
        ids=tuple(str(i) for i in ids),
        kinds=kinds,
        timestamps=grid[window],
        load=load[window] * cfg.demand_scale,
        pv=pv[window] * cfg.pv_scale,
        sunny=per_slot(_daily_weather(pv, days, cfg), spd),
        slot_hours=cfg.slot_hours,
        battery_capacity_kwh=battery[0],
        battery_power_kw=battery[1],
        battery_efficiency=battery[2],
    )


def _read_table(path: Path, report: _Reporter) -> pd.DataFrame:
    name = path.name.lower()
    if not name.endswith(CSV_SUFFIXES + PARQUET_SUFFIXES):
        suffix = "".join(path.suffixes) or "(none)"
        raise report.file_error(f"unsupported file type {suffix}; use .csv, .csv.gz, .parquet or .pq")
    if not path.exists():
        raise report.file_error("file not found")
    if not path.is_file():
        raise report.file_error("not a regular file")
    try:
        if name.endswith(PARQUET_SUFFIXES):
            table = pd.read_parquet(path)
        else:
            table = _read_csv(path)
    except pd.errors.ParserWarning:
        raise report.file_error("not a valid CSV file: the first data row has more fields than the header") from None
    except pd.errors.EmptyDataError:
        raise report.file_error("file is empty") from None
    except pd.errors.ParserError as exc:
        raise report.file_error(f"not a valid CSV file: {str(exc).strip().splitlines()[-1]}") from None
    except UnicodeDecodeError:
        raise report.file_error("not a UTF-8 text CSV file") from None
    except OSError as exc:
        raise report.file_error(f"cannot read: {exc.strerror or exc}") from None
    except Exception as exc:  # pyarrow has its own error types for a corrupt Parquet file
        raise report.file_error(f"not a valid Parquet file ({type(exc).__name__})") from None
    table.columns = [str(c).strip() for c in table.columns]
    return table


def _read_csv(path: Path) -> pd.DataFrame:
    with warnings.catch_warnings():
        # index_col=False stops pandas from silently using a surplus first field as the index; it then
        # only warns about the surplus, which must be an error here.
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return pd.read_csv(
            path,
            index_col=False,
            # Text columns stay text ("NA" is a valid household name); only numeric columns know NaN.
            dtype={"timestamp": str, "household_id": str, "kind": str},
            keep_default_na=False,
            na_values={c: _NAN_TOKENS for c in NUMERIC},
        )


def _check_columns(table: pd.DataFrame, report: _Reporter) -> None:
    found = list(table.columns)
    for column in REQUIRED:
        if column not in found:
            hint = "; is the file separated by ';'? use ','" if len(found) == 1 and ";" in found[0] else ""
            raise report.error(-1, column, f"missing required column (found: {', '.join(found)}){hint}")
    for column in found:
        if column not in REQUIRED + OPTIONAL:
            raise report.error(-1, column, f"unknown column (allowed: {', '.join(REQUIRED + OPTIONAL)})")
    if any(c in found for c in BATTERY):
        for column in BATTERY:
            if column not in found:
                raise report.error(-1, column, f"missing column: {', '.join(BATTERY)} come together")
    if table.empty:
        raise report.file_error("no data rows")


def _first(mask: np.ndarray) -> int:
    return int(np.argmax(mask))


def _is_blank(raw: object) -> bool:
    return bool(pd.isna(raw)) or str(raw).strip() == ""


def _texts(series: pd.Series, column: str, report: _Reporter) -> np.ndarray:
    missing = series.isna().to_numpy()
    text = series.astype(str).str.strip().to_numpy(dtype=object)
    empty = missing | (text == "")
    if empty.any():
        raise report.error(_first(empty), column, "empty value")
    return text


def _numbers(series: pd.Series, column: str, report: _Reporter) -> np.ndarray:
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(numbers)
    if bad.any():
        row = _first(bad)
        raw = series.iloc[row]
        if _is_blank(raw):
            raise report.error(row, column, "missing value (empty or NaN)")
        kind = "a finite number" if np.isinf(numbers[row]) else "a number"
        raise report.error(row, column, f"not {kind}: {raw!r}")
    negative = numbers < 0
    if negative.any():
        row = _first(negative)
        raise report.error(row, column, f"negative value {numbers[row]:g} (must be >= 0)")
    return numbers


def _timestamps(series: pd.Series, report: _Reporter) -> np.ndarray:
    # checked before parsing: pandas 3 refuses mixed UTC offsets, pandas 2 parses them to objects
    written = ~series.map(_is_blank).to_numpy(dtype=bool)  # a blank value is reported below, as blank
    offsets = series.astype(str).str.strip().str.extract(_UTC_OFFSET, expand=False).fillna("").to_numpy()
    mixed = written & (offsets != offsets[written][0]) if written.any() else written
    if mixed.any():
        row = _first(mixed)
        raise report.error(
            row, "timestamp", f"UTC offset of {series.iloc[row]!r} differs from row 2; use one fixed offset "
            "or none (daylight saving time is not supported)"
        )
    parsed = pd.to_datetime(series, format="ISO8601", errors="coerce")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)  # keep the wall-clock time as written
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = _first(bad)
        raw = series.iloc[row]
        problem = "empty value" if _is_blank(raw) else f"cannot parse {raw!r} (use ISO 8601, e.g. 2024-06-01 13:00)"
        raise report.error(row, "timestamp", problem)
    exact = parsed.to_numpy()
    minutes = exact.astype("datetime64[m]")
    off_minute = minutes != exact
    if off_minute.any():
        row = _first(off_minute)
        raise report.error(row, "timestamp", f"{series.iloc[row]!r} is not on a whole minute")
    return minutes


def _check_grid(
    timestamps: np.ndarray, codes: np.ndarray, first_rows: np.ndarray, cfg: CommunityConfig, report: _Reporter
) -> np.ndarray:
    """The sorted unique timestamps, after checking duplicates, the slot grid, whole days and coverage."""
    duplicated = pd.DataFrame({"t": timestamps, "h": codes}).duplicated().to_numpy()
    if duplicated.any():
        row = _first(duplicated)
        raise report.error(row, "timestamp", f"duplicate: this household already has a row for {_fmt(timestamps[row])}")
    grid, first_seen = np.unique(timestamps, return_index=True)
    if grid.size < 2:
        raise report.error(0, "timestamp", "only one timestamp; the data must cover whole days")
    slot = np.timedelta64(cfg.slot_minutes, "m")
    steps = np.diff(grid)
    if (steps != slot).any():
        k = _first(steps != slot)
        values, counts = np.unique(steps, return_counts=True)
        usual = values[np.argmax(counts)]
        if usual != slot:
            k = _first(steps == usual)
            problem = f"slots are {_minutes(usual)} min apart but community.slot_minutes is {cfg.slot_minutes}"
        elif steps[k] % slot == np.timedelta64(0, "m"):
            problem = f"gap: no data between {_fmt(grid[k])} and {_fmt(grid[k + 1])} ({cfg.slot_minutes}-min slots)"
        else:
            problem = f"irregular slot: {_minutes(steps[k])} min after {_fmt(grid[k])}, expected {cfg.slot_minutes}"
        raise report.error(first_seen[k + 1], "timestamp", problem)
    if grid[0] != grid[0].astype("datetime64[D]"):
        raise report.error(first_seen[0], "timestamp", f"data must cover whole days; it starts at {_fmt(grid[0])}, "
                           "not at 00:00")
    spd = cfg.slots_per_day
    if grid.size % spd:
        raise report.error(first_seen[-1], "timestamp", f"data must cover whole days; the last day has only "
                           f"{grid.size % spd} of {spd} slots")
    short = np.bincount(codes) != grid.size
    if short.any():
        h = _first(short)
        missing = grid[~np.isin(grid, timestamps[codes == h])][0]
        raise report.error(first_rows[h], "household_id", f"this household has no row for {_fmt(missing)}; "
                           "every household needs every timestamp")
    return grid


def _check_units(values: dict[str, np.ndarray], slot_hours: float, report: _Reporter) -> None:
    limit = MAX_KWH_PER_HOUR * slot_hours
    for column in ("load_kwh", "pv_kwh"):
        too_big = values[column] > limit
        if too_big.any():
            row = _first(too_big)
            raise report.error(row, column, f"{values[column][row]:g} kWh in one {slot_hours * 60:g}-min slot is "
                               f"above {limit:g} kWh for a household: W or Wh instead of kWh?")


def _per_household(
    values: np.ndarray, codes: np.ndarray, first_rows: np.ndarray, column: str, report: _Reporter
) -> np.ndarray:
    """The household's value (from its first row), after checking that all its rows repeat it."""
    own = values[first_rows]
    changed = values != own[codes]
    if changed.any():
        row = _first(changed)
        raise report.error(row, column, f"{values[row]} differs from {own[codes[row]]} on this household's first "
                           f"row {first_rows[codes[row]] + 2}; it is a per-household value")
    return own


def _battery(values: dict[str, np.ndarray], codes: np.ndarray, first_rows: np.ndarray, report: _Reporter) -> Battery:
    """From the battery columns; all 0 for households with capacity 0."""
    capacity, power, efficiency = (_per_household(values[c], codes, first_rows, c, report) for c in BATTERY)
    has = capacity > 0
    for column, bad, problem in (
        ("battery_efficiency", has & (efficiency > 1), "outside (0, 1]; a fraction, not a percentage"),
        ("battery_efficiency", has & (efficiency == 0), "must be > 0 for a household with a battery"),
        ("battery_power_kw", has & (power == 0), "must be > 0 for a household with a battery"),
    ):
        if bad.any():
            h = _first(bad)
            raise report.error(first_rows[h], column, f"{values[column][first_rows[h]]:g} {problem}")
    return capacity, np.where(has, power, 0.0), np.where(has, efficiency, 0.0)


def _config_battery(kinds: np.ndarray, cfg: CommunityConfig) -> Battery:
    has = kinds == Kind.PROSUMER_BATTERY
    spec = cfg.battery
    return (np.where(has, spec.capacity_kwh, 0.0), np.where(has, spec.power_kw, 0.0),
            np.where(has, spec.efficiency, 0.0))


def _kind_names(series: pd.Series, report: _Reporter) -> np.ndarray:
    names = _texts(series, "kind", report)
    unknown = ~np.isin(names, list(_KIND_BY_NAME))
    if unknown.any():
        row = _first(unknown)
        raise report.error(row, "kind", f"unknown kind {names[row]!r} (use {', '.join(_KIND_BY_NAME)})")
    return names


def _kinds(
    names: np.ndarray | None, codes: np.ndarray, first_rows: np.ndarray, pv_rows: np.ndarray,
    capacity: np.ndarray | None, report: _Reporter,
) -> np.ndarray:
    """Kind per household, from the ``kind`` column (checked against PV and battery) or derived.

    ``capacity`` is ``None`` when the file has no battery columns.
    """
    has_battery = np.zeros(first_rows.size, bool) if capacity is None else capacity > 0
    if names is None:
        has_pv = np.bincount(codes, weights=pv_rows) > 0
        return np.select([has_battery, has_pv], [Kind.PROSUMER_BATTERY, Kind.PROSUMER], Kind.CONSUMER).astype(np.int8)
    kinds = np.array([_KIND_BY_NAME[n] for n in _per_household(names, codes, first_rows, "kind", report)], np.int8)
    consumer_with_pv = (kinds[codes] == Kind.CONSUMER) & (pv_rows > 0)
    if consumer_with_pv.any():
        raise report.error(_first(consumer_with_pv), "pv_kwh", "the household is a consumer (kind column) but has PV")
    if capacity is not None:
        mismatch = (kinds == Kind.PROSUMER_BATTERY) != has_battery
        if mismatch.any():
            h = _first(mismatch)
            raise report.error(first_rows[h], "kind", f"{KIND_NAMES[Kind(kinds[h])]} does not match "
                               f"battery_capacity_kwh = {capacity[h]:g}")
    return kinds


def _window_days(n_data_days: int, cfg: CommunityConfig, report: _Reporter) -> range:
    days = range(cfg.start_day, cfg.start_day + cfg.n_days)
    if days.stop > n_data_days:
        raise ConfigError(f"config error: community.n_days: the window of days [{days.start}, {days.stop}) "
                          f"exceeds the {n_data_days} days in {report.file}")
    return days


def _daily_weather(pv: np.ndarray, days: range, cfg: CommunityConfig) -> np.ndarray:
    """ω per window day; from data, the clear-sky envelope uses the whole file, not only the window."""
    if cfg.weather != "data":
        return forced_flags(cfg.weather, len(days))
    daily_pv = pv.sum(axis=1).reshape(-1, cfg.slots_per_day).sum(axis=1)
    return sunny_from_pv(daily_pv, cfg.sunny_threshold)[days.start : days.stop]


def _fmt(timestamp: np.datetime64) -> str:
    return str(timestamp.astype("datetime64[m]")).replace("T", " ")


def _minutes(step: np.timedelta64) -> int:
    return int(step // np.timedelta64(1, "m"))
