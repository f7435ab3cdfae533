"""Every public name of every package resolves (the packages load them lazily)."""

import importlib

import pytest

PACKAGES = ("baselines", "critic", "critic.amortized", "critic.memo", "env", "experiments", "market", "metrics",
            "profiles", "shaping", "training")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves(package: str) -> None:
    module = importlib.import_module(f"fairmarket_local.{package}")
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018
