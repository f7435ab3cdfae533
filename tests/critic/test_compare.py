import math

import numpy as np

from fairmarket_local.critic.quality.compare import critic_pairs, spearman
from fairmarket_local.critic.quality.permute import is_permutable, permute_summary
from fairmarket_local.env.summary import summary_fairness


def test_permutation_relabels_consistently_and_keeps_the_reference(slots):
    rng = np.random.default_rng(0)
    for summary in filter(is_permutable, slots):
        permuted = permute_summary(summary, rng)
        assert [s["id"] for s in permuted["sellers"]] == [f"S{k + 1}" for k in range(len(summary["sellers"]))]
        assert sorted(s["surplus_kwh"] for s in permuted["sellers"]) == sorted(
            s["surplus_kwh"] for s in summary["sellers"])
        sold = {s["id"]: s["p2p_kwh"] for s in permuted["sellers"]}
        for trade in permuted["trades"]:
            assert sold[trade["seller"]] >= trade["kwh"]  # trades follow their seller's new name
        assert summary_fairness(permuted).values() == summary_fairness(summary).values()


def test_spearman_handles_ties_and_constants():
    assert spearman(np.array([1.0, 2, 3]), np.array([10.0, 20, 30])) == 1.0
    assert abs(spearman(np.array([1.0, 1, 2]), np.array([1.0, 2, 3])) - 0.866) < 1e-3
    assert math.isnan(spearman(np.array([1.0, 1, 1]), np.array([1.0, 2, 3])))


def test_rule_is_compared_once_whatever_the_templates():
    assert critic_pairs(["a", "rule"], ["raw", "grounded"]) == [("a", "raw"), ("a", "grounded"), ("rule", "-")]


def test_without_templates_each_model_uses_its_own(monkeypatch):
    from types import SimpleNamespace

    from fairmarket_local.critic.quality import compare

    own = {"student": "student.v4", "plain": None}
    monkeypatch.setattr(compare, "get_model", lambda m: SimpleNamespace(template=own[m]))
    assert critic_pairs(["student", "plain", "rule"], []) == [
        ("student", "student.v4"), ("plain", "raw"), ("plain", "grounded"), ("rule", "-")]
    assert critic_pairs(["student"], ["grounded"]) == [("student", "grounded")]
