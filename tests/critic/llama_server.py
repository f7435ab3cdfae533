"""llama-cpp-python's OpenAI-compatible server on this machine, for the tests of the ``openai`` back-end
(and ``scripts/bench_critic.py --serve-openai``): start it, wait until it answers."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.backends.openai_backend import served_models
from fairmarket_local.critic.registry.manifests import ServerSource


def launch_llama_cpp_server(gguf: Path, served_model: str, port: int, log: Path, n_threads: int = 1,
                            n_ctx: int = 2048) -> subprocess.Popen:
    """Start llama-cpp-python's OpenAI-compatible server for ``gguf`` on 127.0.0.1:``port`` (output to ``log``).

    Needs the server extras (fastapi, uvicorn, sse-starlette, starlette-context, pydantic-settings).
    The caller stops it (``terminate``); see :func:`wait_until_serving`.
    """
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", served_model,
             "--host", "127.0.0.1", "--port", str(port), "--n_threads", str(n_threads),
             "--n_threads_batch", str(n_threads), "--n_ctx", str(n_ctx), "--seed", "0", "--verbose", "False"],
            stdout=out, stderr=subprocess.STDOUT)


def wait_until_serving(server: ServerSource, process: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    """Poll ``GET /models`` until the server answers.

    :raises FairmarketError: the process exited, or no answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-300:].replace("\n", " | ")
            raise FairmarketError(f"the server exited with code {process.returncode}: {tail}")
        try:
            served_models(server, timeout=1.0)
            return
        except FairmarketError:
            time.sleep(0.5)
    raise FairmarketError(f"{server.base_url} did not answer within {timeout:.0f} s")
