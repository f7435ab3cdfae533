"""fairmarket-local: fairness-shaped multi-agent RL for P2P electricity markets, fully offline.

Docstrings cite the system specification as ``SPEC §N``: section N of ``docs/spec.md`` in the repository.
"""

from fairmarket_local.common.offline import apply_offline_guards

apply_offline_guards()

__version__ = "0.1.0"


def make_env(scenario="pilot", **overrides):
    """Build the PettingZoo env of a scenario (see :func:`fairmarket_local.env.make_env`)."""
    from fairmarket_local.env.make import make_env as _make_env

    return _make_env(scenario, **overrides)


__all__ = ["__version__", "make_env"]
