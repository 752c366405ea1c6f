"""policy_dsl: rules as code for policy documents.

Text → parse → model → check → compile → evaluate. Start with :func:`load`.
"""

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
