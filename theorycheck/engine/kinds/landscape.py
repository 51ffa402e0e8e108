"""Landscape claims: every local minimum has the global value ``optimum(p)`` (no spurious minima)."""

from __future__ import annotations

from ..optimize import judge_landscape
from ._optimising import OptimisingKind

__all__ = ["Landscape", "judge_landscape"]


class Landscape(OptimisingKind):
    """Many starts; a stalled start above the optimum is examined (Hessian, escape test, mp value)."""

    name = "landscape"
    summary_keys = ("starts", "global_fraction")
    required = (("optimum", "a callable (p) -> float"),)
    shrinks_sizes = True
    judge_fn = staticmethod(judge_landscape)
