import multiprocessing
import sqlite3

import pytest

from fairmarket_local.common.canonical import canonical_json
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.memo.cache import ReplayMiss, ScoreCache, cache_key, open_store
from tests.critic.critic_helpers import SLOTS, fake_critic


def test_key_covers_every_request_field(slots):
    critic = fake_critic(None, "off")
    request = critic.request(slots[0])
    assert set(request) == {"backend", "model_sha256", "chat_template", "template", "messages", "schema",
                            "decoding", "seed"}
    base = cache_key(request)
    assert cache_key(critic.request(dict(slots[0]))) == base  # same content, same key
    for field, value in [("seed", 1), ("model_sha256", "1" * 64), ("chat_template", "other"),
                         ("decoding", {"temperature": 0.1}), ("template", {"id": "raw.v2", "sha256": "x"})]:
        assert cache_key({**request, field: value}) != base
    assert cache_key(critic.request(slots[1])) != base


def test_use_mode_memoizes_and_counts(tmp_path, slots):
    critic = fake_critic(tmp_path / "c")
    first = critic.score(slots)
    assert {s.source for s in first} == {"model"} and critic.engine.calls == len(slots)
    again = critic.score(slots)
    assert {s.source for s in again} == {"cache"} and critic.engine.calls == len(slots)
    assert [s.values() for s in again] == [s.values() for s in first]
    assert critic.stats.cache_hits == len(slots) and critic.stats.cache_misses == len(slots)


def test_values_are_json_text_never_pickle(tmp_path, slots):
    fake_critic(tmp_path / "c").score(slots[:2])
    db = sqlite3.connect(tmp_path / "c" / "cache.db")
    rows = db.execute("SELECT key, raw, value, mode FROM Cache").fetchall()
    assert len(rows) == 2
    for key, raw, value, mode in rows:
        assert isinstance(key, str) and raw == 1 and isinstance(value, str) and mode == 1  # diskcache MODE_RAW


def test_duplicates_in_a_batch_are_computed_once(tmp_path, slots):
    critic = fake_critic(tmp_path / "c")
    critic.score([slots[0], slots[1], slots[0]])
    assert critic.engine.calls == 2


def test_replay_reads_and_fails_naming_the_key(tmp_path, slots):
    fake_critic(tmp_path / "c").score(slots[:2])
    replay = fake_critic(tmp_path / "c", "replay")
    assert {s.source for s in replay.score(slots[:2])} == {"cache"}
    missing = cache_key(replay.request(slots[2]))
    with pytest.raises(ReplayMiss, match=f"no cached answer for key {missing}"):
        replay.score(slots[:3])
    assert replay.engine.calls == 0


def test_refresh_recomputes_and_off_never_touches_disk(tmp_path, slots):
    fake_critic(tmp_path / "c").score(slots[:2])
    refresh = fake_critic(tmp_path / "c", "refresh", replies=['{"ftg": 0, "fbs": 0, "fpp": 0}'])
    assert {s.source for s in refresh.score(slots[:2])} == {"model"}
    assert fake_critic(tmp_path / "c").score(slots[:1])[0].values() == (0.0, 0.0, 0.0)  # overwritten
    off = fake_critic(None, "off")
    off.score(slots[:2]), off.score(slots[:2])
    assert off.engine.calls == 4


def test_corrupt_entry_is_a_logged_miss_in_use_and_an_error_in_replay(tmp_path, slots, caplog):
    critic = fake_critic(tmp_path / "c")
    critic.score(slots[:1])
    key = cache_key(critic.request(slots[0]))
    for bad in ["{not json", canonical_json({"request": {}, "scores": {}}), 42]:
        with open_store(tmp_path / "c") as store:
            store.set(key, bad)
        with pytest.raises(FairmarketError, match=f"corrupted entry {key}"):
            fake_critic(tmp_path / "c", "replay").score(slots[:1])
        again = fake_critic(tmp_path / "c")
        assert again.score(slots[:1])[0].source == "model"  # recomputed and overwritten
        assert again.stats.corrupt_entries == 1 and "corrupted entry" in caplog.text
        assert fake_critic(tmp_path / "c", "replay").score(slots[:1])[0].source == "cache"


def test_unusable_directory_and_full_disk_are_one_line_errors(tmp_path, slots, monkeypatch):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.raises(FairmarketError, match="is not a directory"):
        ScoreCache(not_a_dir)
    with pytest.raises(FairmarketError, match="needs a cache directory"):
        ScoreCache(None, "use")
    with pytest.raises(FairmarketError, match="unknown cache mode"):
        ScoreCache(tmp_path / "c", "sometimes")  # type: ignore[arg-type]
    critic = fake_critic(tmp_path / "c")

    def full(*_, **__):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(critic.cache._store, "set", full)
    with pytest.raises(FairmarketError, match="disk is full; free some disk space"):
        critic.score(slots[:1])


def _worker(cache_dir, log_file, indices, queue):
    critic = fake_critic(cache_dir, delay=0.05, log_file=log_file)
    scores = critic.score([SLOTS[i] for i in indices])
    queue.put((indices, [s.values() for s in scores], critic.engine.calls))


def test_four_processes_share_the_cache(tmp_path):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    log_file = tmp_path / "computed.log"
    work = [[0, 1, 2, 3], [2, 3, 4, 5], [5, 4, 1, 0], [0, 2, 4, 5, 1, 3]]  # every slot by ≥ 2 processes
    procs = [ctx.Process(target=_worker, args=(tmp_path / "c", log_file, w, queue)) for w in work]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    computed = log_file.read_text().splitlines()
    assert len(computed) == len(set(computed)) == len(SLOTS)  # each key computed exactly once
    assert sum(calls for *_, calls in results) == len(SLOTS)
    replay = fake_critic(tmp_path / "c", "replay")
    assert {s.source for s in replay.score(SLOTS)} == {"cache"}  # nothing lost
