"""Air gap: the guards are set on import and a whole simulation opens no network connection."""

import os
import socket

import pytest

import fairmarket_local  # noqa: F401  (sets the guards)
from fairmarket_local.baselines import simulate
from fairmarket_local.common.offline import OFFLINE_ENV


def test_offline_guards_are_set():
    for key in OFFLINE_ENV:
        assert key in os.environ


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network connection attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_simulation_makes_no_network_connection(no_network):
    result = simulate("mixed", policy="zi", days=1, record_slots=True)
    assert result.metrics["kpis"]["constraint_violations"] == 0
