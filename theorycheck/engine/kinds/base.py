"""The :class:`Kind` interface: what a claim of a kind must provide, how it is judged.

A kind is an object, not a string the engine tests: :func:`theorycheck.engine.judge`
asks ``claim.kind_spec`` to check the claim (:meth:`Kind.check`) and to judge it
(:meth:`Kind.judge`), and reads its capabilities (:attr:`Kind.uses_inputs`,
:attr:`Kind.states_relation`, :attr:`Kind.shrinks_sizes`) instead of comparing names.
Adding a kind means one new module under ``theorycheck/engine/kinds/`` with a subclass,
one entry in :data:`theorycheck.engine.kinds.KINDS`, its tests and the docs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..._validation import fail

if TYPE_CHECKING:  # typing only: the claim model imports the kinds, not the other way round
    from ..results import JudgeContext, KindOutcome

__all__ = ["Kind"]


class Kind:
    """One kind of claim (identity, inequality, optimum, ...).

    Attributes
    ----------
    name : str
        The name a claim gives as ``kind=`` (and reports show).
    summary_keys : tuple of str
        Evidence numbers a summary table shows by default.
    required : tuple of (str, str)
        Claim fields this kind needs, each with what it must be (for the error message).
    uses_inputs : bool
        The claim has input spaces and an evaluator (False: it runs itself, ``run=``).
    states_relation : bool
        A counterexample carries the claim's ``relation`` (``lhs <relation> rhs``).
    shrinks_sizes : bool
        A refutation is re-judged at smaller sizes (its counterexample comes out of a whole
        optimisation, so shrinking it re-runs the judge).
    returns_pair : bool
        The evaluator returns ``(lhs, rhs)`` (else one number).
    """

    name: str = ""
    summary_keys: tuple = ()
    required: tuple = ()
    uses_inputs: bool = True
    states_relation: bool = False
    shrinks_sizes: bool = False
    returns_pair: bool = False
    #: The claim must state its relation (``relation="<="``, ...): there is no default.
    needs_relation: bool = False

    def check(self, claim: Any) -> None:
        """Raise ``InvalidArgumentError`` naming the field when ``claim`` lacks what this kind needs."""
        where = f"claim {claim.id!r}"
        if self.uses_inputs:
            if claim.evaluate is None:
                raise fail("evaluate", where, "a callable (the decorated function)", None)
            if claim.inputs is None:
                raise fail("inputs", where, "a callable (p, active) -> dict of spaces", None)
        for field_name, what in self.required:
            if getattr(claim, field_name) is None:
                raise fail(field_name, where, f"{what} for kind {self.name!r}", None)
        if claim.trivial is not None and not self.allows_trivial:
            raise fail("trivial", where, "given only for an inequality", claim.trivial)

    #: Whether ``trivial=`` (a bound the claim must beat to be informative) makes sense.
    allows_trivial: bool = False

    def judge(self, ctx: "JudgeContext") -> "KindOutcome":
        """The verdict, evidence and counterexample for one context (fixed params and assumptions)."""
        raise NotImplementedError(f"kind {self.name!r} does not implement judge")

    def __repr__(self) -> str:
        return f"<kind {self.name}>"
