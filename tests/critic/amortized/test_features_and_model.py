"""The fairness model sees raw slot content only, is blind to party order and names, and takes any size."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairmarket_local.critic.amortized import features
from fairmarket_local.critic.amortized.features import SLOT_FEATURES, encode
from fairmarket_local.critic.amortized.model import FairnessEnsemble
from fairmarket_local.critic.distill.generator import generate_slots
from fairmarket_local.critic.quality.permute import permute_summary
from fairmarket_local.env.summary import summary_fairness

AMORTIZED = Path(features.__file__).parent
SLOTS = [s for s in generate_slots(400, seed=3) if s["sellers"] and s["buyers"]]


def trained_ensemble(slots: list[dict]) -> FairnessEnsemble:
    model = FairnessEnsemble(members=3, hidden=16, learning_rate=1e-2, seed=0)
    targets = np.array([summary_fairness(s).values() for s in slots])
    model.fit(encode(slots), targets, steps=30, bootstrap=np.ones((3, len(slots))))
    return model


@pytest.fixture(scope="module")
def model() -> FairnessEnsemble:
    return trained_ensemble(SLOTS[:100])


def test_the_model_code_computes_no_reference_score() -> None:
    for name in ("features.py", "model.py"):
        tree = ast.parse((AMORTIZED / name).read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported -= {"fairmarket_local.env.summary_types"}  # the summary's TypedDicts: types, no computation
        assert not {m for m in imported if m and ("metrics" in m or "summary" in m or "slot_text" in m)}, name


def test_no_slot_feature_is_a_reference_score() -> None:
    slots = encode(SLOTS).slots
    reference = np.array([summary_fairness(s).values() for s in SLOTS])
    for k, name in enumerate(SLOT_FEATURES):
        for j in range(3):
            assert not np.allclose(slots[:, k], reference[:, j], atol=1e-3), (name, j)


def test_relabelling_or_reordering_parties_changes_no_prediction(model: FairnessEnsemble) -> None:
    rng = np.random.default_rng(0)
    slots = SLOTS[100:160]
    shuffled = []
    for s in slots:
        other = permute_summary(s, rng)
        other["trades"] = list(reversed(other["trades"]))
        shuffled.append(other)
    np.testing.assert_allclose(model.predict(encode(shuffled)), model.predict(encode(slots)), atol=1e-5)


def test_scaling_every_energy_changes_no_feature() -> None:
    scaled = copy.deepcopy(SLOTS[:50])
    for s in scaled:
        for party in (*s["sellers"], *s["buyers"], *s["trades"]):
            for key in party:
                if key.endswith("kwh") or key == "money":
                    party[key] *= 10
        s["grid"] = {k: v * 10 for k, v in s["grid"].items()}
    a, b = encode(SLOTS[:50]), encode(scaled)
    np.testing.assert_allclose(a.slots, b.slots, rtol=1e-5)
    for name in a.sets:
        np.testing.assert_allclose(a.sets[name].rows, b.sets[name].rows, rtol=1e-5, atol=1e-7)


@settings(max_examples=20, deadline=None)
@given(sellers=st.integers(1, 5000), buyers=st.integers(1, 60))
def test_any_number_of_parties(model: FairnessEnsemble, sellers: int, buyers: int) -> None:
    slot = {
        "schema": 1, "day": "Mon", "hour": 12, "weather": "sunny", "retail": 0.3, "feed_in": 0.08,
        "sellers": [{"id": f"S{i + 1}", "surplus_kwh": 1.0, "offer_kwh": 1.0, "price": 0.2, "p2p_kwh": 0.5,
                     "money": 0.1} for i in range(sellers)],
        "buyers": [{"id": f"B{i + 1}", "deficit_kwh": 2.0, "request_kwh": 2.0, "price": 0.25, "p2p_kwh": 0.0,
                    "money": 0.0} for i in range(buyers)],
        "trades": [{"seller": "S1", "buyer": "B1", "kwh": 0.5, "price": 0.2}],
        "grid": {"import_kwh": 1.5, "export_kwh": 0.5},
    }
    scores = model.predict(encode([slot, SLOTS[0]]))
    assert scores.shape == (3, 2, 3) and np.all((scores >= 0) & (scores <= 1))
    np.testing.assert_allclose(scores[:, 1], model.predict(encode([SLOTS[0]]))[:, 0], atol=1e-6)


def test_same_seed_same_labels_same_weights() -> None:
    a, b = trained_ensemble(SLOTS[:40]), trained_ensemble(SLOTS[:40])
    for (name, x), (_, y) in zip(a.net.state_dict().items(), b.net.state_dict().items()):
        assert np.array_equal(x.numpy(), y.numpy()), name
