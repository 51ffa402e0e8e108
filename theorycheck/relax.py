"""Convex relaxation certificates for the supervised-contrastive unconstrained-features model.

The SC loss of the unconstrained-features model (UFM; docs/theory.md section 4, behnia2024)
depends on the features only through their Gram matrix ``G``:

.. math::

    L(G) = \\sum_i \\Big[ \\operatorname{LSE}_{l \\ne i}(G_{il}/\\tau)
           - \\frac{1}{n_{y_i} - 1} \\sum_{j \\in P(i)} G_{ij}/\\tau \\Big],
    \\qquad P(i) = \\{ j \\ne i : y_j = y_i \\}.

``L`` is convex in ``G``. Minimising it over ``{G PSD, diag(G) = 1}`` (the elliptope)
drops only the constraint ``rank(G) <= d``, so the optimum is a lower bound on the UFM
loss in every dimension ``d``; a minimiser of rank ``<= d`` is a global UFM minimiser,
recovered from its top eigenpairs.

This module provides

* the loss as a function of ``G`` (:func:`sc_gram_loss`, any backend: numpy, torch,
  mpmath), of features (:func:`ufm_sc_loss`, rows ``h_i``) and as a cvxpy expression
  (:func:`sc_gram_loss_expr`);
* the full relaxation (:func:`sc_relaxation`) with a certificate: the solver's optimum,
  a *certified* lower bound computed from a dual point (:func:`gram_lower_bound`), an
  upper bound attained by a feasible Gram matrix, the spectrum and rank of ``G*``, and
  the loss of features recovered in each ``d`` (:meth:`RelaxationResult.tightness`);
* symmetry-reduced programs with class-level variables for balanced labels
  (:func:`sc_relaxation_reduced`), STEP imbalance (:func:`sc_relaxation_step`) and any
  class sizes (:func:`sc_relaxation_class_sizes`), valid for any ``N`` (``N = 10^4`` in
  milliseconds; the cost grows with the number of distinct class sizes), with the same
  kind of certificate in closed form and the class-mean geometry. The derivation is in
  ``docs/relax.md``;
* graf2021's SC loss summed over a batch set (multiset, subset, ordered; docs/theory.md
  section 3): :func:`batch_sc_relaxation` (reduced by the same symmetry, certified at any
  N), :func:`check_batch_sc_certificate` (re-check without a solver) and
  :func:`batch_sc_simplex_value` (the collapsed simplex for any class sizes);
  ``docs/relax.md`` section 8.

Conventions: features are the **rows** of ``H`` (shape ``(N, d)``, ``G = H H^T``), as
for ``Z`` elsewhere in theorycheck; the loss is the **sum** over anchors (not the mean),
as docs/theory.md writes it. Solvers minimise the mean per anchor (``L / N``) so that their
absolute tolerances mean the same at every ``N``; reported values are rescaled to the sum.

References
----------
behnia2024, zhu2021, graf2021 (keys of :mod:`theorycheck.citations`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from . import backend as xp
from ._validation import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_labels,
    check_real,
    check_size,
    fail,
    is_torch,
    representable,
    MAX_DPS,
    MAX_ITERS,
)

#: The most anchor configurations (rows) :func:`batch_sc_relaxation` and
#: :func:`batch_sc_simplex_value` enumerate; they grow like b^(T+1) for T distinct class
#: sizes (500,000 rows take about 4 s on a 2-core box). Above it ``b`` is refused by name.
MAX_BATCH_ROWS = 1_000_000

__all__ = [
    "RelaxationError",
    "SolverUnavailableError",
    "RelaxationResult",
    "ReducedRelaxationResult",
    "Tightness",
    "sc_gram_loss",
    "sc_gram_loss_expr",
    "ufm_sc_loss",
    "sc_relaxation",
    "sc_relaxation_reduced",
    "sc_relaxation_step",
    "sc_relaxation_class_sizes",
    "recover_features",
    "gram_lower_bound",
    "BatchRelaxationResult",
    "BatchSCCertificate",
    "batch_sc_relaxation",
    "batch_sc_simplex_value",
    "check_batch_sc_certificate",
]

SOLVERS = ("scs", "clarabel")
CONSTRAINTS = ("sphere", "ball")
_CVXPY_NAMES = {"scs": "SCS", "clarabel": "CLARABEL"}
_MACHINE_EPS = float(np.finfo(np.float64).eps)


# --------------------------------------------------------------------------------------
# errors


class RelaxationError(RuntimeError):
    """The solver did not return an optimal solution; no number is reported.

    Attributes
    ----------
    status : str or None
        cvxpy status (``"optimal_inaccurate"``, ``"user_limit"``, ``"infeasible"``, ...),
        or None when the solver raised before returning one.
    solver : str
        ``"scs"`` or ``"clarabel"``.
    """

    def __init__(self, message: str, *, status: str | None = None, solver: str = ""):
        self.status = status
        self.solver = solver
        super().__init__(message)


class SolverUnavailableError(RelaxationError):
    """The requested solver is a valid choice but is not installed for cvxpy."""


# --------------------------------------------------------------------------------------
# labels and the loss


def _check_tau(tau: Any, caller: str) -> float:
    return check_real(tau, "tau", caller, gt=0.0)


def _check_sc_labels(y: Any, caller: str, *, n: int | None = None) -> np.ndarray:
    """Labels for the SC loss: integers, >= 2 distinct classes, every class >= 2 samples."""
    labels = check_labels(y, "y", caller, n=n)
    classes, counts = np.unique(labels, return_counts=True)
    if classes.size < 2:
        raise fail("y", caller, "labels with at least 2 distinct classes", y)
    if counts.min() < 2:
        lonely = int(classes[np.argmin(counts)])
        raise fail(
            "y",
            caller,
            "labels in which every class has at least 2 samples, so every anchor has a "
            f"positive (class {lonely} has {int(counts.min())})",
            y,
        )
    return labels


def _positive_weights_np(labels: np.ndarray) -> np.ndarray:
    """C with C_ij = 1/(n_{y_i} - 1) for j in P(i), else 0 (float64)."""
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    counts = np.bincount(labels)[labels]
    return same / (counts - 1.0)[:, None]


def _positive_weights_like(labels: np.ndarray, like: Any):
    """The weights C in the number system of ``like`` (mpf weights are exact 1/(n-1))."""
    if xp.kind(like) == "mp":
        import mpmath

        same = labels[:, None] == labels[None, :]
        np.fill_diagonal(same, False)
        counts = np.bincount(labels)[labels]
        row = np.array([mpmath.mpf(1) / (int(c) - 1) for c in counts], dtype=object)
        zero = mpmath.mpf(0)
        return np.where(same, row[:, None], zero)
    weights = _positive_weights_np(labels)
    if is_torch(like):
        import torch

        return torch.as_tensor(weights, dtype=like.dtype, device=like.device)
    return weights


def _sc_gram_loss(G, labels: np.ndarray, tau: float):
    """Trusted-input core of :func:`sc_gram_loss` (any backend)."""
    n = labels.shape[0]
    tau_ = xp.scalar(tau, G)
    logits = G / tau_
    # LSE over l != i: mask the diagonal with -inf (exp(-inf) = 0 in all three backends,
    # and torch's logsumexp gives masked entries a zero gradient).
    off_diagonal = xp.where(np.eye(n, dtype=bool), xp.scalar(float("-inf"), G), logits)
    anchor_lse = xp.logsumexp(off_diagonal, axis=1)
    weights = _positive_weights_like(labels, G)
    return xp.sum(anchor_lse) - xp.sum(weights * G) / tau_


@representable("G", "tau")
def sc_gram_loss(G, y, tau):
    """SC loss of the unconstrained-features model as a function of the Gram matrix.

    .. math::

        L(G) = \\sum_i \\Big[ \\operatorname{LSE}_{l \\ne i}(G_{il}/\\tau)
               - \\frac{1}{n_{y_i}-1} \\sum_{j \\in P(i)} G_{ij}/\\tau \\Big]

    (docs/theory.md section 4; behnia2024). Row ``i`` of ``G`` is read as the inner products
    of anchor ``i``; for a symmetric ``G`` this is the usual loss. The diagonal does not
    enter. The value is a sum over anchors, not a mean.

    Parameters
    ----------
    G : array of shape (N, N)
        float64 numpy, torch (autograd is kept) or a numpy object array of ``mpmath.mpf``.
    y : array of shape (N,)
        Integer labels; at least 2 classes, every class with at least 2 samples.
    tau : float
        Temperature, > 0.

    Returns
    -------
    scalar in the number system of ``G``.

    Examples
    --------
    Collapsed regular simplex, K = 2 classes of n = 2 (``G_ij = 1`` within, ``-1`` between),
    tau = 1: each anchor contributes ``log(e + 2 e^{-1}) - 1 = log(1 + 2 e^{-2})``.

    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1])
    >>> G = np.where(y[:, None] == y[None, :], 1.0, -1.0)
    >>> bool(np.isclose(sc_gram_loss(G, y, 1.0), 4 * np.log(1 + 2 * np.exp(-2.0))))
    True
    """
    caller = "sc_gram_loss"
    labels = _check_sc_labels(y, caller)
    tau = _check_tau(tau, caller)
    n = labels.shape[0]
    G = check_array(G, "G", caller, shape=(n, n))
    return _sc_gram_loss(G, labels, tau)


@representable("H", "tau")
def ufm_sc_loss(H, y, tau):
    """SC loss of the unconstrained-features model on features ``H`` (rows ``h_i``).

    ``ufm_sc_loss(H, y, tau) == sc_gram_loss(H @ H.T, y, tau)`` (docs/theory.md section 4,
    behnia2024). The UFM constrains ``||h_i|| = 1``; this function evaluates the
    formula for any ``H`` and does not normalise, so callers optimising on the sphere
    project (or parametrise) themselves.

    Parameters
    ----------
    H : array of shape (N, d)
        Features as rows; numpy, torch (autograd kept) or mpmath object array.
    y : array of shape (N,)
        Integer labels; at least 2 classes, every class with at least 2 samples.
    tau : float
        Temperature, > 0.

    Examples
    --------
    Two antipodal class means on the circle, two samples each, tau = 1:

    >>> import numpy as np
    >>> H = np.array([[1.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [-1.0, 0.0]])
    >>> bool(np.isclose(ufm_sc_loss(H, [0, 0, 1, 1], 1.0), 4 * np.log(1 + 2 * np.exp(-2.0))))
    True
    """
    caller = "ufm_sc_loss"
    H = check_array(H, "H", caller, ndim=2)
    labels = _check_sc_labels(y, caller, n=H.shape[0])
    tau = _check_tau(tau, caller)
    return _sc_gram_loss(H @ H.T, labels, tau)


def _offdiagonal_selector(n: int):
    """Sparse (n(n-1), n^2) matrix picking G_il, l != i, row by row from vec_C(G)."""
    import scipy.sparse as sp

    rows_i, cols_l = np.nonzero(~np.eye(n, dtype=bool))  # row-major order of off-diagonal
    flat = rows_i * n + cols_l
    return sp.csr_matrix(
        (np.ones(flat.size), (np.arange(flat.size), flat)), shape=(flat.size, n * n)
    )


def sc_gram_loss_expr(G, y, tau):
    """:func:`sc_gram_loss` as a convex cvxpy expression (DCP: exponential cone).

    Parameters
    ----------
    G : cvxpy Expression of shape (N, N), or a numeric array (wrapped as a constant)
    y : array of shape (N,)
    tau : float

    Returns
    -------
    cvxpy.Expression
        Scalar, convex; ``sum_i log_sum_exp(off-diagonal row i / tau) - <C, G>/tau``.
        At a numeric ``G`` its ``.value`` equals :func:`sc_gram_loss`.
    """
    import cvxpy as cp

    caller = "sc_gram_loss_expr"
    labels = _check_sc_labels(y, caller)
    tau = _check_tau(tau, caller)
    n = labels.shape[0]
    if not isinstance(G, cp.Expression):
        G = cp.Constant(check_array(G, "G", caller, shape=(n, n), allow_torch=False, allow_mp=False))
    if tuple(G.shape) != (n, n):
        raise fail("G", caller, f"a cvxpy expression of shape ({n}, {n})", f"shape {G.shape}")
    off = cp.reshape(_offdiagonal_selector(n) @ cp.vec(G, order="C"), (n, n - 1), order="C")
    weights = _positive_weights_np(labels)
    return cp.sum(cp.log_sum_exp(off / tau, axis=1)) - cp.sum(cp.multiply(weights, G)) / tau


# --------------------------------------------------------------------------------------
# certificates on the full Gram matrix


def _sym_gradient(G: np.ndarray, labels: np.ndarray, tau: float) -> np.ndarray:
    """Symmetrised gradient of L at G: A = (grad + grad^T)/2, grad_il = (softmax_il - C_il)/tau."""
    n = labels.shape[0]
    logits = G / tau
    logits = np.where(np.eye(n, dtype=bool), -np.inf, logits)
    logits -= logits.max(axis=1, keepdims=True)
    soft = np.exp(logits)
    soft /= soft.sum(axis=1, keepdims=True)
    grad = (soft - _positive_weights_np(labels)) / tau
    return 0.5 * (grad + grad.T)


def _best_bound_from(A, G, f0, candidates, constraint):
    """max over candidate diagonal multipliers of the linearised dual bound (see gram_lower_bound)."""
    n = A.shape[0]
    base = f0 - float(np.sum(A * G))
    margin = 8.0 * n * _MACHINE_EPS * max(1.0, float(np.linalg.norm(A, 2)))
    best = -np.inf
    for d in candidates:
        d = np.asarray(d, dtype=np.float64)
        lam_min = float(np.linalg.eigvalsh(A - np.diag(d))[0])
        # shift D by a multiple of I so that A - D is PSD (with a rounding margin)
        d = d + min(0.0, lam_min) - margin
        bound = base + (float(np.sum(d)) if constraint == "sphere" else float(np.sum(np.minimum(d, 0.0))))
        best = max(best, bound)
    return best


@representable("G", "tau")
def gram_lower_bound(G, y, tau, *, constraint="sphere", multipliers=None):
    """Certified lower bound on the relaxation optimum (hence on the UFM loss in every d).

    For convex ``L`` and any symmetric ``G0``, ``L(G) >= L(G0) + <A, G - G0>`` with
    ``A`` the symmetrised gradient at ``G0``. For any diagonal ``D`` with ``A - D`` PSD
    and any feasible ``G`` (PSD, ``diag(G) = 1``): ``<A, G> = <A - D, G> + tr(D) >= tr(D)``.
    Hence

    .. math::

        \\min_{G \\succeq 0,\\ \\mathrm{diag}\\,G = 1} L(G)
        \\;\\ge\\; L(G_0) - \\langle A, G_0\\rangle + \\operatorname{tr} D ,

    a Lagrangian (weak-duality) bound with multipliers ``D`` for the diagonal
    constraint and ``S = A - D`` for the PSD constraint. For the ball
    (``diag(G) <= 1``) the last term is ``sum_i min(D_ii, 0)``. The bound is valid for
    *any* ``G0`` and ``D``; it is tight at an optimal ``G0`` with the optimal
    multipliers. Candidates for ``D``: complementary slackness ``(A - D) G0 = 0`` gives
    ``D_ii = (A G0)_ii / (G0)_ii``; optional solver multipliers are also tried. Each is
    shifted by ``lambda_min(A - D)`` (and a rounding margin ``8 N eps ||A||_2``) so
    that ``A - D`` is PSD; the best bound is returned.

    Parameters
    ----------
    G : array of shape (N, N)
        Any symmetric matrix (typically a solver's ``G*``); need not be feasible.
    y : array of shape (N,)
    tau : float
    constraint : {"sphere", "ball"}
    multipliers : array of shape (N,), optional
        Extra candidate diagonal multipliers (either sign convention: both are tried).

    Returns
    -------
    float
        A lower bound, valid up to floating-point rounding of the evaluation.
    """
    caller = "gram_lower_bound"
    labels = _check_sc_labels(y, caller)
    tau = _check_tau(tau, caller)
    constraint = check_choice(constraint, "constraint", caller, CONSTRAINTS)
    n = labels.shape[0]
    G = check_array(G, "G", caller, shape=(n, n), allow_torch=False, allow_mp=False)
    extra = None
    if multipliers is not None:
        extra = check_array(multipliers, "multipliers", caller, shape=(n,), allow_torch=False, allow_mp=False)
    return _gram_lower_bound(0.5 * (G + G.T), labels, tau, constraint, extra)


def _gram_lower_bound(G, labels, tau, constraint, extra=None) -> float:
    A = _sym_gradient(G, labels, tau)
    f0 = float(_sc_gram_loss(G, labels, tau))
    diag = np.diag(G)
    safe = np.where(np.abs(diag) > 1e-12, diag, 1.0)
    candidates = [np.einsum("ij,ji->i", A, G) / safe]
    if extra is not None:
        candidates += [extra, -extra]
    return _best_bound_from(A, G, f0, candidates, constraint)


def _repair_gram(G: np.ndarray, constraint: str) -> np.ndarray:
    """A feasible Gram matrix near a solver's G: rescale the diagonal, then shrink towards I.

    Solvers return G feasible only to their tolerance. Rescaling rows/columns puts the
    diagonal on 1 (sphere) or <= 1 (ball); then ``theta G + (1 - theta) I`` with
    ``theta = 1 / (1 - lambda_min)`` lifts a negative smallest eigenvalue to 0 while keeping
    the diagonal feasible. The loss of the result is an upper bound on the optimum.
    """
    G = 0.5 * (G + G.T)
    diag = np.diag(G)
    if constraint == "sphere":
        scale = 1.0 / np.sqrt(np.maximum(diag, 1e-12))
    else:
        scale = 1.0 / np.sqrt(np.maximum(diag, 1.0))
    G = G * scale[:, None] * scale[None, :]
    if constraint == "sphere":
        np.fill_diagonal(G, 1.0)
    lam_min = float(np.linalg.eigvalsh(G)[0])
    if lam_min < 0.0:
        theta = 1.0 / (1.0 - lam_min + 4.0 * G.shape[0] * _MACHINE_EPS)
        G = theta * G + (1.0 - theta) * np.eye(G.shape[0])
        if constraint == "sphere":
            np.fill_diagonal(G, 1.0)
    return G


def _polish(G0: np.ndarray, labels: np.ndarray, tau: float, r: int, maxiter: int = 300) -> np.ndarray:
    """Locally minimise L(H H^T) over unit rows H in R^{N x r}, from the truncation of G0.

    The dual bound of :func:`gram_lower_bound` is first order in the distance of the
    expansion point to the optimum, while the loss is second order: an interior-point
    ``G*`` that is 1e-5 away from the optimum in a flat direction has a loss within
    1e-9 but a bound off by 1e-6 or worse. A few L-BFGS steps on the sphere (Burer-Monteiro
    in dimension r, started at the rank-r truncation) move the expansion point onto the
    optimum when it has rank <= r. Any output is fine for the bound, which holds at every
    point: this only makes it tighter.
    """
    from scipy.optimize import minimize

    n = labels.shape[0]
    X0 = _recover_features(G0, r, "sphere")

    def loss_and_grad(x):
        X = x.reshape(n, r)
        norms = np.linalg.norm(X, axis=1)
        H = X / norms[:, None]
        G = H @ H.T
        f = float(_sc_gram_loss(G, labels, tau))
        grad_H = 2.0 * _sym_gradient(G, labels, tau) @ H
        # d/dX of X/||X||: remove the radial component, divide by the norm
        grad_X = (grad_H - H * np.sum(grad_H * H, axis=1)[:, None]) / norms[:, None]
        return f, grad_X.ravel()

    res = minimize(loss_and_grad, X0.ravel(), jac=True, method="L-BFGS-B",
                   options={"maxiter": maxiter, "gtol": 1e-14, "ftol": 1e-16})
    X = res.x.reshape(n, r)
    H = X / np.linalg.norm(X, axis=1)[:, None]
    G = H @ H.T
    np.fill_diagonal(G, 1.0)
    return G


def _numerical_rank(eigenvalues: np.ndarray, rank_tol: float) -> int:
    """Eigenvalues (descending) above ``rank_tol * lambda_max``."""
    top = float(eigenvalues[0])
    return int(np.sum(eigenvalues > rank_tol * top)) if top > 0 else 0


def _lowest_rank_within_gap(candidates, lower: float, upper: float):
    """Among (rank, loss, point) with loss within the certified gap of the best, the lowest rank.

    A feasible point whose loss is at most ``upper + (upper - lower)`` is optimal for the
    relaxation up to twice the certified gap; among those, the lowest rank is the best
    evidence of how small a dimension attains the optimum.
    """
    slack = max(upper - lower, 1e-12 * max(1.0, abs(upper)))
    eligible = [c for c in candidates if c[1] <= upper + slack]
    return min(eligible, key=lambda c: (c[0], c[1]))


def _certify(raw: np.ndarray, labels, tau, constraint, rank_tol, multipliers=None):
    """Certified bracket of the relaxation optimum and a low-rank near-optimal feasible G.

    Expansion points: the solver's G, its feasible repair, and for each distinct numerical
    rank r of the solver's G (relative thresholds 1e-2 .. 1e-8) the rank-r truncation and
    its polish. Every bound is valid (weak duality holds at any point); the maximum is
    reported. Every point but ``raw`` is feasible, so the minimum of their losses is an
    upper bound. Returns ``(lower, upper, gram, gram_loss)``.
    """
    repaired = _repair_gram(raw, constraint)
    eigenvalues = np.linalg.eigvalsh(raw)[::-1]
    ranks = sorted({max(1, _numerical_rank(eigenvalues, t)) for t in (1e-2, 1e-4, 1e-6, 1e-8)})
    feasible = [repaired]
    for r in ranks:
        H = _recover_features(raw, r, "sphere")
        truncated = H @ H.T
        np.fill_diagonal(truncated, 1.0)
        feasible += [truncated, _polish(raw, labels, tau, r)]
    lower = max(_gram_lower_bound(point, labels, tau, constraint, multipliers)
                for point in [raw] + feasible)
    scored = [(_numerical_rank(np.linalg.eigvalsh(point)[::-1], rank_tol),
               float(_sc_gram_loss(point, labels, tau)), i) for i, point in enumerate(feasible)]
    upper = min(c[1] for c in scored)
    _, gram_loss, index = _lowest_rank_within_gap(scored, lower, upper)
    return float(lower), upper, feasible[index], gram_loss


def recover_features(G, d, *, constraint="sphere"):
    """Features in ``d`` dimensions from the top-``d`` eigenpairs of a Gram matrix.

    ``H = V_d diag(sqrt(max(lambda_d, 0)))`` (rows ``h_i``, eigenvalues in descending
    order), then every row is put back on the constraint set: renormalised to norm 1
    (``"sphere"``) or scaled down to norm <= 1 (``"ball"``). A row that vanishes after
    truncation (norm < 1e-12) is replaced by the first basis vector, so the result is
    always feasible. If ``rank(G) <= d`` then ``H H^T = G`` up to rounding (the rows
    already have unit norm), so ``ufm_sc_loss(H) = L(G)``.

    Parameters
    ----------
    G : array of shape (N, N)
        Symmetric PSD (a relaxation solution).
    d : int
        Embedding dimension, >= 1. Columns beyond ``N`` are zero.
    constraint : {"sphere", "ball"}

    Returns
    -------
    ndarray of shape (N, d)
    """
    caller = "recover_features"
    G = check_array(G, "G", caller, ndim=2, allow_torch=False, allow_mp=False)
    if G.shape[0] != G.shape[1]:
        raise fail("G", caller, "a square matrix", G)
    d = check_int(d, "d", caller, min_value=1)
    check_size(G.shape[0] * d, "d", caller, d, "the N x d features")
    constraint = check_choice(constraint, "constraint", caller, CONSTRAINTS)
    return _recover_features(G, d, constraint)


def _recover_features(G, d, constraint):
    n = G.shape[0]
    vals, vecs = np.linalg.eigh(0.5 * (G + G.T))
    order = np.argsort(vals)[::-1][: min(d, n)]
    H = np.zeros((n, d))
    H[:, : order.size] = vecs[:, order] * np.sqrt(np.maximum(vals[order], 0.0))
    norms = np.linalg.norm(H, axis=1)
    dead = norms < 1e-12
    if constraint == "sphere":
        H[~dead] /= norms[~dead, None]
        H[dead] = 0.0
        H[dead, 0] = 1.0
    else:
        big = norms > 1.0
        H[big] /= norms[big, None]
    return H


# --------------------------------------------------------------------------------------
# solving


def _solver_options(solver: str, eps: float, max_iters: int | None) -> dict:
    if solver == "scs":
        opts = {"eps_abs": eps, "eps_rel": eps}
        if max_iters is not None:
            opts["max_iters"] = max_iters
    else:
        opts = {"tol_gap_abs": eps, "tol_gap_rel": eps, "tol_feas": eps}
        if max_iters is not None:
            opts["max_iter"] = max_iters
    return opts


_STATUS_HELP = {
    "optimal_inaccurate": "the solver stopped before reaching the requested tolerance",
    "user_limit": "the iteration limit was reached",
    "infeasible": "the solver declared the program infeasible",
    "infeasible_inaccurate": "the solver declared the program infeasible (inaccurately)",
    "unbounded": "the solver declared the program unbounded",
    "unbounded_inaccurate": "the solver declared the program unbounded (inaccurately)",
    "solver_error": "the solver failed",
}


def _raise_for_status(status, solver: str, eps: float, max_iters: int | None, what: str) -> None:
    """Raise RelaxationError unless ``status`` is exactly cvxpy's OPTIMAL."""
    if status == "optimal":
        return
    reason = _STATUS_HELP.get(str(status), f"the solver returned status {status!r}")
    hint = (
        f"raise `max_iters` (was {max_iters if max_iters is not None else 'the solver default'}), "
        f"loosen `eps` (was {eps:g}), or try solver="
        f"{'clarabel' if solver == 'scs' else 'scs'!r}"
    )
    if str(status).startswith(("infeasible", "unbounded")):
        hint = (
            "the SC relaxation is always feasible (G = I) and bounded (|G_ij| <= 1), so this "
            "is numerical trouble: " + hint
        )
    raise RelaxationError(
        f"{what}: solver {solver!r} returned status {status!r}: {reason}; no value is "
        f"reported. Fix: {hint}.",
        status=None if status is None else str(status),
        solver=solver,
    )


def _solve_checked(problem, solver: str, eps: float, max_iters: int | None, verbose: bool,
                   what: str, accept_inaccurate: bool = False) -> None:
    """Solve a cvxpy problem and raise RelaxationError on anything but an optimal status.

    ``accept_inaccurate`` also lets 'optimal_inaccurate' through: only for programs whose
    solution is a *hint* that a rigorous evaluation checks afterwards (the dual masses of
    the class-level certificate), never for a value that is reported.
    """
    import cvxpy as cp

    name = _CVXPY_NAMES[solver]
    if name not in cp.installed_solvers():
        raise SolverUnavailableError(
            f"{what}: solver {solver!r} is not installed for cvxpy (installed: "
            f"{', '.join(cp.installed_solvers())}); install it (pip install {solver}) or "
            f"choose solver={'clarabel' if solver == 'scs' else 'scs'!r}",
            status=None,
            solver=solver,
        )
    try:
        with warnings.catch_warnings():
            # cvxpy warns on inaccurate solutions; we raise instead of warning
            warnings.simplefilter("ignore", UserWarning)
            problem.solve(solver=name, verbose=verbose, **_solver_options(solver, eps, max_iters))
    except cp.error.SolverError as exc:
        raise RelaxationError(
            f"{what}: solver {solver!r} failed ({exc}). Fix: raise `max_iters`, loosen `eps` "
            f"(was {eps:g}), or try solver={'clarabel' if solver == 'scs' else 'scs'!r}.",
            status="solver_error",
            solver=solver,
        ) from exc
    if accept_inaccurate and problem.status == "optimal_inaccurate":
        return
    _raise_for_status(problem.status, solver, eps, max_iters, what)


def _check_solver_args(caller, constraint, solver, eps, max_iters, verbose, rank_tol):
    constraint = check_choice(constraint, "constraint", caller, CONSTRAINTS)
    solver = check_choice(solver, "solver", caller, SOLVERS)
    eps = check_real(eps, "eps", caller, gt=0.0, lt=1.0)
    if max_iters is not None:
        max_iters = check_int(max_iters, "max_iters", caller, min_value=1, max_value=MAX_ITERS)
    verbose = check_bool(verbose, "verbose", caller)
    rank_tol = check_real(rank_tol, "rank_tol", caller, gt=0.0, lt=1.0)
    return constraint, solver, eps, max_iters, verbose, rank_tol


# --------------------------------------------------------------------------------------
# the full relaxation


@dataclass(frozen=True)
class Tightness:
    """How far the features recovered in ``d`` dimensions are from the certified bound.

    Attributes
    ----------
    d : int
    loss : float
        ``ufm_sc_loss`` of the features recovered from the top-``d`` eigenpairs of ``G*``.
    lower_bound : float
        The certified lower bound on the UFM loss in every dimension.
    gap : float
        ``loss - lower_bound`` (>= 0 up to rounding); ~ solver tolerance when the
        relaxation is tight in dimension ``d``.
    rank : int
        Numerical rank of ``G*``; ``rank <= d`` means ``G*`` itself is realisable in ``d``.
    """

    d: int
    loss: float
    lower_bound: float
    gap: float
    rank: int

    @property
    def rank_fits(self) -> bool:
        return self.rank <= self.d


@dataclass(frozen=True, repr=False)
class RelaxationResult:
    """Certificate returned by :func:`sc_relaxation`.

    Attributes
    ----------
    value : float
        Optimal value of the relaxation as the solver reports it (sum over anchors).
        Accurate to the solver tolerance; use ``lower_bound`` where rigour matters.
    lower_bound : float
        Certified lower bound on the relaxation optimum, hence on the UFM loss for every
        ``d`` (:func:`gram_lower_bound` at the solver's ``G*`` and multipliers).
    upper_bound : float
        Smallest ``L`` over the feasible points built from the solver's ``G``: its
        repair, its rank-r truncations and their local polish (docs/relax.md). The
        relaxation optimum lies in ``[lower_bound, upper_bound]``.
    gram : ndarray (N, N)
        A feasible, certified near-optimal ``G*``: the lowest-rank one among those
        points whose loss is within ``gap`` of ``upper_bound``.
    gram_loss : float
        ``L(gram)``; ``upper_bound <= gram_loss <= upper_bound + gap``.
    eigenvalues : ndarray (N,)
        Eigenvalues of ``gram``, descending.
    rank : int
        Number of eigenvalues of ``gram`` above ``rank_tol * eigenvalues[0]``.
    solver_eigenvalues : ndarray (N,), solver_rank : int
        The same for the solver's raw ``G`` (interior-point and first-order solutions
        keep eigenvalues of order ``sqrt(eps)`` in flat directions, most visibly at small
        ``tau``, so this rank can overstate the rank of the optimum).
    rank_tol : float
        Relative eigenvalue threshold used for both ranks.
    labels, tau, constraint, solver, eps, max_iters
        The problem and solver settings.
    status : str
        cvxpy status (always ``"optimal"``: anything else raises :class:`RelaxationError`).
    solve_time : float
        Solver time in seconds, as reported by cvxpy.
    iterations : int or None
    """

    value: float
    lower_bound: float
    upper_bound: float
    gram: np.ndarray
    gram_loss: float
    eigenvalues: np.ndarray
    rank: int
    solver_eigenvalues: np.ndarray
    solver_rank: int
    rank_tol: float
    labels: np.ndarray
    tau: float
    constraint: str
    solver: str
    eps: float
    max_iters: int | None
    status: str
    solve_time: float
    iterations: int | None

    @property
    def gap(self) -> float:
        """Certified duality gap ``upper_bound - lower_bound`` (a feasible primal value
        minus a dual value computed from dual variables)."""
        return self.upper_bound - self.lower_bound

    def recover(self, d: int) -> np.ndarray:
        """Features (N, d) from the top-``d`` eigenpairs of ``gram`` (:func:`recover_features`)."""
        d = check_int(d, "d", "RelaxationResult.recover", min_value=1)
        return _recover_features(self.gram, d, self.constraint)

    def tightness(self, d) -> Tightness | list[Tightness]:
        """Recovered UFM loss versus the certified bound, for one ``d`` or an iterable of them."""
        if isinstance(d, Iterable) and not isinstance(d, (str, bytes)):
            return [self.tightness(di) for di in d]
        d = check_int(d, "d", "RelaxationResult.tightness", min_value=1)
        H = _recover_features(self.gram, d, self.constraint)
        loss = float(_sc_gram_loss(H @ H.T, self.labels, self.tau))
        return Tightness(d=d, loss=loss, lower_bound=self.lower_bound,
                         gap=loss - self.lower_bound, rank=self.rank)

    def __repr__(self) -> str:
        return (
            f"RelaxationResult(N={self.labels.size}, tau={self.tau!r}, constraint={self.constraint!r}, "
            f"solver={self.solver!r}, value={self.value!r}, lower_bound={self.lower_bound!r}, "
            f"gap={self.gap:.3g}, rank={self.rank}, status={self.status!r})"
        )


@representable("tau")
def sc_relaxation(y, tau, *, constraint="sphere", solver="clarabel", eps=1e-7, max_iters=None,
                  verbose=False, rank_tol=1e-5) -> RelaxationResult:
    """Solve the convex Gram relaxation of the SC unconstrained-features model.

    .. math::

        \\min_G \\; L(G) \\quad\\text{s.t.}\\quad G \\succeq 0,\\;
        \\mathrm{diag}(G) = 1 \\;(\\text{sphere}) \\text{ or } \\le 1 \\;(\\text{ball})

    with ``L`` of :func:`sc_gram_loss` (docs/theory.md section 4; behnia2024). Only
    ``rank(G) <= d`` is dropped, so the optimum bounds the UFM loss from below in every
    dimension ``d``. The ball relaxation has the same optimum as the sphere one (raising
    a diagonal entry keeps ``G`` PSD and does not change ``L``).

    Parameters
    ----------
    y : array of shape (N,)
        Integer labels, balanced or not; >= 2 classes, every class >= 2 samples.
    tau : float
        Temperature, > 0.
    constraint : {"sphere", "ball"}
    solver : {"scs", "clarabel"}
        SCS (first order; scales to larger N) or Clarabel (interior point; more accurate,
        faster for N <= ~50).
    eps : float
        Solver tolerance: SCS ``eps_abs = eps_rel = eps``; Clarabel
        ``tol_gap_abs = tol_gap_rel = tol_feas = eps``. The solver minimises ``L / N``.
    max_iters : int, optional
        SCS ``max_iters`` / Clarabel ``max_iter``; None keeps the solver default.
    verbose : bool
        Print the solver log.
    rank_tol : float
        Eigenvalues above ``rank_tol * lambda_max`` count towards ``rank``.

    Returns
    -------
    RelaxationResult

    Raises
    ------
    RelaxationError
        Non-optimal status (inaccurate, iteration limit, infeasible, unbounded, solver
        failure); the message says which and how to fix it.
    SolverUnavailableError
        The solver is not installed.

    Examples
    --------
    Balanced labels: the optimum is the collapsed regular simplex, whose value is
    ``N log(n - 1 + (N - n) exp(-K / ((K - 1) tau)))``.

    >>> import numpy as np
    >>> res = sc_relaxation(np.repeat([0, 1, 2], 3), 0.5, solver="clarabel")
    >>> closed = 9 * np.log(2 + 6 * np.exp(-3 / (2 * 0.5)))
    >>> bool(res.lower_bound <= closed + 1e-9 and abs(res.upper_bound - closed) < 1e-6), res.rank
    (True, 2)
    """
    import cvxpy as cp

    caller = "sc_relaxation"
    labels = _check_sc_labels(y, caller)
    tau = _check_tau(tau, caller)
    constraint, solver, eps, max_iters, verbose, rank_tol = _check_solver_args(
        caller, constraint, solver, eps, max_iters, verbose, rank_tol)
    n = labels.shape[0]

    G = cp.Variable((n, n), PSD=True)
    diag_constraint = cp.diag(G) == 1 if constraint == "sphere" else cp.diag(G) <= 1
    # mean per anchor keeps the objective O(log N), so `eps` means the same at every N
    problem = cp.Problem(cp.Minimize(sc_gram_loss_expr(G, labels, tau) / n), [diag_constraint])
    _solve_checked(problem, solver, eps, max_iters, verbose,
                   f"sc_relaxation(N={n}, tau={tau:g}, constraint={constraint!r})")

    raw = np.asarray(G.value, dtype=np.float64)
    raw = 0.5 * (raw + raw.T)
    multipliers = diag_constraint.dual_value
    extra = None if multipliers is None else n * np.asarray(multipliers, dtype=np.float64).reshape(n)
    lower, upper, gram, gram_loss = _certify(raw, labels, tau, constraint, rank_tol, extra)
    eigenvalues = np.linalg.eigvalsh(gram)[::-1].copy()
    solver_eigenvalues = np.linalg.eigvalsh(raw)[::-1].copy()
    stats = problem.solver_stats
    return RelaxationResult(
        value=float(problem.value) * n,
        lower_bound=float(lower),
        upper_bound=upper,
        gram=gram,
        gram_loss=gram_loss,
        eigenvalues=eigenvalues,
        rank=_numerical_rank(eigenvalues, rank_tol),
        solver_eigenvalues=solver_eigenvalues,
        solver_rank=_numerical_rank(solver_eigenvalues, rank_tol),
        rank_tol=rank_tol,
        labels=labels,
        tau=tau,
        constraint=constraint,
        solver=solver,
        eps=eps,
        max_iters=max_iters,
        status=str(problem.status),
        solve_time=float(stats.solve_time) if stats.solve_time is not None else float("nan"),
        iterations=None if stats.num_iters is None else int(stats.num_iters),
    )


# --------------------------------------------------------------------------------------
# symmetry-reduced programs


@dataclass(frozen=True)
class _Invariant:
    """A symmetric N x N matrix invariant under the class/type symmetry group.

    Types s = 0..T-1 hold ``k[s]`` classes of ``n[s]`` samples. Entries: ``diag[s]`` on the
    diagonal, ``within[s]`` between distinct samples of one class, ``same[s]`` between
    samples of distinct classes of type s (unused when k[s] == 1), ``cross[s, t]`` between
    types s != t (symmetric; diagonal unused).
    """

    k: tuple
    n: tuple
    diag: np.ndarray
    within: np.ndarray
    same: np.ndarray
    cross: np.ndarray

    @property
    def sizes(self) -> np.ndarray:
        return np.array(self.k, dtype=np.float64) * np.array(self.n, dtype=np.float64)

    def type_matrix(self) -> np.ndarray:
        """T x T matrix of G on the (normalised) type indicators (eigenvalues with multiplicity 1)."""
        k = np.array(self.k, dtype=np.float64)
        n = np.array(self.n, dtype=np.float64)
        sizes = k * n
        M = np.sqrt(np.outer(sizes, sizes)) * self.cross
        np.fill_diagonal(M, self.diag + (n - 1) * self.within + (k - 1) * n * self.same)
        return M

    def spectrum(self) -> list[tuple[float, int]]:
        """All eigenvalues with multiplicities (sum of multiplicities = N)."""
        out = []
        for s, (k, n) in enumerate(zip(self.k, self.n)):
            out.append((float(self.diag[s] - self.within[s]), k * (n - 1)))
            if k >= 2:
                out.append((float(self.diag[s] - self.within[s] + n * (self.within[s] - self.same[s])), k - 1))
        out += [(float(v), 1) for v in np.linalg.eigvalsh(self.type_matrix())]
        return [(v, m) for v, m in out if m > 0]

    def inner(self, other: "_Invariant") -> float:
        """Frobenius inner product <self, other> summed over all N^2 entries."""
        k = np.array(self.k, dtype=np.float64)
        n = np.array(self.n, dtype=np.float64)
        sizes = k * n
        total = np.sum(sizes * self.diag * other.diag)
        total += np.sum(sizes * (n - 1) * self.within * other.within)
        total += np.sum(sizes * (k - 1) * n * self.same * other.same)
        off = ~np.eye(len(self.k), dtype=bool)
        total += np.sum((np.outer(sizes, sizes) * self.cross * other.cross)[off])
        return float(total)

    def log_terms(self, tau: float):
        """Per type s: the (log count, value) pairs of the off-diagonal entries of a row."""
        terms = []
        for s, (k, n) in enumerate(zip(self.k, self.n)):
            row = [(math.log(n - 1), self.within[s])]
            if k >= 2:
                row.append((math.log((k - 1) * n), self.same[s]))
            row += [(math.log(self.k[t] * self.n[t]), self.cross[s, t])
                    for t in range(len(self.k)) if t != s]
            terms.append(row)
        return terms

    def loss(self, tau: float) -> float:
        """L(G) = sum_s N_s [ log Z_s - a_s / tau ] (see docs/relax.md)."""
        total = 0.0
        for s, row in enumerate(self.log_terms(tau)):
            lse = float(xp.logsumexp(np.array([c + v / tau for c, v in row])))
            total += self.k[s] * self.n[s] * (lse - self.within[s] / tau)
        return total

    def gradient(self, tau: float) -> "_Invariant":
        """Symmetrised gradient of L at this matrix; invariant with zero diagonal."""
        return _gradient_from_masses(self.k, self.n, _masses_at(self, tau), tau)

    def truncated(self, threshold: float, constraint: str) -> "_Invariant":
        """Zero the eigenvalues below ``threshold * lambda_max`` and restore the diagonal.

        An invariant matrix is ``sum_s e1_s P1_s + sum_s e2_s P2_s + (type block)``, with
        P1_s the projector on within-class zero-sum vectors of type s and P2_s the one on
        class indicators of type s summing to zero; entries follow from the eigenvalues
        (docs/relax.md). The diagonal is then rescaled by an invariant congruence.
        """
        k = np.array(self.k, dtype=np.float64)
        n = np.array(self.n, dtype=np.float64)
        sizes = k * n
        top = max(v for v, _ in self.spectrum())
        cut = threshold * top
        e1 = self.diag - self.within
        e2 = self.diag - self.within + n * (self.within - self.same)
        e1 = np.where(e1 > cut, e1, 0.0)
        e2 = np.where((e2 > cut) & (k >= 2), e2, 0.0)
        vals, vecs = np.linalg.eigh(self.type_matrix())
        vals = np.where(vals > cut, vals, 0.0)
        M = (vecs * vals) @ vecs.T
        m_diag = np.diag(M) / sizes
        class_part = np.where(k >= 2, e2 / n * (1.0 - 1.0 / k), 0.0)
        diag = e1 * (1.0 - 1.0 / n) + class_part + m_diag
        within = -e1 / n + class_part + m_diag
        same = np.where(k >= 2, -e2 / (n * k), 0.0) + m_diag
        cross = M / np.sqrt(np.outer(sizes, sizes))
        if constraint == "sphere" or np.any(diag > 1.0):
            scale = 1.0 / np.sqrt(np.maximum(diag, 1e-300))
            if constraint == "ball":
                scale = 1.0 / np.sqrt(np.maximum(diag, 1.0))
            within, same = within * scale**2, same * scale**2
            cross = cross * np.outer(scale, scale)
            diag = diag * scale**2
        if constraint == "sphere":
            diag = np.ones_like(diag)
        np.fill_diagonal(cross, 0.0)
        return _Invariant(self.k, self.n, diag, within, np.where(k >= 2, same, 0.0), cross)

    def shifted_toward_identity(self, theta: float) -> "_Invariant":
        """theta * self + (1 - theta) * I."""
        return _Invariant(self.k, self.n, theta * self.diag + (1.0 - theta), theta * self.within,
                          theta * self.same, theta * self.cross)

    def with_diag(self, diag) -> "_Invariant":
        return _Invariant(self.k, self.n, np.asarray(diag, dtype=np.float64), self.within,
                          self.same, self.cross)

    def expand(self) -> np.ndarray:
        """The full N x N matrix; samples ordered by type, then class, then sample."""
        labels, types = _labels_for_types(self.k, self.n)
        same_class = labels[:, None] == labels[None, :]
        G = np.where(same_class, self.within[types][:, None], 0.0)
        same_type = (types[:, None] == types[None, :]) & ~same_class
        G = np.where(same_type, self.same[types][:, None], G)
        G = np.where(types[:, None] != types[None, :], self.cross[types[:, None], types[None, :]], G)
        np.fill_diagonal(G, self.diag[types])
        return G


def _labels_for_types(k: Sequence[int], n: Sequence[int]):
    """Labels (classes numbered type by type) and the type of every sample."""
    labels, types, c = [], [], 0
    for s, (ks, ns) in enumerate(zip(k, n)):
        for _ in range(ks):
            labels += [c] * ns
            types += [s] * ns
            c += 1
    return np.array(labels, dtype=np.int64), np.array(types, dtype=np.int64)


@dataclass(frozen=True)
class _RowMasses:
    """Class-level dual variables: the softmax mass that one anchor of type s puts on its
    own class (``within``), on the other classes of its type (``same``; 0 when k_s = 1) and
    on each other type t (``cross[s, t]``, a T x T array with zero diagonal). Rows sum to 1."""

    within: np.ndarray
    same: np.ndarray
    cross: np.ndarray

    def normalised(self) -> "_RowMasses":
        within, same, cross = (np.maximum(np.asarray(v, dtype=np.float64), 0.0)
                               for v in (self.within, self.same, self.cross))
        cross = cross.copy()
        np.fill_diagonal(cross, 0.0)
        total = within + same + cross.sum(axis=1)
        return _RowMasses(within / total, same / total, cross / total[:, None])


def _masses_at(point: _Invariant, tau: float) -> _RowMasses:
    """Softmax masses of the rows of an invariant G (the dual point that G induces)."""
    T = len(point.k)
    within, same, cross = np.zeros(T), np.zeros(T), np.zeros((T, T))
    for s, row in enumerate(point.log_terms(tau)):
        logits = np.array([c + v / tau for c, v in row])
        weights = np.exp(logits - float(xp.logsumexp(logits)))
        within[s] = weights[0]
        i = 1
        if point.k[s] >= 2:
            same[s] = weights[i]
            i += 1
        for t in range(T):  # log_terms lists the other types in increasing order
            if t != s:
                cross[s, t] = weights[i]
                i += 1
    return _RowMasses(within, same, cross)


def _gradient_from_masses(k, n, masses: _RowMasses, tau: float) -> _Invariant:
    """A = sym(P - C)/tau for the invariant row-stochastic P with these masses.

    Entry weights are the masses divided by the number of entries of each kind:
    alpha_s = (q_w - 1)/((n_s - 1) tau), beta_ss = q_b/((k_s - 1) n_s tau),
    beta_st = (q_x,st / N_t + q_x,ts / N_s)/(2 tau).
    """
    T = len(k)
    karr = np.array(k, dtype=np.float64)
    narr = np.array(n, dtype=np.float64)
    sizes = karr * narr
    within = (masses.within - 1.0) / ((narr - 1.0) * tau)
    same = np.where(karr >= 2, masses.same / (np.maximum(karr - 1.0, 1.0) * narr * tau), 0.0)
    q = np.asarray(masses.cross, dtype=np.float64)
    cross = 0.5 * (q / sizes[None, :] + q.T / sizes[:, None]) / tau
    np.fill_diagonal(cross, 0.0)
    return _Invariant(tuple(k), tuple(n), np.zeros(T), within, same, cross)


def _entropy_term(k, n, masses: _RowMasses) -> float:
    """sum_i H(P_i) for the invariant P: per row, entr(q) + q log(count) for each kind."""

    def entr_plus(q, count):
        return 0.0 if q <= 0.0 else -q * math.log(q) + q * math.log(count)

    T = len(k)
    total = 0.0
    for s in range(T):
        row = entr_plus(masses.within[s], n[s] - 1)
        if k[s] >= 2:
            row += entr_plus(masses.same[s], (k[s] - 1) * n[s])
        for t in range(T):
            if t != s:
                row += entr_plus(masses.cross[s, t], k[t] * n[t])
        total += k[s] * n[s] * row
    return total


def _best_type_diagonal(A: _Invariant) -> np.ndarray:
    """Type-constant d maximising sum_s N_s d_s subject to A - diag(d) PSD.

    The eigenvalues of A - diag(d) are affine in d: d_s <= cap_s from the two scalar
    families, and the T x T type block (diagonal ``m_s - d_s``, off-diagonal
    ``x_st = sqrt(N_s N_t) cross_st``) PSD. With ``u_s = m_s - d_s`` this is
    ``min sum_s N_s u_s`` over ``u >= low`` and the block PSD. T <= 2 in closed form
    (T = 2: ``u_0 u_1 >= x^2``, the tangent point of the hyperbola if feasible, else a
    corner on ``u_s = low_s``); T >= 3 by a T x T semidefinite program
    (:func:`_best_type_block`). The caller shifts d by the block's smallest eigenvalue, so
    an inexact u only loosens the bound, never invalidates it.
    """
    k = np.array(A.k, dtype=np.float64)
    n = np.array(A.n, dtype=np.float64)
    sizes = k * n
    T = len(A.k)
    cap = -A.within.copy()
    for s in range(T):
        if A.k[s] >= 2:
            cap[s] = min(cap[s], -A.within[s] + n[s] * (A.within[s] - A.same[s]))
    m = (n - 1) * A.within + (k - 1) * n * A.same
    if T == 1:
        return np.array([min(cap[0], m[0])])
    low = np.maximum(m - cap, 0.0)
    if T >= 3:
        return m - _best_type_block(low, sizes, A.cross)
    x2 = sizes[0] * sizes[1] * A.cross[0, 1] ** 2
    candidates = []
    if x2 == 0.0:
        candidates.append(low.copy())
    else:
        root = math.sqrt(x2)
        tangent = np.array([root * math.sqrt(sizes[1] / sizes[0]), root * math.sqrt(sizes[0] / sizes[1])])
        if np.all(tangent >= low):
            candidates.append(tangent)
        if low[0] > 0:
            candidates.append(np.array([low[0], max(low[1], x2 / low[0])]))
        if low[1] > 0:
            candidates.append(np.array([max(low[0], x2 / low[1]), low[1]]))
    u = min(candidates, key=lambda c: float(np.dot(sizes, c)))
    return m - u


def _best_type_block(low: np.ndarray, sizes: np.ndarray, cross: np.ndarray) -> np.ndarray:
    """u minimising ``sum_s N_s u_s`` with ``u >= low`` and ``diag(u) + X`` PSD,
    ``X_st = sqrt(N_s N_t) cross_st`` (T >= 3 types).

    Solved in the scaled variable ``v = u / N`` (congruence by ``diag(1/sqrt(N_s))``:
    ``diag(v) + cross`` PSD), so entries stay O(1) at large N. If the solver fails,
    scaled diagonal dominance gives a feasible, looser u.
    """
    import cvxpy as cp

    T = len(sizes)
    C = np.array(cross, dtype=np.float64)
    np.fill_diagonal(C, 0.0)
    C = 0.5 * (C + C.T)
    fallback = np.maximum(low, sizes * np.sum(np.abs(C), axis=1))  # diag(v) + C diagonally dominant
    v = cp.Variable(T)
    weights = sizes * sizes / float(np.sum(sizes * sizes))
    problem = cp.Problem(cp.Minimize(weights @ v), [v >= low / sizes, cp.diag(v) + C >> 0])
    try:
        problem.solve(solver="CLARABEL")
    except Exception:  # noqa: BLE001 - any solver failure: the dominant diagonal is feasible
        return fallback
    if problem.status not in ("optimal", "optimal_inaccurate") or v.value is None:
        return fallback
    return np.maximum(np.asarray(v.value, dtype=np.float64).reshape(T) * sizes, low)


def _certified_type_diagonal(A: _Invariant) -> np.ndarray:
    """Type-constant d with ``A - diag(d)`` PSD exactly (the dual diagonal of a certificate).

    The best d in closed form (:func:`_best_type_diagonal`), shifted by
    ``min(0, lambda_min(A - diag(d)))`` minus a rounding margin, so that an inexact
    optimum only loosens the bound ``<A, G> >= sum_s N_s d_s`` on the elliptope.
    """
    d = _best_type_diagonal(A)
    spectrum = A.with_diag(-d).spectrum()
    lam_min = min(v for v, _ in spectrum)
    scale = max(1.0, max(abs(v) for v, _ in spectrum))
    return d + min(0.0, lam_min) - 64.0 * _MACHINE_EPS * scale


def _invariant_dual_bound(k, n, masses: _RowMasses, tau: float, constraint: str) -> float:
    """Certified lower bound from class-level dual variables (Fenchel-Young; docs/relax.md).

    For any row-stochastic P (zero diagonal) and diagonal D with A = sym(P - C)/tau,
    A - D PSD: L(G) >= sum_i H(P_i) + <A, G> >= sum_i H(P_i) + tr D on the elliptope
    (``sum_i min(D_ii, 0)`` on the ball). The masses are clipped and renormalised, the
    best type-constant D is taken in closed form, and D is shifted by
    ``min(0, lambda_min(A - D))`` minus a rounding margin, so the bound holds exactly.
    """
    masses = masses.normalised()
    A = _gradient_from_masses(k, n, masses, tau)
    d = _certified_type_diagonal(A)
    sizes = np.array(k, dtype=np.float64) * np.array(n, dtype=np.float64)
    base = _entropy_term(k, n, masses)
    if constraint == "sphere":
        return float(base + np.dot(sizes, d))
    return float(base + np.dot(sizes, np.minimum(d, 0.0)))


def _invariant_lower_bound(point: _Invariant, tau: float, constraint: str) -> float:
    """The dual bound at the dual point induced by an invariant G (softmax of its rows)."""
    return _invariant_dual_bound(point.k, point.n, _masses_at(point, tau), tau, constraint)


def _solve_invariant_dual(k, n, tau, constraint, solver, eps, max_iters, verbose, what) -> _RowMasses:
    """Solve the class-level dual program (docs/relax.md) and return its masses.

    maximise  sum_s (N_s/N) [ H_s(q) + d_s ]   (ball: min(d_s, 0))
    over      q >= 0 with rows summing to 1, d,
    s.t.      A(q) - diag(d) PSD  (two scalar families and the T x T type block).

    ``q`` is three arrays: the mass a row of type s puts on its own class (``within``), on
    the other classes of its type (``same``) and on type t (``cross[s, t]``, T x T).
    """
    import cvxpy as cp

    T = len(k)
    karr = np.array(k, dtype=np.float64)
    narr = np.array(n, dtype=np.float64)
    sizes = karr * narr
    N = float(np.sum(sizes))
    has_same = (karr >= 2).astype(np.float64)
    log_same = np.where(karr >= 2, np.log(np.maximum((karr - 1) * narr, 1.0)), 0.0)
    q_within = cp.Variable(T, nonneg=True)
    q_same = cp.Variable(T, nonneg=True)
    q_cross = cp.Variable((T, T), nonneg=True)
    d = cp.Variable(T)
    entropy = (cp.entr(q_within) + cp.multiply(q_within, np.log(narr - 1))
               + cp.entr(q_same) + cp.multiply(q_same, log_same)
               + cp.sum(cp.entr(q_cross) + cp.multiply(q_cross, np.ones((T, 1)) @ np.log(sizes)[None, :]), axis=1))
    gain = d if constraint == "sphere" else cp.minimum(d, 0)
    objective = cp.sum(cp.multiply(sizes / N, entropy + gain))
    alpha = (q_within - 1) / ((narr - 1) * tau)
    beta = cp.multiply(q_same, 1.0 / (np.maximum(karr - 1, 1.0) * narr * tau))
    m = cp.multiply(cp.multiply(narr - 1, alpha) + cp.multiply(beta, (karr - 1) * narr) - d, 1.0 / sizes)
    cross = (cp.multiply(q_cross, np.ones((T, 1)) @ (1.0 / sizes)[None, :])
             + cp.multiply(q_cross.T, (1.0 / sizes)[:, None] @ np.ones((1, T)))) / (2 * tau)
    constraints = [
        q_within + q_same + cp.sum(q_cross, axis=1) == 1,
        cp.diag(q_cross) == 0,
        cp.multiply(1.0 - has_same, q_same) == 0,
        -d - alpha >= 0,
        cp.multiply(has_same, -d - alpha + cp.multiply(narr, alpha - beta)) >= 0,
    ]
    constraints += _type_block_psd(m, cross, T)
    problem = cp.Problem(cp.Maximize(objective), constraints)
    # the masses only choose the dual point; the bound is evaluated rigorously from them
    _solve_checked(problem, solver, eps, max_iters, verbose, what + " (dual)", accept_inaccurate=True)
    cross_masses = np.asarray(q_cross.value, dtype=np.float64).reshape(T, T) * (1.0 - np.eye(T))
    return _RowMasses(
        np.asarray(q_within.value, dtype=np.float64).reshape(T),
        np.asarray(q_same.value, dtype=np.float64).reshape(T) * (karr >= 2),
        cross_masses,
    )


def _type_block_psd(diagonal: Any, off: Any, T: int) -> list:
    """cvxpy constraints: the symmetric T x T block with diagonal ``diagonal`` (a length-T
    expression) and off-diagonal part ``off`` (a T x T expression with zero diagonal) is
    PSD -- a scalar for T = 1, a second-order cone for T = 2 (``[[p, x], [x, r]]`` PSD iff
    ``||(2x, p - r)|| <= p + r``; solved more accurately than the 2 x 2 matrix
    inequality), a linear matrix inequality for T >= 3."""
    import cvxpy as cp

    if T == 1:
        return [diagonal >= 0]
    if T == 2:
        p, r, x = diagonal[0], diagonal[1], off[0, 1]
        return [cp.SOC(p + r, cp.hstack([2 * x, p - r]))]
    block = cp.Variable((T, T), symmetric=True)
    return [block == cp.diag(diagonal) + cp.multiply(1.0 - np.eye(T), off), block >> 0]


def _repair_invariant(point: _Invariant, constraint: str) -> _Invariant:
    """Exactly feasible invariant point (diag 1 / <= 1, PSD) near the solver's point."""
    T = len(point.k)
    diag = np.ones(T) if constraint == "sphere" else np.minimum(point.diag, 1.0)
    point = point.with_diag(diag)
    lam_min = min(v for v, _ in point.spectrum())
    if lam_min < 0.0:
        point = point.shifted_toward_identity(1.0 / (1.0 - lam_min + 64.0 * _MACHINE_EPS))
        if constraint == "sphere":
            point = point.with_diag(np.ones(T))
    return point


class _TypedBoundResult:
    """What the class-size-typed results share: the certified gap, N and the labels.

    Subclasses are dataclasses with ``lower_bound``, ``upper_bound``, ``class_types``
    (pairs ``(k, n)``: k classes of n samples each), ``within`` (per type) and
    ``mean_cos`` (per pair of types).
    """

    @property
    def gap(self) -> float:
        """Certified gap ``upper_bound - lower_bound`` (same units as the bounds)."""
        return self.upper_bound - self.lower_bound

    @property
    def N(self) -> int:
        return int(sum(k * n for k, n in self.class_types))

    def labels(self) -> np.ndarray:
        """Labels matching :meth:`gram`: classes numbered type by type."""
        return _labels_for_types(*zip(*self.class_types))[0]

    def geometry(self) -> dict:
        """Class-mean geometry.

        Balanced (one type): ``within`` (collapse = 1) and ``cos_between`` (simplex:
        ``-1/(K-1)``). STEP (two types): ``within_majority``, ``within_minority``,
        ``cos_majority_majority``, ``cos_minority_minority``, ``cos_majority_minority``
        and ``ratio`` ``R = n_major / n_minor``; the majority type is the one with more
        samples per class (the first type when equal). A cosine between two classes of a
        type with only one class is None. Three or more types: :meth:`type_geometry`.
        """
        if len(self.class_types) == 1:
            return {"within": self.within[0], "cos_between": self.mean_cos.get((0, 0))}
        if len(self.class_types) >= 3:
            return self.type_geometry()
        major, minor = (0, 1) if self.class_types[0][1] >= self.class_types[1][1] else (1, 0)
        return {
            "ratio": self.class_types[major][1] / self.class_types[minor][1],
            "within_majority": self.within[major],
            "within_minority": self.within[minor],
            "cos_majority_majority": self.mean_cos.get((major, major)),
            "cos_minority_minority": self.mean_cos.get((minor, minor)),
            "cos_majority_minority": self.mean_cos.get((major, minor)),
        }

    def type_geometry(self) -> dict:
        """Class-mean geometry per type, for any number of types.

        ``types``: one ``{"classes": k, "samples_per_class": n, "within": a}`` per type, in
        the order of ``class_types``; ``cos``: ``{(s, t): cosine between the means of a class
        of type s and a (different) class of type t}`` for s <= t (``(s, s)`` only when type
        s has two or more classes).
        """
        return {
            "types": [{"classes": k, "samples_per_class": n, "within": self.within[s]}
                      for s, (k, n) in enumerate(self.class_types)],
            "cos": {(s, t): c for (s, t), c in self.mean_cos.items() if s <= t},
        }


@dataclass(frozen=True, repr=False)
class ReducedRelaxationResult(_TypedBoundResult):
    """Certificate and class-level geometry from a symmetry-reduced relaxation.

    The optimal invariant ``G*`` is described by class-level scalars per *type* (a type is
    a group of classes of equal size: one type for balanced labels, two for STEP).

    Attributes
    ----------
    value : float
        Optimal value as the solver reports it (sum over all N anchors).
    lower_bound : float
        Certified lower bound (closed-form evaluation of a class-level dual point,
        docs/relax.md); valid for every ``d``.
    upper_bound : float
        Smallest ``L`` over exactly feasible invariant points built from the solver's
        solution (its repair and spectral truncations).
    gram_loss : float
        ``L`` at the reported ``G*``: the lowest-rank of those points whose loss is within
        ``gap`` of ``upper_bound``. Every field below describes this ``G*``.
    class_types : tuple of (k, n)
        ``k`` classes of ``n`` samples per type, in the order given.
    diag, within : tuple of float
        Per type: ``G_ii`` and the within-class inner product (collapse = 1).
    between : dict
        ``{(s, t): inner product}`` between samples of distinct classes of types s and t
        (``(s, s)`` only when the type has >= 2 classes).
    mean_cos : dict
        Same keys: cosine between the class means; ``||mu_s||^2 = (diag_s + (n_s - 1) within_s)/n_s``.
    eigenvalues : tuple of (value, multiplicity)
        Spectrum of ``G*`` in closed form, descending.
    rank, rank_tol
        Numerical rank (eigenvalues ``> rank_tol * max``, counted with multiplicity).
    tau, constraint, solver, eps, max_iters, status, solve_time, iterations
        As in :class:`RelaxationResult`.
    """

    value: float
    lower_bound: float
    upper_bound: float
    gram_loss: float
    class_types: tuple
    diag: tuple
    within: tuple
    between: dict
    mean_cos: dict
    eigenvalues: tuple
    rank: int
    rank_tol: float
    tau: float
    constraint: str
    solver: str
    eps: float
    max_iters: int | None
    status: str
    solve_time: float
    iterations: int | None
    _point: _Invariant = field(compare=False)

    def gram(self) -> np.ndarray:
        """The full (N, N) invariant ``G*`` (memory N^2: for moderate N)."""
        return self._point.expand()

    def __repr__(self) -> str:
        return (
            f"ReducedRelaxationResult(class_types={self.class_types!r}, tau={self.tau!r}, "
            f"constraint={self.constraint!r}, value={self.value!r}, lower_bound={self.lower_bound!r}, "
            f"gap={self.gap:.3g}, rank={self.rank}, status={self.status!r})"
        )


class _TypeLayout:
    """Constant matrices that let the class-level programs address only the entries that
    exist: ``same`` for types with >= 2 classes (``multi``), and the ordered pairs (s, t),
    s != t, of distinct types (``pair_rows[s, p] = 1`` when pair p starts at type s,
    ``pair_cols[p] = t``, ``select_pairs @ vec(X)`` = the entries X[s, t] in pair order,
    column-major ``vec``)."""

    def __init__(self, T: int, k: np.ndarray):
        self.T = T
        self.multi = [s for s in range(T) if k[s] >= 2]
        self.same_rows = np.zeros((T, len(self.multi)))
        for j, s in enumerate(self.multi):
            self.same_rows[s, j] = 1.0
        pairs = [(s, t) for s in range(T) for t in range(T) if s != t]
        self.pairs = pairs
        self.pair_cols = np.array([t for _, t in pairs], dtype=np.int64)
        self.pair_rows = np.zeros((T, len(pairs)))
        self.select_pairs = np.zeros((len(pairs), T * T))
        for p, (s, t) in enumerate(pairs):
            self.pair_rows[s, p] = 1.0
            self.select_pairs[p, s + t * T] = 1.0

    def spread_same(self, same):
        """Length-T expression: ``same`` at the multi-class types, 0 elsewhere."""
        return self.same_rows @ same if self.multi else np.zeros(self.T)

    def same_values(self, same) -> np.ndarray:
        out = np.zeros(self.T)
        if self.multi:
            out[self.multi] = np.asarray(same.value, dtype=np.float64).reshape(len(self.multi))
        return out


def _solve_reduced(types, tau, constraint, solver, eps, max_iters, verbose, rank_tol, what):
    """Class-level program for an invariant G (docs/relax.md, section 'Symmetry reduction').

    Written with vector and T x T matrix variables, so compiling it costs the same for
    any number T of types (class sizes): ``within``, ``same`` (one entry per type),
    ``cross`` (symmetric, zero diagonal: the entry between two types) and the epigraph
    variable ``lse`` of each type's log-sum-exp.
    """
    import cvxpy as cp

    T = len(types)
    k, n = [t[0] for t in types], [t[1] for t in types]
    karr, narr = np.array(k, dtype=np.float64), np.array(n, dtype=np.float64)
    sizes = karr * narr
    N = float(np.sum(sizes))
    off = 1.0 - np.eye(T)
    layout = _TypeLayout(T, karr)
    multi = np.array(layout.multi, dtype=np.int64)
    within = cp.Variable(T)
    # only types with >= 2 classes have this entry; no variable at all when none has
    # (cvxpy before 1.7 rejects a variable of shape (0,))
    same = cp.Variable(len(layout.multi)) if layout.multi else None
    cross = cp.Variable((T, T), symmetric=True)
    lse = cp.Variable(T)
    diag = np.ones(T) if constraint == "sphere" else cp.Variable(T)
    same_full = layout.spread_same(same)

    # one row of type s: (n_s - 1) entries `within`, (k_s - 1) n_s entries `same`, N_t
    # entries `cross[s, t]` per other type; positives average to `within`.
    # lse_s >= log-sum-exp of the row  <=>  sum of exp(logit - lse_s) <= 1. Only entries
    # that exist get an exponential cone (a cone with a zero weight is a free ray).
    row_mass = cp.exp(within / tau + np.log(narr - 1) - lse)
    if layout.multi:
        row_mass = row_mass + layout.same_rows @ cp.exp(
            same / tau + np.log((karr[multi] - 1) * narr[multi]) - layout.same_rows.T @ lse)
    if T >= 2:
        row_mass = row_mass + layout.pair_rows @ cp.exp(
            layout.select_pairs @ cp.vec(cross, order="F") / tau + np.log(sizes[layout.pair_cols])
            - layout.pair_rows.T @ lse)
    objective = cp.sum(cp.multiply(sizes / N, lse - within / tau))

    constraints = [row_mass <= 1, diag - within >= 0]  # within-class zero-sum vectors
    if T >= 2:
        constraints.append(cp.diag(cross) == 0)
    if layout.multi:  # class indicators of a type summing to zero (divided by n_s)
        constraints.append((diag[multi] - within[multi]) / narr[multi] + within[multi] - same >= 0)
    # type-indicator block divided congruently by sqrt(N_s N_t): diagonal m_s / N_s, off-diagonal cross
    m_scaled = diag / sizes + cp.multiply(within, (narr - 1) / sizes) + cp.multiply(same_full, (karr - 1) / karr)
    constraints += _type_block_psd(m_scaled, cross, T)
    if constraint == "ball":
        constraints.append(diag <= 1)

    problem = cp.Problem(cp.Minimize(objective), constraints)
    _solve_checked(problem, solver, eps, max_iters, verbose, what)

    cross_matrix = np.asarray(cross.value, dtype=np.float64) * off
    cross_matrix = 0.5 * (cross_matrix + cross_matrix.T)
    raw = _Invariant(
        tuple(k), tuple(n),
        np.ones(T) if constraint == "sphere" else np.asarray(diag.value, dtype=np.float64).reshape(T),
        np.asarray(within.value, dtype=np.float64).reshape(T),
        layout.same_values(same),
        cross_matrix,
    )
    point = _repair_invariant(raw, constraint)
    # as for the full relaxation: the dual bound is first order in the distance of the
    # expansion point to the optimum, so also expand at spectral truncations (which snap
    # eigenvalues the solver left at ~eps to 0); every point gives a valid bound
    candidates = [point] + [_repair_invariant(raw.truncated(t, constraint), constraint)
                            for t in (1e-4, 1e-6, 1e-8)]
    lower = max(_invariant_lower_bound(c, tau, constraint) for c in [raw] + candidates)
    # the primal point's softmax is a dual point accurate only to ~sqrt(eps) in flat
    # directions; the class-level dual program gives one accurate to eps
    try:
        masses = _solve_invariant_dual(tuple(k), tuple(n), tau, constraint, solver, eps, max_iters, False, what)
        dual_bound = _invariant_dual_bound(tuple(k), tuple(n), masses, tau, constraint)
        if math.isfinite(dual_bound):  # masses of an inaccurate solve could be unusable
            lower = max(lower, dual_bound)
    except RelaxationError:
        pass  # the primal-induced bound above stays valid, only looser

    def spectrum_rank(c):
        spectrum = sorted(c.spectrum(), key=lambda vm: -vm[0])
        return int(sum(m for v, m in spectrum if v > rank_tol * spectrum[0][0]))

    scored = [(spectrum_rank(c), c.loss(tau), i) for i, c in enumerate(candidates)]
    upper = min(c[1] for c in scored)
    rank, gram_loss, index = _lowest_rank_within_gap(scored, lower, upper)
    point = candidates[index]
    spectrum = sorted(point.spectrum(), key=lambda vm: -vm[0])

    between, mean_cos = _point_geometry(point)
    stats = problem.solver_stats
    return ReducedRelaxationResult(
        value=float(problem.value) * N,
        lower_bound=float(lower),
        upper_bound=float(upper),
        gram_loss=float(gram_loss),
        class_types=tuple((int(a), int(b)) for a, b in types),
        diag=tuple(float(v) for v in point.diag),
        within=tuple(float(v) for v in point.within),
        between=between,
        mean_cos=mean_cos,
        eigenvalues=tuple(spectrum),
        rank=rank,
        rank_tol=rank_tol,
        tau=tau,
        constraint=constraint,
        solver=solver,
        eps=eps,
        max_iters=max_iters,
        status=str(problem.status),
        solve_time=float(stats.solve_time) if stats.solve_time is not None else float("nan"),
        iterations=None if stats.num_iters is None else int(stats.num_iters),
        _point=point,
    )


@representable("tau", "K", "n_per_class")
def sc_relaxation_reduced(*, n_per_class, K, tau, constraint="sphere", solver="clarabel", eps=1e-9,
                          max_iters=None, verbose=False, rank_tol=1e-6) -> ReducedRelaxationResult:
    """Symmetry-reduced relaxation for balanced labels: K classes of ``n_per_class`` samples.

    An optimal ``G`` may be taken invariant under permutations of samples within a
    class and of the classes (average any optimum over the group: ``L`` is convex and
    invariant). Such a ``G`` has three entries: 1 on the diagonal, ``a`` within a class,
    ``b`` between classes, and eigenvalues ``1 - a`` (multiplicity ``K(n-1)``),
    ``1 - a + n(a - b)`` (``K - 1``), ``1 + (n-1)a + n(K-1)b`` (1). The program is

    .. math::

        \\min_{a,b}\\; N\\big[\\log\\big((n-1)e^{a/\\tau} + (K-1)n\\,e^{b/\\tau}\\big) - a/\\tau\\big]

    subject to those eigenvalues being >= 0 (docs/relax.md; behnia2024). Its optimum
    is the collapsed regular simplex ``a = 1, b = -1/(K-1)`` with value
    ``N log(n - 1 + (N - n) exp(-K/((K-1) tau)))`` -- graf2021's SC minimum with the
    whole data set as one batch and ``rho^2 = 1/tau``.

    Parameters
    ----------
    n_per_class : int
        Samples per class, >= 2.
    K : int
        Number of classes, >= 2.
    tau : float
        Temperature, > 0.
    constraint, solver, eps, max_iters, verbose, rank_tol
        As in :func:`sc_relaxation` (defaults: Clarabel, eps = 1e-9).

    Returns
    -------
    ReducedRelaxationResult

    Examples
    --------
    >>> import numpy as np
    >>> res = sc_relaxation_reduced(n_per_class=100, K=100, tau=0.1)
    >>> closed = 10_000 * np.log(99 + 9_900 * np.exp(-100 / (99 * 0.1)))
    >>> bool(res.lower_bound <= closed + 1e-9 and abs(res.upper_bound - closed) < 1e-6), res.rank
    (True, 99)
    """
    caller = "sc_relaxation_reduced"
    n_per_class = check_int(n_per_class, "n_per_class", caller, min_value=2)
    K = check_int(K, "K", caller, min_value=2)
    tau = _check_tau(tau, caller)
    constraint, solver, eps, max_iters, verbose, rank_tol = _check_solver_args(
        caller, constraint, solver, eps, max_iters, verbose, rank_tol)
    return _solve_reduced([(K, n_per_class)], tau, constraint, solver, eps, max_iters, verbose,
                          rank_tol, f"{caller}(n_per_class={n_per_class}, K={K}, tau={tau:g})")


@representable("tau")
def sc_relaxation_step(k1, n1, k2, n2, tau, *, constraint="sphere", solver="clarabel", eps=1e-9,
                       max_iters=None, verbose=False, rank_tol=1e-6) -> ReducedRelaxationResult:
    """Symmetry-reduced relaxation for STEP imbalance: k1 classes of n1 samples, k2 of n2.

    The invariant ``G`` has, per type s, a within-class entry ``a_s`` and (if ``k_s >= 2``)
    a between-class entry ``b_ss``, plus one cross-type entry ``b_12``. PSD reduces to
    ``1 - a_s >= 0``, ``1 - a_s + n_s (a_s - b_ss) >= 0`` and the 2 x 2 matrix
    ``[[m_1, sqrt(N_1 N_2) b_12], [sqrt(N_1 N_2) b_12, m_2]]`` PSD with
    ``m_s = 1 + (n_s - 1) a_s + (k_s - 1) n_s b_ss`` (docs/relax.md). The loss is

    .. math::

        \\sum_s N_s\\big[\\log\\big((n_s-1)e^{a_s/\\tau} + (k_s-1)n_s e^{b_{ss}/\\tau}
        + N_{s'} e^{b_{12}/\\tau}\\big) - a_s/\\tau\\big].

    behnia2024 (imbalance); the imbalance ratio is ``R = n1 / n2``.

    Parameters
    ----------
    k1, n1, k2, n2 : int
        ``k_s >= 1`` classes of ``n_s >= 2`` samples.
    tau : float
        Temperature, > 0.
    constraint, solver, eps, max_iters, verbose, rank_tol
        As in :func:`sc_relaxation_reduced`.

    Returns
    -------
    ReducedRelaxationResult
        :meth:`~ReducedRelaxationResult.geometry` gives the majority/minority angles.
    """
    caller = "sc_relaxation_step"
    k1 = check_int(k1, "k1", caller, min_value=1)
    n1 = check_int(n1, "n1", caller, min_value=2)
    k2 = check_int(k2, "k2", caller, min_value=1)
    n2 = check_int(n2, "n2", caller, min_value=2)
    tau = _check_tau(tau, caller)
    constraint, solver, eps, max_iters, verbose, rank_tol = _check_solver_args(
        caller, constraint, solver, eps, max_iters, verbose, rank_tol)
    return _solve_reduced([(k1, n1), (k2, n2)], tau, constraint, solver, eps, max_iters, verbose,
                          rank_tol, f"{caller}(k1={k1}, n1={n1}, k2={k2}, n2={n2}, tau={tau:g})")


@representable("tau")
def sc_relaxation_class_sizes(class_sizes, tau, *, constraint="sphere", solver="clarabel", eps=1e-8,
                              max_iters=None, verbose=False, rank_tol=1e-6) -> ReducedRelaxationResult:
    """Symmetry-reduced relaxation for any class sizes (long-tailed, several imbalance levels).

    L(G) depends on the labels only through the class sizes, so the certificate is that of
    every labelling with these sizes. Classes of equal size form a type; the program has
    a few scalars per type, one cross entry per pair of types, and the T x T type block as
    a linear matrix inequality (docs/relax.md, section 4), so its size grows with the
    number T of distinct class sizes, not with N. With one distinct size it is
    :func:`sc_relaxation_reduced`, with two :func:`sc_relaxation_step`.

    Parameters
    ----------
    class_sizes : sequence of int
        Samples per class, each >= 2 (a positive pair needs two samples), at least two
        classes. Types are formed in order of decreasing size.
    tau : float
        Temperature, > 0.
    constraint, solver, eps, max_iters, verbose, rank_tol
        As in :func:`sc_relaxation_reduced`, except ``eps = 1e-8``: with tens of types
        the T x T matrix inequality keeps Clarabel from reaching 1e-9 (measured: 39 types
        stop at 'optimal_inaccurate' at 1e-9 and solve in 7 s at 1e-8).

    Returns
    -------
    ReducedRelaxationResult
        ``class_types`` lists ``(k, n)`` by decreasing n; :meth:`~ReducedRelaxationResult.labels`
        numbers the classes in that order; :meth:`~ReducedRelaxationResult.type_geometry`
        gives the per-type angles.

    Examples
    --------
    >>> res = sc_relaxation_class_sizes([40, 40, 20, 10, 10, 10, 5], tau=0.5)
    >>> res.class_types
    ((2, 40), (1, 20), (3, 10), (1, 5))
    >>> bool(res.gap < 1e-7 * res.lower_bound)  # certified to 1e-7 relative
    True
    """
    caller = "sc_relaxation_class_sizes"
    types, _ = _batch_types(class_sizes, caller)
    tau = _check_tau(tau, caller)
    constraint, solver, eps, max_iters, verbose, rank_tol = _check_solver_args(
        caller, constraint, solver, eps, max_iters, verbose, rank_tol)
    shown = ", ".join(f"{k}x{n}" for k, n in types)
    return _solve_reduced(types, tau, constraint, solver, eps, max_iters, verbose, rank_tol,
                          f"{caller}([{shown}], tau={tau:g})")


# --------------------------------------------------------------------------------------
# graf2021's batch-summed SC loss


BATCH_SETS = ("multiset", "subset", "ordered")
#: Kinds of the entries of an anchor's batch row: a repeat of the anchor's own index,
#: another sample of its class, a sample of another class of its type, then one kind per
#: type t (column ``3 + t``; the anchor's own type's column stays empty).
_REPEAT, _WITHIN, _SAME, _FIRST_TYPE = 0, 1, 2, 3
#: Most anchor configurations a batch-summed program may have (each is one log-sum-exp
#: of a few exponential cones); beyond this the program would take minutes to compile.
BATCH_ROW_LIMIT = 60_000


def _compositions(total: int, parts: int) -> np.ndarray:
    """All non-negative integer vectors of length ``parts`` summing to ``total`` (stars and bars)."""
    import itertools

    if parts == 1:
        return np.array([[total]], dtype=np.int64)
    slots = total + parts - 1
    bars = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(slots), parts - 1)),
                       dtype=np.int64).reshape(-1, parts - 1)
    edges = np.hstack([np.full((len(bars), 1), -1), bars, np.full((len(bars), 1), slots)])
    return np.diff(edges, axis=1) - 1


