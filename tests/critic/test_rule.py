from fairmarket_local.critic import make_critic
from fairmarket_local.env.summary import summary_fairness


def test_rule_critic_is_the_reference(slots):
    critic = make_critic("rule")
    scores = critic.score(slots)
    assert [s.values() for s in scores] == [summary_fairness(s).values() for s in slots]
    assert {s.source for s in scores} == {"rule"} and critic.stats.calls == len(slots)
    assert scores[1].ftg == 1.0 and abs(scores[1].fbs - 1 / 3) < 1e-9 and scores[1].fpp == 0.0  # the monopoly slot


def test_rule_critic_gini_variant(slots):
    assert make_critic("rule", fbs_variant="gini").score(slots[1:2])[0].fbs == summary_fairness(slots[1], "gini").fbs
    assert make_critic("rule").describe() == {"backend": "rule", "model": "rule", "fbs_variant": "jain"}
