"""Grid tariffs: retail price (buying from the grid) and feed-in tariff (selling to it), per slot.

A time-of-use (``tou``) tariff starts from the flat ``retail`` / ``feed_in`` pair and overrides it in
its periods; a later period overrides an earlier one where they overlap. A period covers a slot when
the slot's start time of day lies in ``[start_hour, end_hour)``; ``end_hour < start_hour`` wraps past
midnight. Timestamps are naive local time (interval start), as in the profile data.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from fairmarket_local.common.errors import ConfigError

Days = Literal["all", "weekday", "weekend"]


class TouPeriod(BaseModel):
    """One time-of-use block, e.g. the 15:00-20:00 peak."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_hour: float = Field(ge=0, lt=24)
    end_hour: float = Field(ge=0, le=24)
    retail: float
    feed_in: float | None = None  # None: the tariff's flat feed_in
    days: Days = "all"


class TariffConfig(BaseModel):
    """Flat or time-of-use tariff ($/kWh) with 0 <= feed_in < retail at every slot."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["flat", "tou"] = "flat"
    # Placeholder defaults for experiments, not a real utility's tariff.
    retail: float = 0.30
    feed_in: float = 0.08
    periods: list[TouPeriod] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> TariffConfig:
        _check_pair("tariff", self.retail, self.feed_in)
        if self.kind == "flat" and self.periods:
            raise ConfigError("tariff.periods: only allowed with kind 'tou'")
        if self.kind == "tou" and not self.periods:
            raise ConfigError("tariff.periods: kind 'tou' needs at least one period")
        for k, period in enumerate(self.periods):
            key = f"tariff.periods[{k}]"
            if period.start_hour == period.end_hour:
                raise ConfigError(f"{key}.end_hour: equals start_hour, the period would be empty")
            _check_pair(key, period.retail, self.feed_in if period.feed_in is None else period.feed_in)
        return self

    @classmethod
    def fontana_tou(cls) -> TariffConfig:
        """The CityLearn 2022 Fontana TOU, simplified to one season: 0.21 off-peak, 0.50 from 15:00
        to 20:00 every day; feed-in 0.08 is our assumption (the dataset has no feed-in tariff)."""
        return cls(kind="tou", retail=0.21, feed_in=0.08,
                   periods=[TouPeriod(start_hour=15, end_hour=20, retail=0.50)])

    def prices(self, timestamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Retail and feed-in price ($/kWh) of each slot starting at ``timestamps`` (datetime64)."""
        minutes = np.asarray(timestamps).astype("datetime64[m]").astype(np.int64)
        days, minute_of_day = np.divmod(minutes, 24 * 60)
        hour = minute_of_day / 60.0
        weekend = (days + 3) % 7 >= 5  # 1970-01-01 was a Thursday (Monday = 0)
        retail = np.full(minutes.shape, self.retail)
        feed_in = np.full(minutes.shape, self.feed_in)
        for period in self.periods:
            if period.start_hour < period.end_hour:
                covered = (hour >= period.start_hour) & (hour < period.end_hour)
            else:
                covered = (hour >= period.start_hour) | (hour < period.end_hour)
            if period.days != "all":
                covered &= weekend if period.days == "weekend" else ~weekend
            retail[covered] = period.retail
            feed_in[covered] = self.feed_in if period.feed_in is None else period.feed_in
        return retail, feed_in


def _check_pair(key: str, retail: float, feed_in: float) -> None:
    if not (np.isfinite(retail) and np.isfinite(feed_in)):
        raise ConfigError(f"{key}: retail and feed_in must be finite")
    if feed_in < 0:
        raise ConfigError(f"{key}.feed_in: must be >= 0, got {feed_in}")
    if not feed_in < retail:
        raise ConfigError(f"{key}.retail: must exceed feed_in ({feed_in}), got {retail}")
