"""Computations behind the self-supervised claims of huang2023 and garrido2023 (no claims here).

What the claim modules :mod:`theorycheck.claims.huang2023` and
:mod:`theorycheck.claims.garrido2023` need besides the losses, each usable on its own:

* **(sigma, delta)-augmentation** (huang2023, Definition 1) of a finite data set with a
  finite augmentation set: :func:`augmentation_distances` (``d_A``), an exact
  branch-and-bound :func:`max_clique`, :func:`sigma_delta` and :func:`sigma_delta_curve`.
  Exact up to :data:`MAX_CLIQUE_NODES` samples per class.
* **eta(eps) of Theorem 1** in the ICLR form, minimised numerically over ``t``
  (:func:`eta`), and the exponent ``alpha`` of ``eta(eps) ~ eps^-alpha`` as ``eps -> 0``
  fitted on a log-log grid (:func:`eta_exponent`).
* **The nearest-class-mean classifier** ``G_f(x) = argmin_k ||f(x) - mu_k||``
  (:func:`class_means`, :func:`nearest_class_mean_error`), a small synthetic data set
  with augmented copies (:func:`synthetic_augmented_dataset`) and every quantity of
  Theorem 2 on it (:func:`evaluate_thm2`).
* **The divergence bounds** of Theorems 3 and 4 (:func:`thm3_bound`, :func:`thm4_bound`)
  and the exact moments of ``x^T x^-`` for independent uniform points of the sphere
  (:func:`negative_pair_moments`, garrido2023 Prop. 3.1).
* **Input spaces** (:class:`theorycheck.strategies.Space` subclasses) the claims draw
  from: :func:`view_pairs` (two views of N samples, batch-standardized, on the sphere or
  free), :func:`weighted_class_means` (class probabilities with class means standardized
  under them), :func:`doubly_stochastic` and :func:`sign_columns`.

The private ``_..._core`` functions are written with :mod:`theorycheck.backend` and plain
``+ * @``, so the claims evaluate them on float64 numpy, on torch tensors and on mpmath
object arrays (the engine's high-precision confirmation); the public functions validate
their arguments (:mod:`theorycheck._validation`) and return floats / numpy arrays.

Examples
--------
>>> import numpy as np
>>> from theorycheck import ssl
>>> adjacency = np.array([[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 1], [0, 0, 1, 0]], dtype=bool)
>>> ssl.max_clique(adjacency).tolist()
[0, 1, 2]
>>> round(ssl.eta(0.5, n=0, m=2, L=1.0, M=1.0), 12)  # no continuous augmentation: 4 m^2 / eps
32.0
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

from . import backend as xp
from . import strategies as st
from .symbolic import ProofNotAttempted  # re-exported: raised by proof_within_limits
from ._validation import (
    check_array,
    check_int,
    check_labels,
    check_probability_vector,
    check_real,
    fail,
    is_torch,
)

__all__ = [
    "MAX_CLIQUE_NODES",
    "augmentation_distances",
    "max_clique",
    "SigmaDelta",
    "sigma_delta",
    "sigma_delta_curve",
    "eta",
    "eta_exponent",
    "class_means",
    "nearest_class_mean_error",
    "SyntheticAugmentedData",
    "synthetic_augmented_dataset",
    "Thm2Evaluation",
    "evaluate_thm2",
    "thm3_bound",
    "thm4_bound",
    "negative_pair_moments",
    "view_pairs",
    "weighted_class_means",
    "doubly_stochastic",
    "sign_columns",
    "ProofNotAttempted",
    "proof_within_limits",
]

#: Largest class (number of samples) whose maximum clique is computed. The branch and
#: bound below is exact and fast on the graphs of this module (a few dozen samples per
#: class: milliseconds), but maximum clique is NP-hard and its worst case grows like
#: 3^(n/3); beyond this size :func:`max_clique` and :func:`sigma_delta` refuse rather than
#: run for hours.
MAX_CLIQUE_NODES = 64

#: Exponents k of the grid eps_k = 10^-k * c (c = 2 sqrt(n) L M) on which :func:`eta_exponent`
#: fits the slope of log eta against log eps.
ETA_DECADES = (4, 5, 6, 7)

_INV_PHI = (math.sqrt(5.0) - 1.0) / 2.0


# --------------------------------------------------------------------------------------
# backend plumbing (numpy float64, torch, mpmath object arrays)
# --------------------------------------------------------------------------------------


def _torch():
    import torch

    return torch


def _ratio(numerator: int, denominator: int, like: Any) -> Any:
    """``numerator / denominator`` in the number system of ``like`` (exact rational for mpmath)."""
    kind = xp.kind(like)
    if kind == "mp":
        return mpmath.mpf(numerator) / mpmath.mpf(denominator)
    if kind == "torch":
        return _torch().as_tensor(numerator / denominator, dtype=like.dtype, device=like.device)
    return np.float64(numerator / denominator)


def _fraction(value: Fraction, like: Any) -> Any:
    return _ratio(value.numerator, value.denominator, like)


def _np_bool(x: Any) -> np.ndarray:
    """A comparison result of any backend as a numpy bool array."""
    if is_torch(x):
        return x.detach().cpu().numpy().astype(bool)
    return np.asarray(x, dtype=bool)


def _mask_for(mask: np.ndarray, like: Any) -> Any:
    if is_torch(like):
        return _torch().as_tensor(mask, device=like.device)
    return mask


def _argmin_rows(x: Any) -> np.ndarray:
    if is_torch(x):
        return x.detach().argmin(dim=1).cpu().numpy()
    return np.argmin(np.asarray(x), axis=1)


def _maximum(a: Any, b: Any) -> Any:
    """Elementwise maximum in any backend (value of the larger operand, gradient included)."""
    if np.ndim(a) == 0 and np.ndim(b) == 0 and not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        return a if a > b else b  # scalars (float, mpf, 0-d tensor): keep the scalar type
    return xp.where(a > b, a, b)


def _logaddexp(a: Any, b: Any) -> Any:
    """log(e^a + e^b) without overflow, elementwise, in any backend."""
    top = _maximum(a, b)
    return top + xp.log(xp.exp(a - top) + xp.exp(b - top))


def _sq_pairwise(P: Any, Q: Any | None = None) -> Any:
    """Squared Euclidean distances between the rows of P and of Q (differences, not Gram
    expansions: no cancellation, exact zeros for equal rows)."""
    Q = P if Q is None else Q
    diff = P[:, None, :] - Q[None, :, :]
    return xp.sum(diff * diff, axis=2)


# --------------------------------------------------------------------------------------
# (sigma, delta)-augmentation and maximum cliques
# --------------------------------------------------------------------------------------


def _aug_sq_distances(views: Any) -> Any:
    """Squared d_A: ``min_{a, b} ||views[i, a] - views[j, b]||^2`` for every pair (N, N)."""
    N, A, D = views.shape
    points = views.reshape(N * A, D)
    d2 = _sq_pairwise(points).reshape(N, A, N, A)
    if is_torch(d2):
        return d2.amin(dim=(1, 3))
    return np.min(d2, axis=(1, 3))


def augmentation_distances(views) -> np.ndarray:
    r"""The augmentation distance d_A of huang2023 between every two samples.

    .. math:: d_A(x_1, x_2) = \min_{x_1' \in A(x_1),\, x_2' \in A(x_2)} \|x_1' - x_2'\|

    Parameters
    ----------
    views : array_like, shape (N, A, D)
        ``views[i]`` holds the A augmented copies of sample i (A >= 1; include the sample
        itself as one copy if the identity is one of the augmentations).

    Returns
    -------
    numpy.ndarray, shape (N, N)
        Symmetric, with zero diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> views = np.array([[[0.0], [1.0]], [[3.0], [1.5]]])
    >>> augmentation_distances(views).tolist()
    [[0.0, 0.5], [0.5, 0.0]]
    """
    views = check_array(views, "views", "augmentation_distances", ndim=3, min_rows=1,
                        allow_torch=False, allow_mp=False)
    if views.shape[1] < 1 or views.shape[2] < 1:
        raise fail("views", "augmentation_distances", "of shape (N, A, D) with A, D >= 1", views)
    return np.sqrt(np.maximum(_aug_sq_distances(views), 0.0))


def _max_clique_bits(neighbours: list[int], candidates: int) -> list[int]:
    """Maximum clique among the vertices of the bitset ``candidates`` (Tomita & Seki's MCQ:
    branch and bound with a greedy colouring as the bound)."""
    best: list[int] = []

    def colour_sort(pool: int) -> tuple[list[int], list[int]]:
        order, colours = [], []
        uncoloured, colour = pool, 0
        while uncoloured:
            colour += 1
            free = uncoloured
            while free:
                v = (free & -free).bit_length() - 1
                free &= ~(1 << v)
                free &= ~neighbours[v]  # one colour class is an independent set
                uncoloured &= ~(1 << v)
                order.append(v)
                colours.append(colour)
        return order, colours

    def expand(clique: list[int], pool: int) -> None:
        nonlocal best
        order, colours = colour_sort(pool)
        for v, colour in zip(reversed(order), reversed(colours)):
            # the colouring bounds the clique size that the rest of the pool can add
            if len(clique) + colour <= len(best):
                return
            grown = clique + [v]
            sub = pool & neighbours[v]
            if sub:
                expand(grown, sub)
            elif len(grown) > len(best):
                best = grown
            pool &= ~(1 << v)

    if candidates:
        expand([], candidates)
    return sorted(best)


def max_clique(adjacency) -> np.ndarray:
    """A maximum clique of an undirected graph, exactly (branch and bound).

    Parameters
    ----------
    adjacency : array_like of bool, shape (n, n)
        Symmetric adjacency matrix; the diagonal is ignored. ``n <= MAX_CLIQUE_NODES``.

    Returns
    -------
    numpy.ndarray of int64
        Sorted vertex indices of one maximum clique (the lexicographically first found
        by the search; a single vertex for an edgeless graph, empty for ``n = 0``).

    Raises
    ------
    InvalidArgumentError
        Not square, not symmetric, or more than :data:`MAX_CLIQUE_NODES` vertices.

    Examples
    --------
    >>> import numpy as np
    >>> max_clique(np.ones((3, 3), dtype=bool)).tolist()
    [0, 1, 2]
    """
    caller = "max_clique"
    arr = np.asarray(adjacency)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise fail("adjacency", caller, "a square (n, n) matrix", adjacency)
    if arr.dtype != bool:
        if not np.issubdtype(arr.dtype, np.number) or not np.all(np.isin(arr, (0, 1))):
            raise fail("adjacency", caller, "a boolean (or 0/1) matrix", adjacency)
        arr = arr.astype(bool)
    n = arr.shape[0]
    if n > MAX_CLIQUE_NODES:
        raise fail("adjacency", caller, f"a graph of at most MAX_CLIQUE_NODES = {MAX_CLIQUE_NODES} vertices "
                   "(exact maximum clique is exponential in the worst case)", f"{n} vertices")
    if not np.array_equal(arr, arr.T):
        raise fail("adjacency", caller, "symmetric (an undirected graph)", adjacency)
    return np.asarray(_clique_of(arr, list(range(n))), dtype=np.int64)


def _clique_of(adjacency: np.ndarray, nodes: list[int]) -> list[int]:
    """Maximum clique of the subgraph induced by ``nodes`` (indices into ``adjacency``)."""
    k = len(nodes)
    sub = adjacency[np.ix_(nodes, nodes)]
    neighbours = []
    for i in range(k):
        bits = 0
        for j in np.flatnonzero(sub[i]):
            if j != i:
                bits |= 1 << int(j)
        neighbours.append(bits)
    local = _max_clique_bits(neighbours, (1 << k) - 1)
    return [nodes[i] for i in local]


@dataclasses.dataclass(frozen=True)
class SigmaDelta:
    """The exact sigma of a finite data set at a given delta (huang2023, Definition 1).

    Attributes
    ----------
    sigma : float
        ``min_k |C_k^0| / |C_k|`` (uniform distribution over the samples).
    delta : float
    main_parts : tuple of numpy.ndarray
        ``C_k^0``: sample indices of a maximum clique of ``d_A <= delta`` in class k.
    class_sigma : tuple of float
        ``|C_k^0| / |C_k|`` per class.
    class_sizes : tuple of int
    """

    sigma: float
    delta: float
    main_parts: tuple
    class_sigma: tuple
    class_sizes: tuple


def _sigma_fraction(adjacency: np.ndarray, labels: np.ndarray, K: int) -> tuple[Fraction, list, list]:
    """Exact sigma (a Fraction), main parts and per-class ratios from a within-threshold adjacency."""
    parts, ratios = [], []
    for k in range(K):
        nodes = np.flatnonzero(labels == k).tolist()
        if len(nodes) > MAX_CLIQUE_NODES:
            raise fail("labels", "sigma_delta", f"classes of at most MAX_CLIQUE_NODES = {MAX_CLIQUE_NODES} "
                       "samples (exact maximum clique)", f"class {k} with {len(nodes)} samples")
        part = _clique_of(adjacency, nodes)
        parts.append(np.asarray(part, dtype=np.int64))
        ratios.append(Fraction(len(part), len(nodes)))
    return min(ratios), parts, ratios


def _check_views_labels(views: Any, labels: Any, caller: str) -> tuple[np.ndarray, np.ndarray, int]:
    views = check_array(views, "views", caller, ndim=3, min_rows=1, allow_torch=False, allow_mp=False)
    if views.shape[1] < 1 or views.shape[2] < 1:
        raise fail("views", caller, "of shape (N, A, D) with A, D >= 1", views)
    labels = check_labels(labels, "labels", caller, n=views.shape[0])
    K = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=K)
    if np.any(counts == 0):
        raise fail("labels", caller, f"labels using every class 0..{K - 1} (class {int(np.argmin(counts))} "
                   "is empty)", labels)
    return views, labels, K


def _sigma_core(views: Any, labels: np.ndarray, K: int, delta: Any) -> Any:
    """Exact sigma at ``delta`` in the number system of ``delta`` (comparisons in that precision)."""
    adjacency = _np_bool(_aug_sq_distances(views) <= delta * delta)
    sigma, _, _ = _sigma_fraction(adjacency, labels, K)
    return _fraction(sigma, delta)


def sigma_delta(views, labels, delta) -> SigmaDelta:
    r"""Exact (sigma, delta) of a finite data set with a finite augmentation set (huang2023).

    The data set is (sigma, delta)-augmented if every class C_k has a main part
    :math:`C_k^0 \subseteq C_k` with :math:`P[C_k^0] \ge \sigma P[C_k]` and
    :math:`\sup_{x_1, x_2 \in C_k^0} d_A(x_1, x_2) \le \delta`. A main part is a clique of
    the graph with an edge wherever :math:`d_A \le \delta`, so the largest sigma for this
    delta is :math:`\min_k |C_k^0| / |C_k|` with :math:`C_k^0` a *maximum* clique in class k
    (uniform distribution over the N samples).

    Parameters
    ----------
    views : array_like, shape (N, A, D)
        The A augmented copies of each sample.
    labels : array_like of int, shape (N,)
        Classes 0..K-1, each non-empty, each with at most :data:`MAX_CLIQUE_NODES` samples.
    delta : float
        delta >= 0.

    Returns
    -------
    SigmaDelta

    Examples
    --------
    >>> import numpy as np
    >>> views = np.array([[[0.0]], [[0.1]], [[5.0]], [[9.0]]])
    >>> sigma_delta(views, [0, 0, 0, 1], delta=0.5).sigma  # class 0: {0, 1} of 3 samples
    0.6666666666666666
    """
    caller = "sigma_delta"
    views, labels, K = _check_views_labels(views, labels, caller)
    delta = check_real(delta, "delta", caller, ge=0.0)
    adjacency = _aug_sq_distances(views) <= delta * delta
    sigma, parts, ratios = _sigma_fraction(adjacency, labels, K)
    return SigmaDelta(sigma=float(sigma), delta=delta, main_parts=tuple(parts),
                      class_sigma=tuple(float(r) for r in ratios),
                      class_sizes=tuple(int(c) for c in np.bincount(labels, minlength=K)))


def sigma_delta_curve(views, labels) -> tuple[np.ndarray, np.ndarray]:
    """sigma as a function of delta: its value at every delta where it changes.

    sigma(delta) is a non-decreasing step function that can only jump at a within-class
    value of d_A, so it is evaluated exactly there (and at 0).

    Returns
    -------
    deltas, sigmas : numpy.ndarray
        Increasing deltas and sigma(delta) at each; sigma reaches 1 at the last delta.

    Examples
    --------
    >>> import numpy as np
    >>> deltas, sigmas = sigma_delta_curve(np.array([[[0.0]], [[1.0]], [[3.0]]]), [0, 0, 0])
    >>> deltas.tolist(), [round(float(s), 4) for s in sigmas]
    ([0.0, 1.0, 2.0, 3.0], [0.3333, 0.6667, 0.6667, 1.0])
    """
    caller = "sigma_delta_curve"
    views, labels, K = _check_views_labels(views, labels, caller)
    d2 = _aug_sq_distances(views)
    same = labels[:, None] == labels[None, :]
    thresholds = np.unique(np.concatenate([[0.0], d2[same]]))
    deltas, sigmas = [], []
    for t in thresholds:
        sigma, _, _ = _sigma_fraction(d2 <= t, labels, K)
        delta = math.sqrt(max(float(t), 0.0))
        while delta * delta < t:  # the smallest float delta with delta^2 >= t: sigma_delta(delta) agrees
            delta = math.nextafter(delta, math.inf)
        deltas.append(delta)
        sigmas.append(float(sigma))
    return np.asarray(deltas), np.asarray(sigmas)


# --------------------------------------------------------------------------------------
# Theorem 1: eta(eps)
# --------------------------------------------------------------------------------------


def _golden_minimum(fn, like: Any) -> tuple[Any, Any]:
    """Minimum of a unimodal ``fn`` on the open interval (0, 1) by golden-section search.

    Works on floats, torch scalars and mpmath numbers (then to the working precision:
    the bracket shrinks below 10^-(dps + 5)). Returns (argmin, min).
    """
    if xp.kind(like) == "mp":
        inv_phi = (mpmath.sqrt(5) - 1) / 2
        a, b = mpmath.mpf(0), mpmath.mpf(1)
        iterations = int(math.ceil((mpmath.mp.dps + 5) / math.log10(1.0 / _INV_PHI)))
    else:
        inv_phi, a, b = _INV_PHI, 0.0, 1.0
        iterations = 80  # 0.618^80 ~ 2e-17: below float resolution of s in (0, 1)
    c, d = b - inv_phi * (b - a), a + inv_phi * (b - a)
    fc, fd = fn(c), fn(d)
    for _ in range(iterations):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - inv_phi * (b - a)
            fc = fn(c)
        else:
            a, c, fc = c, d, fd
            d = a + inv_phi * (b - a)
            fd = fn(d)
    return (c, fc) if fc < fd else (d, fd)


def _log_eta_core(log_eps: Any, log_c: Any | None, n: int, m: int) -> Any:
    r"""log eta(eps) of huang2023 Theorem 1 (ICLR form), any backend.

    .. math:: \eta(\epsilon) = \inf_{0 < t < \epsilon / c}
              \frac{4 \max\{1, m^2 t^{2n}\}}{t^{2n} (\epsilon - c t)}, \quad c = 2\sqrt{n} L M

    Substituting t = s eps / c, log g(s) = log 4 + max(-2n log t, 2 log m) - log eps
    - log(1 - s), a unimodal function of s in (0, 1), minimised by golden-section search.
    ``log_c = None`` stands for c = 0 (no continuous augmentation, or L M = 0): then
    eta = 4 m^2 / eps, the infimum over all t > 0.
    """
    like = log_eps
    log4 = xp.log(xp.scalar(4.0, like))
    log_m = xp.log(xp.scalar(float(m), like))
    if log_c is None or n == 0:
        return log4 + 2 * log_m - log_eps
    log_tmax = log_eps - log_c

    def log_g(s):
        s_b = xp.scalar(s, like) if not isinstance(s, mpmath.mpf) else s
        log_t = log_tmax + xp.log(s_b)
        return log4 + _maximum(-2 * n * log_t, 2 * log_m) - log_eps - xp.log(1 - s_b)

    if xp.kind(like) == "mp":
        _, value = _golden_minimum(log_g, like)
        return value
    # float64 and torch: locate the minimiser with plain floats (fast), then evaluate there in
    # the caller's number system; for torch the value keeps its gradient in L, M and eps (at a
    # minimum the derivative of the minimiser does not enter: envelope theorem)
    log_tmax_f, log_m_f = float(log_tmax.detach() if is_torch(log_tmax) else log_tmax), math.log(m)

    def log_g_float(s):
        log_t = log_tmax_f + math.log(s)
        return max(-2 * n * log_t, 2 * log_m_f) - math.log1p(-s)

    s_star, _ = _golden_minimum(log_g_float, 0.0)
    return log_g(s_star)


def eta(eps, *, n: int, m: int, L, M) -> float:
    r"""eta(eps) of huang2023's Theorem 1, ICLR form, minimised numerically over t.

    .. math:: \eta(\epsilon) = \inf_{t \in (0,\ \epsilon / (2\sqrt{n} L M))}
              \frac{4 \max\{1, m^2 t^{2n}\}}{t^{2n} (\epsilon - 2\sqrt{n} L M t)}

    for m discrete augmentations and continuous ones :math:`A_\theta`,
    :math:`\theta \in [0, 1]^n`, M-Lipschitz in theta, and an L-Lipschitz encoder. The
    infimum is found by golden-section search on the (unimodal) logarithm; with
    ``n = 0`` or ``L M = 0`` it is ``4 m^2 / eps``.

    Parameters
    ----------
    eps : float
        eps > 0.
    n : int
        Number of continuous augmentation parameters, n >= 0.
    m : int
        Number of discrete augmentations, m >= 1.
    L, M : float
        Lipschitz constants (>= 0) of the encoder and of theta -> A_theta(x).

    Returns
    -------
    float

    Examples
    --------
    For n = 1, m = 1 the minimiser is t* = 2 eps / (3 c), giving eta = 27 c^2 / eps^3:

    >>> c = 2.0  # 2 sqrt(1) * 1 * 1
    >>> bool(abs(eta(0.01, n=1, m=1, L=1.0, M=1.0) / (27 * c**2 / 0.01**3) - 1) < 1e-12)
    True
    """
    caller = "eta"
    eps = check_real(eps, "eps", caller, gt=0.0)
    n = check_int(n, "n", caller, min_value=0)
    m = check_int(m, "m", caller, min_value=1)
    L = check_real(L, "L", caller, ge=0.0)
    M = check_real(M, "M", caller, ge=0.0)
    c = 2.0 * math.sqrt(n) * L * M
    log_c = math.log(c) if c > 0 else None
    return float(math.exp(_log_eta_core(np.float64(math.log(eps)), log_c, n, m)))


def _eta_exponent_core(L: Any, M: Any, n: int, m: int) -> Any:
    """Least-squares slope of -log eta against log eps on eps_k = 10^-k c (k in ETA_DECADES)."""
    like = L
    ln10 = xp.log(xp.scalar(10.0, like))
    if n == 0:
        log_scale, log_c = xp.scalar(0.0, like), None
    else:
        c = 2 * xp.sqrt(xp.scalar(float(n), like)) * L * M
        if not c > 0:
            log_scale, log_c = xp.scalar(0.0, like), None
        else:
            log_scale = xp.log(c)
            log_c = log_scale
    xs = [log_scale - k * ln10 for k in ETA_DECADES]
    ys = [_log_eta_core(x, log_c, n, m) for x in xs]
    count = len(xs)
    x_bar = sum(xs[1:], xs[0]) / count
    y_bar = sum(ys[1:], ys[0]) / count
    num = (xs[0] - x_bar) * (ys[0] - y_bar)
    den = (xs[0] - x_bar) ** 2
    for x, y in zip(xs[1:], ys[1:]):
        num = num + (x - x_bar) * (y - y_bar)
        den = den + (x - x_bar) ** 2
    return -num / den


def eta_exponent(*, n: int, m: int, L=1.0, M=1.0) -> float:
    r"""The exponent alpha of eta(eps) ~ eps^-alpha as eps -> 0 (huang2023 Theorem 1).

    eta is computed by :func:`eta` (numerical minimisation over t) on the grid
    :math:`\epsilon_k = 10^{-k} c`, k in :data:`ETA_DECADES`, with :math:`c = 2\sqrt{n} L M`
    the only length scale of the formula (1 when c = 0), and alpha is minus the
    least-squares slope of log eta against log eps. The theorem's asymptotic statement
    ``eta(eps) = O(1/eps)`` needs alpha <= 1.

    Examples
    --------
    >>> round(eta_exponent(n=0, m=3), 9), round(eta_exponent(n=1, m=2), 6)
    (1.0, 3.0)
    """
    caller = "eta_exponent"
    n = check_int(n, "n", caller, min_value=0)
    m = check_int(m, "m", caller, min_value=1)
    L = check_real(L, "L", caller, gt=0.0)
    M = check_real(M, "M", caller, gt=0.0)
    return float(_eta_exponent_core(np.float64(L), np.float64(M), n, m))


def _sign_vertices(n: int) -> np.ndarray:
    """The 2^n vertices {-1, 1}^n of the cube of differences theta_1 - theta_2 (rows)."""
    return np.array(list(itertools.product((-1.0, 1.0), repeat=n)), dtype=np.float64).reshape(-1, n)


def _lipschitz_in_theta(V: Any, n: int) -> Any:
    """max_i ||V_i||_2 (spectral norm of the d x n block of sample i), n in {1, 2}, any backend."""
    if n == 1:
        return xp.sqrt(xp.max(xp.sum(V[:, :, 0] * V[:, :, 0], axis=1)))
    a = xp.sum(V[:, :, 0] * V[:, :, 0], axis=1)
    b = xp.sum(V[:, :, 0] * V[:, :, 1], axis=1)
    c = xp.sum(V[:, :, 1] * V[:, :, 1], axis=1)
    half = (a - c) / 2
    top = (a + c) / 2 + xp.sqrt(half * half + b * b)  # largest eigenvalue of the 2x2 Gram
    return xp.sqrt(xp.max(top))


def _thm1_core(L: Any, C: Any, V: Any | None, eps: Any, n: int, m: int) -> tuple[Any, Any, dict]:
    r"""R_eps^2 and eta(eps)^2 L_align for the finite model of huang2023 Theorem 1.

    Samples x_1..x_N, discrete augmentations x -> x + c_j (j in [m]) and continuous ones
    x_i -> x_i + V_i theta (theta uniform in [0, 1]^n), composed; encoder f(x) = L x
    (L-Lipschitz); positive pairs are two independent augmentations of one sample. Then
    f(x1) - f(x2) = L (c_j - c_k + V_i (theta_1 - theta_2)) and, exactly,
    L_align = L^2 [mean_{j,k} ||c_j - c_k||^2 + mean_i ||V_i||_F^2 / 6]; the supremum over
    A(x_i) x A(x_i) of ||f(x1) - f(x2)|| is attained at a vertex theta_1 - theta_2 in
    {-1, 1}^n (a convex function of the difference). M = max_i ||V_i||_2.
    """
    diffs = C[:, None, :] - C[None, :, :]  # (m, m, d)
    disc2 = xp.sum(diffs * diffs, axis=2)
    discrete = xp.mean(disc2)
    if n == 0:
        # no continuous augmentation: every sample has the same supremum
        sup2 = xp.max(disc2)
        continuous = 0
        M = None
    else:
        N = V.shape[0]
        d = C.shape[1]
        Vr = V.reshape(N, d, n)
        moves = Vr @ xp.scalar(_sign_vertices(n).T, L)  # (N, d, 2^n)
        total = diffs[None, :, :, :, None] + moves[:, None, None, :, :]  # (N, m, m, d, 2^n)
        sq = xp.sum(total * total, axis=3).reshape(N, -1)
        sup2 = xp.max(sq, axis=1)
        continuous = xp.mean(xp.sum(V * V, axis=1)) / 6
        M = _lipschitz_in_theta(Vr, n)
    align = L * L * (discrete + continuous)
    exceed = np.atleast_1d(_np_bool(L * L * sup2 > eps * eps))
    R = _ratio(int(exceed.sum()), int(exceed.size), L)
    log_c = None
    if M is not None:
        c = 2 * xp.sqrt(xp.scalar(float(n), L)) * L * M
        if c > 0:
            log_c = xp.log(c)
    eta_value = xp.exp(_log_eta_core(xp.log(eps), log_c, n, m))
    info = {"R_eps": R, "L_align": align, "eta": eta_value, "M": M}
    return R * R, eta_value * eta_value * align, info


# --------------------------------------------------------------------------------------
# nearest-class-mean classifier, Theorem 2
# --------------------------------------------------------------------------------------


def class_means(features, labels, num_classes: int | None = None) -> np.ndarray:
    r"""Class centres :math:`\mu_k = \mathbb{E}_{x \in C_k} \mathbb{E}_{x' \in A(x)} f(x')` (huang2023).

    Parameters
    ----------
    features : array_like, shape (N, h) or (N, A, h)
        Embeddings of the samples, or of their A augmented copies (then averaged over
        the copies first).
    labels : array_like of int, shape (N,)
    num_classes : int, optional
        K (default: max label + 1). Every class must be non-empty.

    Examples
    --------
    >>> import numpy as np
    >>> class_means(np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0]]), [0, 0, 1]).tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    """
    caller = "class_means"
    F = check_array(features, "features", caller, ndim=(2, 3), min_rows=1, allow_torch=False, allow_mp=False)
    labels = check_labels(labels, "labels", caller, n=F.shape[0])
    K = int(labels.max()) + 1 if num_classes is None else check_int(num_classes, "num_classes", caller,
                                                                      min_value=int(labels.max()) + 1)
    counts = np.bincount(labels, minlength=K)
    if np.any(counts == 0):
        raise fail("labels", caller, f"every class 0..{K - 1} present", labels)
    per_sample = F.mean(axis=1) if F.ndim == 3 else F
    return np.stack([per_sample[labels == k].mean(axis=0) for k in range(K)])


def nearest_class_mean_error(features, labels, *, means=None) -> float:
    r"""Error rate of the nearest-class-mean classifier :math:`G_f(x) = \arg\min_k \|f(x) - \mu_k\|`.

    Parameters
    ----------
    features : array_like, shape (N, h)
        Embeddings f(x) of the samples to classify.
    labels : array_like of int, shape (N,)
        Their true classes.
    means : array_like, shape (K, h), optional
        Class centres (default: :func:`class_means` of ``features``). Ties go to the
        smallest class index.

    Returns
    -------
    float
        The fraction of samples whose nearest centre is not their class's.

    Examples
    --------
    >>> import numpy as np
    >>> nearest_class_mean_error(np.array([[0.0], [0.9], [1.0]]), [0, 0, 1], means=np.array([[0.0], [1.0]]))
    0.3333333333333333
    """
    caller = "nearest_class_mean_error"
    F = check_array(features, "features", caller, ndim=2, min_rows=1, allow_torch=False, allow_mp=False)
    labels = check_labels(labels, "labels", caller, n=F.shape[0])
    if means is None:
        mu = class_means(F, labels)
    else:
        mu = check_array(means, "means", caller, ndim=2, min_rows=1, allow_torch=False, allow_mp=False)
        if mu.shape[1] != F.shape[1]:
            raise fail("means", caller, f"of shape (K, {F.shape[1]}) (same dimension as `features`)", means)
        if labels.max() >= mu.shape[0]:
            raise fail("labels", caller, f"labels in [0, {mu.shape[0]}) (one row of `means` per class)", labels)
    predictions = _argmin_rows(_sq_pairwise(F, mu))
    return float(np.mean(predictions != labels))


@dataclasses.dataclass(frozen=True)
class SyntheticAugmentedData:
    """A small labelled data set with augmented copies (see :func:`synthetic_augmented_dataset`).

    Attributes
    ----------
    views : numpy.ndarray, shape (N, m + 1, d)
        ``views[i, 0]`` is sample i itself, ``views[i, 1:]`` its m augmented copies.
    labels : numpy.ndarray of int64, shape (N,)
    centers : numpy.ndarray, shape (K, d)
        The class centres the samples were drawn around.
    """

    views: np.ndarray
    labels: np.ndarray
    centers: np.ndarray


def synthetic_augmented_dataset(K: int = 3, n_per_class: int = 4, d: int = 2, m: int = 2, *, spread=0.15,
                                aug_scale=0.05, seed: int = 0) -> SyntheticAugmentedData:
    """K classes of Gaussian blobs around unit-norm centres, each sample with m augmented copies.

    Centres are equally spaced on the unit circle (first two coordinates) for d >= 2, and
    +-1 for d = 1 (K <= 2); sample = centre + ``spread`` * N(0, I); augmented copy =
    sample + ``aug_scale`` * N(0, I). Seeded: the same arguments give the same data.

    Examples
    --------
    >>> data = synthetic_augmented_dataset(K=2, n_per_class=3, d=2, m=1, seed=0)
    >>> data.views.shape, data.labels.tolist()
    ((6, 2, 2), [0, 0, 0, 1, 1, 1])
    """
    caller = "synthetic_augmented_dataset"
    K = check_int(K, "K", caller, min_value=1)
    n_per_class = check_int(n_per_class, "n_per_class", caller, min_value=1)
    d = check_int(d, "d", caller, min_value=1)
    m = check_int(m, "m", caller, min_value=0)
    spread = check_real(spread, "spread", caller, ge=0.0)
    aug_scale = check_real(aug_scale, "aug_scale", caller, ge=0.0)
    seed = check_int(seed, "seed", caller, min_value=0)
    if d == 1 and K > 2:
        raise fail("K", caller, "<= 2 when d = 1 (two unit-norm centres on a line)", K)
    rng = np.random.default_rng(seed)
    centers = np.zeros((K, d))
    if d == 1:
        centers[:, 0] = [1.0, -1.0][:K]
    else:
        angles = 2 * np.pi * np.arange(K) / K
        centers[:, 0], centers[:, 1] = np.cos(angles), np.sin(angles)
    labels = np.repeat(np.arange(K), n_per_class).astype(np.int64)
    samples = centers[labels] + spread * rng.standard_normal((labels.size, d))
    copies = samples[:, None, :] + aug_scale * rng.standard_normal((labels.size, m, d))
    views = np.concatenate([samples[:, None, :], copies], axis=1)
    return SyntheticAugmentedData(views=views, labels=labels, centers=centers)


@dataclasses.dataclass(frozen=True)
class Thm2Evaluation:
    """Every quantity of huang2023 Theorem 2 on a finite data set (see :func:`evaluate_thm2`).

    ``condition`` is the theorem's hypothesis ``max_{l != k} mu_l^T mu_k < threshold``;
    ``bound = (1 - sigma) + R_eps`` is what it then asserts about ``error``; ``holds`` is
    ``error <= bound`` (meaningful only when ``condition``).
    """

    sigma: float
    delta: float
    eps: float
    R_eps: float
    lipschitz: float
    r: float
    class_means: np.ndarray
    class_probabilities: np.ndarray
    rho_max: float
    delta_mu: float
    threshold: float
    max_inner_product: float
    condition: bool
    error: float
    bound: float
    holds: bool


def _thm2_core(views: Any, labels: np.ndarray, K: int, r: Any, eps: Any, delta: Any) -> dict:
    """Theorem 2 on a finite data set in any backend: f(x) = r x / ||x||, A(x) = views[i]."""
    N, A, D = views.shape
    F = r * views / xp.sqrt(xp.sum(views * views, axis=2, keepdims=True))
    # R_eps: samples whose augmented copies are not all within eps of each other in f
    within = xp.sum((F[:, :, None, :] - F[:, None, :, :]) ** 2, axis=3).reshape(N, A * A)
    far = _np_bool(xp.max(within, axis=1) > eps * eps)
    R = _ratio(int(far.sum()), N, eps)
    # sigma at delta: maximum cliques of d_A <= delta within each class
    adjacency = _np_bool(_aug_sq_distances(views) <= delta * delta)
    sigma_frac, _, _ = _sigma_fraction(adjacency, labels, K)
    sigma = _fraction(sigma_frac, eps)
    # Lipschitz constant of f on the finite set of all augmented points
    P, Q = views.reshape(N * A, D), F.reshape(N * A, D)
    d_in = _sq_pairwise(P)
    mask = _np_bool(d_in > 0)
    if mask.any():
        m_b = _mask_for(mask, d_in)
        lipschitz = xp.sqrt(xp.max(_sq_pairwise(Q)[m_b] / d_in[m_b]))
    else:
        lipschitz = xp.scalar(0.0, eps)
    counts = np.bincount(labels, minlength=K)
    mu = xp.mean(F, axis=1)
    mu = [xp.sum(mu[_mask_for(labels == k, mu)], axis=0) / xp.scalar(float(counts[k]), eps) for k in range(K)]
    mu_rows = [row.reshape(1, D) for row in mu]
    mu = (_torch().cat(mu_rows, 0) if is_torch(eps) else np.concatenate(mu_rows, axis=0))
    min_p = _ratio(int(counts.min()), N, eps)
    rho = 2 * (1 - sigma) + R / min_p + sigma * (lipschitz * delta / r + 2 * eps / r)
    norms2 = xp.sum(mu * mu, axis=1)
    delta_mu = 1 - xp.min(norms2) / (r * r)
    threshold = r * r * (1 - rho - xp.sqrt(2 * rho) - delta_mu / 2)
    gram = mu @ mu.T
    off = ~np.eye(K, dtype=bool)
    max_inner = xp.max(gram[_mask_for(off, gram)]) if K > 1 else xp.scalar(-np.inf, eps)
    condition = bool(_np_bool(max_inner < threshold)) if K > 1 else True
    predictions = _argmin_rows(_sq_pairwise(F[:, 0, :], mu))
    error = _ratio(int(np.sum(predictions != labels)), N, eps)
    bound = (1 - sigma) + R
    return {"sigma": sigma, "R_eps": R, "lipschitz": lipschitz, "mu": mu, "p": counts / N, "rho_max": rho,
            "delta_mu": delta_mu, "threshold": threshold, "max_inner": max_inner, "condition": condition,
            "error": error, "bound": bound}


def evaluate_thm2(views, labels, *, eps, delta, r=1.0) -> Thm2Evaluation:
    r"""huang2023 Theorem 2 end to end on a finite data set with augmented copies.

    The encoder is :math:`f(x) = r\, x / \|x\|` (norm r, as the theorem assumes); its
    Lipschitz constant L is computed exactly on the finite set of all augmented points
    (the largest ratio :math:`\|f(u) - f(v)\| / \|u - v\|`). With sigma exact at ``delta``
    (:func:`sigma_delta`), :math:`R_\epsilon` the fraction of samples whose copies are not
    all within ``eps`` in f, :math:`\mu_k` the class centres over the copies and
    :math:`p_k` the class frequencies:

    .. math::

        \rho_{max} = 2(1-\sigma) + \frac{R_\epsilon}{\min_l p_l}
                     + \sigma\Big(\frac{L\delta}{r} + \frac{2\epsilon}{r}\Big),\quad
        \Delta_\mu = 1 - \min_k \frac{\|\mu_k\|^2}{r^2},

    and if :math:`\mu_l^\top\mu_k < r^2(1 - \rho_{max} - \sqrt{2\rho_{max}} - \Delta_\mu/2)`
    for all l != k, the theorem asserts that the nearest-class-mean classifier (applied to
    ``views[:, 0]``, the samples themselves) errs on at most
    :math:`(1 - \sigma) + R_\epsilon` of them.

    Parameters
    ----------
    views : array_like, shape (N, A, d)
        ``views[i, 0]`` the sample, ``views[i, 1:]`` its augmented copies (no zero rows).
    labels : array_like of int, shape (N,)
        Classes 0..K-1, each non-empty.
    eps, delta : float
        eps > 0, delta >= 0.
    r : float
        Norm of the encoder's outputs, r > 0.

    Returns
    -------
    Thm2Evaluation

    Examples
    --------
    >>> data = synthetic_augmented_dataset(K=3, n_per_class=4, d=2, m=2, spread=0.02, aug_scale=0.005)
    >>> ev = evaluate_thm2(data.views, data.labels, eps=0.05, delta=0.2)
    >>> ev.condition, ev.error, ev.holds
    (True, 0.0, True)
    """
    caller = "evaluate_thm2"
    views, labels, K = _check_views_labels(views, labels, caller)
    eps = check_real(eps, "eps", caller, gt=0.0)
    delta = check_real(delta, "delta", caller, ge=0.0)
    r = check_real(r, "r", caller, gt=0.0)
    if np.any(np.linalg.norm(views, axis=2) == 0):
        raise fail("views", caller, "free of zero vectors (f(x) = r x / ||x||)", views)
    out = _thm2_core(views, labels, K, np.float64(r), np.float64(eps), np.float64(delta))
    error, bound = float(out["error"]), float(out["bound"])
    return Thm2Evaluation(
        sigma=float(out["sigma"]), delta=delta, eps=eps, R_eps=float(out["R_eps"]),
        lipschitz=float(out["lipschitz"]), r=r, class_means=np.asarray(out["mu"], dtype=np.float64),
        class_probabilities=np.asarray(out["p"], dtype=np.float64), rho_max=float(out["rho_max"]),
        delta_mu=float(out["delta_mu"]), threshold=float(out["threshold"]),
        max_inner_product=float(out["max_inner"]), condition=bool(out["condition"]), error=error,
        bound=bound, holds=error <= bound)


# --------------------------------------------------------------------------------------
# Theorems 3 and 4, garrido2023 Prop. 3.1
# --------------------------------------------------------------------------------------


def _embedding_stats(z1: Any, z2: Any, w: Any, labels: np.ndarray, K: int) -> tuple[Any, Any]:
    """Class probabilities p_k and centres mu_k = E_{x in C_k} E_{x' in A(x)} f(x'), A(x) = two views."""
    onehot = xp.scalar(np.eye(K)[labels], w)  # (N, K), exact 0/1
    centre = (z1 + z2) / 2
    p = w @ onehot
    mu = (onehot.T @ (w[:, None] * centre)) / p[:, None]
    return p, mu


def _pick_pair(lhs: Any, rhs: Any) -> tuple[int, int]:
    """The off-diagonal pair (k, l) with the smallest slack rhs - lhs (ties: first)."""
    slack = xp.to_numpy(rhs - lhs) if not is_torch(rhs) else (rhs - lhs).detach().cpu().numpy()
    slack = np.array(slack, dtype=np.float64)
    np.fill_diagonal(slack, np.nan)
    finite = np.isfinite(slack)
    if finite.any():  # pairs with a real bound first; an input where none has one is reported as such
        slack = np.where(finite, slack, np.inf)
    else:
        slack = np.where(np.isnan(slack), np.inf, slack)
    k, l = np.unravel_index(int(np.argmin(slack)), slack.shape)
    return int(k), int(l)


def _thm3_core(z1: Any, z2: Any, w: Any, labels: np.ndarray, K: int, eps: Any) -> dict:
    r"""huang2023 Theorem 3 with tau = 0 on a weighted finite data set, any backend.

    L2 = E_{x, x'} log(e^{f1.f2} + e^{f1.f-}) with x1 = view 1, x2 = view 2 of x and x^- a
    uniformly chosen view of x' (x' independent of x, x' = x allowed); the bound of the
    pair (k, l) is log(exp(L2 / (p_k p_l)) - exp(1 - eps)) = A + log(1 - e^{B - A}),
    A = L2 / (p_k p_l), B = 1 - eps, and -inf where A <= B (no real bound).
    """
    s = xp.sum(z1 * z2, axis=1)  # f1.f2, (N,)
    negatives = (z1,) if z2 is z1 else (z1, z2)  # collapsed: both views are the same point
    terms = None
    for neg in negatives:
        t = z1 @ neg.T  # f1.f-, (N, N)
        term = _logaddexp(s[:, None] + 0 * t, t)
        terms = term if terms is None else terms + term
    L2 = xp.sum(w[:, None] * w[None, :] * terms) / len(negatives)
    p, mu = _embedding_stats(z1, z2, w, labels, K)
    inner = mu @ mu.T
    A = L2 / (p[:, None] * p[None, :])
    B = 1 - eps
    gap = B - A
    defined = _np_bool(gap < 0)
    safe_gap = xp.where(_mask_for(defined, gap), gap, xp.scalar(-1.0, eps) + 0 * gap)
    bound = A + xp.log1p(-xp.exp(safe_gap))
    bound = xp.where(_mask_for(defined, bound), bound, xp.scalar(-np.inf, eps) + 0 * bound)
    return {"L2": L2, "p": p, "mu": mu, "inner": inner, "bound": bound}


def _thm4_core(z1: Any, z2: Any, w: Any, labels: np.ndarray, K: int) -> dict:
    r"""huang2023 Theorem 4 with tau = 0 on a weighted finite data set, any backend.

    F = E f(x1) f(x2)^T (view 1 times view 2), L2 = ||F - I_d||_F^2, and the bound of the
    pair (k, l) is sqrt(2 / (p_k p_l) (L2 - (d - K)/2)) (-inf where the root is of a
    negative number: no real bound).
    """
    d = z1.shape[1]
    F = (w[:, None] * z1).T @ z2
    E = F - xp.eye_like(F, d)
    L2 = xp.sum(E * E)
    p, mu = _embedding_stats(z1, z2, w, labels, K)
    inner = mu @ mu.T
    radicand = 2 * (L2 - xp.scalar((d - K) / 2, L2)) / (p[:, None] * p[None, :])
    defined = _np_bool(radicand >= 0)
    safe = xp.where(_mask_for(defined, radicand), radicand, 0 * radicand)
    bound = xp.where(_mask_for(defined, radicand), xp.sqrt(safe), xp.scalar(-np.inf, L2) + 0 * radicand)
    norms = xp.sqrt(xp.sum(mu * mu, axis=1))
    return {"L2": L2, "p": p, "mu": mu, "inner": inner, "bound": bound, "cauchy_schwarz": norms[:, None] * norms[None, :]}


def _check_means_probabilities(mu: Any, p: Any, caller: str) -> tuple[np.ndarray, np.ndarray]:
    mu = check_array(mu, "mu", caller, ndim=2, min_rows=2, allow_torch=False, allow_mp=False)
    p = check_probability_vector(p, "p", caller, strictly_positive=True)
    if p.shape[0] != mu.shape[0]:
        raise fail("p", caller, f"of length K = {mu.shape[0]} (one probability per row of `mu`)", p)
    return mu, p


def thm3_bound(mu, p, L2, *, eps=0.0, tau=0.0) -> np.ndarray:
    r"""The divergence bound of huang2023 Theorem 3 (SimCLR) for every pair of classes.

    .. math:: \mu_k^\top\mu_l \le \log\Big(\exp\Big\{\frac{\mathcal{L}_2(f) + \tau}{p_k p_l}\Big\}
              - \exp(1 - \epsilon)\Big)

    Parameters
    ----------
    mu : array_like, shape (K, d)
        Class centres (K >= 2); only their number is used, the bound does not depend on them.
    p : array_like, shape (K,)
        Class probabilities, every p_k > 0, summing to 1.
    L2 : float
        The InfoNCE term :math:`\mathcal{L}_2(f) = \mathbb{E}\log(e^{f_1^\top f_2} + e^{f_1^\top f^-})`.
    eps, tau : float
        eps >= 0, tau >= 0 (tau = 0: the most favourable form).

    Returns
    -------
    numpy.ndarray, shape (K, K)
        The bound for each pair (k, l); ``-inf`` where the argument of the log is <= 0 and
        the diagonal is NaN (the theorem is about k != l).

    Examples
    --------
    >>> import numpy as np
    >>> b = thm3_bound(np.eye(2), [0.5, 0.5], L2=1.0)
    >>> bool(np.isclose(b[0, 1], np.log(np.exp(4.0) - np.e)))
    True
    """
    caller = "thm3_bound"
    mu, p = _check_means_probabilities(mu, p, caller)
    L2 = check_real(L2, "L2", caller)
    eps = check_real(eps, "eps", caller, ge=0.0)
    tau = check_real(tau, "tau", caller, ge=0.0)
    A = (L2 + tau) / np.outer(p, p)
    gap = (1.0 - eps) - A
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(gap < 0, A + np.log1p(-np.exp(np.minimum(gap, 0.0))), -np.inf)
    np.fill_diagonal(out, np.nan)
    return out


def thm4_bound(mu, p, L2, *, tau=0.0) -> np.ndarray:
    r"""The divergence bound of huang2023 Theorem 4 (Barlow Twins) for every pair of classes.

    .. math:: \mu_k^\top\mu_l \le \sqrt{\frac{2}{p_k p_l}\Big(\mathcal{L}_2(f) + \tau - \frac{d - K}{2}\Big)}

    with d = ``mu.shape[1]``, K = ``mu.shape[0]`` and
    :math:`\mathcal{L}_2 = \|\mathbb{E} f(x_1) f(x_2)^\top - I_d\|_F^2`.

    Returns
    -------
    numpy.ndarray, shape (K, K)
        ``-inf`` where the radicand is negative; NaN on the diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> float(thm4_bound(np.ones((2, 3)), [0.5, 0.5], L2=1.0)[0, 1])  # sqrt(8 (1 - 1/2)) = 2
    2.0
    """
    caller = "thm4_bound"
    mu, p = _check_means_probabilities(mu, p, caller)
    L2 = check_real(L2, "L2", caller, ge=0.0)
    tau = check_real(tau, "tau", caller, ge=0.0)
    K, d = mu.shape
    radicand = 2.0 / np.outer(p, p) * (L2 + tau - (d - K) / 2.0)
    out = np.where(radicand >= 0, np.sqrt(np.maximum(radicand, 0.0)), -np.inf)
    np.fill_diagonal(out, np.nan)
    return out


def negative_pair_moments(M: int) -> tuple[float, float]:
    r"""Exact mean and variance of :math:`x^\top x^-` for x, x^- independent and uniform on :math:`S^{M-1}`.

    :math:`t = x^\top x^-` has density proportional to :math:`(1 - t^2)^{(M-3)/2}` on
    [-1, 1], so E t = 0 by symmetry and
    :math:`\mathbb{E} t^2 = B(3/2, (M-1)/2) / B(1/2, (M-1)/2)` (Beta functions, evaluated
    with mpmath); for M = 1, t = +-1. garrido2023's Prop. 3.1 states these moments are 0
    and 1/M at the optimum of SimCLR/DCL with infinitely many negatives (the uniform
    distribution).

    Examples
    --------
    >>> [round(v, 12) for v in negative_pair_moments(4)]
    [0.0, 0.25]
    """
    M = check_int(M, "M", "negative_pair_moments", min_value=1)
    if M == 1:
        return 0.0, 1.0
    a = mpmath.mpf(M - 1) / 2
    second = mpmath.beta(mpmath.mpf(3) / 2, a) / mpmath.beta(mpmath.mpf(1) / 2, a)
    return 0.0, float(second)


# --------------------------------------------------------------------------------------
# input spaces
# --------------------------------------------------------------------------------------


def _alternating(n: int) -> np.ndarray:
    """A non-constant column (+1, -1, +1, ...) used where a column cannot be standardized."""
    return np.where(np.arange(n) % 2 == 0, 1.0, -1.0)


def _standardize_np(x: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Columns with (weighted) mean 0 and mean square 1; degenerate columns replaced by a pattern."""
    x = np.array(x, dtype=np.float64, copy=True)
    n = x.shape[0]
    w = np.full(n, 1.0 / n) if w is None else w
    scale = np.max(np.abs(x), axis=0) if x.size else np.zeros(x.shape[1])
    x = x / np.where(scale > 0, scale, 1.0)  # scale-free: tiny columns would square into subnormals
    scale = np.where(scale > 0, 1.0, 0.0)
    mean = w @ x
    centred = x - mean
    var = w @ (centred * centred)
    degenerate = ~(var > (1e-12 * np.maximum(scale, 1e-300)) ** 2)
    if np.any(degenerate):
        pattern = _alternating(n)
        pattern = pattern - w @ pattern
        centred[:, degenerate] = pattern[:, None]
        var = w @ (centred * centred)
    return centred / np.sqrt(var)


def _standardize_torch(x, w=None):
    torch = _torch()
    n = x.shape[0]
    w = torch.full((n,), 1.0 / n, dtype=x.dtype, device=x.device) if w is None else w
    scale = x.detach().abs().amax(dim=0)
    x = x / torch.where(scale > 0, scale, torch.ones_like(scale))  # scale-free (no subnormal squares)
    scale = (scale > 0).to(x.dtype)
    mean = w @ x
    centred = x - mean
    var = w @ (centred * centred)
    degenerate = ~(var.detach() > (1e-12 * scale.clamp_min(1e-300)) ** 2)
    pattern = torch.as_tensor(_alternating(n), dtype=x.dtype, device=x.device)
    pattern = pattern - w.detach() @ pattern
    centred = torch.where(degenerate[None, :], pattern[:, None], centred)
    var = w @ (centred * centred)
    return centred / torch.sqrt(var)


def _standardize(x, w=None):
    return _standardize_torch(x, w) if is_torch(x) else _standardize_np(x, w)


class _ViewPairs(st.Space):
    """Two views of N samples stacked as a (2N, d) matrix: rows [0, N) view 1, [N, 2N) view 2."""

    def __init__(self, N: int, d: int, mode: str):
        caller = "view_pairs"
        self.N = check_int(N, "N", caller, min_value=2 if mode == "standardized" else 1)
        self.d = check_int(d, "d", caller, min_value=1)
        self.mode = mode
        self.shape = (2 * self.N, self.d)
        self.scale = 1.0 / math.sqrt(self.d) if mode == "sphere" else 1.0

    def _views(self, x):
        return x[: self.N], x[self.N:]

    def _stack(self, a, b):
        if is_torch(a):
            return _torch().cat([a, b], 0)
        return np.concatenate([a, b], axis=0)

    def _draw(self, rng):
        z1 = rng.standard_normal((self.N, self.d))
        # the angle between the views ranges from aligned to anti-aligned
        theta = rng.uniform(0.0, np.pi) if rng.random() < 0.7 else rng.uniform(0.0, 0.2)
        z2 = np.cos(theta) * z1 + np.sin(theta) * rng.standard_normal((self.N, self.d))
        x = self._stack(z1, z2)
        if self.mode == "free":
            return x * 10.0 ** rng.uniform(-1.0, 1.0)
        return self.project(x)

    def _raw_strategy(self):
        return st.float_arrays(self.shape, 1.0 if self.mode != "free" else 4.0)

    def _from_raw(self, raw):
        return self.project(np.asarray(raw, dtype=np.float64))

    def project(self, x):
        if self.mode == "free":
            return x
        if self.mode == "sphere":
            return st._normalize_rows(x, 1.0)  # internal: no boundary checks on a search point
        a, b = self._views(x)
        return self._stack(_standardize(a), _standardize(b))

    def contains(self, x, atol: float = 1e-9) -> bool:
        if not self._shape_ok(x) or not self._finite(x):
            return False
        arr = np.asarray(x, dtype=np.float64)
        if self.mode == "free":
            return True
        if self.mode == "sphere":
            return bool(np.all(np.abs(np.linalg.norm(arr, axis=1) - 1.0) <= atol))
        for v in self._views(arr):
            if np.any(np.abs(v.mean(axis=0)) > atol) or np.any(np.abs((v * v).mean(axis=0) - 1.0) > atol):
                return False
        return True

    def special(self):
        N, d = self.N, self.d
        # Walsh-like sign columns: column j flips every 2^j samples (uncorrelated where N allows)
        base = np.stack([np.where((np.arange(N) >> j) % 2 == 0, 1.0, -1.0) for j in range(d)], axis=1)
        cands = [self._stack(base, base), self._stack(base, -base), self._stack(base, np.roll(base, 1, axis=0))]
        if self.mode == "free":
            cands.append(np.zeros(self.shape))
        out = []
        for c in cands:
            c = self.project(c)
            if self.contains(c):
                out.append(c)
        return out

    def describe(self):
        what = {"standardized": "each view batch-standardized (columns: mean 0, mean square 1)",
                "sphere": "unit-norm rows", "free": "unconstrained"}[self.mode]
        return f"two views of {self.N} samples in R^{self.d} stacked as {2 * self.N} x {self.d}, {what}"

    def __repr__(self):
        return f"view_pairs(N={self.N}, d={self.d}, mode={self.mode!r})"


def view_pairs(N: int, d: int, mode: str = "standardized") -> st.Space:
    """Input space of two views of N samples in R^d, stacked as one (2N, d) matrix.

    Rows ``[0, N)`` are the first views, rows ``[N, 2N)`` the second. Draws correlate the
    views at a random angle (from identical to opposite). ``mode``:

    * ``"standardized"`` -- each view batch-standardized: every column has mean 0 and
      mean square 1 over the N samples (Barlow Twins' normalization; N >= 2);
    * ``"sphere"`` -- every row has unit norm (SimCLR's normalization);
    * ``"free"`` -- unconstrained.
    """
    from ._validation import check_choice

    mode = check_choice(mode, "mode", "view_pairs", ("standardized", "sphere", "free"))
    return _ViewPairs(N, d, mode)


class _WeightedClassMeans(st.Space):
    """(K, 1 + d): column 0 class probabilities p, columns 1.. class means mu standardized under p."""

    def __init__(self, K: int, d: int, min_p: float, standardized: bool):
        caller = "weighted_class_means"
        self.K = check_int(K, "K", caller, min_value=2)
        self.d = check_int(d, "d", caller, min_value=1)
        self.min_p = check_real(min_p, "min_p", caller, gt=0.0)
        self.standardized = bool(standardized)
        self._p = st.probability_vector(self.K, self.min_p)  # Unsatisfiable if K * min_p > 1
        self.shape = (self.K, 1 + self.d)
        self.scale = 1.0

    def _join(self, p, mu):
        if is_torch(mu):
            return _torch().cat([p.reshape(-1, 1), mu], 1)
        return np.concatenate([np.asarray(p).reshape(-1, 1), mu], axis=1)

    def _draw(self, rng):
        p = self._p.sample(rng)
        mu = rng.standard_normal((self.K, self.d)) * (1.0 if self.standardized else 10.0 ** rng.uniform(-1, 1))
        return self.project(self._join(p, mu))

    def _raw_strategy(self):
        return st.float_arrays(self.shape, 1.0)

    def _from_raw(self, raw):
        raw = np.asarray(raw, dtype=np.float64)
        p = self._p._from_raw(np.abs(raw[:, 0]))
        return self.project(self._join(p, raw[:, 1:]))

    def project(self, x):
        p = self._p.project(x[:, 0])
        mu = x[:, 1:]
        if self.standardized:
            mu = _standardize(mu, p.detach() if is_torch(p) else p)
        return self._join(p, mu)

    def contains(self, x, atol: float = 1e-9) -> bool:
        if not self._shape_ok(x) or not self._finite(x):
            return False
        arr = np.asarray(x, dtype=np.float64)
        p, mu = arr[:, 0], arr[:, 1:]
        if not self._p.contains(p, atol):
            return False
        if not self.standardized:
            return True
        mean = p @ mu
        ms = p @ (mu * mu)
        return bool(np.all(np.abs(mean) <= atol) and np.all(np.abs(ms - 1.0) <= atol))

    def special(self):
        K, d = self.K, self.d
        uniform = np.full(K, 1.0 / K)
        cands = []
        try:
            simplex = st.regular_simplex(K, max(d, K - 1))[:, :d]
            cands.append(self._join(uniform, simplex))
        except st.Unsatisfiable:  # pragma: no cover - h >= K-1 by construction
            pass
        cands.append(self._join(uniform, np.tile(_alternating(K)[:, None], (1, d))))  # one direction only
        for p in self._p.special()[1:]:
            cands.append(self._join(p, np.tile(_alternating(K)[:, None], (1, d))))
        out = []
        for c in cands:
            c = self.project(c)
            if self.contains(c):
                out.append(c)
        return out

    def describe(self):
        extra = " standardized under p (weighted mean 0, weighted mean square 1 per column)" \
            if self.standardized else ""
        return (f"class probabilities p (>= {self.min_p:g}) and {self.K} class means in R^{self.d}{extra}, "
                f"as one {self.K} x {1 + self.d} matrix [p | mu]")

    def __repr__(self):
        return (f"weighted_class_means(K={self.K}, d={self.d}, min_p={self.min_p!r}, "
                f"standardized={self.standardized!r})")


def weighted_class_means(K: int, d: int, min_p: float = 1e-3, standardized: bool = True) -> st.Space:
    """Input space of collapsed class embeddings: ``[p | mu]`` as one (K, 1 + d) matrix.

    Column 0 is a probability vector p (entries >= ``min_p`` > 0); columns 1..d are the
    class means mu_k. With ``standardized=True`` every column of mu has weighted mean 0
    and weighted mean square 1 under p -- the per-dimension normalization E f_i = 0,
    E f_i^2 = 1 of Barlow Twins when every sample of class k is embedded at mu_k.
    """
    return _WeightedClassMeans(K, d, min_p, standardized)


class _DoublyStochastic(st.Space):
    """M x N non-negative matrices with unit row and column sums (Birkhoff polytope)."""

    def __init__(self, M: int, N: int):
        self.M = check_int(M, "M", "doubly_stochastic", min_value=1)
        self.N = check_int(N, "N", "doubly_stochastic", min_value=1)
        self.shape = (self.M, self.N)
        if self.M != self.N:
            raise st.Unsatisfiable(
                f"a {self.M} x {self.N} matrix cannot have unit row sums and unit column sums: its entries "
                f"would sum to {self.M} (rows) and {self.N} (columns); it needs M == N")
        self.scale = 1.0 / self.N

    @staticmethod
    def _sinkhorn(a: np.ndarray) -> np.ndarray:
        """Sinkhorn balancing of |a| to a doubly stochastic matrix (rows and columns sum to 1 to 1e-13).

        Balancing converges fast only when the pattern of a has total support; when it does
        not converge, a growing positive offset is added, so the result is always in the space.
        """
        a = np.nan_to_num(np.abs(np.asarray(a, dtype=np.float64)), nan=0.0, posinf=1.0)
        top = max(float(a.max()) if a.size else 0.0, 1.0)
        for offset in (0.0, 1e-9, 1e-6, 1e-3, 1.0):
            b = a + offset * top
            if np.any(b.sum(axis=1) == 0) or np.any(b.sum(axis=0) == 0):
                continue
            for _ in range(2000):
                b = b / b.sum(axis=1, keepdims=True)
                b = b / b.sum(axis=0, keepdims=True)
                if np.max(np.abs(b.sum(axis=1) - 1.0)) < 1e-13:
                    return b
        return np.full(a.shape, 1.0 / a.shape[0])  # pragma: no cover - offset 1 always converges

    def _draw(self, rng):
        # a random mixture of permutation matrices (Birkhoff-von Neumann), then slightly smoothed
        w = rng.dirichlet(np.ones(3))
        a = sum(wi * np.eye(self.N)[rng.permutation(self.N)] for wi in w)
        return self._sinkhorn(a + rng.random() * 0.3 * rng.random(self.shape))

    def _raw_strategy(self):
        return st.float_arrays(self.shape, 1.0)

    def _from_raw(self, raw):
        return self._sinkhorn(raw)

    def project(self, x):
        if is_torch(x):
            y = x.abs() + 1e-12
            for _ in range(30):  # differentiable sweeps carry the gradient; the value is the exact balance
                y = y / y.sum(dim=1, keepdim=True)
                y = y / y.sum(dim=0, keepdim=True)
            return st.straight_through(y, self._sinkhorn(x.detach().cpu().numpy()))
        return self._sinkhorn(x)

    def contains(self, x, atol: float = 1e-9) -> bool:
        if not self._shape_ok(x) or not self._finite(x):
            return False
        a = np.asarray(x, dtype=np.float64)
        return bool(np.all(a >= -atol) and np.all(np.abs(a.sum(axis=1) - 1) <= atol)
                    and np.all(np.abs(a.sum(axis=0) - 1) <= atol))

    def special(self):
        n = self.N
        cands = [np.eye(n), np.full((n, n), 1.0 / n)]
        if n >= 2:
            cands.append((np.eye(n) + np.roll(np.eye(n), 1, axis=1)) / 2)
        return [c for c in cands if self.contains(c)]

    def describe(self):
        return f"{self.M} x {self.N} doubly stochastic matrices"

    def __repr__(self):
        return f"doubly_stochastic(M={self.M}, N={self.N})"


def doubly_stochastic(M: int, N: int) -> st.Space:
    """M x N non-negative matrices whose rows and columns sum to 1 (exist iff M == N)."""
    return _DoublyStochastic(M, N)


class _SignColumns(st.Space):
    """Unit-norm columns (as ``st.unit_columns``), with +-1/sqrt(M) sign patterns among the specials."""

    def __init__(self, M: int, N: int):
        self._base = st.unit_columns(M, N)
        self.M, self.N = self._base.M, self._base.N
        self.shape, self.scale = self._base.shape, self._base.scale

    def _draw(self, rng):
        return self._base.sample(rng)

    def strategy(self):
        return self._base.strategy()

    def project(self, x):
        return self._base.project(x)

    def contains(self, x, atol: float = 1e-9) -> bool:
        return self._base.contains(x, atol)

    def special(self):
        M, N = self.M, self.N
        signs = np.ones((M, N))
        for i in range(N):
            for j in range(M):
                if (i >> j) & 1:
                    signs[j, i] = -1.0
        # every entry +-1/sqrt(M): all rows have exactly the same norm, whatever the rounding
        out = self._base.special() + [signs / math.sqrt(M)]
        return [c for c in out if self.contains(c)]

    def describe(self):
        return self._base.describe() + " (specials include +-1/sqrt(M) sign patterns)"

    def __repr__(self):
        return f"sign_columns(M={self.M}, N={self.N})"


def sign_columns(M: int, N: int) -> st.Space:
    """M x N matrices with unit-norm columns; its special inputs add sign patterns.

    Besides the specials of ``strategies.unit_columns`` (collapsed columns, axes), the
    matrix with entries :math:`\\pm 1/\\sqrt{M}` whose column i carries the binary digits
    of i as signs: every row then has exactly the same norm (in any rounding) and, for
    M, N >= 2, two columns are not parallel.
    """
    return _SignColumns(M, N)


# --------------------------------------------------------------------------------------
# exact proofs for identity claims, within the sizes theorycheck.symbolic supports
# --------------------------------------------------------------------------------------


def proof_within_limits(prover: str, family: str, **sizes: int):
    """``theorycheck.symbolic.<prover>(**sizes)`` if every size is within ``LIMITS[family]``.

    Parameters
    ----------
    prover : str
        Name of a ``prove_*`` function of :mod:`theorycheck.symbolic`.
    family : str
        Key of ``symbolic.LIMITS`` (``"barlow"``, ``"gram"``, ``"duality"``, ...).
    **sizes : int or str
        The sizes the prover takes (``d=4``, ``M=3, N=5``); string values are passed on as
        options (``normalization="stochastic"``) and not checked.

    Returns
    -------
    theorycheck.symbolic.ProofResult

    Raises
    ------
    ProofNotAttempted
        A size exceeds ``LIMITS[family]`` (expression swell makes larger proofs slow); the
        message names the size and the limit and says it is tested numerically.

    Examples
    --------
    >>> proof_within_limits("prove_barlow_decomposition", "barlow", d=2).closed
    True
    >>> proof_within_limits("prove_barlow_decomposition", "barlow", d=50)
    Traceback (most recent call last):
    ...
    theorycheck.symbolic.ProofNotAttempted: d=50 > 10, tested numerically
    """
    from . import symbolic  # sympy: imported only when a proof runs

    limit = symbolic.LIMITS[family]
    over = [f"{name}={value}" for name, value in sizes.items()
            if isinstance(value, (int, np.integer)) and int(value) > limit]  # strings are options
    if over:
        # short: the message is what a results table shows (evidence["proof"])
        raise ProofNotAttempted(f"{', '.join(over)} > {limit}, tested numerically")
    return getattr(symbolic, prover)(**sizes)
