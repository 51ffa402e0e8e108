"""Zhu et al. 2021, *A Geometric Analysis of Neural Collapse with Unconstrained Features* (zhu2021).

docs/theory.md section 4 (cross-entropy UFM with weight decay). Balanced labels, K classes of
n samples (N = nK), classifier ``W`` (K x d), features ``H`` as rows (N x d), bias ``b``:

.. math::

    f(W, H, b) = \\frac{1}{N}\\sum_i \\mathrm{CE}(W h_i + b, y_i) + \\frac{\\lambda_W}{2}\\|W\\|_F^2
                 + \\frac{\\lambda_H}{2}\\|H\\|_F^2 + \\frac{\\lambda_b}{2}\\|b\\|^2

(:func:`theorycheck.ufm.ce_ufm_objective`). Three claims, each as zhu2021 states it:

* ``zhu2021.ufm.etf`` (characterization) -- for ``d >= K - 1`` every global minimiser is
  a simplex ETF with self-duality: ``W W^T`` a multiple of ``I - 11^T/K``,
  ``h_i = sqrt(lambda_W/(lambda_H n)) w_{y_i}``, ``b = 0`` (``lambda_b > 0``) or constant.
* ``zhu2021.ufm.norms`` (characterization) -- the global minimiser has the closed-form
  norms and value of :func:`theorycheck.ufm.ce_ufm_global_minimiser` (derived from the
  structure zhu2021 proves; see its docstring and ``docs/ufm.md``).
* ``zhu2021.ufm.benign`` (landscape) -- for ``d > K`` the objective has no spurious
  local minima: every local minimum found from random starts attains ``f*``.

The global optimum these are judged against is the closed form ``f*``; if it were wrong,
the engine would find starts below it (REFUTED) or never reach it (INCONCLUSIVE).

Examples
--------
>>> from theorycheck.engine import registry
>>> registry.get("zhu2021.ufm.etf").kind, registry.get("zhu2021.ufm.benign").kind
('characterization', 'landscape')
"""

from __future__ import annotations

import functools

import numpy as np

from .. import strategies as st
from .. import ufm
from ..engine.claim import Assumption, Param, claim
from ..engine.sweep import Sweep

__all__ = ["ce_ufm_etf", "ce_ufm_norms", "ce_ufm_benign"]

CITE = ("zhu2021",)

D_GE_K_MINUS_1 = Assumption("d>=K-1", "feature dimension at least K - 1 (zhu2021's global optimality "
                                      "conditions)")
D_GT_K = Assumption("d>K", "feature dimension larger than K (zhu2021's benign-landscape theorem)")
WEIGHT_DECAY = Assumption("weight-decay", "lambda_W > 0 and lambda_H > 0 (without them the infimum 0 is "
                                          "not attained)")


#: The engine's amount of optimisation for these claims (random starts, L-BFGS iterations
#: per start): engine settings, not parameters of the statement; a Budget overrides them.
_SEARCH = {"starts": 16, "steps": 500}


def _params(d: int) -> tuple:
    return (
        Param("d", d, "feature dimension", min=1),
        Param("K", 4, "number of classes", min=2),
        Param("n_per_class", 3, "samples per class (balanced)", min=1),
        Param("lambda_W", 0.01, "weight decay of W", type=float, min=0.0),
        Param("lambda_H", 0.01, "weight decay of the features H", type=float, min=0.0),
        Param("lambda_b", 0.01, "weight decay of the bias b", type=float, min=0.0),
    )


@functools.lru_cache(maxsize=64)
def _balanced_labels(K: int, n: int) -> np.ndarray:
    labels = ufm.step_labels(K, n, 0, 1)
    labels.setflags(write=False)
    return labels


def _labels(p) -> np.ndarray:
    return _balanced_labels(p.K, p.n_per_class)


def _has_weight_decay(p) -> bool:
    return p.lambda_W > 0 and p.lambda_H > 0


def _minimiser(p) -> ufm.CEGlobalMinimiser:
    return ufm.ce_ufm_global_minimiser(p.K, p.n_per_class, p.lambda_W, p.lambda_H, p.lambda_b)


def _optimum(p) -> float:
    # without weight decay on W or H the CE can be driven to 0 by scaling: infimum 0, not attained
    return _minimiser(p).value if _has_weight_decay(p) else 0.0


def _witness(p) -> dict:
    if _has_weight_decay(p) and p.d >= p.K - 1:
        return _minimiser(p).construct(p.d)
    # no closed-form minimiser here (d < K - 1, or no weight decay): the zero point, value log K
    return {"W": np.zeros((p.K, p.d)), "H": np.zeros((p.K * p.n_per_class, p.d)), "b": np.zeros((1, p.K))}


def _inputs(p, active) -> dict:
    N = p.K * p.n_per_class
    return {"W": st.real_matrix(p.K, p.d, 1.0), "H": st.real_matrix(N, p.d, 1.0), "b": st.real_matrix(1, p.K, 1.0)}


def _requires(p, active) -> str | None:
    if "weight-decay" in active and not _has_weight_decay(p):
        return f"weight decay fails: lambda_W={p.lambda_W:g}, lambda_H={p.lambda_H:g} (both must be > 0)"
    if "d>=K-1" in active and p.d < p.K - 1:
        return f"d >= K-1 fails: d={p.d}, K={p.K} (a simplex ETF of K vectors needs K-1 dimensions)"
    if "d>K" in active and not p.d > p.K:
        return f"d > K fails: d={p.d}, K={p.K} (zhu2021 proves the benign landscape for d > K)"
    return None


