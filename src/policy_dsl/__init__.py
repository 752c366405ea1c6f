"""policy_dsl: rules as code for policy documents.

Text → parse → model → check → compile → evaluate. Start with :func:`load`.

The names below are imported when first used (PEP 562), so that a command that needs only part of
the library — ``policy --help``, say — does not pay for the parser and the compiler at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from policy_dsl.errors import (
        Diagnostic,
        FactsError,
        PolicyCheckError,
        PolicyError,
        PolicyLoadError,
        PolicySyntaxError,
    )
    from policy_dsl.evaluate import BenefitOutcome, DutyOutcome, Outcome
    from policy_dsl.policy import Policy, load, loads
    from policy_dsl.values import Duration, Money, Percent

#: Each public name → the module that defines it.
_HOMES = {
    "Diagnostic": "policy_dsl.errors",
    "FactsError": "policy_dsl.errors",
    "PolicyCheckError": "policy_dsl.errors",
    "PolicyError": "policy_dsl.errors",
    "PolicyLoadError": "policy_dsl.errors",
    "PolicySyntaxError": "policy_dsl.errors",
    "BenefitOutcome": "policy_dsl.evaluate",
    "DutyOutcome": "policy_dsl.evaluate",
    "Outcome": "policy_dsl.evaluate",
    "Policy": "policy_dsl.policy",
    "load": "policy_dsl.policy",
    "loads": "policy_dsl.policy",
    "Duration": "policy_dsl.values",
    "Money": "policy_dsl.values",
    "Percent": "policy_dsl.values",
}

__all__ = [
    "BenefitOutcome",
    "Diagnostic",
    "Duration",
    "DutyOutcome",
    "FactsError",
    "Money",
    "Outcome",
    "Percent",
    "Policy",
    "PolicyCheckError",
    "PolicyError",
    "PolicyLoadError",
    "PolicySyntaxError",
    "load",
    "loads",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'policy_dsl' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
