"""Errors a claim can raise or cause: :class:`ClaimError` and :class:`Inconclusive`.

They live apart from the claim model so that every engine module (search, optimiser,
kinds) can raise them without importing :mod:`theorycheck.engine.claim`, which keeps the
package free of import cycles.
"""

from __future__ import annotations

from .._validation import PicklableError

__all__ = ["ClaimError", "Inconclusive", "Discarded", "assume"]


class ClaimError(PicklableError, Exception):
    """A claim is ill-defined or its evaluator misbehaved (raised, returned NaN, wrong arity).

    The message names the claim and, where there is one, the input that triggered it.
    The engine raises this instead of letting a user's exception escape from deep inside
    a search.
    """

    def __init__(self, claim_id: str, message: str):
        self.claim_id = claim_id
        super().__init__(f"claim {claim_id!r} {message}")


class Inconclusive(ClaimError):
    """Raised by a claim's own function when its numerics cannot decide (a convex solver that
    does not reach an optimal status, a closed form outside its range of accuracy, ...).

    The engine turns it into the verdict INCONCLUSIVE with ``reason`` in the evidence,
    not into an error. It is a :class:`ClaimError` so that every wrapper that passes claim
    errors through unchanged passes it through too.
    """

    def __init__(self, reason: str, claim_id: str = "?"):
        self.reason = reason
        super().__init__(claim_id, f"is inconclusive: {reason}")


class Discarded(Exception):
    """Raised by :func:`assume` inside an evaluator: this input is outside the claim's domain.

    Not a :class:`ClaimError`: the engine catches it where it calls the evaluator, drops
    the input (it is neither evidence for nor against the claim) and counts it in
    ``evidence["discarded"]``.
    """


def assume(condition) -> bool:
    """Discard the current input unless ``condition`` is true (as ``hypothesis.assume``).

    Call it inside a claim's evaluator for a degenerate input the statement excludes
    (``assume(xp.norm(u) > 0)``); the condition may be a Python or numpy bool, a 0-d
    tensor or an mpmath comparison. The engine judges only the inputs kept: a claim
    whose evaluator discards *every* input tried is VACUOUS (``evidence["reason"]``
    says so), and ``evidence["discarded"]`` counts the inputs dropped.

    Returns
    -------
    bool
        True (so ``assume`` can sit in an expression); never returns otherwise.

    Raises
    ------
    Discarded
        When ``condition`` is false; the engine catches it.
    """
    if not bool(condition):
        raise Discarded()
    return True
