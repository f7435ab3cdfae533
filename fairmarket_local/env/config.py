"""Typed configuration of a scenario: community, market and environment sections."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidatorFunctionWrapHandler, field_validator, model_validator

from fairmarket_local.common.config import read_named_yaml, validate_section, yaml_names
from fairmarket_local.common.errors import ConfigError
from fairmarket_local.market.tariffs import TariffConfig
from fairmarket_local.profiles.config import CommunityConfig

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
# Top-level sections a scenario file may hold; higher layers (training, critic, experiments) own theirs.
KNOWN_SECTIONS = {"name", "description", "seed", "community", "market", "env", "critic", "training", "experiment"}
# $/kWh. No utility charges this much; a higher price is a unit slip (cents for dollars). Slot files are held to it too.
MAX_TARIFF = 10.0


def validated_tariff(data: Any) -> TariffConfig:
    """A :class:`TariffConfig` (or its dict) whose retail prices, and so feed-in prices, are at most ``MAX_TARIFF``.

    :raises ConfigError: naming the key under ``tariff``.
    """
    tariff = data if isinstance(data, TariffConfig) else TariffConfig.model_validate(data)
    retail = {"tariff.retail": tariff.retail, **{f"tariff.periods[{k}].retail": p.retail
                                                for k, p in enumerate(tariff.periods)}}
    for key, price in retail.items():
        if price > MAX_TARIFF:
            raise ConfigError(f"{key}: {price:g} $/kWh is above the limit of {MAX_TARIFF:g}"
                              " (prices are in $/kWh, not cents)")
    return tariff


class MarketConfig(BaseModel):
    """Market rules and the discretised action grid (SPEC §2)."""

    model_config = ConfigDict(extra="forbid")

    tariff: TariffConfig = Field(default_factory=TariffConfig)
    price_levels: int = Field(11, ge=2, le=101)
    quantity_levels: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    price_rule: Literal["midpoint", "maker"] = "midpoint"
    mode: Literal["cda", "call"] = "cda"
    fbs_variant: Literal["jain", "gini"] = "jain"

    @field_validator("tariff", mode="wrap")
    @classmethod
    def _tariff(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> TariffConfig:
        try:
            return validated_tariff(handler(value))
        except ConfigError as exc:  # the tariff names its keys from its own section
            raise ConfigError(f"config error: market.{exc}") from None

    @field_validator("quantity_levels")
    @classmethod
    def _fractions(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) < 1 or any(not 0.0 <= q <= 1.0 for q in v) or list(v) != sorted(set(v)):
            raise ValueError("must be strictly increasing fractions in [0, 1]")
        return v


class EnvOptions(BaseModel):
    """Episode and observation settings (SPEC §3)."""

    model_config = ConfigDict(extra="forbid")

    episode_days: int | None = Field(None, ge=1, description="days per episode; default: all days")
    forecast_noise: float = Field(0.05, ge=0.0, le=1.0, description="multiplicative noise std")
    battery_actions: bool = True
    record_summaries: bool = True


class EnvConfig(BaseModel):
    """Everything the environment needs: what to simulate and how to trade."""

    model_config = ConfigDict(extra="forbid")

    name: str = "custom"
    description: str = ""
    seed: int = Field(0, ge=0)
    community: CommunityConfig = Field(default_factory=CommunityConfig)
    market: MarketConfig = Field(default_factory=MarketConfig)
    env: EnvOptions = Field(default_factory=EnvOptions)

    @model_validator(mode="after")
    def _episode_fits(self) -> EnvConfig:
        days, available = self.env.episode_days, self.community.n_days
        if days is not None and days > available:
            raise ConfigError(f"config error: env.episode_days: {days} is more than community.n_days ({available});"
                              " an episode cannot be longer than the simulated days")
        return self


def scenario_names() -> list[str]:
    """Names of the scenarios shipped with the package."""
    return yaml_names(SCENARIO_DIR)


def read_scenario(name_or_path: str | Path) -> dict[str, Any]:
    """The raw scenario dict from a shipped name or a YAML file path (one-line errors)."""
    path, data = read_named_yaml(name_or_path, SCENARIO_DIR, "scenario")
    unknown = sorted(set(data) - KNOWN_SECTIONS)
    if unknown:
        raise ConfigError(f"{path}: unknown section {unknown[0]!r}; known: {', '.join(sorted(KNOWN_SECTIONS))}")
    data.setdefault("name", path.stem)
    return data


def deep_update(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` merged in; dotted keys (``community.n_households``) go deep."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for key, value in overrides.items():
        head, _, rest = key.partition(".")
        if rest:
            out[head] = deep_update(out.get(head) or {}, {rest: value})
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = value
    return out


def load_env_config(scenario: str | Path | dict[str, Any] | EnvConfig = "pilot", **overrides: Any) -> EnvConfig:
    """Validate a scenario (name, path, dict or config) with overrides into an :class:`EnvConfig`."""
    if isinstance(scenario, EnvConfig):
        if not overrides:
            return scenario
        scenario = scenario.model_dump()
    data = dict(scenario) if isinstance(scenario, dict) else read_scenario(scenario)
    data = deep_update(data, overrides)
    env_data = {k: v for k, v in data.items() if k in EnvConfig.model_fields}
    return validate_section(EnvConfig, env_data, "")
