"""Day classes and per-household day reshuffling."""

from __future__ import annotations

import numpy as np

from fairmarket_local.profiles.seasons import day_classes, same_date_index, shuffled_days


def test_day_classes() -> None:
    days = np.array(["2016-08-01", "2016-12-03", "2017-03-01", "2016-10-09"], dtype="datetime64[D]")
    # Mon in JJA, Sat in DJF, Wed in MAM, Sun in SON
    assert day_classes(days).tolist() == [4, 1, 2, 7]


def test_shuffled_days_is_a_per_household_permutation_within_class() -> None:
    classes = day_classes(np.datetime64("2016-08-01") + np.arange(365))
    every_day = np.arange(365)
    mapped = shuffled_days(np.random.default_rng(0), 3, every_day, classes, classes)
    for row in mapped:
        assert sorted(row) == list(every_day)
        assert (classes[row] == classes).all()
    assert not np.array_equal(mapped[0], mapped[1])


def test_same_date_index_skips_leap_day() -> None:
    source = np.datetime64("2016-01-01") + np.array([d for d in range(366) if d != 59])
    targets = np.array(["2016-08-01", "2017-02-28", "2017-03-01"], dtype="datetime64[D]")
    assert same_date_index(targets, source).tolist() == [212, 58, 59]
