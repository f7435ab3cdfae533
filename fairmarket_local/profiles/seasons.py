"""Day classes (season x weekday/weekend) and per-household reshuffling of days within a class."""

from __future__ import annotations

import numpy as np


def day_classes(days: np.ndarray) -> np.ndarray:
    """Class of each date (datetime64[D]): ``2 * season + weekend``, season 0..3 = DJF, MAM, JJA, SON."""
    days = days.astype("datetime64[D]")
    month = (days.astype("datetime64[M]").astype(np.int64) % 12) + 1
    season = (month % 12) // 3
    # 1970-01-01 was a Thursday: weekday 0 = Monday
    weekday = (days.astype(np.int64) + 3) % 7
    return (2 * season + (weekday >= 5)).astype(np.int64)


def shuffled_days(
    rng: np.random.Generator,
    n_households: int,
    target_days: np.ndarray,
    target_classes: np.ndarray,
    source_classes: np.ndarray,
) -> np.ndarray:
    """For each household, a source day of the same class for every target day: (n_households, len(target_days)).

    Each household gets its own random permutation of every class of the source year (drawn for the
    whole year, so a household's mapping does not depend on the window). The ``k``-th day of a class in
    the target year maps to the ``k``-th day of the permuted source class (cycling if the source class
    is shorter), so days within one window are distinct when the class is long enough.
    """
    keys = rng.random((n_households, source_classes.size))
    out = np.empty((n_households, target_days.size), dtype=np.int64)
    window_classes = target_classes[target_days]
    for cls in np.unique(window_classes):
        members = np.flatnonzero(source_classes == cls)
        if members.size == 0:
            raise ValueError(f"day class {cls} has no source day")
        permuted = members[np.argsort(keys[:, members], axis=1)]
        # rank of each target day among the target year's days of this class
        rank = np.cumsum(target_classes == cls) - 1
        where = np.flatnonzero(window_classes == cls)
        out[:, where] = permuted[:, rank[target_days[where]] % members.size]
    return out


def same_date_index(target_days: np.ndarray, source_days: np.ndarray) -> np.ndarray:
    """Index into ``source_days`` (sorted, one year) of the day with the same month and day as each target.

    A 29 February missing from the source maps to 1 March.
    """
    return np.searchsorted(_month_day(source_days), _month_day(target_days))


def _month_day(days: np.ndarray) -> np.ndarray:
    days = days.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    day_of_month = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return (months.astype(np.int64) % 12 + 1) * 100 + day_of_month
