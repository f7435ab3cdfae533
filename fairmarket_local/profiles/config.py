"""The ``community`` config section: where households come from and how they are sampled."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from fairmarket_local.common.config import validate_section

_MODEL_CONFIG = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

WeatherSetting = Literal["data", "sunny", "cloudy"] | tuple[Literal[0, 1], ...]


class MixConfig(BaseModel):
    """Fractions of household kinds; they must sum to 1."""

    model_config = _MODEL_CONFIG

    consumer: float = Field(0.34, ge=0.0, le=1.0)
    prosumer: float = Field(0.33, ge=0.0, le=1.0)
    prosumer_battery: float = Field(0.33, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _sums_to_one(self) -> MixConfig:
        total = self.consumer + self.prosumer + self.prosumer_battery
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"fractions must sum to 1, they sum to {total:g}")
        return self


class BatteryConfig(BaseModel):
    """Battery of every ``prosumer_battery`` household (round-trip efficiency)."""

    model_config = _MODEL_CONFIG

    capacity_kwh: float = Field(6.4, gt=0.0)
    power_kw: float = Field(5.0, gt=0.0)
    efficiency: float = Field(0.9, gt=0.0, le=1.0)


class CommunityConfig(BaseModel):
    """Community section. Sampler-only keys are ignored when ``source == "user"``.

    ``start_day`` / ``n_days`` select the window in days from the start of the data (Fontana day 0 is
    2016-08-01; the year wraps around). ``weather`` is ``"data"`` (from PV), ``"sunny"``, ``"cloudy"``
    or one 0/1 flag per day of the window.
    """

    model_config = _MODEL_CONFIG

    source: Literal["fontana", "user"] = "fontana"
    path: str | None = Field(None, validate_default=True)
    n_households: int = Field(6, ge=5, le=5000)
    mix: MixConfig = MixConfig()
    ev_fraction: float = Field(0.0, ge=0.0, le=1.0)
    start_day: int = Field(0, ge=0, le=364)
    n_days: int = Field(2, ge=1, le=365)
    pv_scale: float = Field(1.0, ge=0.0)
    demand_scale: float = Field(1.0, gt=0.0)
    load_sigma: float = Field(0.25, ge=0.0, le=2.0)
    max_shift_slots: int = Field(2, ge=0, le=12)
    reshuffle_days: bool = True
    pv_kwp: tuple[float, float] = (3.0, 6.0)
    battery: BatteryConfig = BatteryConfig()
    weather: WeatherSetting = "data"
    sunny_threshold: float = Field(0.7, gt=0.0, le=1.0)
    # α of κ = α + (1 − α)·ω: PV factor of a cloudy day when the scenario sets the weather.
    cloudy_pv_factor: float = Field(0.4, ge=0.0, le=1.0)
    base_homes: Literal["recommended", "all"] = "recommended"
    slot_minutes: Literal[15, 30, 60] = 60

    @field_validator("path")
    @classmethod
    def _path_for_user_data(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("source") == "user" and not value:
            raise ValueError('required when source is "user"')
        return value

    @field_validator("pv_kwp")
    @classmethod
    def _kwp_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0.0 < low <= high:
            raise ValueError("must be (low, high) with 0 < low <= high")
        return value

    @field_validator("weather", mode="wrap")
    @classmethod
    def _weather(
        cls, value: object, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> WeatherSetting:
        try:
            setting: WeatherSetting = handler(value)
        except ValidationError:
            # the union's per-member errors would be noise; one sentence says what is allowed
            raise ValueError("must be 'data', 'sunny', 'cloudy' or a list of 0/1 flags, one per day") from None
        n_days = info.data.get("n_days")
        if isinstance(setting, tuple) and n_days is not None and len(setting) != n_days:
            raise ValueError(f"needs one 0/1 flag per day: {n_days} values, not {len(setting)}")
        return setting

    @property
    def slot_hours(self) -> float:
        return self.slot_minutes / 60

    @property
    def slots_per_day(self) -> int:
        return 24 * 60 // self.slot_minutes


def community_config(data: dict | None) -> CommunityConfig:
    """Validate the ``community`` section of a scenario (``ConfigError`` naming the key)."""
    return validate_section(CommunityConfig, data, "community")
