"""Former home of the optimiser and the optimisation judges, kept so existing imports work.

The optimiser is :mod:`theorycheck.engine.optim` (local optimisation, manifold
diagnostics); the judges are the kinds in :mod:`theorycheck.engine.kinds` (optimum,
characterization, landscape, statistical), with the distances between runs in
:mod:`theorycheck.engine.kinds.landscape`. New code imports from there.
"""

from __future__ import annotations

from .kinds._optimising import optimum_tolerance
from .kinds.characterization import judge_characterization
from .kinds.landscape import judge_landscape, pairwise_alignment_distances, pairwise_gram_distances
from .kinds.optimum import judge_optimum
from .kinds.statistical import judge_statistical
from .optim import (
    NonDifferentiableProjection,
    NonFiniteObjective,
    Run,
    minimize,
    riemannian_gradient,
    tangent_hessian,
    tangent_hessian_min_eig,
)

__all__ = [
    "Run",
    "minimize",
    "riemannian_gradient",
    "tangent_hessian",
    "tangent_hessian_min_eig",
    "pairwise_alignment_distances",
    "pairwise_gram_distances",
    "optimum_tolerance",
    "NonFiniteObjective",
    "NonDifferentiableProjection",
    "judge_optimum",
    "judge_characterization",
    "judge_landscape",
    "judge_statistical",
]
