"""Statistical claims: a per-draw statistic has the expected mean and/or variance."""

from __future__ import annotations

from ..optimize import judge_statistical
from ._optimising import OptimisingKind

__all__ = ["Statistical", "judge_statistical"]


class Statistical(OptimisingKind):
    """Monte-Carlo draws from the spaces; normal confidence intervals with Bonferroni correction."""

    name = "statistical"
    summary_keys = ("mean", "expected")
    required = (("expected", "a callable (p) -> float"),)
    judge_fn = staticmethod(judge_statistical)
