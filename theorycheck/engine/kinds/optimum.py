"""Optimum claims: ``optimum(p)`` is the minimum of the evaluator over the input spaces."""

from __future__ import annotations

from ..optimize import judge_optimum
from ._optimising import OptimisingKind

__all__ = ["Optimum", "judge_optimum"]


class Optimum(OptimisingKind):
    """Multi-start local optimisation; REFUTED by a high-precision confirmed value below the optimum."""

    name = "optimum"
    summary_keys = ("best_value", "claimed_optimum")
    required = (("optimum", "a callable (p) -> float"),)
    shrinks_sizes = True
    judge_fn = staticmethod(judge_optimum)
