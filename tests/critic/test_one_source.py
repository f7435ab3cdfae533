"""Facts the critic states once: chunked scoring, the template fallback, the cache modes, distill's defaults."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import get_args

import pytest
import typer
from fairmarket_cli.critic import critic_app

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic import CACHE_MODES, make_critic
from fairmarket_local.critic.base import SCORE_CHUNK, score_in_chunks
from fairmarket_local.critic.distill.config import DEFAULT_HELDOUT, StudentConfig
from fairmarket_local.critic.distill.pipeline import distill
from fairmarket_local.critic.factory import DEFAULT_TEMPLATE, critic_template
from fairmarket_local.critic.memo.cache import CacheMode, ScoreCache
from fairmarket_local.training.config import CriticConfig
from tests.critic.critic_helpers import SLOTS


def test_score_in_chunks_scores_every_slot_in_order_a_chunk_per_call() -> None:
    summaries = [SLOTS[k % len(SLOTS)] for k in range(2 * SCORE_CHUNK + 3)]
    steps = []
    with make_critic("rule") as critic:
        calls = []
        score = critic.score
        critic.score = lambda part: calls.append(len(part)) or score(part)  # type: ignore[method-assign]
        scored = score_in_chunks(critic, summaries, lambda n, **fields: steps.append((n, sorted(fields))))
        assert scored == make_critic("rule").score(summaries)
    assert calls == [SCORE_CHUNK, SCORE_CHUNK, 3]
    assert steps == [(SCORE_CHUNK, ["hit_rate"]), (SCORE_CHUNK, ["hit_rate"]), (3, ["hit_rate"])]


@pytest.mark.parametrize(("given", "own", "used"), [
    ("raw", "student.v4", "raw"), (None, "student.v4", "student.v4"), (None, None, DEFAULT_TEMPLATE)])
def test_the_template_is_the_given_one_else_the_model_s_own_else_grounded(given, own, used) -> None:
    assert critic_template(SimpleNamespace(template=own), given).id.startswith(used)  # type: ignore[arg-type]


def test_cache_modes_are_one_list() -> None:
    assert CACHE_MODES == get_args(CacheMode) == get_args(CriticConfig.model_fields["cache_mode"].annotation)
    for refuse in (lambda: make_critic("rule", cache_mode="sometimes"), lambda: ScoreCache(None, "sometimes")):
        with pytest.raises(FairmarketError, match=r"unknown cache mode 'sometimes' \(choose from use, replay,"):
            refuse()


def test_distill_options_default_to_the_student_config() -> None:
    command = typer.main.get_command(critic_app).commands["distill"]  # type: ignore[attr-defined]
    defaults = {p.name: p.default for p in command.params}
    student = StudentConfig()
    for name in ("lr", "batch_size", "layers", "budget_minutes", "max_steps", "schedule_steps", "seed"):
        assert defaults[name] == getattr(student, name), name
    assert defaults["dtype"].value == student.dtype


def test_distill_options_default_to_the_library_s_defaults() -> None:
    command = typer.main.get_command(critic_app).commands["distill"]  # type: ignore[attr-defined]
    defaults = {p.name: p.default for p in command.params}
    library = inspect.signature(distill).parameters
    for name in ("teacher", "base", "student_template", "heldout"):
        assert defaults[name] == library[name].default, name
    assert library["heldout"].default == DEFAULT_HELDOUT
