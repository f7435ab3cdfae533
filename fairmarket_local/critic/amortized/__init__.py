"""The amortized critic: a fairness model learned from a budget of a teacher critic's labels."""

from fairmarket_local.common.lazy import lazy_exports

__all__ = ["AmortizeConfig", "AmortizedCritic"]
__getattr__, __dir__ = lazy_exports(__name__, __all__)
