"""Every score any critic returns lies in [0, 1], rounding included: Jain's index of equal ratios is 1, not 1+2e-16."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fairmarket_local.critic.rule import RuleCritic
from fairmarket_local.metrics.fairness import FairnessScores, fbs, jain
from tests.critic.critic_helpers import make_summary

ENERGY = st.floats(min_value=0.01, max_value=50.0).map(lambda x: round(x, 2))
FILL = st.floats(min_value=0.0, max_value=1.0)
PRICE = st.floats(min_value=0.08, max_value=0.3).map(lambda x: round(x, 3))


def _in_unit(scores: FairnessScores) -> bool:
    return all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in scores.values())


def test_equal_fill_ratios_give_exactly_one() -> None:
    assert jain(np.full(5, 0.7)) > 1.0  # the float rounding the scores must not show
    assert fbs(np.full(5, 0.7), np.ones(5)) == 1.0
    slot = make_summary([(1.0, 1.0, 0.1, 0.7)] * 5, [(5.0, 5.0, 0.3, 3.5)],
                        [(k, 1, 0.7, 0.19) for k in range(1, 6)])
    assert RuleCritic().score([slot])[0].fbs == 1.0


@given(st.lists(st.tuples(ENERGY, FILL, PRICE), min_size=1, max_size=12), ENERGY, st.sampled_from(["jain", "gini"]))
@settings(max_examples=300, deadline=None)
def test_rule_scores_stay_in_the_unit_interval(sellers: list, extra_deficit: float, variant: str) -> None:
    parties = [(energy, energy, price, round(energy * fill, 2)) for energy, fill, price in sellers]
    volume = round(sum(p[3] for p in parties), 2)
    trades = [(k + 1, 1, p[3], p[2]) for k, p in enumerate(parties) if p[3] > 0]
    slot = make_summary(parties, [(volume + extra_deficit, volume + extra_deficit, 0.3, volume)], trades)
    assert _in_unit(RuleCritic(variant).score([slot])[0])


@given(st.floats(allow_nan=False), st.floats(allow_nan=False), st.floats(allow_nan=False))
def test_scores_are_clipped_when_made(ftg: float, fbs_value: float, fpp: float) -> None:
    scores = FairnessScores(ftg, fbs_value, fpp, source="model")
    assert _in_unit(scores)
    assert scores.ftg == min(1.0, max(0.0, ftg)) and scores.source == "model"
