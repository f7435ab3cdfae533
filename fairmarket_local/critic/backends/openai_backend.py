"""The ``openai`` back-end: an OpenAI-compatible server on this machine (``vllm serve``, llama.cpp's server).

Plain ``http.client`` (no proxy, no extra dependency). The answer is constrained by the server:
``response_format`` json_schema (OpenAI's structured outputs), or the GBNF ``grammar`` field of
llama.cpp servers. A batch is sent as concurrent requests, ``concurrency`` at a time, so a server that
batches (vLLM) works on several slots at once. A failed request is logged and counts as an invalid
answer (retried, then replaced by the reference scores); an unreachable server at load is an error.
Hosts other than this machine are refused unless the manifest sets ``allow_remote: true``.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat
from typing import Any
from urllib.parse import SplitResult, urlsplit

from fairmarket_local.common.canonical import content_hash
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.backends.engine import Engine, Generation, Messages
from fairmarket_local.critic.registry.manifests import ModelManifest, ServerSource, parse_base_url
from fairmarket_local.critic.schema import answer_grammar, answer_schema

log = logging.getLogger(__name__)


class OpenAIEngine(Engine):
    """Chat completions from a local server, temperature 0, fixed seed, bounded tokens, constrained output."""

    backend = "openai"
    max_batch = 64

    def __init__(self, manifest: ModelManifest, rationale: bool = False, max_tokens: int = 48) -> None:
        assert manifest.server is not None  # guaranteed by the manifest's validation
        self.manifest, self.server = manifest, manifest.server
        self.url = server_url(self.server, manifest.id)
        self.system_role = manifest.system_role
        self.max_tokens = max_tokens
        if self.server.response_format == "grammar":
            self.constraint: dict[str, Any] = {"grammar": answer_grammar(rationale)}
        else:
            self.constraint = {"response_format": {"type": "json_schema", "json_schema": {
                "name": "fairness_scores", "schema": answer_schema(rationale), "strict": True}}}
        self._checked = False

    def identity(self) -> dict[str, Any]:
        # The server's address is left out: the same model served elsewhere gives the same answers.
        return {"served_model": self.server.served_model, "model_sha256": self.manifest.sha256,
                "chat_template": "server"}

    def decoding(self) -> dict[str, Any]:
        return {"temperature": 0.0, "max_tokens": self.max_tokens, "constraint_sha256": content_hash(self.constraint)}

    def load(self) -> None:
        if self._checked:
            return
        served = served_models(self.server, self.url)
        if self.server.served_model not in served:
            raise FairmarketError(f"model {self.manifest.id!r}: the server at {self.server.base_url} serves"
                                  f" {', '.join(served) or 'nothing'}, not {self.server.served_model!r}")
        self._checked = True

    def generate(self, messages: Messages, seed: int) -> Generation:
        body = {"model": self.server.served_model, "messages": messages, "temperature": 0.0, "seed": seed,
                "max_tokens": self.max_tokens, **self.constraint}
        start = time.perf_counter()
        try:
            reply = _request(self.url, "POST", "/chat/completions", self.server.timeout_s, body)
            text = reply["choices"][0]["message"]["content"] or ""
            usage = reply.get("usage") or {}
        except (FairmarketError, KeyError, IndexError, TypeError) as exc:
            log.warning("critic %s: request to %s failed (%s)", self.manifest.id, self.server.base_url, exc)
            return Generation(text="", seconds=time.perf_counter() - start)
        return Generation(text=text, seconds=time.perf_counter() - start,
                          prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", 0)))

    def generate_batch(self, batch: list[Messages], seed: int) -> list[Generation]:
        self.load()
        with ThreadPoolExecutor(min(self.server.concurrency, len(batch))) as pool:
            return list(pool.map(self.generate, batch, repeat(seed)))


def server_url(server: ServerSource, model_id: str) -> SplitResult:
    """The parsed ``base_url``; a host off this machine is refused unless ``allow_remote`` is set.

    :raises FairmarketError: a bad URL or a refused host.
    """
    try:
        url = parse_base_url(server.base_url)
    except ValueError as exc:
        raise FairmarketError(f"model {model_id!r}: base_url {server.base_url!r}: {exc}") from None
    if not (server.allow_remote or _is_loopback(url.hostname)):  # type: ignore[arg-type]  # parse_base_url: a host
        raise FairmarketError(f"model {model_id!r}: {url.hostname} is not this machine; set `allow_remote: true`"
                              " under `server:` in its manifest to allow a remote server")
    return url


def _is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (no name is resolved: that could reach the network)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def served_models(server: ServerSource, url: SplitResult | None = None, timeout: float | None = None) -> list[str]:
    """Model names the server lists (``GET /models``).

    :raises FairmarketError: the server does not answer, or not like an OpenAI-compatible one.
    """
    reply = _request(url or urlsplit(server.base_url), "GET", "/models", timeout or server.timeout_s)
    try:
        return [str(entry["id"]) for entry in reply["data"]]
    except (KeyError, TypeError) as exc:
        raise FairmarketError(f"{server.base_url}/models: not an OpenAI model list ({exc})") from None


def _request(url: SplitResult, method: str, path: str, timeout: float, body: dict | None = None) -> dict:
    """One JSON request; any failure (connection, timeout, HTTP status, bad JSON) is a FairmarketError."""
    where = f"{url.geturl().rstrip('/')}{path}"
    connection_type = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(url.hostname, url.port, timeout=timeout)  # type: ignore[arg-type]  # a host: checked
    try:
        connection.request(method, url.path.rstrip("/") + path,
                           body=None if body is None else json.dumps(body).encode("utf-8"),
                           headers={"Content-Type": "application/json", "Accept": "application/json"})
        response = connection.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise FairmarketError(f"{where}: {type(exc).__name__}: {exc or 'no answer'}") from None
    finally:
        connection.close()
    if response.status != 200:
        raise FairmarketError(f"{where}: HTTP {response.status}: {data[:200].decode('utf-8', 'replace')}")
    try:
        reply = json.loads(data)
    except ValueError:
        raise FairmarketError(f"{where}: the reply is not JSON: {data[:80]!r}") from None
    if not isinstance(reply, dict):
        raise FairmarketError(f"{where}: the reply is not a JSON object")
    return reply
