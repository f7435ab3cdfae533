"""Per-key claims of a shared critic cache: a killed process's claim is broken at once, a live one is waited for."""

import logging
import os
import signal
import socket
import subprocess
import sys
import time

from fairmarket_local.critic.memo.cache import ScoreCache, cache_key
from tests.critic.critic_helpers import fake_critic

CLAIM = """
import sys, time
from fairmarket_local.critic.memo.cache import ScoreCache
assert ScoreCache(sys.argv[1]).claim(sys.argv[2])
print("claimed", flush=True)
time.sleep(600)
"""


def _claimed_by_a_killed_process(cache_dir, key):
    process = subprocess.Popen([sys.executable, "-c", CLAIM, str(cache_dir), key], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "claimed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def test_the_claim_of_a_killed_process_is_broken_at_once(tmp_path, slots, caplog):
    critic = fake_critic(tmp_path / "c")
    keys = [cache_key(critic.request(s)) for s in slots[:2]]
    for key in keys:
        _claimed_by_a_killed_process(tmp_path / "c", key)
    start = time.monotonic()
    with caplog.at_level(logging.WARNING):
        scores = critic.score(slots[:3])
    assert time.monotonic() - start < 10  # not the 300 s the claims would take to expire
    assert [s.source for s in scores] == ["model"] * 3 and critic.engine.calls == 3
    assert all(f"claimed key {key}" in caplog.text for key in keys) and "is gone" in caplog.text
    assert {s.source for s in fake_critic(tmp_path / "c", "replay").score(slots[:3])} == {"cache"}


def test_a_reused_pid_is_not_taken_for_the_claimant(tmp_path, slots):
    critic = fake_critic(tmp_path / "c")
    key = cache_key(critic.request(slots[0]))
    critic.cache._locks.add(key, f"{socket.gethostname()} {os.getpid()} 1")  # this pid, started at another time
    start = time.monotonic()
    assert critic.score(slots[:1])[0].source == "model" and time.monotonic() - start < 10


def test_a_live_claim_is_waited_for_and_another_machine_s_claim_expires(tmp_path, slots):
    cache = ScoreCache(tmp_path / "c", lock_expire=1.0)
    waiter = fake_critic(tmp_path / "c")
    key = cache_key(waiter.request(slots[0]))
    assert cache.claim(key) and not waiter.cache.claim(key)  # this process is alive: its claim holds
    cache.release(key)
    cache._locks.add("other", "some-other-host 1 1", expire=1.0)
    start = time.monotonic()
    assert waiter.cache.wait_for("other") is None
    assert 0.5 < time.monotonic() - start < 10
