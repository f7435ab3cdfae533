"""A tiny real distillation: rule teacher, SmolLM2 student, 2 optimiser steps, GGUF export, one scored slot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.machine import compute_dtype
from fairmarket_local.critic import make_critic
from fairmarket_local.critic.distill.config import StudentConfig
from fairmarket_local.critic.distill.data import collect_slots, split_slots
from fairmarket_local.critic.distill.generator import generate_slots
from fairmarket_local.critic.distill.pipeline import distill
from fairmarket_local.critic.distill.student import answer_text
from fairmarket_local.critic.distill.training import keep_first_layers, shuffled_parties
from fairmarket_local.critic.registry.manifests import get_model
from fairmarket_local.critic.schema import parse_answer
from fairmarket_local.env.summary import summary_fairness
from fairmarket_local.metrics.fairness import FairnessScores

TINY = StudentConfig(batch_size=4, max_steps=2, budget_minutes=10.0, layers=4, snapshot_minutes=(0.0,), seed=0)


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory, session_home: Path):
    import os

    os.environ["FAIRMARKET_HOME"] = str(session_home)
    return distill("tiny-student", generate=60, heldout=8, config=TINY,
                   folder=tmp_path_factory.mktemp("distilled") / "tiny", force=True)


@pytest.mark.slow
def test_a_tiny_distillation_registers_a_usable_gguf_model(student) -> None:
    manifest = get_model("tiny-student")
    assert manifest.backend == "llama_cpp" and manifest.template == "student.v4"
    assert manifest.distilled["teacher"] == "rule" and manifest.distilled["steps"] == 2
    assert manifest.distilled["schedule_steps"] == 2 and manifest.distilled["peak_rss_gb"] > 0
    assert "(first 4 layers)" in manifest.description  # the cut model exports and runs in llama.cpp
    assert len(manifest.distilled["data_sha256"]) == 64
    assert manifest.distilled["compute_dtype"] == compute_dtype()  # bf16 only where the CPU has it natively
    assert manifest.distilled["machine"]["isa"] and manifest.distilled["machine"]["cpu"]
    for name in ("tiny-student-f16.gguf", "tiny-student-q8_0.gguf", "heldout.md", "heldout.csv", "distill.json",
                 "train.jsonl", "heldout.jsonl", "losses.csv", "learning_curve.csv"):
        assert (student.folder / name).is_file(), name
    assert not (student.folder / "hf").exists() and not (student.folder / "snapshots" / "hf").exists()
    assert (student.folder / "snapshots" / "0min-q8_0.gguf").is_file() and len(student.curve) == 1
    assert (student.folder / "learning_curve.png").is_file()
    assert {row["subset"] for row in student.heldout} >= {"all"}
    assert student.heldout[0]["validity_pct"] == 100.0  # the grammar holds even for a barely trained model
    assert student.heldout[0]["batch_workers"] >= 1 and "batch_slots_per_s" in student.heldout[0]
    with make_critic("tiny-student", cache_mode="off") as critic:  # by id, with its own template
        scores = critic.score(generate_slots(3, seed=99)[1:2])
    assert scores[0].source == "model" and all(0 <= v <= 1 for v in scores[0].values())


@pytest.mark.slow
def test_same_seed_same_labels_same_student_weights(student, tmp_path: Path) -> None:
    again = distill("tiny-student-2", generate=60, heldout=8, config=TINY, folder=tmp_path / "again")
    assert again.info["data_sha256"] == student.info["data_sha256"]
    assert again.info["f16_sha256"] == student.info["f16_sha256"]


def test_distillation_needs_slots_and_enough_of_them() -> None:
    with pytest.raises(FairmarketError, match=r"--slots FILE\.jsonl and/or --generate N"):
        collect_slots(None, 0, 0)
    with pytest.raises(FairmarketError, match="too few"):
        split_slots(generate_slots(20), heldout=15, seed=0)


def test_a_missing_converter_fails_before_any_training(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FAIRMARKET_GGUF_CONVERTER", str(tmp_path / "nope.py"))
    with pytest.raises(FairmarketError, match="converter is not installed"):
        distill("never", generate=50, heldout=5, config=TINY, folder=tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_recorded_slots_are_deduplicated_and_split_by_seed(tmp_path: Path) -> None:
    path = tmp_path / "slots.jsonl"
    recorded = generate_slots(30, seed=5)
    path.write_text("".join(json.dumps(s) + "\n" for s in recorded + recorded[:10]))
    found = collect_slots(path, 20, 0)
    assert len(found) == 50
    train, held = split_slots(found, 10, seed=1)
    assert len(held) == 10 and len(train) == 40 and split_slots(found, 10, seed=1) == (train, held)


def test_training_slots_are_shuffled_by_seed_with_unchanged_scores() -> None:
    slots = generate_slots(40, seed=3)
    shuffled = shuffled_parties(slots, seed=0)
    assert shuffled == shuffled_parties(slots, seed=0) != shuffled_parties(slots, seed=1)
    assert sum(a != b for a, b in zip(slots, shuffled)) > 30
    for a, b in zip(slots, shuffled):
        assert summary_fairness(a).values() == pytest.approx(summary_fairness(b).values())


def test_the_target_answer_is_what_the_grammar_admits() -> None:
    text = answer_text(FairnessScores(0.5, 1.0, 0.0))
    assert text == '{"ftg": 0.50, "fbs": 1.00, "fpp": 0.00}'
    assert parse_answer(text)[0] == (0.5, 1.0, 0.0)


def test_keeping_layers_cuts_the_model_and_its_config() -> None:
    from types import SimpleNamespace

    model = SimpleNamespace(config=SimpleNamespace(num_hidden_layers=6, layer_types=["full"] * 6),
                            model=SimpleNamespace(layers=list(range(6))))
    keep_first_layers(model, 2)
    assert model.model.layers == [0, 1] and model.config.num_hidden_layers == 2 and len(model.config.layer_types) == 2
    with pytest.raises(FairmarketError, match="--layers must be between 1 and 2"):
        keep_first_layers(model, 3)
