import re

import numpy as np
import pytest

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.distill.generator import generate_slots
from fairmarket_local.critic.prompting import slot_text
from fairmarket_local.critic.prompting.templates import available_templates, load_template, parse_template
from fairmarket_local.critic.quality.permute import is_permutable, permute_summary
from tests.critic.critic_helpers import SLOTS


def test_shipped_templates_are_found():
    assert {"raw.v1", "grounded.v1"} <= set(available_templates())
    assert load_template("raw").id == "raw.v1" and load_template("grounded.v1").id == "grounded.v1"


@pytest.mark.parametrize("template_id", ["raw", "grounded"])
def test_static_prefix_is_identical_across_slots(slots, template_id):
    template = load_template(template_id)
    rendered = [template.messages(s) for s in slots]
    assert len({m[0]["content"] for m in rendered}) == 1  # the system message never changes
    assert all(m[1]["content"].startswith("Slot:\n") for m in rendered)
    merged = [template.messages(s, system_role=False) for s in slots]
    assert all(len(m) == 1 and m[0]["content"].startswith(template.system) for m in merged)


def test_grounded_lists_indicators_and_raw_does_not(slots):
    monopoly = slots[1]
    assert "computed: ftg 1.00, fbs 0.33, fpp 0.00" in load_template("grounded").messages(monopoly)[1]["content"]
    assert "computed" not in load_template("raw").messages(monopoly)[1]["content"]


def test_slot_text_is_compact_and_complete(slots):
    text = slot_text.render_slot(slots[4])
    assert "S1 3 2.25@0.12 1" in text and "B2 2 1.5@0.15 0.5" in text
    assert "S1>B1 1@0.16 S2>B2 0.5@0.125" in text
    assert "none" in slot_text.render_slot(slots[3])  # no trades
    assert "S1 0.5 0@- 0" in slot_text.render_slot(slots[5])  # a seller that placed no order
    assert "S=4 D=3 E=1.5" in slot_text.render_indicators(slots[4])


def test_brief_slot_text_and_totals(slots):
    text = slot_text.render_slot_brief(slots[4])
    assert "sellers surplus/sold kWh: S1 3/1" in text and "trades kWh@c: S1>B1 1@16 S2>B2 0.5@12.5" in text
    assert len(text) < len(slot_text.render_slot(slots[4]))
    assert "trades kWh@c: none" in slot_text.render_slot_brief(slots[3])
    assert slot_text.render_totals(slots[4]).startswith("totals: surplus 4, deficit 3, traded 1.5 kWh; mid price")


def test_relative_slot_text_shows_done_out_of_possible_and_prices_in_the_band(slots):
    slot = slots[4]
    mid, half = (slot["retail"] + slot["feed_in"]) / 2, (slot["retail"] - slot["feed_in"]) / 2
    text = slot_text.render_slot_relative(slot)
    assert "sellers sold/surplus kWh: S1 1/3" in text
    assert f"S1>B1 1@{round(100 * (0.16 - mid) / half):+d}% S2>B2 0.5@{round(100 * (0.125 - mid) / half):+d}%" in text
    assert text.endswith("totals: surplus 4, deficit 3, traded 1.5 kWh")
    assert "(% of half-spread): none" in slot_text.render_slot_relative(slots[3])
    at_retail = dict(slot, trades=[dict(slot["trades"][0], price=slot["retail"])])
    assert "S1>B1 1@+100%" in slot_text.render_slot_relative(at_retail)


def test_canonical_slot_text_has_no_names_lists_largest_first_and_shows_the_band(slots):
    slot = slots[4]
    mid, half = (slot["retail"] + slot["feed_in"]) / 2, (slot["retail"] - slot["feed_in"]) / 2
    text = slot_text.render_slot_canonical(slot)
    assert "S1" not in text and "B1" not in text
    band = sorted([(1.0, round(100 * (0.16 - mid) / half)), (0.5, round(100 * (0.125 - mid) / half))], reverse=True)
    assert f"trades kWh@band%: 1@{band[0][1]} 0.5@{band[1][1]}" in text
    assert text.endswith("totals surplus/deficit/traded: 4/3/1.5")
    sellers = text.splitlines()[1].split(": ")[1].split()
    assert sellers == sorted(sellers, key=lambda p: tuple(float(x) for x in p.split("/")), reverse=True)
    assert "trades kWh@band%: none" in slot_text.render_slot_canonical(slots[3])
    assert len(text) < len(slot_text.render_slot_relative(slot))


