import json

import pytest

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.memo.cache import open_store
from fairmarket_local.critic.memo.cache_admin import cache_stats, export_cache, import_cache, prune_cache, verify_cache
from tests.critic.critic_helpers import fake_critic


@pytest.fixture
def filled(tmp_path, slots):
    fake_critic(tmp_path / "c").score(slots[:3])
    fake_critic(tmp_path / "c", template="grounded").score(slots[:2])
    return tmp_path / "c"


def test_stats_counts_by_model_and_template(filled):
    stats = cache_stats(filled)
    assert stats["entries"] == 5 and stats["corrupt"] == 0
    assert stats["templates"] == {"raw.v1": 3, "grounded.v1": 2} and stats["models"] == {"fake:000000000000": 5}


def test_verify_finds_and_deletes_corrupt_entries(filled):
    with open_store(filled) as store:
        key = sorted(store.iterkeys())[0]
        store.set(key, "{broken")
    report = verify_cache(filled)
    assert report["checked"] == 5 and list(report["corrupt"]) == [key]
    assert verify_cache(filled, delete=True)["deleted"] == 1
    assert verify_cache(filled)["corrupt"] == {}


def test_export_import_round_trip(filled, tmp_path, slots):
    path = tmp_path / "labels.jsonl"
    assert export_cache(filled, path) == 5
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert all(set(r) == {"key", "entry"} for r in rows)
    assert import_cache(tmp_path / "new", path) == {"added": 5, "same": 0, "kept": 0, "replaced": 0}
    assert import_cache(tmp_path / "new", path)["same"] == 5
    replay = fake_critic(tmp_path / "new", "replay")
    assert {s.source for s in replay.score(slots[:3])} == {"cache"}


def test_import_rejects_a_tampered_line_before_writing(filled, tmp_path):
    path = tmp_path / "labels.jsonl"
    export_cache(filled, path)
    lines = path.read_text().splitlines()
    row = json.loads(lines[1])
    row["entry"]["scores"]["ftg"] = 3.0
    path.write_text("\n".join([lines[0], json.dumps(row)]) + "\n")
    with pytest.raises(FairmarketError, match=r"labels.jsonl:2: not a valid cache export line"):
        import_cache(tmp_path / "new", path)
    assert not (tmp_path / "new").exists()


def test_prune_by_template(filled):
    assert prune_cache(filled) == 0  # no filter: only corrupt entries
    assert prune_cache(filled, template="grounded") == 2
    assert cache_stats(filled)["templates"] == {"raw.v1": 3}
    assert prune_cache(filled, older_than_days=1) == 0 and prune_cache(filled, model_sha256="0000") == 3


def test_missing_cache_is_an_error(tmp_path):
    with pytest.raises(FairmarketError, match="no critic cache at"):
        cache_stats(tmp_path / "none")
