"""The amortized critic: a fairness model learned from a budget of a teacher critic's labels."""

from fairmarket_local.common.lazy import lazy_exports

_EXPORTS = {
    "AmortizeConfig": "config",
    "AmortizedCritic": "critic",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
