import json
import math
from typing import Any

import numpy as np
import pytest

from fairmarket_local.critic.distill.generator import generate_slots
from fairmarket_local.critic.quality import audit as audit_module
from fairmarket_local.critic.quality import compare as compare_module
from fairmarket_local.critic.quality.audit import AUDIT_COLUMNS, plan_audit
from fairmarket_local.critic.quality.compare import compare_critics, critic_pairs, spearman
from fairmarket_local.critic.quality.permute import is_permutable, permute_summary
from fairmarket_local.critic.quality.report import table_markdown, write_report
from fairmarket_local.env.summary import summary_fairness
from tests.critic.critic_helpers import fake_critic


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


@pytest.fixture
def two_sided_slots() -> list[dict[str, Any]]:
    return [s for s in generate_slots(40, seed=3) if s["sellers"] and s["buyers"]]


def test_compare_adds_the_audit_summary_of_the_rule_critic(two_sided_slots, tmp_path):
    plan = plan_audit(two_sided_slots, limit=8)
    rows, runs = compare_critics(two_sided_slots[:12], ["rule"], [], None, invariance_n=4, repeat_n=2, audit=plan)
    row = rows[0]
    assert row["audit_slots"] == 8 and row["audit_variants"] == len(plan.variants) > 8
    assert row["audit_directional_pct"] == row["audit_invariance_pct"] == 100.0 and row["audit_worst"] == 0.0
    assert 80.0 <= row["audit_moved_pct"] <= 100.0  # the reference itself moves < 0.01 on a few variants
    write_report(tmp_path, rows, runs, [summary_fairness(s) for s in two_sided_slots[:12]])
    header = (tmp_path / "critics.csv").read_text().splitlines()[0].split(",")
    assert header[-len(AUDIT_COLUMNS):] == list(AUDIT_COLUMNS)
    table = (tmp_path / "critics.md").read_text()
    assert "audit ↑↓ % | audit moved % | audit = % | audit worst |" in table and "of 8 two-sided slots" in table
    plain, _ = compare_critics(two_sided_slots[:12], ["rule"], [], None, invariance_n=0, repeat_n=0)
    assert not set(AUDIT_COLUMNS) & set(plain[0])
    assert "audit" not in table_markdown(plain, 12)


def test_the_audit_after_a_compare_asks_the_model_only_for_the_variants(monkeypatch, two_sided_slots, tmp_path):
    """A constant critic satisfies every relation without moving; the memo answers the compared slots."""
    critics = []

    def fake(model, **opts):
        critics.append(fake_critic(tmp_path / "cache", opts.get("cache_mode", "use"), template=opts["template"],
                                   max_batch=8))
        return critics[-1]

    monkeypatch.setattr(compare_module, "make_critic", fake)
    monkeypatch.setattr(audit_module, "make_critic", fake)
    slots = two_sided_slots[:6]
    plan = plan_audit(slots)
    rows, _ = compare_critics(slots, ["fake"], ["raw"], tmp_path / "cache", invariance_n=0, repeat_n=0, audit=plan)
    compared, audited = critics
    assert compared.engine.calls == len(slots) and audited.stats.cache_hits >= len(slots)
    assert audited.engine.calls == len({audited.request(v.summary)["messages"][-1]["content"] for v in plan.variants}
                                       - {compared.request(s)["messages"][-1]["content"] for s in slots})
    assert rows[0]["audit_directional_pct"] == rows[0]["audit_invariance_pct"] == 100.0
    assert rows[0]["audit_moved_pct"] == 0.0  # never moved: the column that tells a constant critic apart


def test_cli_compare_audits_by_default_and_prints_json(two_sided_slots, tmp_path):
    from fairmarket_cli.main import app
    from typer.testing import CliRunner

    slots = tmp_path / "slots.jsonl"
    slots.write_text("".join(json.dumps(s) + "\n" for s in two_sided_slots))
    args = ["critic", "compare", "--models", "rule", "--input", str(slots), "--limit", "10", "--quiet"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a"), "--audit-n", "5", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["audit_slots"] == 5 and row["audit_directional_pct"] == 100.0 and row["slots"] == 10
    plain = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "b"), "--no-audit"])
    assert plain.exit_code == 0 and "| rule | - | 100 |" in plain.stdout and "audit" not in plain.stdout
