"""The market simulation as arrays: all households step together, no per-agent Python objects.

:class:`MarketCore` is what the PettingZoo env, the baselines and the trainer drive. An episode is
``episode_days`` days of the community; each step is one trading slot (SPEC §2–§3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fairmarket_local.env.config import EnvConfig
from fairmarket_local.env.observation import OBS_DIM, build_observations, calendar_features
from fairmarket_local.market.battery import battery_step
from fairmarket_local.market.slot import SlotResult, optimal_welfare, run_slot
from fairmarket_local.metrics.fairness import FairnessScores, slot_fairness
from fairmarket_local.metrics.kpis import EpisodeKpis, count_violations, realised_welfare
from fairmarket_local.profiles.community import Community

NET_EPS = 1e-9
BATTERY_CHOICES = 3  # action index 0 discharge, 1 idle, 2 charge


@dataclass(frozen=True)
class SlotRecord:
    """Everything about one finished slot that the critic, the KPIs and the logs need."""

    slot: int  # index within the episode
    timestamp: np.datetime64
    sunny: int
    retail: float
    feed_in: float
    side: np.ndarray  # (N,) +1 sell, -1 buy, 0 nothing to trade
    price: np.ndarray  # (N,) order price
    qty: np.ndarray  # (N,) order quantity (kWh)
    actual_net: np.ndarray  # (N,) actual surplus (>0) / deficit (<0) after the battery
    result: SlotResult
    fairness: FairnessScores
    reward: np.ndarray  # (N,) economic reward


class MarketCore:
    """Vectorised multi-household market environment over a fixed community."""

    def __init__(self, config: EnvConfig, community: Community) -> None:
        self.config = config
        self.community = community
        m = config.market
        self.n = community.n_households
        self.slots_per_day = community.slots_per_day
        days = config.env.episode_days or community.n_days
        if days > community.n_days:
            raise ValueError(f"episode_days={days} exceeds the community's {community.n_days} days")
        self.episode_slots = days * self.slots_per_day
        self.has_battery = community.has_battery & config.env.battery_actions
        self.quantity_levels = np.asarray(m.quantity_levels, dtype=np.float64)
        self.price_levels = m.price_levels
        self.retail_all, self.feed_in_all = m.tariff.prices(community.timestamps)
        self.calendar_all = calendar_features(community.timestamps)
        peak = np.maximum(community.load.max(axis=0), community.pv.max(axis=0))
        self.energy_scale = np.maximum(peak, 0.1)  # kWh: the agent's max slot energy
        self.econ_scale = float(self.retail_all.max()) * self.energy_scale
        self.t = 0
        self.start = 0
        self.records: list[SlotRecord] = []

    # ----------------------------------------------------------------- episode
    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start an episode; ``seed`` fixes forecast noise, the start day and every arrival order."""
        seq = np.random.SeedSequence(self.config.seed if seed is None else seed)
        noise_seq, market_seq, start_seq = seq.spawn(3)
        n_starts = self.community.n_slots // self.slots_per_day - self.episode_slots // self.slots_per_day + 1
        self.start = int(np.random.default_rng(start_seq).integers(n_starts)) * self.slots_per_day
        sl = slice(self.start, self.start + self.episode_slots)
        c = self.community
        self.load, self.pv, self.sunny = c.load[sl], c.pv[sl], c.sunny[sl]
        self.timestamps, self.calendar = c.timestamps[sl], self.calendar_all[sl]
        self.retail, self.feed_in = self.retail_all[sl], self.feed_in_all[sl]
        sigma = self.config.env.forecast_noise
        noise = np.random.default_rng(noise_seq).standard_normal((2, *self.load.shape))
        self.load_fc = self.load * np.maximum(0.0, 1.0 + sigma * noise[0])
        self.pv_fc = self.pv * np.maximum(0.0, 1.0 + sigma * noise[1])
        self.market_rng = np.random.default_rng(market_seq)
        self.soc = 0.5 * c.battery_capacity_kwh * self.has_battery
        self.t = 0
        self.prev_price_pos, self.prev_volume_frac = 0.5, 0.0
        self.kpis = EpisodeKpis(c.kinds)
        self.records = []
        return self.observe()

    @property
    def done(self) -> bool:
        return self.t >= self.episode_slots

    def observe(self) -> np.ndarray:
        """(N, OBS_DIM) observations of the current slot."""
        t = min(self.t, self.episode_slots - 1)
        soc_frac = np.divide(self.soc, self.community.battery_capacity_kwh,
                             out=np.zeros(self.n), where=self.has_battery)
        return build_observations(
            t, self.load_fc, self.pv_fc, self.energy_scale, soc_frac, self.has_battery.astype(np.float64),
            self.calendar, self.sunny, self.retail, self.feed_in, self.prev_price_pos, self.prev_volume_frac,
        )

    # -------------------------------------------------------------------- step
    def step(self, actions: np.ndarray) -> SlotRecord:
        """Trade one slot. ``actions`` is (N, 3) int: price level, quantity level, battery choice."""
        if self.done:
            raise RuntimeError("episode is over: call reset()")
        t = self.t
        actions = np.asarray(actions, dtype=np.int64)
        price_level, qty_level, battery_choice = actions[:, 0], actions[:, 1], actions[:, 2]
        c = self.community
        direction = np.where(self.has_battery, battery_choice - 1, 0).astype(np.int8)
        # Self-consumption battery: it charges only from the forecast surplus and discharges only
        # into the forecast deficit, so a battery action never turns a seller into a buyer.
        net_before = self.pv_fc[t] - self.load_fc[t]
        room = np.where(direction > 0, np.maximum(net_before, 0.0), np.maximum(-net_before, 0.0))
        power = np.minimum(c.battery_power_kw, room / c.slot_hours)
        self.soc, battery_kwh = battery_step(
            self.soc, direction, c.battery_capacity_kwh, power, c.battery_efficiency, c.slot_hours
        )
        net_fc = net_before - battery_kwh
        actual_net = self.pv[t] - self.load[t] - battery_kwh
        side = np.where(net_fc > NET_EPS, 1, np.where(net_fc < -NET_EPS, -1, 0)).astype(np.int8)
        qty = self.quantity_levels[qty_level] * np.abs(net_fc) * (side != 0)
        retail, feed_in = float(self.retail[t]), float(self.feed_in[t])
        price = np.clip(feed_in + price_level / (self.price_levels - 1) * (retail - feed_in), feed_in, retail)
        m = self.config.market
        res = run_slot(side, price, qty, actual_net, retail, feed_in, self.market_rng, rule=m.price_rule, mode=m.mode)
        reward = (res.grid_only_cost - res.cost) / self.econ_scale
        record = self._record(t, side, price, qty, actual_net, res, reward)
        self.t += 1
        traded = res.p2p_volume > 0
        self.prev_price_pos = (res.p2p_price - feed_in) / (retail - feed_in) if traded else 0.5
        self.prev_volume_frac = res.p2p_volume / float(self.energy_scale.sum())
        return record

    def _record(self, t, side, price, qty, actual_net, res: SlotResult, reward) -> SlotRecord:
        sellers, buyers = side > 0, side < 0
        fairness = slot_fairness(
            seller_surplus=np.maximum(actual_net[sellers], 0.0),
            seller_sold=res.sold[sellers],
            buyer_deficit=np.maximum(-actual_net[buyers], 0.0),
            trade_qty=res.trades.qty,
            trade_price=res.trades.price,
            retail=float(self.retail[t]),
            feed_in=float(self.feed_in[t]),
            fbs_variant=self.config.market.fbs_variant,
        )
        retail, feed_in = float(self.retail[t]), float(self.feed_in[t])
        violations = count_violations(
            side, price, qty, res.sold, res.bought, actual_net, res.grid_import, res.grid_export,
            res.seller, res.buyer, res.trades.price, retail, feed_in,
        )
        welfare = realised_welfare(res.trades.qty, price[res.buyer], price[res.seller])
        placed = (side != 0) & (qty > 0)
        best = optimal_welfare(side[placed] < 0, price[placed], qty[placed])
        self.kpis.add(
            side, res.cost, res.grid_only_cost, actual_net, res.grid_import, res.grid_export,
            res.trades.qty, res.trades.price, welfare, best, violations, fairness,
        )
        record = SlotRecord(
            slot=t, timestamp=self.timestamps[t], sunny=int(self.sunny[t]), retail=retail, feed_in=feed_in,
            side=side, price=price, qty=qty, actual_net=actual_net, result=res, fairness=fairness, reward=reward,
        )
        if self.config.env.record_summaries:
            self.records.append(record)
        return record

    def action_nvec(self, i: int | np.integer) -> list[int]:
        """MultiDiscrete sizes of agent ``i``'s action (battery agents get a third component)."""
        base = [self.price_levels, len(self.quantity_levels)]
        return [*base, BATTERY_CHOICES] if self.has_battery[i] else base

    @staticmethod
    def obs_dim() -> int:
        return OBS_DIM