def test_hundredths_text_counts_energy_in_hundredths_and_sets_traded_beside_possible(slots):
    text = slot_text.render_slot_hundredths(slots[4])
    assert text.endswith("totals surplus/deficit: 400/300\ntraded/possible: 150/300")
    assert "trades energy@band%: 100@" in text and "sellers sold/surplus: 100/300" in text
    assert "." not in text.split("\n", 1)[1]  # whole numbers only (tariffs, on the first line, keep cents)
    assert "trades energy@band%: none" in slot_text.render_slot_hundredths(slots[3])
    for slot in generate_slots(50, seed=5):  # the canonical lines, energies times 100
        canonical = slot_text.render_slot_canonical(slot).split("\n")
        hundredths = slot_text.render_slot_hundredths(slot).split("\n")
        assert canonical[0] == hundredths[0]  # the tariff line is shared
        surplus, deficit, traded = (round(100 * float(x)) for x in canonical[4].split(": ")[1].split("/"))
        assert hundredths[4:] == [f"totals surplus/deficit: {surplus}/{deficit}",
                                  f"traded/possible: {traded}/{min(surplus, deficit)}"]
        for line in (1, 2):  # sellers, buyers
            kwh, whole = (re.findall(r"[\d.]+", text[line].split(": ")[1]) for text in (canonical, hundredths))
            assert [round(100 * float(x)) for x in kwh] == [int(x) for x in whole]


@pytest.mark.parametrize("render", [slot_text.render_slot_canonical, slot_text.render_slot_hundredths])
def test_canonical_slot_text_is_the_same_for_every_relabelling(render):
    rng = np.random.default_rng(3)
    for slot in (s for s in generate_slots(200, seed=4) if is_permutable(s)):
        text = render(slot)
        assert all(render(permute_summary(slot, rng)) == text for _ in range(3))


def test_compact_and_student_templates():
    assert {"compact.v1", "student.v1", "student.v2", "student.v3", "student.v4"} <= set(available_templates())
    compact = load_template("compact").messages(SLOTS[1])[1]["content"]
    assert "computed: ftg" in compact and "sellers surplus/sold kWh" in compact
    student = load_template("student").messages(SLOTS[1])[1]["content"]
    assert load_template("student").id == "student.v4" and student == slot_text.render_slot_hundredths(SLOTS[1])
    assert load_template("student.v3").messages(SLOTS[1])[1]["content"] == slot_text.render_slot_canonical(SLOTS[1])
    assert load_template("student.v2").messages(SLOTS[1])[1]["content"] == slot_text.render_slot_relative(SLOTS[1])
    assert "totals: surplus" in load_template("student.v1").messages(SLOTS[1])[1]["content"]
    brief_only = parse_template("b.v1", b"[system]\nA\n[user]\n{slot_brief}\n", "b")
    assert brief_only.messages(SLOTS[1])[1]["content"] == slot_text.render_slot_brief(SLOTS[1])


def test_template_hash_changes_with_content():
    a = parse_template("t.v1", b"[system]\nA\n[user]\n{slot}\n", "a")
    b = parse_template("t.v1", b"[system]\nB\n[user]\n{slot}\n", "b")
    assert a.sha256 != b.sha256


@pytest.mark.parametrize("data, message", [
    (b"[user]\n{slot}\n", "needs a [system] section"),
    (b"[system]\nA\n[user]\nno placeholder\n",
     "must contain one of {slot}, {slot_brief}, {slot_relative}, {slot_canonical}, {slot_hundredths}"),
    (b"[system]\nA {slot}\n[user]\n{slot}\n", "placeholders must come last"),
    (b"[system]\nA\n[user]\n{slot}\n" + b"static text after the slot data. " * 4, "placeholders must come last"),
    (b"colour: red\n[system]\nA\n[user]\n{slot}\n", "unknown header line"),
])
def test_malformed_templates_are_rejected(data, message):
    with pytest.raises(FairmarketError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_template("t.v1", data, "t.v1.txt")


def test_user_override_dir_and_unknown_template(isolated_home, tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRMARKET_HOME", str(tmp_path))
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "raw.v9.txt").write_text("[system]\nmine\n[user]\n{slot}\n")
    assert load_template("raw").id == "raw.v9" and load_template("raw").system == "mine"
    with pytest.raises(FairmarketError, match="unknown prompt template 'nope'"):
        load_template("nope")
