"""The back-end table is the one list of back-ends: engines, manifest validation and doctor all follow it."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.backends.engine import Engine
from fairmarket_local.critic.backends.table import BACKEND_NAMES, BACKENDS, ENGINE_SETTINGS
from fairmarket_local.critic.doctor import run_checks
from fairmarket_local.critic.registry.manifests import ModelManifest, get_model, load_manifest


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_each_row_loads_its_engine_which_takes_the_row_settings(name: str) -> None:
    spec = BACKENDS[name]
    engine = spec.engine_class()
    assert issubclass(engine, Engine) and engine.backend == name  # the name enters the cache key
    parameters = inspect.signature(engine).parameters
    assert {"manifest", "rationale", "max_tokens"} <= set(parameters)
    assert set(spec.settings) <= set(ENGINE_SETTINGS) and set(spec.settings) <= set(parameters)


def test_importing_the_table_loads_no_back_end() -> None:
    code = ("import sys; import fairmarket_local.critic.backends.table, fairmarket_local.critic.registry.manifests;"
            " print(sorted(m for m in sys.modules if m.endswith('_backend') or m in ('llama_cpp', 'torch')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_manifest_names_a_back_end_of_the_table(tmp_path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text("id: odd\nbackend: onnx\nweights: {path: x.gguf}\nsha256: " + "0" * 64 + "\nsize: 1\n"
                    "licence: test\n", encoding="utf-8")
    with pytest.raises(FairmarketError) as info:
        load_manifest(path)
    assert all(repr(name) in str(info.value) for name in BACKEND_NAMES), str(info.value)
    assert ModelManifest.model_validate({**get_model("smollm2-135m").model_dump(), "id": "x"}).backend == "llama_cpp"


def test_doctor_checks_every_back_end_of_the_table() -> None:
    checked = [c.name.removeprefix("back-end ") for c in run_checks() if c.name.startswith("back-end ")]
    assert checked == list(BACKEND_NAMES)
