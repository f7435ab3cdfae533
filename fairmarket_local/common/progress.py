"""Rich progress bars with rate and ETA, or nothing when disabled (tests, ``--quiet``, pipes)."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


@contextmanager
def progress_bar(total: int, description: str, unit: str = "it", enabled: bool = True) -> Iterator[Callable[..., None]]:
    """Yield ``advance(n=1, **fields)``; shows ``description``, done/total, rate and ETA on stderr."""
    if not enabled:
        yield lambda n=1, **_: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[extra]}"),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(description, total=total, rate="", extra="")

        def advance(n: int = 1, **fields: object) -> None:
            progress.advance(task, n)
            speed = progress.tasks[0].speed
            extra = " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items())
            progress.update(task, rate=f"{speed:,.1f} {unit}/s" if speed else "", extra=extra)

        yield advance


QUIET_ENV = {
    "TQDM_DISABLE": "1",  # tqdm bars (transformers, huggingface_hub, vLLM)
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TOKENIZERS_PARALLELISM": "false",  # its fork warning
    "VLLM_LOGGING_LEVEL": "ERROR",
    "VLLM_CONFIGURE_LOGGING": "0",
}


def _ours_or_errors(record: logging.LogRecord) -> bool:
    """Under ``--quiet``, the toolkit's own warnings (a checkpoint fallback, a broken lock) still print."""
    return record.levelno >= logging.ERROR or record.name.startswith("fairmarket_local")


@contextmanager
def third_party_silenced(enabled: bool = True) -> Iterator[None]:
    """``--quiet``: no progress bars, log lines or warnings from the libraries underneath, in this process and
    in the worker processes it starts (they inherit the environment); errors still print. Undone on exit."""
    if not enabled:
        yield
        return
    saved_env = {key: os.environ.get(key) for key in QUIET_ENV}
    os.environ.update(QUIET_ENV)
    handlers = [logging.lastResort, *logging.root.handlers]
    for handler in handlers:
        if handler is not None:
            handler.addFilter(_ours_or_errors)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for handler in handlers:
            if handler is not None:
                handler.removeFilter(_ours_or_errors)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
