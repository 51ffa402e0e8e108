"""The claim engine: claims, registry, search, confirmation, shrinking and verdicts.

The engine knows no paper: it judges any :class:`Claim` from its declaration alone.

>>> from theorycheck.engine import Budget, Verdict
>>> Budget(seconds=2.0).plan().hypothesis_examples, Verdict.HOLDS.value
(40, 'HOLDS')
"""

from . import registry
from .claim import Assumption, Claim, ClaimError, Inconclusive, Param, Params, claim
from .results import (
    AblationResult,
    Budget,
    ClaimResult,
    Counterexample,
    JudgeContext,
    KindOutcome,
    Plan,
    Verdict,
)

__all__ = [
    "registry",
    "Assumption",
    "Claim",
    "ClaimError",
    "Inconclusive",
    "Param",
    "Params",
    "claim",
    "AblationResult",
    "Budget",
    "ClaimResult",
    "Counterexample",
    "JudgeContext",
    "KindOutcome",
    "Plan",
    "Verdict",
    "judge",
]


from .judge import judge  # noqa: E402  (binds the function over the submodule name)
