"""User data files: valid round-trips, and one clear one-line error per kind of malformed input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairmarket_local.common.errors import ConfigError, DataError
from fairmarket_local.profiles.community import Kind
from fairmarket_local.profiles.config import CommunityConfig, community_config
from fairmarket_local.profiles.user_data import load_user_data

HOURS = pd.date_range("2024-06-01", periods=48, freq="h")


def valid_frame(households: tuple[str, ...] = ("alice", "bob"), battery: bool = False) -> pd.DataFrame:
    """Two days of hourly data; rows grouped by household, then time. Alice has PV, bob does not."""
    rng = np.random.default_rng(0)
    frames = []
    for i, name in enumerate(households):
        sun = np.clip(np.sin((HOURS.hour.to_numpy() - 6) / 12 * np.pi), 0, None) * (3.0 if i % 2 == 0 else 0.0)
        frame = pd.DataFrame({
            "timestamp": HOURS.strftime("%Y-%m-%d %H:%M"),
            "household_id": name,
            "load_kwh": rng.uniform(0.2, 2.0, HOURS.size).round(4),
            "pv_kwh": sun.round(4),
        })
        if battery:
            frame["battery_capacity_kwh"] = 10.0 if i == 0 else 0.0
            frame["battery_power_kw"] = 4.0 if i == 0 else 0.0
            frame["battery_efficiency"] = 0.92 if i == 0 else 0.0
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def config(**overrides: object) -> CommunityConfig:
    return community_config({"source": "user", "path": "unused", **overrides})


def write_csv(tmp_path: Path, frame: pd.DataFrame, name: str = "homes.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("name", ["homes.csv", "homes.csv.gz"])
def test_csv_round_trip(tmp_path: Path, name: str) -> None:
    frame = valid_frame()
    community = load_user_data(write_csv(tmp_path, frame, name), config())
    assert community.ids == ("alice", "bob")
    assert community.kinds.tolist() == [Kind.PROSUMER, Kind.CONSUMER]
    assert community.timestamps[0] == np.datetime64("2024-06-01T00:00") and community.n_slots == 48
    np.testing.assert_array_equal(community.load, frame["load_kwh"].to_numpy().reshape(2, 48).T)
    np.testing.assert_array_equal(community.pv, frame["pv_kwh"].to_numpy().reshape(2, 48).T)
    assert (community.battery_capacity_kwh == 0).all() and community.ev_load is None


def test_parquet_round_trip_with_battery_and_shuffled_rows(tmp_path: Path) -> None:
    frame = valid_frame(battery=True).sample(frac=1.0, random_state=1)  # row order does not matter
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])  # a real timestamp type in Parquet
    path = tmp_path / "homes.parquet"
    frame.to_parquet(path)
    community = load_user_data(path, config(demand_scale=2.0, pv_scale=0.5))
    ordered = valid_frame(battery=True)
    assert set(community.ids) == {"alice", "bob"}
    alice = community.ids.index("alice")
    np.testing.assert_allclose(community.load[:, alice], 2.0 * ordered["load_kwh"][:48])
    np.testing.assert_allclose(community.pv[:, alice], 0.5 * ordered["pv_kwh"][:48])
    assert community.kinds[alice] == Kind.PROSUMER_BATTERY
    assert community.battery_capacity_kwh[alice] == 10.0 and community.battery_efficiency[alice] == 0.92
    assert community.battery_efficiency[1 - alice] == 0.0


def test_kind_column_and_config_battery(tmp_path: Path) -> None:
    frame = valid_frame()
    frame["kind"] = np.where(frame["household_id"] == "alice", "prosumer_battery", "consumer")
    community = load_user_data(write_csv(tmp_path, frame), config(battery={"capacity_kwh": 8.0}))
    assert community.kinds.tolist() == [Kind.PROSUMER_BATTERY, Kind.CONSUMER]
    assert community.battery_capacity_kwh.tolist() == [8.0, 0.0]


def test_window_weather_and_sub_hourly(tmp_path: Path) -> None:
    path = write_csv(tmp_path, valid_frame())
    second = load_user_data(path, config(start_day=1, n_days=1, weather="cloudy"))
    assert second.timestamps[0] == np.datetime64("2024-06-02T00:00") and not second.sunny.any()
    assert load_user_data(path, config()).sunny.all()  # two identical days: both at the envelope
    with pytest.raises(ConfigError, match=r"^config error: community.n_days: .*exceeds the 2 days in .*homes.csv"):
        load_user_data(path, config(n_days=3))
    quarter = valid_frame()
    quarter["timestamp"] = np.tile(pd.date_range("2024-06-01", periods=48, freq="30min").strftime("%Y-%m-%d %H:%M"), 2)
    community = load_user_data(write_csv(tmp_path, quarter, "half.csv"), config(slot_minutes=30, n_days=1))
    assert community.slot_hours == 0.5 and community.n_slots == 48


def test_na_is_a_valid_household_name(tmp_path: Path) -> None:
    assert load_user_data(write_csv(tmp_path, valid_frame(("NA", "bob"))), config()).ids == ("NA", "bob")


Mutation = Callable[[pd.DataFrame], pd.DataFrame]


def _set(row: int, column: str, value: object) -> Mutation:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype({column: object})
        frame.loc[row, column] = value
        return frame
    return mutate


def _drop_hour(hour: str, household: str | None = None) -> Mutation:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        hit = frame["timestamp"].str.endswith(hour) & frame["timestamp"].str.startswith("2024-06-01")
        if household is not None:
            hit &= frame["household_id"] == household
        return frame[~hit].reset_index(drop=True)
    return mutate


def _with_kind(kinds: dict[str, str]) -> Mutation:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(kind=frame["household_id"].map(kinds))
    return mutate


def _offsets(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(timestamp=frame["timestamp"] + "+01:00")
    frame.loc[4, "timestamp"] = frame.loc[4, "timestamp"].replace("+01:00", "+02:00")
    return frame


def _battery(frame: pd.DataFrame) -> pd.DataFrame:
    return valid_frame(battery=True)


# (case, mutation of the valid frame, config overrides, expected file row, column, words in the message)
MALFORMED: list[tuple[str, Mutation, dict, int, str, str]] = [
    ("missing column", lambda f: f.drop(columns="pv_kwh"), {}, 1, "pv_kwh", "missing required column"),
    ("unknown column", lambda f: f.assign(note="x"), {}, 1, "note", "unknown column"),
    ("partial battery", lambda f: f.assign(battery_capacity_kwh=1.0), {}, 1, "battery_power_kw", "come together"),
    ("bad timestamp", _set(6, "timestamp", "01/06/2024 06:00"), {}, 8, "timestamp", "cannot parse"),
    ("empty timestamp", _set(6, "timestamp", ""), {}, 8, "timestamp", "empty value"),
    ("mixed offsets", _offsets, {}, 6, "timestamp", "UTC offset"),
    ("seconds", _set(3, "timestamp", "2024-06-01 03:00:30"), {}, 5, "timestamp", "not on a whole minute"),
    ("empty household", _set(50, "household_id", " "), {}, 52, "household_id", "empty value"),
    ("empty load", _set(9, "load_kwh", ""), {}, 11, "load_kwh", "missing value"),
    ("NaN pv", _set(12, "pv_kwh", "NaN"), {}, 14, "pv_kwh", "missing value"),
    ("non-numeric", _set(13, "load_kwh", "1,5"), {}, 15, "load_kwh", "not a number: '1,5'"),
    ("infinite", _set(13, "pv_kwh", "inf"), {}, 15, "pv_kwh", "not a finite number"),
    ("negative", _set(20, "pv_kwh", -0.5), {}, 22, "pv_kwh", "negative value -0.5"),
    ("duplicate", lambda f: pd.concat([f.iloc[:30], f.iloc[[29]], f.iloc[30:]], ignore_index=True),
     {}, 32, "timestamp", "duplicate"),
    ("gap", _drop_hour("05:00"), {}, 7, "timestamp", "gap: no data between 2024-06-01 04:00 and 2024-06-01 06:00"),
    ("irregular slot", lambda f: f.replace({"timestamp": {"2024-06-01 03:00": "2024-06-01 03:30"}}),
     {}, 5, "timestamp", "irregular slot: 90 min"),
    ("slot length vs config", lambda f: f, {"slot_minutes": 30}, 3, "timestamp", "60 min apart"),
    ("not whole days", _drop_hour("00:00"), {}, 2, "timestamp", "whole days"),
    ("different timestamp sets", _drop_hour("10:00", "bob"), {}, 50, "household_id", "no row for 2024-06-01 10:00"),
    ("watts not kWh", _set(7, "load_kwh", 1500.0), {}, 9, "load_kwh", "W or Wh instead of kWh"),
    ("efficiency percent", lambda f: _battery(f).assign(battery_efficiency=90.0), {}, 2, "battery_efficiency",
     "outside (0, 1]"),
    ("efficiency zero", lambda f: _battery(f).assign(battery_efficiency=0.0), {}, 2, "battery_efficiency", "> 0"),
    ("battery changes", lambda f: _set(10, "battery_capacity_kwh", 5.0)(_battery(f)), {}, 12, "battery_capacity_kwh",
     "per-household value"),
    ("unknown kind", _with_kind({"alice": "producer", "bob": "consumer"}), {}, 2, "kind", "unknown kind 'producer'"),
    ("consumer with PV", _with_kind({"alice": "consumer", "bob": "consumer"}), {}, 9, "pv_kwh", "consumer"),
    ("kind vs battery", lambda f: _with_kind({"alice": "prosumer", "bob": "consumer"})(_battery(f)), {}, 2, "kind",
     "battery_capacity_kwh = 10"),
]


@pytest.mark.parametrize("case, mutate, overrides, row, column, words", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_csv_names_file_row_and_column(
    tmp_path: Path, case: str, mutate: Mutation, overrides: dict, row: int, column: str, words: str
) -> None:
    path = write_csv(tmp_path, mutate(valid_frame()))
    with pytest.raises(DataError) as info:
        load_user_data(path, config(**overrides))
    message = str(info.value)
    assert message.startswith(f"{path}: row {row}, column {column}: "), message
    assert words in message and "\n" not in message


def test_malformed_parquet_counts_rows_like_csv(tmp_path: Path) -> None:
    frame = valid_frame()
    frame.loc[20, "pv_kwh"] = -1.0
    path = tmp_path / "homes.parquet"
    frame.to_parquet(path)
    with pytest.raises(DataError, match=r"homes.parquet: row 22, column pv_kwh: negative"):
        load_user_data(path, config())


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("empty.csv", b"", "file is empty"),
        ("header.csv", b"timestamp,household_id,load_kwh,pv_kwh\n", "no data rows"),
        ("ragged.csv", b"timestamp,household_id,load_kwh,pv_kwh\n2024-06-01 00:00,a,1,0,9\n", "not a valid CSV file"),
        ("binary.csv", bytes(range(128, 256)) * 4, "not a UTF-8 text CSV file"),
        ("fake.parquet", b"timestamp,household_id\n", "not a valid Parquet file"),
        ("homes.xlsx", b"PK", "unsupported file type .xlsx"),
        ("semicolons.csv", b"timestamp;household_id;load_kwh;pv_kwh\n", "separated by ';'"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, words: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        load_user_data(path, config())
    assert str(info.value).startswith(str(path)) and words in str(info.value)


def test_missing_path_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nowhere.csv: file not found$"):
        load_user_data(tmp_path / "nowhere.csv", config())
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(DataError, match=r"folder.csv: not a regular file$"):
        load_user_data(tmp_path / "folder.csv", config())
