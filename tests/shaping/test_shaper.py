"""The ramp λ(τ), the scale β (fixed and auto) and role weights of the fairness term (SPEC §6)."""

import numpy as np
import pytest

from fairmarket_local.shaping import FairnessShaper, ShapingConfig, ramp


def test_linear_ramp():
    cfg = ShapingConfig(tau0=0.2, tau_ramp=0.4, lambda_max=2.0)
    assert [ramp(t, cfg) for t in (0.0, 0.2, 0.4, 0.6, 1.0)] == pytest.approx([0, 0, 1.0, 2.0, 2.0])


def test_cosine_ramp_is_smooth_and_reaches_max():
    cfg = ShapingConfig(tau0=0.0, tau_ramp=1.0, schedule="cosine")
    assert ramp(0.5, cfg) == pytest.approx(0.5)
    assert ramp(0.25, cfg) < 0.25 and ramp(1.0, cfg) == pytest.approx(1.0)


def test_fixed_beta_adds_weighted_scores_by_role():
    cfg = ShapingConfig(beta=2.0, tau0=0.0, tau_ramp=0.0,
                        weights={"seller": {"ftg": 1, "fbs": 0, "fpp": 0},
                                 "buyer": {"ftg": 0, "fbs": 0, "fpp": 1},
                                 "none": {"ftg": 0, "fbs": 0, "fpp": 0}})
    shaper = FairnessShaper(cfg)
    r_econ = np.zeros((1, 3))
    side = np.array([[1, -1, 0]])
    scores = np.array([[0.5, 0.9, 0.25]])
    shaped, log = shaper.shape(r_econ, side, scores, tau=1.0)
    assert shaped[0].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert log["lambda"] == 1.0 and log["beta"] == 2.0


def test_no_fairness_before_the_ramp():
    shaper = FairnessShaper(ShapingConfig(beta=5.0, tau0=0.5))
    shaped, _ = shaper.shape(np.ones((2, 2)), np.ones((2, 2), dtype=np.int8), np.ones((2, 3)), tau=0.3)
    assert np.array_equal(shaped, np.ones((2, 2)))


def test_auto_beta_keeps_fairness_at_rho_of_the_economic_signal():
    shaper = FairnessShaper(ShapingConfig(beta="auto", rho=0.3, tau0=0.0, tau_ramp=0.0))
    rng = np.random.default_rng(0)
    r_econ = rng.normal(0, 0.2, (48, 6))
    side = rng.choice([-1, 0, 1], (48, 6)).astype(np.int8)
    scores = rng.uniform(0, 1, (48, 3))
    shaped, _log = shaper.shape(r_econ, side, scores, tau=1.0)
    fairness = shaped - r_econ
    assert np.abs(fairness).mean() == pytest.approx(0.3 * np.abs(r_econ).mean())


def test_state_round_trip():
    a = FairnessShaper(ShapingConfig())
    a.shape(np.ones((2, 2)), np.ones((2, 2), dtype=np.int8), np.ones((2, 3)), tau=0.9)
    b = FairnessShaper(ShapingConfig())
    b.load_state(a.state())
    assert b.beta() == a.beta()
