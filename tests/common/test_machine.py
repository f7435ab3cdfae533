"""The compute dtype follows the CPU: bf16 only where it is native."""

import pytest

from fairmarket_local.common import machine


def test_auto_is_bf16_only_where_the_cpu_has_it(monkeypatch) -> None:
    for flags, expected in ((frozenset({"avx2", "avx512f", "avx512_bf16"}), "bfloat16"),
                            (frozenset({"avx2", "fma"}), "float32"), (frozenset({"amx_bf16"}), "bfloat16")):
        monkeypatch.setattr(machine, "cpu_flags", lambda flags=flags: flags)
        assert machine.compute_dtype("auto") == expected
        assert machine.compute_dtype("float32") == "float32"
    with pytest.raises(ValueError, match="not one of"):
        machine.compute_dtype("f16")


def test_machine_info_names_the_cpu_and_its_instruction_set() -> None:
    info = machine.machine_info("numpy")
    assert info["cpu"] and info["isa"] and info["cores"] and "numpy" in info
    assert info["native_bf16"] == (machine.compute_dtype() == "bfloat16")
