"""theorycheck: verify theorems about learned representation geometry.

Find and confirm counterexamples to claims about cross-entropy and supervised
contrastive optima, the unconstrained-features landscape and self-supervised
losses; train encoders and measure how close they get to the theory.
"""

__version__ = "0.1.0"

from ._validation import InvalidArgumentError, InvalidArgumentTypeError  # noqa: E402
from . import strategies  # noqa: E402
from .engine import Assumption, Budget, Claim, Param, Verdict, claim, judge  # noqa: E402

__all__ = [
    "__version__",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "Assumption",
    "Budget",
    "Claim",
    "Param",
    "Verdict",
    "claim",
    "judge",
    "strategies",
]
