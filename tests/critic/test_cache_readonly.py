"""A critic cache that cannot be written is still read (replay, stats, export); writes and a full disk say why."""

import json

import pytest
from fairmarket_cli.main import app
from typer.testing import CliRunner

from fairmarket_local.common.canonical import canonical_json
from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.memo.cache import ReplayMiss, ScoreCache, cache_key, open_store
from tests.critic.critic_helpers import fake_critic
from tests.mounts import fill, read_only_view, small_disk
from tests.user_errors import assert_one_error_line

runner = CliRunner()
ADVICE = "the folder is read-only"


@pytest.fixture
def read_only_cache(tmp_path, slots):
    """A cache of 2 answers (one large enough for diskcache to keep it in a file), seen through a read-only mount."""
    critic = fake_critic(tmp_path / "src" / "c")
    critic.score(slots[:2])
    key = cache_key(critic.request(slots[1]))
    with open_store(tmp_path / "src" / "c") as store:
        entry = json.loads(store.get(key))
        store.set(key, canonical_json({**entry, "note": "x" * 100_000}))
    with read_only_view(tmp_path / "src", tmp_path / "ro") as ro:
        yield ro / "c"


def test_replay_reads_a_read_only_cache(read_only_cache, slots):
    replay = fake_critic(read_only_cache, "replay")
    assert [s.source for s in replay.score(slots[:2])] == ["cache", "cache"] and replay.engine.calls == 0
    with pytest.raises(ReplayMiss, match="no cached answer for key"):
        replay.score(slots[:3])


def test_stats_verify_and_export_read_a_read_only_cache(read_only_cache, tmp_path):
    result = runner.invoke(app, ["cache", "stats", "--cache-dir", str(read_only_cache)])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["entries"] == 2 and stats["corrupt"] == 0 and stats["bytes"] > 100_000
    result = runner.invoke(app, ["cache", "verify", "--cache-dir", str(read_only_cache)])
    assert result.exit_code == 0 and "checked 2 entries: 0 corrupt" in result.stdout, result.output
    labels = tmp_path / "labels.jsonl"
    result = runner.invoke(app, ["cache", "export", str(labels), "--cache-dir", str(read_only_cache)])
    assert result.exit_code == 0, result.output
    assert len(labels.read_text().splitlines()) == 2


def test_writing_a_read_only_cache_says_the_folder_is_read_only(read_only_cache, tmp_path):
    for mode in ("use", "refresh"):
        with pytest.raises(FairmarketError, match=ADVICE) as info:
            ScoreCache(read_only_cache, mode)
        assert "move it away" not in str(info.value) and "\n" not in str(info.value)
    result = runner.invoke(app, ["cache", "prune", "--cache-dir", str(read_only_cache), "--template", "raw"])
    assert "move it away" not in assert_one_error_line(result, str(read_only_cache), ADVICE)
    with pytest.raises(FairmarketError, match=ADVICE):
        ScoreCache(read_only_cache.parent / "new-cache", "use")


def test_a_full_disk_says_disk_full(tmp_path, slots):
    with small_disk(tmp_path / "disk", "2M") as disk:
        first = fake_critic(disk / "c")
        first.score(slots[:1])
        first.cache.close()  # reopened on a full disk: SQLite cannot even make its write-ahead log
        filler = fill(disk)
        with pytest.raises(FairmarketError, match="free some disk space") as info:
            fake_critic(disk / "c").score(slots[1:4])
        message = str(info.value)
        assert "disk" in message and "full" in message and "read-only" not in message and "move it" not in message
        filler.unlink()
        assert {s.source for s in fake_critic(disk / "c").score(slots[:4])} == {"cache", "model"}
