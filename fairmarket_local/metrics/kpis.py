"""Episode KPIs (SPEC §4): what the community gained, who gained it, and whether any rule broke."""

from __future__ import annotations

import numpy as np

from fairmarket_local.metrics.fairness import EPS, FairnessScores, gini

TOL = 1e-7


def count_violations(
    side: np.ndarray,
    price: np.ndarray,
    qty: np.ndarray,
    sold: np.ndarray,
    bought: np.ndarray,
    actual_net: np.ndarray,
    grid_import: np.ndarray,
    grid_export: np.ndarray,
    trade_seller: np.ndarray,
    trade_buyer: np.ndarray,
    trade_price: np.ndarray,
    retail: float,
    feed_in: float,
) -> int:
    """Number of broken market rules in one slot (must always be 0).

    Checks: P2P price bounds, individual rationality, fills within orders, per-household
    energy balance, and no crossed book left (a resting bid at or above a resting ask).
    """
    bad = int(np.sum((trade_price < feed_in - TOL) | (trade_price > retail + TOL)))
    bad += int(np.sum(trade_price > price[trade_buyer] + TOL))
    bad += int(np.sum(trade_price < price[trade_seller] - TOL))
    filled = sold + bought
    bad += int(np.sum(filled > qty + TOL))
    residual = actual_net - (sold - bought) - grid_export + grid_import
    bad += int(np.sum(np.abs(residual) > TOL))
    remaining = qty - filled
    resting_bids = price[(side < 0) & (remaining > TOL)]
    resting_asks = price[(side > 0) & (remaining > TOL)]
    if resting_bids.size and resting_asks.size and resting_bids.max() >= resting_asks.min() - TOL:
        bad += 1
    return bad


def realised_welfare(trade_qty: np.ndarray, bid_price: np.ndarray, ask_price: np.ndarray) -> float:
    """Σ q·(bid − ask) over the slot's trades, valued at the submitted order prices."""
    return float(np.dot(trade_qty, bid_price - ask_price))


class EpisodeKpis:
    """Accumulates one episode slot by slot, then reports the KPIs as a flat dict."""

    def __init__(self, kinds: np.ndarray) -> None:
        n = kinds.shape[0]
        self.kinds = kinds
        self.cost = np.zeros(n)
        self.grid_only_cost = np.zeros(n)
        self.buyer_cost = self.buyer_grid_only = 0.0
        self.seller_revenue = self.seller_feed_in_only = 0.0
        self.p2p_volume = self.p2p_money = self.demand = 0.0
        self.grid_import = self.grid_export = 0.0
        self.utility_revenue = self.utility_grid_only = 0.0
        self.welfare = self.optimal_welfare = 0.0
        self.violations = 0
        self.fairness: list[tuple[float, float, float]] = []
        self.traded_slots: list[bool] = []

    def add(
        self,
        side: np.ndarray,
        cost: np.ndarray,
        grid_only_cost: np.ndarray,
        actual_net: np.ndarray,
        grid_import: np.ndarray,
        grid_export: np.ndarray,
        trade_qty: np.ndarray,
        trade_price: np.ndarray,
        welfare: float,
        optimal_welfare: float,
        violations: int,
        fairness: FairnessScores,
    ) -> None:
        """Add one slot."""
        self.cost += cost
        self.grid_only_cost += grid_only_cost
        buyers, sellers = side < 0, side > 0
        self.buyer_cost += float(cost[buyers].sum())
        self.buyer_grid_only += float(grid_only_cost[buyers].sum())
        self.seller_revenue -= float(cost[sellers].sum())
        self.seller_feed_in_only -= float(grid_only_cost[sellers].sum())
        volume = float(trade_qty.sum())
        self.p2p_volume += volume
        self.p2p_money += float(np.dot(trade_qty, trade_price))
        self.demand += float(np.maximum(-actual_net, 0.0).sum())
        self.grid_import += float(grid_import.sum())
        self.grid_export += float(grid_export.sum())
        self.utility_revenue += float(cost.sum())
        self.utility_grid_only += float(grid_only_cost.sum())
        self.welfare += welfare
        self.optimal_welfare += optimal_welfare
        self.violations += violations
        self.fairness.append(fairness.values())
        self.traded_slots.append(volume > EPS)

    def result(self) -> dict[str, float]:
        """The episode's KPIs. Ratios are 1.0 (cost) or NaN-free defaults when undefined."""
        consumers = self.kinds == 0
        if consumers.any():
            consumer_cost = self.cost[consumers].sum()
            consumer_grid_only = self.grid_only_cost[consumers].sum()
        else:
            consumer_cost, consumer_grid_only = self.buyer_cost, self.buyer_grid_only
        savings = self.grid_only_cost - self.cost
        fair = np.array(self.fairness, dtype=np.float64).reshape(-1, 3)
        traded = np.array(self.traded_slots, dtype=bool)
        fair_traded = fair[traded] if traded.any() else fair
        return {
            "slots": float(len(self.fairness)),
            "p2p_volume_kwh": self.p2p_volume,
            "p2p_share_of_demand": _ratio(self.p2p_volume, self.demand, 0.0),
            "mean_p2p_price": _ratio(self.p2p_money, self.p2p_volume, float("nan")),
            "grid_import_kwh": self.grid_import,
            "grid_export_kwh": self.grid_export,
            "consumer_cost_vs_grid_only": _ratio(consumer_cost, consumer_grid_only, 1.0),
            "buyer_cost_vs_grid_only": _ratio(self.buyer_cost, self.buyer_grid_only, 1.0),
            "seller_revenue_vs_feed_in_only": _ratio(self.seller_revenue, self.seller_feed_in_only, 1.0),
            "utility_net_revenue": self.utility_revenue,
            "utility_net_revenue_grid_only": self.utility_grid_only,
            "community_savings": float(savings.sum()),
            "gini_household_savings": gini(np.maximum(savings, 0.0)),
            "market_efficiency": _ratio(self.welfare, self.optimal_welfare, 1.0),
            "ftg": float(fair[:, 0].mean()) if fair.size else 1.0,
            "fbs": float(fair[:, 1].mean()) if fair.size else 1.0,
            "fpp": float(fair[:, 2].mean()) if fair.size else 1.0,
            "ftg_traded_slots": float(fair_traded[:, 0].mean()) if fair_traded.size else 1.0,
            "fbs_traded_slots": float(fair_traded[:, 1].mean()) if fair_traded.size else 1.0,
            "fpp_traded_slots": float(fair_traded[:, 2].mean()) if fair_traded.size else 1.0,
            "constraint_violations": float(self.violations),
        }


def _ratio(num: float, den: float, default: float) -> float:
    return float(num / den) if abs(den) > EPS else default