@dataclass(frozen=True)
class _BatchRows:
    """Anchor configurations of a batch set under the class symmetry, with their weights.

    Row r is an anchor of type ``type_of[r]`` whose other b-1 batch positions hold
    ``counts[r, kind]`` entries of each kind (``_REPEAT``, ``_WITHIN``, ``_SAME``, then one
    column per type). ``weight[r]`` is the number of (batch, anchor position) pairs with
    this configuration, summed over the anchors of the type, divided by the number of
    batches (so the objective is the mean loss per batch). Only anchors with a positive
    (``repeat + within >= 1``) are kept; ``weight_dropped`` is the weight of the others.
    """

    k: tuple
    n: tuple
    b: int
    batches: str
    type_of: np.ndarray
    counts: np.ndarray
    weight: np.ndarray
    log_n_batches: float
    weight_dropped: float

    @property
    def positives(self) -> np.ndarray:
        return self.counts[:, _REPEAT] + self.counts[:, _WITHIN]


def _n_batches(N: int, b: int, batches: str) -> int:
    """The number of batches of the batch set, exactly: C(N+b-1, b), C(N, b) or N^b."""
    if batches == "multiset":
        return math.comb(N + b - 1, b)
    if batches == "subset":
        return math.comb(N, b)
    return N ** b


