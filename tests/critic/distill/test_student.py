from fairmarket_local.critic.distill.student import StudentConfig, lr_factor, plan_steps

CONFIG = StudentConfig(warmup_steps=10, final_lr_fraction=0.1)


def test_learning_rate_warms_up_then_decays_to_the_floor_at_the_horizon() -> None:
    factors = [lr_factor(step, 110, CONFIG) for step in range(130)]
    assert factors[0] == 0.1 and factors[9] == 1.0 and factors[10] == 1.0
    assert all(a >= b for a, b in zip(factors[10:], factors[11:]))
    assert abs(factors[60] - 0.55) < 1e-9 and factors[110] == factors[129] == 0.1


def test_warm_up_does_not_depend_on_the_horizon_so_a_planned_run_can_be_replayed() -> None:
    assert [lr_factor(s, None, CONFIG) for s in range(11)] == [lr_factor(s, 500, CONFIG) for s in range(11)]


def test_planned_steps_fill_the_budget_at_the_measured_speed() -> None:
    assert plan_steps(20, trained=40.0, budget=600.0) == int(0.97 * 300)
    assert plan_steps(20, trained=40.0, budget=30.0) == 20  # never fewer than already done
    assert plan_steps(5, trained=0.0, budget=60.0) == 5
