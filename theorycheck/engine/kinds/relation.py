"""Identity and inequality claims: ``lhs <relation> rhs`` at every admissible input.

Judged by search (:mod:`theorycheck.engine.search`), high-precision confirmation
(:mod:`theorycheck.engine.confirm`) and shrinking (:mod:`theorycheck.engine.shrink`). An
identity with ``proof=`` runs the exact proof first (``proved_exactly``); a closed proof
is still followed by a short numeric sanity search, so a proof of the wrong statement
shows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._validation import fail
from ..results import Budget, JudgeContext, KindOutcome, Verdict
from ..domain import all_discarded_reason
from ..exhaustive import finite_points
from ..search import search_evidence, search_relation
from ..shrink import shrink_counterexample
from .base import Kind

__all__ = ["Identity", "Inequality", "judge_relation"]


def judge_relation(ctx: JudgeContext, *, shrink: bool = True, quick: bool = False) -> KindOutcome:
    """Judge an identity or inequality: search, confirm, shrink, and decide the verdict."""
    state = search_relation(ctx, quick=quick)
    evidence = search_evidence(ctx, state)
    if state.confirmed is not None:
        conf, cand = state.confirmed
        found_in = cand.phase
        evidence["found_in_phase"] = found_in
        cx = ctx.counterexample(cand.inputs, conf.lhs, conf.rhs, conf.margin, conf.precision_digits,
                                note=f"found by the {found_in} search")
        if shrink:
            cx, shrink_evidence = shrink_counterexample(ctx, cx)
            evidence["shrink"] = shrink_evidence
        return KindOutcome(Verdict.REFUTED, evidence, cx)
    if state.undecided:
        return KindOutcome(Verdict.INCONCLUSIVE, evidence, None)
    if all_discarded_reason(state):  # assume() rejected every input: nothing was judged
        return KindOutcome(Verdict.VACUOUS, evidence, None)
    short = _cut_short(ctx, state)
    if short is not None:
        evidence["reason"] = short
        return KindOutcome(Verdict.INCONCLUSIVE, evidence, None)
    if ctx.claim.trivial is not None and state.trivial_checked and state.informative == 0:
        evidence["reason"] = ("the claimed bound is never tighter than the trivial bound on the "
                              f"{state.trivial_checked} inputs tried")
        return KindOutcome(Verdict.VACUOUS, evidence, None)
    return KindOutcome(Verdict.HOLDS, evidence, None)


def _cut_short(ctx: JudgeContext, state: Any) -> str | None:
    """Why the deadline left the search without the evidence a HOLDS needs, or None.

    A HOLDS needs evaluated inputs beyond the special ones: some random inputs, or a start of
    the local optimiser that converged. A search cut before that has looked at too little."""
    if state.stopped_by != "deadline":
        return None
    if state.finite and all((pts := finite_points(s, 1)) is not None and len(pts) == 1
                            for s in ctx.spaces.values()):
        return None  # a single fixed input, evaluated: nothing more to search
    if state.finite == 0:
        return "budget too small: the deadline stopped the search before any input was evaluated"
    random_inputs = state.tried["hypothesis"] + state.tried["random"]
    continuous = any(s.continuous for s in ctx.spaces.values())
    if random_inputs == 0 and (state.starts_converged == 0 or not continuous):
        return (f"budget too small: the deadline stopped the search after {state.total} inputs, before "
                "its random phases ran or the local optimiser finished a start (raise --budget)")
    return None


class Inequality(Kind):
    """``lhs <relation> rhs`` with relation one of ``<= >= < >``; ``trivial=`` allowed."""

    name = "inequality"
    summary_keys = ("inputs_tried", "worst_slack")
    states_relation = True
    returns_pair = True
    allows_trivial = True
    needs_relation = True

    def check(self, claim: Any) -> None:
        if claim.relation == "==":
            raise fail("relation", f"claim {claim.id!r}", "one of '<=', '>=', '<', '>' for an inequality",
                       claim.relation)
        super().check(claim)

    def judge(self, ctx: JudgeContext) -> KindOutcome:
        return judge_relation(ctx)


def _proof_closed(result: Any) -> bool:
    """Duck-typed ProofResult: a bool, or an object with ``closed`` / ``proved`` / ``holds``."""
    if isinstance(result, (bool, np.bool_)):
        return bool(result)
    for attr in ("closed", "proved", "holds"):
        if hasattr(result, attr):
            value = getattr(result, attr)
            return bool(value() if callable(value) else value)
    return False


def _proof_refutation(result: Any) -> str | None:
    """The first step a (duck-typed) proof result refutes in exact arithmetic, as text, or None.

    A step counts when its ``status`` is ``"refuted"``: the prover exhibited an exact
    instance with a non-zero difference (``theorycheck.symbolic.ProofStep``)."""
    for step in getattr(result, "steps", None) or ():
        if getattr(step, "status", None) == "refuted":
            instance = getattr(step, "counterexample", None)
            text = f"step {getattr(step, 'name', '?')!s}: {getattr(step, 'statement', '')!s}"
            return text + (f"; exact instance {instance!s}" if instance is not None else "")
    return None


def _run_proof(ctx: JudgeContext) -> tuple[Any, bool, str]:
    """``(proof result or None, closed, status text)``; a proof that cannot run did not close."""
    try:
        result = ctx.claim.proof(ctx.params)
    except Exception as exc:  # noqa: BLE001 - reported as the proof's status, never a crash
        from ...symbolic import ProofNotAttempted  # sympy is loaded only when a proof failed

        if isinstance(exc, ProofNotAttempted):
            return None, False, f"not attempted: {exc}"
        return None, False, f"error: {type(exc).__name__}: {exc}"
    closed = _proof_closed(result)
    return result, closed, "closed" if closed else "open"


class Identity(Kind):
    """``lhs == rhs``; with ``proof=`` the exact proof is tried first."""

    name = "identity"
    summary_keys = ("inputs_tried", "worst_slack")
    states_relation = True
    returns_pair = True

    def check(self, claim: Any) -> None:
        if claim.relation != "==":
            raise fail("relation", f"claim {claim.id!r}", "'==' for an identity", claim.relation)
        super().check(claim)

    def judge(self, ctx: JudgeContext) -> KindOutcome:
        if ctx.claim.proof is None:
            return judge_relation(ctx)
        result, closed, status = _run_proof(ctx)
        if not closed:
            return self._unproved(ctx, result, status)
        # Proved: a short numeric sanity search still runs, so a proof of the wrong statement shows.
        sanity = JudgeContext(claim=ctx.claim, params=ctx.params, active=ctx.active, spaces=ctx.spaces,
                              budget=Budget(seconds=None, examples=40), rng=ctx.rng, seed=ctx.seed,
                              deadline=ctx.deadline)
        outcome = judge_relation(sanity, quick=True)
        if outcome.verdict is Verdict.REFUTED:
            outcome.evidence["proof"] = "closed, but contradicted by a confirmed counterexample"
            return outcome
        outcome.evidence["proof"] = "closed"
        return KindOutcome(Verdict.HOLDS, outcome.evidence, None, proved_exactly=True)

    @staticmethod
    def _unproved(ctx: JudgeContext, result: Any, status: str) -> KindOutcome:
        outcome = judge_relation(ctx)
        outcome.evidence["proof"] = status
        refutation = _proof_refutation(result)
        if refutation is not None and outcome.verdict in (Verdict.HOLDS, Verdict.INCONCLUSIVE):
            # Exact arithmetic already found the identity false: a budget too short for the
            # float search to confirm a counterexample must not read as HOLDS.
            outcome.verdict = Verdict.INCONCLUSIVE
            outcome.evidence["proof"] = "refuted in exact arithmetic"
            outcome.evidence["proof_refutation"] = refutation
            outcome.evidence["reason"] = ("the exact proof found a non-zero difference, but no float "
                                          "counterexample was confirmed within the budget (raise --budget)")
        return outcome
