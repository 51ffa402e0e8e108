"""theorycheck: verify theorems about learned representation geometry.

Find and confirm counterexamples to claims about cross-entropy and supervised
contrastive optima, the unconstrained-features landscape and self-supervised
losses; train encoders and measure how close they get to the theory.
"""

from ._version import __version__

from ._validation import InvalidArgumentError, InvalidArgumentTypeError, MissingDependencyError  # noqa: E402
from . import strategies  # noqa: E402
from .engine import Assumption, Budget, Claim, Param, Verdict, claim, judge  # noqa: E402

__all__ = [
    "__version__",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "MissingDependencyError",
    "Assumption",
    "Budget",
    "Claim",
    "Param",
    "Verdict",
    "claim",
    "judge",
    "strategies",
]
