"""Optimum claims: ``optimum(p)`` is the minimum of the evaluator over the input spaces."""

from __future__ import annotations

from typing import Any


from ._optimising import below_counterexample, optimise_and_classify, make_outcome
from ._optimising import OptimisingKind

__all__ = ["Optimum", "judge_optimum"]


def judge_optimum(ctx: Any):
    r"""Judge an ``optimum`` claim: ``optimum(p)`` is the minimum of the evaluator.

    Multi-start L-BFGS (special starts from ``Space.special()``, at most half, then random
    draws) minimises ``claim.evaluate(**inputs, p=p)``; the claim's ``witness(p)``, if
    given, is evaluated too.

    Verdict
        REFUTED if some input's objective, re-evaluated in mpmath (60 digits), is below
        ``c = optimum(p)`` by more than the tolerance of :func:`optimum_tolerance` plus the
        constraint noise (module docstring); HOLDS if nothing goes below and at least one
        start reaches ``c`` within the tolerance (or, on a finite space enumerated
        exhaustively, some point does; the witness alone is not enough); INCONCLUSIVE if the
        optimum is never reached and nothing goes below (e.g. a claimed optimum that is
        too low, or a budget too small).

    Evidence
        ``claimed_optimum, best_value, gap, relative_gap, tolerance, n_starts,
        n_special_starts, reached, below_in_float, witness_value, witness_reaches,
        worst_value, median_value, final_values, grad_norms, median_steps, converged,
        method, max_steps, traces, stopped_by_deadline, confirm_digits`` and, when
        refuted, ``counterexample_value`` (the mp value as a 25-digit string).
    """
    o = optimise_and_classify(ctx, use_special=True, default_steps=300)
    claimed, reached, confirmed, evidence = o.claimed, o.reached, o.confirmed, o.evidence
    if confirmed is not None:
        evidence["counterexample_value"] = confirmed[3]["value_digits"]
        return make_outcome("REFUTED", evidence, below_counterexample(ctx, claimed, confirmed))
    # HOLDS needs a start that reached c: a witness alone shows c is attained, not that it is minimal
    if reached and not evidence["undecided"]:
        return make_outcome("HOLDS", evidence, None)
    return make_outcome("INCONCLUSIVE", evidence, None)


class Optimum(OptimisingKind):
    """Multi-start local optimisation; REFUTED by a high-precision confirmed value below the optimum."""

    name = "optimum"
    summary_keys = ("best_value", "claimed_optimum")
    required = (("optimum", "a callable (p) -> float"),)
    shrinks_sizes = True
    judge_fn = staticmethod(judge_optimum)