def _objective(W, H, b, p):
    # the trusted core: the engine's spaces already give float arrays of the right shapes, and
    # the objective is called thousands of times per optimisation
    return ufm._ce_ufm_objective(W, H, b, _labels(p), p.lambda_W, p.lambda_H, p.lambda_b)


def _objective_and_grad(W, H, b, *, p):
    """The objective and its gradient in closed form (:func:`theorycheck.ufm.ce_ufm_value_and_grad`),
    for the landscape judge's optimiser; the trusted core, like :func:`_objective`."""
    value, (gW, gH, gb) = ufm._ce_ufm_value_and_grad(W, H, b, _labels(p), p.lambda_W, p.lambda_H, p.lambda_b)
    return value, {"W": gW, "H": gH, "b": gb}


def _etf_distance(W, H, b, *, p) -> float:
    return ufm.ce_etf_distance(W, H, b, _labels(p), lambda_W=p.lambda_W, lambda_H=p.lambda_H,
                               lambda_b=p.lambda_b)


def _norm_distance(W, H, b, *, p) -> float:
    return ufm.ce_norm_distance(W, H, _minimiser(p))


@claim(
    id="zhu2021.ufm.etf",
    statement_latex=r"(W^\star, H^\star, b^\star) \text{ global} \implies W W^\top \propto I_K - \tfrac{1}{K}\mathbf{1}\mathbf{1}^\top,\ \ h_i = \sqrt{\frac{\lambda_W}{\lambda_H n}}\, w_{y_i} \quad (d \ge K-1)",
    cite=CITE,
    kind="characterization",
    statement=("Regularised CE unconstrained-features model (balanced, lambda_W, lambda_H > 0): for d >= K-1 "
               "every global minimiser is a simplex ETF with self-duality -- ||w_k|| equal, W W^T proportional "
               "to I - 11^T/K, h_i = sqrt(lambda_W/(lambda_H n)) w_{y_i}, and b = 0 (lambda_b > 0) or b "
               "constant (lambda_b = 0)"),
    params=_params(4),
    search=_SEARCH,
    assumptions=(D_GE_K_MINUS_1, WEIGHT_DECAY),
    inputs=_inputs,
    optimum=_optimum,
    witness=_witness,
    distance=_etf_distance,
    requires=_requires,
    family="ufm",
    summary_keys=("best_value", "claimed_optimum", "max_distance"),
)
def ce_ufm_etf(W, H, b, *, p):
    """f(W, H, b) = mean CE(W h_i + b, y_i) + lambda_W/2 ||W||^2 + lambda_H/2 ||H||^2 + lambda_b/2 ||b||^2."""
    return _objective(W, H, b, p)


@claim(
    id="zhu2021.ufm.norms",
    statement_latex=r"f^\star = -\log\bigl(1 - (K-1)s\bigr) + (K-1)s\log\Bigl(\frac{1}{s} - (K-1)\Bigr), \qquad s = \sqrt{n\lambda_W\lambda_H}",
    cite=CITE,
    kind="characterization",
    statement=("Regularised CE unconstrained-features model, d >= K-1: the global minimum is "
               "f* = -log(1 - (K-1)s) + (K-1) s log(1/s - (K-1)) with s = sqrt(n lambda_W lambda_H) (log K and "
               "W = H = 0 when K s >= 1), attained with ||w_k||^2 = (K-1)/K sqrt(n lambda_H/lambda_W) "
               "log(1/s - (K-1)) for every k and ||h_i|| = sqrt(lambda_W/(lambda_H n)) ||w_{y_i}|| (closed form "
               "of zhu2021's global minimiser, derived in theorycheck.ufm.ce_ufm_global_minimiser)"),
    params=_params(4),
    search=_SEARCH,
    assumptions=(D_GE_K_MINUS_1, WEIGHT_DECAY),
    inputs=_inputs,
    optimum=_optimum,
    witness=_witness,
    distance=_norm_distance,
    requires=_requires,
    family="ufm",
    summary_keys=("best_value", "claimed_optimum", "max_distance"),
)
def ce_ufm_norms(W, H, b, *, p):
    """The regularised CE UFM objective; ``distance`` = deviation of the row norms from the closed form."""
    return _objective(W, H, b, p)


@claim(
    id="zhu2021.ufm.benign",
    statement_latex=r"\text{every local minimiser of } f(W, H, b) \text{ attains } f^\star \quad (d > K)",
    cite=CITE,
    kind="landscape",
    statement=("Regularised CE unconstrained-features model: for d > K the objective has no spurious local "
               "minima -- every local minimiser attains the global minimum f* (zhu2021)"),
    params=_params(5),
    search=_SEARCH,
    assumptions=(D_GT_K, WEIGHT_DECAY),
    inputs=_inputs,
    optimum=_optimum,
    requires=_requires,
    family="ufm",
    summary_keys=("starts", "global_fraction", "worst_gap", "n_candidates"),
    # the per-dimension report (d = K-2 .. K+1, every assumption dropped), run by the engine
    sweep=Sweep(param="d", values=ufm.dimensions_around_k, key="success_by_dimension", row=ufm.landscape_row),
    gradient=_objective_and_grad,
)
def ce_ufm_benign(W, H, b, *, p):
    """The regularised CE UFM objective (landscape: every local minimum should attain f*)."""
    return _objective(W, H, b, p)
