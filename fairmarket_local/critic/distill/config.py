"""The settings of a distillation (``fairmarket critic distill`` takes its option defaults from here).

The ``DEFAULT_*`` constants are :func:`~fairmarket_local.critic.distill.pipeline.distill`'s defaults for what
it learns from and into; :class:`StudentConfig` holds the training's settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEFAULT_TEACHER = "rule"  # the critic whose judgment is learned: a model id or "rule"
DEFAULT_BASE = "smollm2-135m"  # the registered GGUF model fine-tuned
DEFAULT_STUDENT_TEMPLATE = "student"  # the student's prompt template (its newest student.vN)
DEFAULT_HELDOUT = 200  # slots held out for the evaluation


@dataclass(frozen=True)
class StudentConfig:
    """Optimiser and stopping settings of a distillation."""

    lr: float = 3e-4
    batch_size: int = 8
    layers: int | None = None  # keep only the base's first N transformer layers (None: all)
    warmup_steps: int = 20
    final_lr_fraction: float = 0.1
    grad_clip: float = 1.0
    budget_minutes: float = 30.0
    max_steps: int | None = None  # stop here even with budget left (reproduces a timed run exactly)
    schedule_steps: int | None = None  # length of the decay (default: max_steps, else planned from the budget)
    snapshot_minutes: tuple[float, ...] = ()  # save the weights when training time passes these marks
    seed: int = 0
    dtype: Literal["auto", "bfloat16", "float32"] = "auto"  # see common.machine.compute_dtype
