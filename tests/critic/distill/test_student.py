import itertools

import pytest

from fairmarket_local.critic.distill.config import StudentConfig
from fairmarket_local.critic.distill.student import lr_factor, plan_steps, train_student

CONFIG = StudentConfig(warmup_steps=10, final_lr_fraction=0.1)


def test_learning_rate_warms_up_then_decays_to_the_floor_at_the_horizon() -> None:
    factors = [lr_factor(step, 110, CONFIG) for step in range(130)]
    assert factors[0] == 0.1 and factors[9] == 1.0 and factors[10] == 1.0
    assert all(a >= b for a, b in itertools.pairwise(factors[10:]))
    assert abs(factors[60] - 0.55) < 1e-9 and factors[110] == factors[129] == 0.1


def test_warm_up_does_not_depend_on_the_horizon_so_a_planned_run_can_be_replayed() -> None:
    assert [lr_factor(s, None, CONFIG) for s in range(11)] == [lr_factor(s, 500, CONFIG) for s in range(11)]


def test_planned_steps_fill_the_budget_at_the_measured_speed() -> None:
    assert plan_steps(20, trained=40.0, budget=600.0) == int(0.97 * 300)
    assert plan_steps(20, trained=40.0, budget=30.0) == 20  # never fewer than already done
    assert plan_steps(5, trained=0.0, budget=60.0) == 5


def _tiny_llama(tie: bool):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                      num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=tie)
    return transformers.LlamaForCausalLM(config)


@pytest.mark.parametrize("tie", [True, False])
def test_every_weight_learns_the_embeddings_too(tie: bool) -> None:
    model = _tiny_llama(tie)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    train_student(model, [([1, 5, 7, 9, 3, 2], 3), ([1, 4, 4, 8, 2], 2), ([1, 6, 9, 2], 2)],
                  StudentConfig(batch_size=2, max_steps=3, lr=1e-2, warmup_steps=1))
    assert all(not p.detach().equal(before[name]) for name, p in model.named_parameters()), "a weight did not move"
