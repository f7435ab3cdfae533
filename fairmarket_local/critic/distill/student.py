"""Fine-tune a small causal LM on (prompt → teacher answer) pairs with transformers: loss on the answer only.

Full fine-tune in float32 master weights, under bfloat16 autocast where the CPU computes bf16 natively
(about twice as fast as float32 with AVX-512 BF16; emulated on an AVX2-only CPU it is 68x slower, so
there the forward pass stays float32: :func:`~fairmarket_local.common.machine.compute_dtype`); batches group
prompts of similar length so little is spent on padding, and the vocabulary projection runs only at answer
positions.

The learning rate is a function of the step: a linear warm-up, then a cosine decay to a tenth over
``schedule_steps`` (then held there). With a time budget and no step counts given, the length of the
schedule is planned once, when the warm-up ends, from the measured speed (so that the decay ends about
when the budget does); the warm-up does not depend on it, so ``max_steps`` and ``schedule_steps`` set to
the steps taken and the planned length (both in ``distill.json``) reproduce a timed run exactly,
whatever the speed of the machine.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.common.machine import compute_dtype
from fairmarket_local.critic.distill.config import StudentConfig
from fairmarket_local.critic.prompting.templates import PromptTemplate
from fairmarket_local.env.summary_types import SlotSummary
from fairmarket_local.metrics.fairness import FairnessScores

Example = tuple[list[int], int]  # token ids (prompt + answer), number of prompt tokens


def answer_text(scores: FairnessScores) -> str:
    """The target reply: two decimals, exactly what the answer grammar admits."""
    return f'{{"ftg": {scores.ftg:.2f}, "fbs": {scores.fbs:.2f}, "fpp": {scores.fpp:.2f}}}'


def encode(tokenizer: Any, template: PromptTemplate, summaries: Sequence[SlotSummary],
           labels: list[FairnessScores], system_role: bool = True) -> list[Example]:
    """Chat-formatted prompt ids (with the assistant header) followed by the answer and end-of-turn."""
    examples = []
    for summary, scores in zip(summaries, labels):
        prompt = tokenizer.apply_chat_template(template.messages(summary, system_role), tokenize=False,
                                               add_generation_prompt=True)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(answer_text(scores), add_special_tokens=False)["input_ids"]
        examples.append((prompt_ids + answer_ids + [tokenizer.eos_token_id], len(prompt_ids)))
    return examples


def train_student(
    model: Any, examples: list[Example], config: StudentConfig,
    on_snapshot: Callable[[float, int], None] = lambda minutes, step: None,
    advance: Callable[..., None] = lambda n=1, **_: None,
) -> dict[str, Any]:
    """Train ``model`` in place until the budget or ``max_steps``; returns steps, examples seen, loss curve.

    ``advance(seconds, **fields)`` reports training time spent (a progress bar over the budget).

    ``on_snapshot(minutes, step)`` is called when training time passes each snapshot mark; its own time
    is not counted against the budget.
    """
    import torch

    if not examples:
        raise FairmarketError("no training examples")
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    device = next(model.parameters()).device
    dtype = compute_dtype(config.dtype)
    # every weight learns, the token embeddings too: frozen, the digits' embeddings cannot move and the
    # student never learns to compare two numbers (measured: ρ ftg 0.82 instead of 0.99 after 30 minutes).
    # Fused: one kernel for the whole update instead of several passes per tensor (0.04 s a step, not 0.34).
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.0, fused=True)
    horizon = config.schedule_steps or config.max_steps
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: lr_factor(step, horizon, config))
    marks = sorted(config.snapshot_minutes)
    budget = 60.0 * config.budget_minutes
    losses: list[tuple[int, float]] = []  # (step, loss)
    trained, step, seen = 0.0, 0, 0
    model.train()
    while True:
        for batch in _batches(examples, config.batch_size, generator):
            if horizon is None and step == max(config.warmup_steps, 1):
                horizon = plan_steps(step, trained, budget)  # the clock still decides the stop
            if trained >= budget or (config.max_steps is not None and step >= config.max_steps):
                model.eval()
                return {"steps": step, "schedule_steps": horizon, "examples_seen": seen, "train_seconds": trained,
                        "compute_dtype": dtype, "losses": losses}
            start = time.perf_counter()
            loss = _loss(model, batch, device, dtype)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimiser.step()
            schedule.step()
            if step % 10 == 9:
                release_freed_memory()  # every 10 steps: about 1 % of the time
            trained += time.perf_counter() - start
            step, seen = step + 1, seen + len(batch)
            value = round(float(loss.detach()), 5)
            losses.append((step, value))
            advance(time.perf_counter() - start, loss=value, step=step, examples=seen)
            while marks and trained >= 60.0 * marks[0]:
                model.eval()
                on_snapshot(marks.pop(0), step)
                model.train()


def release_freed_memory() -> None:
    """Hand freed heap memory back to the operating system: glibc keeps it, and activations of changing
    shapes fragment the heap (resident memory grew to 14 GB in an hour of training without this; a fixed
    mmap threshold instead cost a quarter of the speed, measured)."""
    if sys.platform.startswith("linux") and (libc := ctypes.util.find_library("c")):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(libc).malloc_trim(0)


def lr_factor(step: int, horizon: int | None, config: StudentConfig) -> float:
    """The learning rate of ``step`` as a fraction of ``config.lr``: warm-up, then cosine to the floor."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if horizon is None:  # the step at which the length is planned
        return 1.0
    progress = min(1.0, (step - config.warmup_steps) / max(horizon - config.warmup_steps, 1))
    floor = config.final_lr_fraction
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def plan_steps(step: int, trained: float, budget: float, margin: float = 0.97) -> int:
    """How many steps fit in the budget at the speed of the first ``step`` steps (with a little margin,
    so that the decay finishes before the clock stops the run)."""
    if trained <= 0.0:
        return step
    return max(step, int(margin * budget * step / trained))


def _batches(examples: list[Example], size: int, generator: Any) -> list[list[Example]]:
    """One epoch: shuffled, then sorted by length inside windows of 16 batches, batch order shuffled."""
    import torch

    order = torch.randperm(len(examples), generator=generator).tolist()
    window = 16 * size
    batches: list[list[int]] = []  # example indices
    for w in range(0, len(order), window):
        chunk = sorted(order[w:w + window], key=lambda i: len(examples[i][0]))
        batches.extend(chunk[b:b + size] for b in range(0, len(chunk), size))
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [[examples[i] for i in batches[k]] for k in shuffled]


def _loss(model: Any, batch: list[Example], device: Any, dtype: str) -> Any:
    """Mean cross-entropy over the answer tokens of a right-padded batch, computed in ``dtype``."""
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    rows, cols, targets = [], [], []
    for r, (tokens, n_prompt) in enumerate(batch):
        ids[r, :len(tokens)] = torch.tensor(tokens)
        mask[r, :len(tokens)] = 1
        # position t predicts token t + 1: the answer starts at n_prompt
        rows += [r] * (len(tokens) - n_prompt)
        cols += list(range(n_prompt - 1, len(tokens) - 1))
        targets += tokens[n_prompt:]
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype == "bfloat16")
    with autocast:
        hidden = model.model(input_ids=ids.to(device), attention_mask=mask.to(device)).last_hidden_state
        logits = model.lm_head(hidden[torch.tensor(rows), torch.tensor(cols)])
    return torch.nn.functional.cross_entropy(logits.float(), torch.tensor(targets, device=device))


def save_hf(model: Any, tokenizer: Any, folder: Path) -> None:
    """Save weights (safetensors) and tokenizer so llama.cpp's converter can read them."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