def _batch_rows(k: Sequence[int], n: Sequence[int], b: int, batches: str) -> _BatchRows:
    """Enumerate the anchor configurations and their weights (docs/relax.md).

    For one anchor index i of type s the pools are: its own index (repeats; none for
    ``subset``), the n_s - 1 other samples of its class, the (k_s - 1) n_s samples of the
    other classes of its type, and the N_t samples of each other type t. The number of
    batches holding i with given counts c per pool (i once more than the repeats) is

    * multiset: ``prod_pools C(pool + c - 1, c)``, times the ``repeat + 1`` positions of i;
    * subset: ``prod_pools C(pool, c)``;
    * ordered: ``b * (b-1)! / prod c! * prod pool^c`` (position of i, then the others).

    The counts are exact Python integers and each weight ``N_s * count / #batches`` is one
    correctly rounded division (about 10^700 batches at N = 50000, b = 256 stay exact):
    log-gamma differences of numbers near ``log #batches`` would lose ~1e-11 relative,
    more than the certified gap.
    """
    T = len(k)
    sizes = [ks * ns for ks, ns in zip(k, n)]
    N = int(sum(sizes))
    total = _n_batches(N, b, batches)
    fact = [math.factorial(c) for c in range(b)]
    types, blocks, weights = [], [], []
    dropped = 0.0
    for s in range(T):
        pools = {_WITHIN: n[s] - 1, _SAME: (k[s] - 1) * n[s]}
        pools.update({_FIRST_TYPE + t: sizes[t] for t in range(T) if t != s})
        if batches != "subset":
            pools[_REPEAT] = 1
        kinds = sorted(c for c, pool in pools.items() if pool > 0)
        comp = _compositions(b - 1, len(kinds))
        if batches == "subset":
            comp = comp[np.all(comp <= np.array([pools[c] for c in kinds]), axis=1)]
        # exact count of every (pool, count) pair, looked up per row
        tables = []
        for kind in kinds:
            m = pools[kind]
            if batches == "multiset":
                tables.append([math.comb(m + c - 1, c) for c in range(b)])
            elif batches == "subset":
                tables.append([math.comb(m, c) for c in range(b)])
            else:
                tables.append([m ** c for c in range(b)])
        rep = kinds.index(_REPEAT) if _REPEAT in kinds else None
        w = np.empty(len(comp))
        for r, row in enumerate(comp.tolist()):
            count = sizes[s]
            for j, c in enumerate(row):
                count *= tables[j][c]
            if batches == "multiset" and rep is not None:
                count *= row[rep] + 1
            elif batches == "ordered":
                count = count * b * fact[b - 1] // math.prod(fact[c] for c in row)
            w[r] = count / total  # int / int: correctly rounded
        counts = np.zeros((len(comp), _FIRST_TYPE + T))
        counts[:, kinds] = comp
        keep = counts[:, _REPEAT] + counts[:, _WITHIN] >= 1
        dropped += float(np.sum(w[~keep]))
        types.append(np.full(int(keep.sum()), s, dtype=np.int64))
        blocks.append(counts[keep])
        weights.append(w[keep])
    return _BatchRows(tuple(k), tuple(n), int(b), batches, np.concatenate(types), np.vstack(blocks),
                      np.concatenate(weights), math.log(total), dropped)


