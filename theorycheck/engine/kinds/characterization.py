"""Characterization claims: every minimiser has a property (``distance(**inputs, p=p) == 0``)."""

from __future__ import annotations

from ..optimize import judge_characterization
from ._optimising import OptimisingKind

__all__ = ["Characterization", "judge_characterization"]


class Characterization(OptimisingKind):
    """As optimum, and each run that reached the optimum is measured against the property."""

    name = "characterization"
    summary_keys = ("best_value", "claimed_optimum", "max_distance")
    required = (("optimum", "a callable (p) -> float"), ("distance", "a callable"))
    shrinks_sizes = True
    judge_fn = staticmethod(judge_characterization)