def _batch_values(rows: _BatchRows, point: _Invariant) -> np.ndarray:
    """(R, kinds) entries of G (unit diagonal) that each kind of entry takes in each row."""
    s = rows.type_of
    V = np.zeros_like(rows.counts)
    V[:, _REPEAT] = 1.0
    V[:, _WITHIN] = point.within[s]
    V[:, _SAME] = point.same[s]
    V[:, _FIRST_TYPE:] = point.cross[s]
    return V


def _batch_logits(rows: _BatchRows, point: _Invariant, beta: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        log_counts = np.log(rows.counts)  # -inf for kinds absent from the row
    return log_counts + beta * _batch_values(rows, point)


def _batch_loss(rows: _BatchRows, point: _Invariant, beta: float) -> float:
    """Mean loss per batch at an invariant G = rho^2 * point (beta = rho^2)."""
    from scipy.special import logsumexp

    lse = logsumexp(_batch_logits(rows, point, beta), axis=1)
    attract = beta * (rows.counts[:, _REPEAT] + rows.counts[:, _WITHIN] * point.within[rows.type_of])
    return float(np.sum(rows.weight * (lse - attract / rows.positives)))


def _batch_masses(rows: _BatchRows, point: _Invariant, beta: float) -> np.ndarray:
    """The dual point that G induces: each row's softmax mass on each kind of entry."""
    from scipy.special import softmax

    return softmax(_batch_logits(rows, point, beta), axis=1)


def _batch_linear_part(rows: _BatchRows, masses: np.ndarray, beta: float):
    """Fenchel-Young minorant of the batch loss at the dual point ``masses``.

    Returns ``(const, A)`` with ``L(G) >= const + <A, G/rho^2>`` for every G with
    ``diag(G) = rho^2`` that is invariant, A an invariant matrix with zero diagonal.
    """
    k = np.array(rows.k, dtype=np.float64)
    n = np.array(rows.n, dtype=np.float64)
    sizes = k * n
    T = len(rows.k)
    w, s, C, P = rows.weight, rows.type_of, rows.counts, masses
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = np.where(P > 0.0, P * (np.log(np.where(C > 0, C, 1.0)) - np.log(np.where(P > 0, P, 1.0))), 0.0)
    pos = rows.positives
    const_terms = entropy.sum(axis=1) + beta * (P[:, _REPEAT] - C[:, _REPEAT] / pos)
    # rounding: weights are correctly rounded, each row's terms carry a few ulps; a row's
    # contribution is at most |const_r| + 2 beta (entries of G/rho^2 lie in [-1, 1])
    margin = 64.0 * _MACHINE_EPS * math.fsum((w * (np.abs(const_terms) + 2.0 * beta)).tolist())
    const = math.fsum((w * const_terms).tolist()) - margin
    coef_within = beta * np.bincount(s, w * (P[:, _WITHIN] - C[:, _WITHIN] / pos), minlength=T)
    coef_same = beta * np.bincount(s, w * P[:, _SAME], minlength=T)
    coef_cross = np.zeros((T, T))
    for t in range(T):
        coef_cross[:, t] = beta * np.bincount(s, w * P[:, _FIRST_TYPE + t], minlength=T)
    np.fill_diagonal(coef_cross, 0.0)
    within = coef_within / (sizes * (n - 1.0))
    same = np.where(k >= 2, coef_same / (sizes * np.maximum(k - 1.0, 1.0) * n), 0.0)
    cross = (coef_cross + coef_cross.T) / (2.0 * np.outer(sizes, sizes))
    A = _Invariant(rows.k, rows.n, np.zeros(T), within, same, cross)
    return const, A


def _clean_masses(rows: _BatchRows, masses: np.ndarray) -> np.ndarray:
    """Masses clipped to >= 0, zero on absent kinds, rows renormalised (a valid dual point)."""
    P = np.where(rows.counts > 0, np.maximum(np.asarray(masses, dtype=np.float64), 0.0), 0.0)
    return P / P.sum(axis=1, keepdims=True)


def _batch_dual_bound(rows: _BatchRows, masses: np.ndarray, beta: float):
    """Certified lower bound on the mean loss per batch, and the dual diagonal d."""
    masses = _clean_masses(rows, masses)
    const, A = _batch_linear_part(rows, masses, beta)
    # A's entries are weight / N^2 (1e-8 at N = 10^4): scaled to O(1) before choosing d, or
    # the T x T block program (T >= 3) meets its absolute tolerance without being accurate.
    # A power of two scales exactly, so PSD of the scaled matrix is PSD of A.
    top = max(float(np.max(np.abs(v))) for v in (A.within, A.same, A.cross))
    scale = 2.0 ** -math.floor(math.log2(top)) if top > 0 else 1.0
    d = _certified_type_diagonal(_Invariant(A.k, A.n, A.diag * scale, A.within * scale, A.same * scale,
                                            A.cross * scale)) / scale
    sizes = np.array(rows.k, dtype=np.float64) * np.array(rows.n, dtype=np.float64)
    return float(const + np.dot(sizes, d)), d, masses


@dataclass(frozen=True, repr=False)
class BatchSCCertificate:
    """The dual point that certifies a lower bound on graf2021's batch-summed SC loss.

    Re-check it without a solver with :func:`check_batch_sc_certificate`.

    Attributes
    ----------
    class_types : tuple of (k, n)
        ``k`` classes of ``n`` samples per type (decreasing n).
    b : int
    batches : str
    rho : float
    counts : ndarray, shape (R, 3 + T)
        Anchor configurations (rows) in the order :func:`batch_sc_relaxation` enumerates
        them: counts of repeats, same-class, same-type and per-type entries.
    masses : ndarray, shape (R, 3 + T)
        Per row, a probability vector over the kinds of entries (the Fenchel-Young dual
        variables of the row's log-sum-exp).
    diagonal : ndarray, shape (T,)
        Per type, the diagonal dual variable ``d_s`` (``A - diag(d)`` PSD).
    lower_bound : float
        The bound these variables give (mean loss per batch).
    """

    class_types: tuple
    b: int
    batches: str
    rho: float
    counts: np.ndarray
    masses: np.ndarray
    diagonal: np.ndarray
    lower_bound: float

    def __repr__(self) -> str:
        return (f"BatchSCCertificate(class_types={self.class_types!r}, b={self.b}, batches={self.batches!r}, "
                f"rho={self.rho!r}, rows={len(self.counts)}, lower_bound={self.lower_bound!r})")


def check_batch_sc_certificate(certificate: BatchSCCertificate, *, dps: int = 30) -> dict:
    """Re-check a batch-summed SC certificate with numpy and mpmath only (no solver).

    Recomputes the anchor configurations and their weights from the sizes, checks that
    the masses are probability vectors supported on the kinds present in each row, forms
    the Fenchel-Young minorant ``const + <A, G>`` and checks ``A - diag(d) PSD`` from its
    closed-form spectrum evaluated in mpmath at ``dps`` digits (the two scalar eigenvalue
    families and the T x T type block, docs/relax.md). Then for every feasible G

    ``L(G)/#batches >= const + <A, G/rho^2> >= const + sum_s N_s d_s``  (weak duality).

    Parameters
    ----------
    certificate : BatchSCCertificate
    dps : int
        mpmath digits of the eigenvalue check.

    Returns
    -------
    dict
        ``bound`` (recomputed), ``claimed`` (the certificate's), ``min_eigenvalue`` (of
        ``A - diag(d)``, mpmath), ``masses_ok``, ``rows_match`` and ``valid`` (all checks
        pass and ``bound`` equals ``claimed`` to 1e-9 relative).
    """
    import mpmath

    caller = "check_batch_sc_certificate"
    if not isinstance(certificate, BatchSCCertificate):
        raise fail("certificate", caller, "a BatchSCCertificate", certificate)
    dps = check_int(dps, "dps", caller, min_value=15, max_value=MAX_DPS)
    k = [int(a) for a, _ in certificate.class_types]
    n = [int(c) for _, c in certificate.class_types]
    beta = float(certificate.rho) ** 2
    rows = _batch_rows(k, n, int(certificate.b), certificate.batches)
    rows_match = rows.counts.shape == certificate.counts.shape and bool(np.all(rows.counts == certificate.counts))
    P = np.asarray(certificate.masses, dtype=np.float64)
    masses_ok = (rows_match and P.shape == rows.counts.shape and bool(np.all(P >= 0.0))
                 and bool(np.all(P[rows.counts == 0] == 0.0))
                 and bool(np.all(np.abs(P.sum(axis=1) - 1.0) <= 1e-12)))
    if not masses_ok:
        return {"bound": float("nan"), "claimed": certificate.lower_bound, "min_eigenvalue": float("nan"),
                "masses_ok": False, "rows_match": rows_match, "valid": False}
    P = P / P.sum(axis=1, keepdims=True)
    const, A = _batch_linear_part(rows, P, beta)
    d = np.asarray(certificate.diagonal, dtype=np.float64)
    with mpmath.workdps(dps):
        mp = mpmath.mpf
        T = len(k)
        eig = []
        for s in range(T):  # within-class zero-sum vectors, then class indicators summing to 0
            eig.append(mp(A.diag[s]) - mp(d[s]) - mp(A.within[s]))
            if k[s] >= 2:
                eig.append(mp(A.diag[s]) - mp(d[s]) - mp(A.within[s]) + n[s] * (mp(A.within[s]) - mp(A.same[s])))
        block = mpmath.matrix(T, T)
        for s in range(T):
            for t in range(T):
                if s == t:
                    block[s, s] = (mp(A.diag[s]) - mp(d[s]) + (n[s] - 1) * mp(A.within[s])
                                   + (k[s] - 1) * n[s] * mp(A.same[s]))
                else:
                    block[s, t] = mpmath.sqrt(mp(k[s] * n[s]) * k[t] * n[t]) * mp(A.cross[s, t])
        eig += list(mpmath.eigsy(block, eigvals_only=True))
        lam_min = min(eig)
        sizes = [k[s] * n[s] for s in range(T)]
        bound = mp(const) + mpmath.fsum(mp(sizes[s]) * mp(d[s]) for s in range(T))
    bound = float(bound)
    claimed = float(certificate.lower_bound)
    agree = abs(bound - claimed) <= 1e-9 * max(1.0, abs(claimed))
    return {"bound": bound, "claimed": claimed, "min_eigenvalue": float(lam_min), "masses_ok": True,
            "rows_match": rows_match, "valid": bool(lam_min >= 0 and agree)}


def _point_geometry(point: _Invariant):
    """Between-class inner products and class-mean cosines of an invariant point."""
    T = len(point.k)
    n = np.array(point.n, dtype=np.float64)
    mean_norm = np.sqrt(np.maximum((point.diag + (n - 1) * point.within) / n, 0.0))
    between, mean_cos = {}, {}
    for s in range(T):
        for t in range(T):
            if s == t and point.k[s] < 2:
                continue
            value = float(point.same[s]) if s == t else float(point.cross[s, t])
            between[(s, t)] = value
            denom = mean_norm[s] * mean_norm[t]
            mean_cos[(s, t)] = float(value / denom) if denom > 0 else None
    return between, mean_cos


@dataclass(frozen=True, repr=False)
class BatchRelaxationResult(_TypedBoundResult):
    """Certified optimum of graf2021's batch-summed SC loss and its class-level geometry.

    Values are the **mean loss per batch** (the total divided by the number of batches,
    ``exp(log_n_batches)``, which overflows floats at large sizes), as for
    :func:`theorycheck.bounds.sc_minimum`.

    Attributes
    ----------
    value : float
        Solver optimum.
    lower_bound : float
        Certified lower bound (:attr:`certificate`), valid in every embedding dimension.
    upper_bound : float
        Loss at the reported feasible ``G*`` (attained in dimension ``rank``).
    log_n_batches : float
        log of the number of batches; ``log(total) = log(mean) + log_n_batches``.
    class_types, b, batches, rho
        The problem.
    within : tuple of float
        Per type, the within-class inner product divided by rho^2 (collapse = 1).
    between, mean_cos : dict
        As in :class:`ReducedRelaxationResult` (inner products divided by rho^2).
    eigenvalues : tuple of (value, multiplicity)
        Spectrum of ``G*/rho^2``, descending.
    rank : int
    certificate : BatchSCCertificate
    status, solver, eps, solve_time, n_rows
        Solver status, name, tolerance, time (s) and the number of anchor configurations.
    """

    value: float
    lower_bound: float
    upper_bound: float
    log_n_batches: float
    class_types: tuple
    b: int
    batches: str
    rho: float
    within: tuple
    between: dict
    mean_cos: dict
    eigenvalues: tuple
    rank: int
    certificate: BatchSCCertificate
    status: str
    solver: str
    eps: float
    solve_time: float
    n_rows: int
    _point: _Invariant = field(compare=False)

    def gram(self) -> np.ndarray:
        """The full (N, N) ``G*`` (diagonal rho^2; memory N^2: for moderate N)."""
        return self.rho ** 2 * self._point.expand()

    def class_gram(self) -> np.ndarray:
        """The class-level Gram matrix of ``G*``, (K, K): entry (c, c') is ``<z_i, z_j>`` for
        samples i != j of classes c and c' (diagonal: two samples of one class; rho^2 at
        collapse). Classes are numbered as in :meth:`labels`. ``G*`` is this matrix expanded
        over the samples, with rho^2 on the diagonal.
        """
        p = self._point
        types = np.repeat(np.arange(len(p.k)), p.k)
        M = np.where(types[:, None] == types[None, :], p.same[types][:, None], p.cross[types[:, None], types[None, :]])
        np.fill_diagonal(M, p.within[types])
        return self.rho ** 2 * M

    def __repr__(self) -> str:
        return (f"BatchRelaxationResult(class_types={self.class_types!r}, b={self.b}, "
                f"batches={self.batches!r}, rho={self.rho!r}, lower_bound={self.lower_bound!r}, "
                f"gap={self.gap:.3g}, rank={self.rank}, status={self.status!r})")


#: Configurations whose weight is below this fraction of the total are left out of the
#: solver's program (only): a weight of 1e-30 next to O(1) ones makes the interior-point
#: solver stop at 'optimal_inaccurate', while it moves the optimum by less than the
#: tolerance. The certificate and the upper bound are evaluated on every configuration.
_SOLVER_WEIGHT_FLOOR = 1e-10


def _solve_batch(rows: _BatchRows, beta: float, solver: str, eps: float, max_iters, verbose, what):
    """The class-level program of the batch-summed loss (cvxpy); returns (problem, raw point).

    The objective is the mean loss per batch over the configurations of weight at least
    ``_SOLVER_WEIGHT_FLOOR`` times the total, normalised to total weight 1; ``wsum`` turns
    it back into the mean per batch.
    """
    import cvxpy as cp
    import scipy.sparse as sp

    heavy = rows.weight >= _SOLVER_WEIGHT_FLOOR * float(np.sum(rows.weight))
    rows = _BatchRows(rows.k, rows.n, rows.b, rows.batches, rows.type_of[heavy], rows.counts[heavy],
                      rows.weight[heavy], rows.log_n_batches, rows.weight_dropped)

    k, n = rows.k, rows.n
    T = len(k)
    karr, narr = np.array(k, dtype=np.float64), np.array(n, dtype=np.float64)
    sizes = karr * narr
    within = cp.Variable(T)
    same = cp.Variable(T)
    cross = cp.Variable((T, T), symmetric=True)
    u = cp.hstack([within, same, cp.vec(cross, order="F")])
    # one exponential cone per (row, kind present): logit = log count + beta * entry
    r_idx, kinds = np.nonzero(rows.counts)
    s = rows.type_of[r_idx]
    col = np.where(kinds == _WITHIN, s, np.where(kinds == _SAME, T + s, 2 * T + s + (kinds - _FIRST_TYPE) * T))
    entry = kinds != _REPEAT
    J, R = len(r_idx), len(rows.weight)
    S = sp.csr_matrix((np.full(int(entry.sum()), beta), (np.nonzero(entry)[0], col[entry])),
                      shape=(J, 2 * T + T * T))
    M = sp.csr_matrix((np.ones(J), (r_idx, np.arange(J))), shape=(R, J))
    c0 = np.log(rows.counts[r_idx, kinds]) + np.where(kinds == _REPEAT, beta, 0.0)
    lse = cp.Variable(R)
    pos = rows.positives
    wsum = float(np.sum(rows.weight))
    w = rows.weight / wsum  # the solver sees weights summing to 1: its tolerances are relative
    attract_within = beta * np.bincount(rows.type_of, w * rows.counts[:, _WITHIN] / pos, minlength=T)
    attract_const = beta * float(np.sum(w * rows.counts[:, _REPEAT] / pos))
    objective = w @ lse - attract_within @ within - attract_const
    constraints = [M @ cp.exp(c0 + S @ u - M.T @ lse) <= 1, within <= 1, cp.diag(cross) == 0]
    single = [t for t in range(T) if k[t] < 2]
    multi = [t for t in range(T) if k[t] >= 2]
    if single:
        constraints.append(same[single] == 0)
    if multi:
        constraints.append((1 - within[multi]) / narr[multi] + within[multi] - same[multi] >= 0)
    m_scaled = 1.0 / sizes + cp.multiply(within, (narr - 1) / sizes) + cp.multiply(same, (karr - 1) / karr)
    constraints += _type_block_psd(m_scaled, cross, T)
    problem = cp.Problem(cp.Minimize(objective), constraints)
    # the solver's point only chooses the dual point and the feasible G; bound and gap are
    # evaluated exactly from it, so a point short of the tolerance still certifies (its
    # gap says how well)
    _solve_checked(problem, solver, eps, max_iters, verbose, what, accept_inaccurate=True)
    cross_matrix = np.asarray(cross.value, dtype=np.float64).reshape(T, T) * (1.0 - np.eye(T))
    raw = _Invariant(tuple(k), tuple(n), np.ones(T), np.asarray(within.value, dtype=np.float64).reshape(T),
                     np.where(karr >= 2, np.asarray(same.value, dtype=np.float64).reshape(T), 0.0),
                     0.5 * (cross_matrix + cross_matrix.T))
    return problem, raw, wsum


def _solve_batch_dual(rows: _BatchRows, beta: float, solver: str, eps: float, max_iters, what) -> np.ndarray:
    """Masses from the dual program of the batch-summed relaxation (heavy rows only).

    maximise  sum_r w_r [ sum_k (entr(q_rk) + q_rk log C_rk) + beta q_r,rep ] + sum_s D_s
    over      q >= 0 with each row summing to 1, D (= N_s d_s),
    s.t.      A(q) - diag(d) PSD, written with the per-type totals
              W_s = beta sum_{r in s} w_r (q_r,within - within_r/pos_r), S_s = beta sum w_r q_r,same,
              X_st = beta sum_{r in s} w_r q_r,t as: -D_s - W_s/(n_s - 1) >= 0,
              -D_s + W_s - S_s/(k_s - 1) >= 0 (k_s >= 2), and the type block congruent to
              diag(W + S - D) + (X + X^T)/2 PSD (docs/relax.md).

    Every entry is O(1) at any N. The primal point's softmax is accurate only to first
    order where the optimum sits on the PSD boundary; this dual point is accurate to the
    solver's tolerance. Returns the masses of the heavy rows (order of ``rows``).
    """
    import cvxpy as cp
    import scipy.sparse as sp

    T = len(rows.k)
    karr, narr = np.array(rows.k, dtype=np.float64), np.array(rows.n, dtype=np.float64)
    r_idx, kinds = np.nonzero(rows.counts)
    R, J = len(rows.weight), len(r_idx)
    w = rows.weight / float(np.sum(rows.weight))
    s_of = rows.type_of[r_idx]
    wj = beta * w[r_idx]
    member = sp.csr_matrix((np.ones(J), (r_idx, np.arange(J))), shape=(R, J))

    def per_type(mask, scale=None):
        vals = wj[mask] if scale is None else wj[mask] * scale
        return sp.csr_matrix((vals, (s_of[mask], np.nonzero(mask)[0])), shape=(T, J))

    q = cp.Variable(J, nonneg=True)
    D = cp.Variable(T)
    pos = rows.positives
    W = per_type(kinds == _WITHIN) @ q - beta * np.bincount(rows.type_of, w * rows.counts[:, _WITHIN] / pos,
                                                            minlength=T)
    S = per_type(kinds == _SAME) @ q
    cross_mask = kinds >= _FIRST_TYPE
    X_rows = s_of[cross_mask] + (kinds[cross_mask] - _FIRST_TYPE) * T  # column-major index of (s, t)
    X = cp.reshape(sp.csr_matrix((wj[cross_mask], (X_rows, np.nonzero(cross_mask)[0])), shape=(T * T, J)) @ q,
                   (T, T), order="F")
    log_c = np.log(rows.counts[r_idx, kinds])
    gain = np.where(kinds == _REPEAT, beta, 0.0)
    objective = w[r_idx] @ (cp.entr(q) + cp.multiply(q, log_c + gain)) + cp.sum(D)
    constraints = [member @ q == 1, -D - cp.multiply(W, 1.0 / (narr - 1.0)) >= 0]
    multi = [t for t in range(T) if karr[t] >= 2]
    if multi:
        constraints.append(-D[multi] + W[multi] - cp.multiply(S[multi], 1.0 / (karr[multi] - 1.0)) >= 0)
    constraints += _type_block_psd(W + S - D, cp.multiply(1.0 - np.eye(T), (X + X.T) / 2), T)
    problem = cp.Problem(cp.Maximize(objective), constraints)
    _solve_checked(problem, solver, eps, max_iters, False, what + " (dual)", accept_inaccurate=True)
    P = np.zeros_like(rows.counts)
    P[r_idx, kinds] = np.asarray(q.value, dtype=np.float64).reshape(J)
    return P


def _check_batch_args(class_sizes: Any, b: Any, batches: Any, rho: Any, caller: str) -> tuple:
    """Validate the arguments shared by the batch-summed functions: ``(types, N, b, batches, rho)``."""
    types, N = _batch_types(class_sizes, caller)
    b = check_int(b, "b", caller, min_value=2)
    batches = check_choice(batches, "batches", caller, BATCH_SETS)
    if batches == "subset" and b > N:
        raise fail("b", caller, f"<= N = {N} for batches='subset'", b)
    rho = check_real(rho, "rho", caller, gt=0.0)
    if not math.isfinite(rho * rho):
        raise fail("rho", caller, "<= 1e154 (the loss uses rho^2, which must be a float64)", rho)
    # rows of _batch_rows: per type, the compositions of b - 1 into its non-empty pools
    T = len(types)
    rows = 0
    for k_s, _ in types:
        pools = 1 + (k_s >= 2) + (T - 1) + (batches != "subset")
        rows += math.comb(b - 1 + pools - 1, pools - 1)
        if rows > MAX_BATCH_ROWS:
            raise fail("b", caller, f"small enough that the anchor configurations to enumerate are at most "
                       f"MAX_BATCH_ROWS = {MAX_BATCH_ROWS} (more than that at b = {b} with {T} distinct class "
                       "sizes)", b)
    return types, N, b, batches, rho


@representable("rho")
def batch_sc_relaxation(class_sizes, b, batches="multiset", rho=1.0, *, solver="clarabel", eps=1e-9,
                        max_iters=None, verbose=False, rank_tol=1e-6) -> BatchRelaxationResult:
    r"""Certified global optimum of graf2021's supervised contrastive loss summed over a batch set.

    The loss of docs/theory.md section 3 (no temperature: ``rho^2 = 1/tau``),
    ``L_SC(Z; Y) = sum_{B in batch set} l(Z; B)``, depends on Z only through
    ``G = Z Z^T``, and each anchor's term ``LSE_{k in B\{i}} G_ik - mean_{j in B_{y_i}\{i}} G_ij``
    is convex in G. Minimising over ``{G PSD, diag G = rho^2}`` drops only
    ``rank G <= h``: a lower bound in every dimension h, attained when the minimiser's rank
    is at most h.

    **Reduction (exact).** Permuting the samples within a class, or permuting classes of
    equal size, maps each batch set (multisets, subsets, ordered tuples) onto itself and
    keeps the labels, so it leaves L invariant. Averaging any optimum over this group
    gives, by convexity, an invariant G no worse: an optimum may be taken invariant. An
    invariant G has, per type s (the k_s classes of n_s samples), one within-class entry
    ``a_s``, one entry ``c_s`` between distinct classes of the type, and one entry
    ``x_st`` per pair of types (docs/theory.md diagonal rho^2). An anchor's term then depends
    only on its type and on how many of the other b-1 positions of its batch hold a
    repeat of its own index (entry rho^2; positive), another sample of its class (a_s;
    positive), another class of its type (c_s) or type t (x_st). The loss is the sum over
    these anchor configurations, each weighted by the number of (batch, position) pairs
    that have it -- products of binomial (subset), multiset (multiset) or multinomial
    (ordered) counts, computed in log space and divided by the number of batches. PSD of
    an invariant G is the closed-form spectrum of :func:`sc_relaxation_class_sizes`
    (two scalar families per type and a T x T block). The program has ``2T + T(T-1)/2``
    variables and one log-sum-exp per configuration: ``C(b + m - 2, m - 1)`` of them per
    type, ``m <= T + 2`` kinds, independent of N.

    **Certificate.** For each configuration a probability vector over its kinds of
    entries gives ``LSE(v) >= H(p) + <p, v>`` (Fenchel-Young), so the loss is at least an
    affine function ``const + <A, G/rho^2>`` with A invariant; for a type-constant d
    with ``A - diag(d)`` PSD, ``<A, G/rho^2> >= sum_s N_s d_s`` on the elliptope. Both
    are evaluated in closed form from the softmax masses of the solver's point (and of
    its spectral truncations, which snap the collapsed directions exactly); d is the
    existing reduced certificate's diagonal (``_certified_type_diagonal``).
    :func:`check_batch_sc_certificate` re-checks it without a solver.

    Parameters
    ----------
    class_sizes : sequence of int
        Samples per class, each >= 2, at least two classes (labels matter only through
        the sizes).
    b : int
        Batch size, >= 2 (<= N for ``"subset"``).
    batches : {"multiset", "subset", "ordered"}
        The batch set (docs/theory.md section 3).
    rho : float
        Sphere radius, > 0.
    solver, eps, max_iters, verbose, rank_tol
        As in :func:`sc_relaxation` (Clarabel, eps = 1e-9).

    Returns
    -------
    BatchRelaxationResult
        Mean loss per batch: ``lower_bound`` (certified), ``upper_bound``, ``gap``,
        ``log_n_batches``; the class-level geometry and :attr:`~BatchRelaxationResult.certificate`.

    Raises
    ------
    InvalidArgumentError
        Bad sizes, b, batch set or rho; more than :data:`BATCH_ROW_LIMIT` configurations.
    RelaxationError
        The solver did not reach an optimal status.

    Examples
    --------
    >>> from theorycheck.bounds import sc_minimum
    >>> res = batch_sc_relaxation([100] * 10, b=8, batches="multiset", rho=1.0)
    >>> closed = sc_minimum(1000, 10, 8, 1.0, "multiset").mean_per_batch
    >>> bool(res.lower_bound <= closed <= res.lower_bound + res.gap + 1e-12), res.rank
    (True, 9)
    """
    caller = "batch_sc_relaxation"
    types, N, b, batches, rho = _check_batch_args(class_sizes, b, batches, rho, caller)
    _, solver, eps, max_iters, verbose, rank_tol = _check_solver_args(
        caller, "sphere", solver, eps, max_iters, verbose, rank_tol)
    T = len(types)
    kinds = T + 2 - (1 if batches == "subset" else 0)
    per_type = math.comb(b - 1 + kinds - 1, kinds - 1)
    if per_type * T > BATCH_ROW_LIMIT:
        raise fail("b", caller, f"small enough that the program has at most {BATCH_ROW_LIMIT} anchor "
                                f"configurations (about {per_type * T} at b={b} with {T} class sizes)", b)
    k, n = [t[0] for t in types], [t[1] for t in types]
    beta = rho * rho
    rows = _batch_rows(k, n, b, batches)
    shown = ", ".join(f"{a}x{c}" for a, c in types)
    what = f"{caller}([{shown}], b={b}, {batches}, rho={rho:g})"
    problem, raw, wsum = _solve_batch(rows, beta, solver, eps, max_iters, verbose, what)
    candidates = [_repair_invariant(raw, "sphere")] + [
        _repair_invariant(raw.truncated(t, "sphere"), "sphere") for t in (1e-4, 1e-6, 1e-8)]
    best = None
    for c in [raw] + candidates:  # every dual point gives a valid bound; keep the best
        bound, d, masses = _batch_dual_bound(rows, _batch_masses(rows, c, beta), beta)
        if math.isfinite(bound) and (best is None or bound > best[0]):
            best = (bound, d, masses)
    # the dual program's masses on the rows the solver saw (the others keep the softmax of
    # the best point): accurate where the optimum sits on the PSD boundary (imbalance)
    heavy = rows.weight >= _SOLVER_WEIGHT_FLOOR * float(np.sum(rows.weight))
    try:
        dual = _solve_batch_dual(_BatchRows(rows.k, rows.n, rows.b, rows.batches, rows.type_of[heavy],
                                            rows.counts[heavy], rows.weight[heavy], rows.log_n_batches,
                                            rows.weight_dropped), beta, solver, eps, max_iters, what)
        if np.all(np.isfinite(dual)):
            combined = best[2].copy()
            combined[heavy] = dual
            bound, d, masses = _batch_dual_bound(rows, combined, beta)
            if math.isfinite(bound) and bound > best[0]:
                best = (bound, d, masses)
    except RelaxationError:
        pass  # the primal-induced bound stays valid, only looser
    lower, d, masses = best

    def spectrum_rank(c):
        spectrum = sorted(c.spectrum(), key=lambda vm: -vm[0])
        return int(sum(m for v, m in spectrum if v > rank_tol * spectrum[0][0]))

    scored = [(spectrum_rank(c), _batch_loss(rows, c, beta), i) for i, c in enumerate(candidates)]
    upper = min(c[1] for c in scored)
    rank, _, index = _lowest_rank_within_gap(scored, lower, upper)
    point = candidates[index]
    between, mean_cos = _point_geometry(point)
    certificate = BatchSCCertificate(tuple(types), b, batches, rho, rows.counts.copy(), masses,
                                     np.asarray(d, dtype=np.float64), lower)
    stats = problem.solver_stats
    return BatchRelaxationResult(
        value=float(problem.value) * wsum,
        lower_bound=lower,
        upper_bound=float(upper),
        log_n_batches=rows.log_n_batches,
        class_types=tuple(types),
        b=b,
        batches=batches,
        rho=rho,
        within=tuple(float(v) for v in point.within),
        between=between,
        mean_cos=mean_cos,
        eigenvalues=tuple(sorted(point.spectrum(), key=lambda vm: -vm[0])),
        rank=rank,
        certificate=certificate,
        status=str(problem.status),
        solver=solver,
        eps=eps,
        solve_time=float(stats.solve_time) if stats.solve_time is not None else float("nan"),
        n_rows=len(rows.weight),
        _point=point,
    )


def _batch_types(class_sizes, caller: str):
    """Validated class sizes grouped into types (k, n) by decreasing n, and their total."""
    if isinstance(class_sizes, (str, bytes)) or not isinstance(class_sizes, Iterable):
        raise fail("class_sizes", caller, "a sequence of integers (samples per class)", class_sizes)
    sizes = list(class_sizes)
    if len(sizes) < 2:
        raise fail("class_sizes", caller, "a sequence of at least two class sizes", class_sizes)
    counts = [check_int(v, f"class_sizes[{i}]", caller, min_value=2) for i, v in enumerate(sizes)]
    return [(counts.count(v), v) for v in sorted(set(counts), reverse=True)], sum(counts)


@representable("rho")
def batch_sc_simplex_value(class_sizes, b, batches="multiset", rho=1.0) -> float:
    """Mean loss per batch of graf2021's SC loss at the collapsed regular simplex, any class sizes.

    Every sample of class y sits at the vertex ``zeta_y`` of the rho-inscribed regular
    simplex of K = ``len(class_sizes)`` points. For balanced sizes this is
    :func:`theorycheck.bounds.sc_minimum` (``mean_per_batch``); for other sizes it is the
    value the simplex would have if it were still optimal, to compare with the certified
    optimum of :func:`batch_sc_relaxation`. Same enumeration of anchor configurations
    (exact counts), no solver.

    Examples
    --------
    >>> from theorycheck.bounds import sc_minimum
    >>> v = batch_sc_simplex_value([4, 4, 4], 5, "subset", 1.5)
    >>> bool(abs(v - sc_minimum(12, 3, 5, 1.5, "subset").mean_per_batch) < 1e-12)
    True
    """
    caller = "batch_sc_simplex_value"
    types, N, b, batches, rho = _check_batch_args(class_sizes, b, batches, rho, caller)
    k, n = [t[0] for t in types], [t[1] for t in types]
    T = len(types)
    K = sum(k)
    cos = -1.0 / (K - 1)
    cross = np.full((T, T), cos)
    np.fill_diagonal(cross, 0.0)
    point = _Invariant(tuple(k), tuple(n), np.ones(T), np.ones(T),
                       np.where(np.array(k) >= 2, cos, 0.0), cross)
    return _batch_loss(_batch_rows(k, n, b, batches), point, rho * rho)
