"""Geometry of class configurations: regular simplices, neural collapse, alignment.

Everything here is plain float64 numpy. Torch tensors (and mpmath object arrays) are
accepted and converted, since none of these statistics needs a gradient; claims that
must differentiate write their objective with :mod:`theorycheck.backend` instead.

Conventions (docs/theory.md sections 1, 4 and 7):

* A configuration ``Zeta`` is a (K, h) array whose rows are the points zeta_1..zeta_K.
* Embeddings ``Z`` are (N, h) with labels ``y`` in [0, K); a classifier ``W`` is (K, h).
* The regular simplex of radius rho has Gram matrix
  ``rho^2 K/(K-1) (I - 11^T/K)``: norms rho, pairwise inner products -rho^2/(K-1)
  (graf2021). It exists in R^h iff h >= K-1.

Citation keys: graf2021 (simplex, class-mean statistics), papyan2020 (NC1-NC4).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from . import backend as _xp
from ._validation import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_labels,
    check_real,
    check_size,
    fail,
    representable,
    is_mp_array,
    is_torch,
)

__all__ = [
    "regular_simplex",
    "simplex_gram",
    "simplex_residuals",
    "SimplexResiduals",
    "class_means",
    "pairwise_cosine_statistics",
    "class_mean_cosine_statistics",
    "CosineStatistics",
    "sample_class_mean_similarity",
    "SampleSimilarity",
    "neural_collapse",
    "class_mean_rank_cut",
    "NeuralCollapse",
    "procrustes",
    "Procrustes",
    "distance_to_simplex",
    "distance_to_collapsed_simplex",
    "distance_up_to",
]

_GLOBAL_MEANS = ("class-means", "samples")


# --------------------------------------------------------------------------- helpers


def _matrix(x: Any, name: str, caller: str, *, min_rows: int = 1) -> np.ndarray:
    """Validate a 2-D real array and return it as float64 numpy (torch/mpmath converted)."""
    arr = check_array(x, name, caller, ndim=2, min_rows=min_rows)
    if is_torch(arr) or is_mp_array(arr):
        arr = _xp.to_numpy(arr)
    if arr.shape[1] < 1:
        raise fail(name, caller, "an array with at least one column", x)
    return arr


def _embeddings_and_labels(Z: Any, y: Any, K: Any, caller: str):
    """Validated (Z, y, K) where every class in [0, K) has at least one sample."""
    Z = _matrix(Z, "Z", caller)
    if K is not None:
        K = check_int(K, "K", caller, min_value=2)
        if K > Z.shape[0]:  # checked before bincount(minlength=K) allocates K entries
            raise fail("K", caller, f"<= N = {Z.shape[0]} (every class 0..K-1 needs a sample)", K)
    labels = check_labels(y, "y", caller, n=Z.shape[0], num_classes=K)
    if K is None:
        K = int(labels.max()) + 1 if labels.size else 0
        if K < 2:
            raise fail("y", caller, "labels of at least 2 classes (K >= 2)", y)
    counts = np.bincount(labels, minlength=K)
    missing = np.flatnonzero(counts == 0)
    if missing.size:
        raise fail(
            "y", caller,
            f"labels in which every class 0..{K - 1} occurs (class {int(missing[0])} has no sample)", y,
        )
    return Z, labels, K, counts


def _class_means(Z: np.ndarray, labels: np.ndarray, K: int, counts: np.ndarray) -> np.ndarray:
    # np.add.at is an unbuffered per-element loop (about 200 ms at N = 50k, h = 128 on a
    # 2-core box). A per-class boolean selection and sum is 4x faster for few classes; its
    # O(N K) comparisons lose for many classes, where one np.bincount per column (a
    # sequential accumulation, as np.add.at) is still about 2x faster.
    if K <= _FEW_CLASSES:
        sums = np.empty((K, Z.shape[1]))
        for k in range(K):
            sums[k] = Z[labels == k].sum(axis=0)
    else:
        sums = np.stack([np.bincount(labels, weights=Z[:, j], minlength=K) for j in range(Z.shape[1])], axis=1)
    return sums / counts[:, None]


# up to this many classes, class sums are taken one class at a time (see _class_means)
_FEW_CLASSES = 32


def _unit_rows(V: np.ndarray, name: str, caller: str, what: str) -> np.ndarray:
    norms = np.linalg.norm(V, axis=1)
    if np.any(norms == 0.0):
        k = int(np.flatnonzero(norms == 0.0)[0])
        raise fail(name, caller, f"{what} with no zero vector (row {k} has norm 0, so its cosine is undefined)", V)
    return V / norms[:, None]


# --------------------------------------------------------------------------- simplex


@representable("radius")
def regular_simplex(K: int, h: int, radius: float = 1.0) -> np.ndarray:
    r"""Origin-centred regular simplex of K points inscribed in the sphere of radius ``radius`` in R^h.

    The construction is exact and closed-form (no iteration, no randomness): the centred
    standard basis vectors e_k - 1/K of R^K are expressed in the orthonormal Helmert basis
    of the sum-zero subspace, whose j-th vector is
    :math:`(1, \dots, 1, -j, 0, \dots, 0)/\sqrt{j(j+1)}` (j ones), scaled to norm ``radius``
    and padded with zeros to dimension h. The result satisfies (graf2021, docs/theory.md section 1)

    .. math::  \sum_y \zeta_y = 0,\quad \|\zeta_y\| = \rho,\quad
               \langle \zeta_y, \zeta_{y'} \rangle = -\rho^2/(K-1)\ (y \ne y').

    Parameters
    ----------
    K : int
        Number of points, K >= 2.
    h : int
        Ambient dimension, h >= K - 1 (the simplex spans a (K-1)-dimensional subspace:
        its Gram matrix rho^2 K/(K-1) (I - 11^T/K) has rank K-1).
    radius : float
        rho > 0.

    Returns
    -------
    numpy.ndarray of shape (K, h)
        Row y is zeta_y; only the first K-1 coordinates are non-zero.

    Examples
    --------
    >>> Zeta = regular_simplex(3, 2)
    >>> bool(np.allclose(Zeta @ Zeta.T, [[1, -.5, -.5], [-.5, 1, -.5], [-.5, -.5, 1]]))
    True
    """
    caller = "regular_simplex"
    K = check_int(K, "K", caller, min_value=2)
    h = check_int(h, "h", caller, min_value=1)
    radius = check_real(radius, "radius", caller, gt=0)
    check_size(K * max(h, K), "h" if h >= K else "K", caller, h if h >= K else K, f"the {K} x {max(h, K)} simplex")
    if h < K - 1:
        raise fail(
            "h", caller,
            f">= K-1 = {K - 1}: a regular simplex of K = {K} points spans a {K - 1}-dimensional "
            f"subspace (its Gram matrix has rank K-1), so it does not fit in R^h", h,
        )
    # Helmert basis: column j-1 (j = 1..K-1) of B is the j-th orthonormal vector of 1^perp.
    B = np.zeros((K, K - 1))
    for j in range(1, K):
        B[:j, j - 1] = 1.0
        B[j, j - 1] = -float(j)
        B[:, j - 1] /= math.sqrt(j * (j + 1))
    # (e_k - 1/K) expressed in that basis is row k of B (since B^T 1 = 0); its norm is
    # sqrt((K-1)/K), hence the scale factor.
    Zeta = np.zeros((K, h))
    Zeta[:, : K - 1] = B * (radius * math.sqrt(K / (K - 1)))
    return Zeta


@representable("radius")
def simplex_gram(K: int, radius: float = 1.0) -> np.ndarray:
    r"""Gram matrix of the regular simplex: :math:`\rho^2 \frac{K}{K-1}(I - \tfrac{1}{K}\mathbf 1\mathbf 1^T)`.

    Diagonal rho^2, off-diagonal -rho^2/(K-1) (graf2021, docs/theory.md section 1).

    Examples
    --------
    >>> simplex_gram(2, 2.0).tolist()
    [[4.0, -4.0], [-4.0, 4.0]]
    """
    caller = "simplex_gram"
    K = check_int(K, "K", caller, min_value=2)
    radius = check_real(radius, "radius", caller, gt=0)
    check_size(K * K, "K", caller, K, "the K x K Gram matrix")
    squared = radius * radius  # inf past 1e154, reported by name (radius**2 would raise OverflowError)
    G = np.full((K, K), -squared / (K - 1))
    np.fill_diagonal(G, squared)
    return G


class SimplexResiduals(NamedTuple):
    """Residuals of the three defining conditions of a regular simplex (graf2021).

    Attributes
    ----------
    s1 : float
        ``||sum_y zeta_y||_2``: Euclidean norm of the sum of the points (0 iff centred).
    s2 : float
        ``max_y ||zeta_y|| - min_y ||zeta_y||``: spread of the norms (0 iff all equal).
    s3 : float
        ``max_{y != y'} ||zeta_y - zeta_y'|| - min_{y != y'} ||zeta_y - zeta_y'||``: spread of
        the pairwise distances (0 iff equidistant).
    mean_norm : float
        Mean of ``||zeta_y||``; divide by it for scale-free residuals.

    All three are absolute (same unit as the points) and zero together iff the rows form an
    origin-centred regular simplex (inscribed in the sphere of radius ``mean_norm``).
    """

    s1: float
    s2: float
    s3: float
    mean_norm: float


@representable("Zeta")
def simplex_residuals(Zeta: Any) -> SimplexResiduals:
    r"""The residuals S1, S2, S3 of docs/theory.md section 1 for a configuration of K >= 2 points.

    (S1) :math:`\sum_y \zeta_y = 0`, (S2) :math:`\|\zeta_y\| = \rho`,
    (S3) :math:`\|\zeta_y - \zeta_{y'}\|` constant for :math:`y \ne y'` (graf2021).
    See :class:`SimplexResiduals` for the exact number returned for each.

    Parameters
    ----------
    Zeta : array_like of shape (K, h)

    Examples
    --------
    >>> r = simplex_residuals(regular_simplex(4, 3, radius=2.0))
    >>> max(r.s1, r.s2, r.s3) < 1e-12, round(r.mean_norm, 12)
    (True, 2.0)
    """
    caller = "simplex_residuals"
    Zeta = _matrix(Zeta, "Zeta", caller, min_rows=2)
    K = Zeta.shape[0]
    # all four are homogeneous of degree 1: compute at a power-of-two scale (exact) where
    # squares neither overflow (1e155) nor underflow (1e-300), then scale back
    peak = float(np.max(np.abs(Zeta)))
    e = math.frexp(peak)[1] if peak > 0 else 0
    Zeta = np.ldexp(Zeta, -e)
    norms = np.linalg.norm(Zeta, axis=1)
    iu = np.triu_indices(K, 1)
    dists = np.linalg.norm(Zeta[iu[0]] - Zeta[iu[1]], axis=1)
    return SimplexResiduals(
        s1=_ldexp_or_inf(float(np.linalg.norm(Zeta.sum(axis=0))), e),
        s2=_ldexp_or_inf(float(norms.max() - norms.min()), e),
        s3=_ldexp_or_inf(float(dists.max() - dists.min()), e),
        mean_norm=_ldexp_or_inf(float(norms.mean()), e),
    )


def _ldexp_or_inf(x: float, e: int) -> float:
    """x * 2**e, inf where that overflows (then reported by name by ``representable``)."""
    try:
        return math.ldexp(x, e)
    except OverflowError:
        return math.inf


# --------------------------------------------------------------------------- class means


@representable("Z")
def class_means(Z: Any, y: Any, K: int | None = None) -> np.ndarray:
    r"""Class means :math:`\mu_k = \frac{1}{n_k}\sum_{n: y_n = k} z_n`, shape (K, h).

    Parameters
    ----------
    Z : array_like of shape (N, h)
    y : array_like of int, shape (N,)
        Labels in [0, K); every class must occur (an empty class has no mean).
    K : int, optional
        Number of classes; default ``max(y) + 1``.

    Examples
    --------
    >>> class_means([[0., 2.], [2., 0.], [5., 5.]], [0, 0, 1]).tolist()
    [[1.0, 1.0], [5.0, 5.0]]
    """
    Z, labels, K, counts = _embeddings_and_labels(Z, y, K, "class_means")
    return _class_means(Z, labels, K, counts)


class CosineStatistics(NamedTuple):
    """Pairwise cosine and angular-similarity statistics of K points against the simplex value.

    Over the K(K-1)/2 unordered pairs y < y'. The target cosine is -1/(K-1); angular
    similarity is ``1 - arccos(cos)/pi`` (graf2021), whose target is
    ``1 - arccos(-1/(K-1))/pi``. Standard deviations are population (ddof=0).

    Attributes
    ----------
    target_cos, cos_mean, cos_std, cos_max_dev : float
        -1/(K-1); mean and std of the pairwise cosines; ``max |cos - target_cos|``.
    target_angular, angular_mean, angular_std, angular_max_dev : float
        The same for angular similarity.
    """

    target_cos: float
    cos_mean: float
    cos_std: float
    cos_max_dev: float
    target_angular: float
    angular_mean: float
    angular_std: float
    angular_max_dev: float


def _cosine_statistics(U: np.ndarray) -> CosineStatistics:
    """Statistics for unit rows U (K >= 2)."""
    K = U.shape[0]
    iu = np.triu_indices(K, 1)
    # Rounding can push |cos| a hair above 1; arccos needs it clipped.
    cos = np.clip((U @ U.T)[iu], -1.0, 1.0)
    ang = 1.0 - np.arccos(cos) / np.pi
    target = -1.0 / (K - 1)
    target_ang = 1.0 - math.acos(target) / math.pi
    return CosineStatistics(
        target_cos=target,
        cos_mean=float(cos.mean()),
        cos_std=float(cos.std()),
        cos_max_dev=float(np.abs(cos - target).max()),
        target_angular=target_ang,
        angular_mean=float(ang.mean()),
        angular_std=float(ang.std()),
        angular_max_dev=float(np.abs(ang - target_ang).max()),
    )


@representable("Zeta")
def pairwise_cosine_statistics(Zeta: Any) -> CosineStatistics:
    r"""Cosine / angular-similarity statistics of the rows of a (K, h) configuration.

    :math:`\cos(\zeta_y, \zeta_{y'}) = \langle\zeta_y,\zeta_{y'}\rangle/(\|\zeta_y\|\|\zeta_{y'}\|)`
    against the regular-simplex value -1/(K-1) (graf2021). No centring is applied. A zero
    row is an error (its cosine is undefined).

    Examples
    --------
    >>> s = pairwise_cosine_statistics(regular_simplex(5, 4))
    >>> round(s.cos_mean, 12), s.cos_max_dev < 1e-12
    (-0.25, True)
    """
    caller = "pairwise_cosine_statistics"
    Zeta = _matrix(Zeta, "Zeta", caller, min_rows=2)
    return _cosine_statistics(_unit_rows(Zeta, "Zeta", caller, "a configuration"))


def _global_mean(Z: np.ndarray, means: np.ndarray, global_mean: str) -> np.ndarray:
    # "class-means": mean of the K class means (each class weighs the same);
    # "samples": mean of the N samples (each sample weighs the same). Equal iff balanced.
    return means.mean(axis=0) if global_mean == "class-means" else Z.mean(axis=0)


@representable("Z")
def class_mean_cosine_statistics(
    Z: Any, y: Any, K: int | None = None, global_mean: str | None = None
) -> CosineStatistics:
    r"""Pairwise cosines of the class means against -1/(K-1) (graf2021, section 7).

    Parameters
    ----------
    Z : array_like (N, h)
    y : array_like of int (N,)
    K : int, optional
    global_mean : {None, "class-means", "samples"}
        None (default) compares the raw class means mu_k, as graf2021 does for encoders
        whose simplex is origin-centred. "class-means" subtracts the mean of the class means,
        "samples" the mean of all samples (they differ under label imbalance); these are the
        centred means of papyan2020's NC2.

    Examples
    --------
    >>> Zeta = regular_simplex(3, 2)
    >>> s = class_mean_cosine_statistics(Zeta[[0, 0, 1, 1, 2, 2]], [0, 0, 1, 1, 2, 2])
    >>> round(s.cos_mean, 12)
    -0.5
    """
    caller = "class_mean_cosine_statistics"
    Z, labels, K, counts = _embeddings_and_labels(Z, y, K, caller)
    means = _class_means(Z, labels, K, counts)
    if global_mean is not None:
        global_mean = check_choice(global_mean, "global_mean", caller, _GLOBAL_MEANS)
        means = means - _global_mean(Z, means, global_mean)
    return _cosine_statistics(_unit_rows(means, "Z", caller, "embeddings whose class means are"))


class SampleSimilarity(NamedTuple):
    """Cosine between each sample and the mean of its own class: mean, std (ddof=0), min over samples."""

    mean: float
    std: float
    min: float


@representable("Z")
def sample_class_mean_similarity(Z: Any, y: Any, K: int | None = None) -> SampleSimilarity:
    r"""Sample-to-class-mean cosine :math:`\cos(z_n, \mu_{y_n})` summarised over n (graf2021, section 7).

    1 for every sample iff each sample points in the direction of its class mean (for
    samples of equal norm: iff the classes collapse). Zero-norm samples or means are an
    error (cosine undefined).

    Examples
    --------
    >>> sample_class_mean_similarity([[1., 0.], [0., 1.], [0., 3.]], [0, 1, 1]).min
    1.0
    """
    caller = "sample_class_mean_similarity"
    Z, labels, K, counts = _embeddings_and_labels(Z, y, K, caller)
    means = _unit_rows(_class_means(Z, labels, K, counts), "Z", caller, "embeddings whose class means are")
    unit = _unit_rows(Z, "Z", caller, "embeddings")
    cos = np.clip(np.einsum("nh,nh->n", unit, means[labels]), -1.0, 1.0)
    return SampleSimilarity(mean=float(cos.mean()), std=float(cos.std()), min=float(cos.min()))


# --------------------------------------------------------------------------- neural collapse


class NeuralCollapse(NamedTuple):
    r"""Neural-collapse metrics of papyan2020 (docs/theory.md section 4); each is 0 at full collapse.

    With :math:`\mu_G` the global mean (see ``global_mean``), :math:`M` the (K, h) matrix of
    centred class means :math:`\mu_k - \mu_G`:

    Attributes
    ----------
    nc1 : float
        :math:`\mathrm{Tr}(\Sigma_W \Sigma_B^+)/K` with
        :math:`\Sigma_W = \frac1N\sum_n (z_n-\mu_{y_n})(z_n-\mu_{y_n})^T` (average over samples)
        and :math:`\Sigma_B = \frac1K\sum_k (\mu_k-\mu_G)(\mu_k-\mu_G)^T`; the pseudo-inverse
        drops singular values below ``max(K, h) * eps * s_max`` of M.
    nc2_equinorm : float
        std/mean of :math:`\|\mu_k - \mu_G\|` (population std).
    nc2_equiangular_std : float
        std of the K(K-1)/2 pairwise cosines of the centred means.
    nc2_equiangular_dev : float
        mean over pairs of :math:`|\cos + 1/(K-1)|`.
    nc3 : float or None
        :math:`\| W/\|W\|_F - M/\|M\|_F \|_F` (self-duality); None without W.
    nc4 : float or None
        Fraction of samples on which the classifier :math:`\arg\max_k \langle w_k, z_n\rangle + b_k`
        disagrees with the nearest class centre :math:`\arg\min_k \|z_n - \mu_k\|` (ties: lowest
        index); agreement is ``1 - nc4``. None without W.
    global_mean : str
        "class-means" or "samples".
    """

    nc1: float
    nc2_equinorm: float
    nc2_equiangular_std: float
    nc2_equiangular_dev: float
    nc3: float | None
    nc4: float | None
    global_mean: str


@representable("s_max", "means")
def class_mean_rank_cut(s_max: float, means: np.ndarray, K: int, h: int) -> float:
    """Singular values of the centred class means at or below this are rounding noise
    (shared by :func:`neural_collapse` and the streaming tracker of
    :mod:`theorycheck.empirical.metrics`, so both cut the same directions)."""
    caller = "class_mean_rank_cut"
    s_max = check_real(s_max, "s_max", caller, ge=0)
    means = _matrix(means, "means", caller)
    K = check_int(K, "K", caller, min_value=1)
    h = check_int(h, "h", caller, min_value=1)
    return 8 * max(K, h) * float(np.finfo(np.float64).eps) * max(s_max, float(np.linalg.norm(means, 2)))


@representable("Z", "W", "bias")
def neural_collapse(
    Z: Any,
    y: Any,
    W: Any = None,
    *,
    K: int | None = None,
    bias: Any = None,
    global_mean: str = "class-means",
) -> NeuralCollapse:
    r"""NC1-NC4 of papyan2020 exactly as docs/theory.md section 4 states them.

    Parameters
    ----------
    Z : array_like (N, h)
        Embeddings (last-layer features).
    y : array_like of int (N,)
        Labels; every class in [0, K) must occur.
    W : array_like (K, h), optional
        Classifier rows w_k; NC3 and NC4 need it (None otherwise).
    K : int, optional
        Number of classes; default ``max(y) + 1`` (or ``W.shape[0]`` when W is given).
    bias : array_like (K,), optional
        Classifier bias, used by NC4 only (papyan2020's classifier has one; graf2021's CE does not).
    global_mean : {"class-means", "samples"}
        mu_G as the mean of the K class means (default; each class weighs the same, the
        convention that makes a collapsed simplex give zeros under imbalance) or the mean of
        the N samples (papyan2020's balanced definition). They coincide iff the labels are
        balanced.

    Returns
    -------
    NeuralCollapse

    Raises
    ------
    InvalidArgumentError
        If all centred class means are zero (no between-class variability: NC1 and NC2 are
        undefined), or a single centred mean is zero (its cosine is undefined).

    Examples
    --------
    >>> Zeta = regular_simplex(3, 2)
    >>> y = [0, 1, 2, 0, 1, 2]
    >>> m = neural_collapse(Zeta[y], y, W=2 * Zeta)
    >>> max(m.nc1, m.nc2_equinorm, m.nc2_equiangular_dev, m.nc3, m.nc4) < 1e-12
    True
    """
    caller = "neural_collapse"
    global_mean = check_choice(global_mean, "global_mean", caller, _GLOBAL_MEANS)
    if W is not None:
        W = _matrix(W, "W", caller, min_rows=2)
        if K is None:
            K = W.shape[0]
    Z, labels, K, counts = _embeddings_and_labels(Z, y, K, caller)
    N, h = Z.shape
    if W is not None and W.shape != (K, h):
        raise fail("W", caller, f"of shape ({K}, {h}) (one row per class, same dimension as Z)", W)
    means = _class_means(Z, labels, K, counts)
    M = means - _global_mean(Z, means, global_mean)

    _, s, Vt = np.linalg.svd(M, full_matrices=False)
    if s[0] == 0.0:
        raise fail("Z", caller, "embeddings whose class means are not all equal (NC1/NC2 undefined)", Z)
    # Tr(Sigma_W Sigma_B^+)/K with Sigma_B = M^T M/K and Sigma_W = E^T E/N equals
    # ||E M^+||_F^2 / N; with M = U S V^T, ||E V S^+ U^T||_F = ||E V S^+||_F (U orthonormal),
    # so no h x h matrix is formed. Singular values are rounding noise below
    # 8 max(K, h) eps times the larger of s_max and ||means||_2: the centred means of a
    # collapsed simplex have rank K-1, and two class means with the sample mean between
    # them are collinear, but rounding in the means themselves leaves a spurious singular
    # value of order eps ||means||, above eps s_max when the means sit far from the origin.
    keep = s > class_mean_rank_cut(s[0], means, K, h)
    E = Z - means[labels]
    nc1 = float(np.sum((E @ Vt[keep].T / s[keep]) ** 2) / N)

    norms = np.linalg.norm(M, axis=1)
    nc2_equinorm = float(norms.std() / norms.mean())
    U = _unit_rows(M, "Z", caller, "embeddings whose centred class means are")
    iu = np.triu_indices(K, 1)
    cos = (U @ U.T)[iu]
    nc2_std = float(cos.std())
    nc2_dev = float(np.abs(cos + 1.0 / (K - 1)).mean())

    nc3 = nc4 = None
    if W is not None:
        w_norm = np.linalg.norm(W)
        if w_norm == 0.0:
            raise fail("W", caller, "a non-zero classifier (NC3 normalises by ||W||_F)", W)
        nc3 = float(np.linalg.norm(W / w_norm - M / np.linalg.norm(M)))
        logits = Z @ W.T
        if bias is not None:
            bias_arr = check_array(bias, "bias", caller, shape=(K,), allow_torch=True)
            logits = logits + _xp.to_numpy(bias_arr)
        sq_dist = (
            np.sum(Z * Z, axis=1)[:, None] - 2.0 * Z @ means.T + np.sum(means * means, axis=1)[None, :]
        )
        nc4 = float(np.mean(np.argmax(logits, axis=1) != np.argmin(sq_dist, axis=1)))
    elif bias is not None:
        raise fail("bias", caller, "None when W is None (the bias belongs to the classifier W)", bias)
    return NeuralCollapse(nc1, nc2_equinorm, nc2_std, nc2_dev, nc3, nc4, global_mean)


# --------------------------------------------------------------------------- alignment


class Procrustes(NamedTuple):
    """Result of :func:`procrustes`: the orthogonal matrix R (h, h) and ``||A R - B||_F``."""

    rotation: np.ndarray
    residual: float


@representable("A", "B")
def procrustes(A: Any, B: Any, *, proper: bool = False) -> Procrustes:
    r"""Orthogonal Procrustes: :math:`R = \arg\min_{R^T R = I} \|A R - B\|_F`.

    With the SVD :math:`A^T B = U S V^T`, :math:`R = U V^T` (Schönemann 1966). With
    ``proper=True`` R is restricted to rotations (det R = +1, Kabsch): the last singular
    direction is flipped when det(U V^T) = -1.

    Parameters
    ----------
    A, B : array_like of the same shape (n, h)
        Rows are corresponding points (e.g. two configurations to compare up to rotation,
        behnia2024.ufm.unique).
    proper : bool
        Only rotations (default False: any orthogonal matrix, reflections included).

    Returns
    -------
    Procrustes
        ``rotation`` (h, h) orthogonal and ``residual`` = ||A R - B||_F.

    Examples
    --------
    >>> A = regular_simplex(3, 2)
    >>> R = np.array([[0., -1.], [1., 0.]])
    >>> procrustes(A, A @ R).residual < 1e-12
    True
    """
    caller = "procrustes"
    proper = check_bool(proper, "proper", caller)
    A = _matrix(A, "A", caller)
    B = _matrix(B, "B", caller)
    if A.shape != B.shape:
        raise fail("B", caller, f"of the same shape as `A` {A.shape}", B)
    U, _, Vt = np.linalg.svd(A.T @ B)
    if proper and np.linalg.det(U @ Vt) < 0:
        U[:, -1] = -U[:, -1]
    R = U @ Vt
    return Procrustes(rotation=R, residual=float(np.linalg.norm(A @ R - B)))


# --------------------------------------------------------------------------- distances


def _collapsed_simplex_distance(Z: np.ndarray, labels: np.ndarray, K: int, counts: np.ndarray,
                                radius: float | None) -> float:
    r"""||G - c P_Y||_F / normaliser without forming the N x N Gram matrix G = Z Z^T.

    Target c P_Y with P_Y[n, m] = Q[y_n, y_m], Q = K/(K-1) I - 1/(K-1) 11^T (the unit simplex
    Gram). Split Z = U + E (U rows: class means, E: within-class deviations, Y^T E = 0).
    All cross terms vanish, so, with A = M M^T - c Q,

        ||G - c P_Y||^2 = sum_kl n_k n_l A_kl^2 + 2 sum_{n,k} n_k <e_n, mu_k>^2 + ||E^T E||_F^2,

    a sum of squares: no cancellation, so the distance resolves down to ~1e-16, not ~1e-8.
    """
    # d is homogeneous of degree 0 in (Z, radius) and scale-free in Z when radius is None:
    # divide by a power of two (exact) so that the fourth powers below stay in float64 for
    # entries of any magnitude; with a radius, scale Z by radius * 2^e and the target by 2^-2e.
    peak = float(np.max(np.abs(Z))) if Z.size else 0.0
    unscale = 0  # the result is ldexp(value, unscale)
    if radius is None:
        if peak > 0.0:
            Z = np.ldexp(Z, -math.frexp(peak)[1])
        c_target = None
    else:
        ratio = peak / radius
        if not math.isfinite(ratio):
            return math.inf  # d ~ (|Z| / radius)^2 overflows float64: reported by name
        e = max(math.frexp(ratio)[1], 0) if ratio > 0 else 0
        Z = np.ldexp(Z, -e) / radius
        c_target = math.ldexp(1.0, -2 * e)
        unscale = 2 * e
    means = _class_means(Z, labels, K, counts)
    E = Z - means[labels]
    Q = np.full((K, K), -1.0 / (K - 1))
    np.fill_diagonal(Q, 1.0)  # unit-radius simplex Gram: 1 on the diagonal, -1/(K-1) off it
    n = counts.astype(np.float64)
    weight = np.outer(n, n)
    MM = means @ means.T
    within = 2.0 * float(np.sum(n[None, :] * (E @ means.T) ** 2)) + float(np.sum((E.T @ E) ** 2))
    if c_target is None:
        # least-squares radius: c = <G, P_Y>/||P_Y||^2 (only the class-mean block sees P_Y);
        # <G, P_Y> >= 0 always, so c >= 0, but clip against rounding.
        c = max(float(np.sum(weight * MM * Q)) / float(np.sum(weight * Q * Q)), 0.0)
        g_norm_sq = float(np.sum(weight * MM**2)) + within
        if g_norm_sq == 0.0:
            return 1.0  # all points at the origin: no direction to compare, maximal distance
        resid_sq = float(np.sum(weight * (MM - c * Q) ** 2)) + within
        return math.sqrt(max(resid_sq, 0.0) / g_norm_sq)
    resid_sq = float(np.sum(weight * (MM - c_target * Q) ** 2)) + within
    try:
        return math.ldexp(math.sqrt(resid_sq / float(np.sum(weight * Q * Q))), unscale)
    except OverflowError:
        return math.inf  # reported by name by the representable() guard


@representable("Zeta", "radius")
def distance_to_simplex(Zeta: Any, radius: float | None = None) -> float:
    r"""Rotation-invariant distance from K points to the nearest origin-centred regular simplex.

    Compares Gram matrices, so any rotation or reflection of ``Zeta`` gives the same value.
    With :math:`G = Z Z^T` and :math:`G_\rho = \rho^2\frac{K}{K-1}(I - \frac1K \mathbf 1\mathbf 1^T)`:

    * ``radius`` given: :math:`d = \|G - G_\rho\|_F / \|G_\rho\|_F` (relative; 0 iff the rows
      form a regular simplex inscribed in the sphere of that radius).
    * ``radius=None``: the radius is fitted by least squares,
      :math:`\hat\rho^2 = \langle G, G_1\rangle / \|G_1\|_F^2`, and
      :math:`d = \|G - G_{\hat\rho}\|_F / \|G\|_F`, the sine of the angle between G and the
      simplex Gram direction: in [0, 1], scale invariant, 0 iff the rows form a regular simplex
      of some radius > 0. The all-zero configuration gets 1.

    Parameters
    ----------
    Zeta : array_like (K, h), K >= 2
    radius : float, optional
        rho > 0, or None to fit it.

    Examples
    --------
    >>> distance_to_simplex(regular_simplex(4, 5, 3.0)) < 1e-15
    True
    >>> round(distance_to_simplex(np.eye(2), radius=1.0), 12)  # G = I vs [[1,-1],[-1,1]]
    0.707106781187
    """
    caller = "distance_to_simplex"
    Zeta = _matrix(Zeta, "Zeta", caller, min_rows=2)
    if radius is not None:
        radius = check_real(radius, "radius", caller, gt=0)
    K = Zeta.shape[0]
    return _collapsed_simplex_distance(Zeta, np.arange(K), K, np.ones(K, dtype=np.int64), radius)


@representable("Z", "radius")
def distance_to_collapsed_simplex(Z: Any, y: Any, radius: float | None = None, *,
                                  K: int | None = None) -> float:
    r"""Rotation-invariant distance of N labelled samples to "collapsed onto a regular simplex".

    The target configuration is :math:`z_n = \zeta_{y_n}` with the zeta a regular simplex
    (graf2021.ce.equality (i)-(ii), graf2021.sc.simplex); its Gram matrix is
    :math:`\rho^2 P_Y` with :math:`P_Y[n,m] = 1` if :math:`y_n = y_m` else :math:`-1/(K-1)`.
    With :math:`G = Z Z^T`,

    * ``radius`` given: :math:`d = \|G - \rho^2 P_Y\|_F / \|\rho^2 P_Y\|_F`;
    * ``radius=None``: least-squares :math:`\hat\rho^2 = \langle G, P_Y\rangle/\|P_Y\|_F^2` and
      :math:`d = \|G - \hat\rho^2 P_Y\|_F / \|G\|_F` in [0, 1] (1 for all-zero Z).

    d = 0 iff the classes collapse onto a regular simplex (of that radius). Computed in
    O(N K h) without the N x N Gram matrix, as a sum of squares (no cancellation). With one
    sample per class and ``y = arange(K)`` this equals :func:`distance_to_simplex`.

    Parameters
    ----------
    Z : array_like (N, h)
    y : array_like of int (N,)
        Every class in [0, K) must occur.
    radius : float, optional
    K : int, optional

    Examples
    --------
    >>> Zeta = regular_simplex(3, 2)
    >>> distance_to_collapsed_simplex(Zeta[[0, 1, 2, 2]], [0, 1, 2, 2], radius=1.0) < 1e-15
    True
    """
    caller = "distance_to_collapsed_simplex"
    Z, labels, K, counts = _embeddings_and_labels(Z, y, K, caller)
    if radius is not None:
        radius = check_real(radius, "radius", caller, gt=0)
    return _collapsed_simplex_distance(Z, labels, K, counts, radius)


# --------------------------------------------------------------------------- up to symmetries

#: Up to this many rows, ``distance_up_to(..., relabel=True)`` with rotations tries every
#: permutation (K! Procrustes problems: 5040 small SVDs at K = 7); above it, a heuristic.
EXACT_RELABEL_MAX = 7


def _orthogonal_fit(A: np.ndarray, B: np.ndarray, rotation: bool, reflection: bool) -> np.ndarray:
    """``A R`` closest to B over the allowed orthogonal matrices R (identity when none)."""
    if not rotation:
        return A
    U, _, Vt = np.linalg.svd(A.T @ B)
    if not reflection and np.linalg.det(U @ Vt) < 0:
        U[:, -1] = -U[:, -1]
    return A @ (U @ Vt)


def _row_profiles(X: np.ndarray) -> np.ndarray:
    """Each row's norm and sorted inner products with all rows: unchanged by rotating the
    configuration and by permuting rows, so rows can be matched before any rotation is known."""
    G = X @ X.T
    return np.concatenate([np.sqrt(np.maximum(np.diag(G), 0.0))[:, None], np.sort(G, axis=1)], axis=1)


def distance_up_to(A: Any, B: Any, *, rotation: bool = True, reflection: bool = True, relabel: bool = False,
                   relative: bool = True) -> float:
    r"""Distance between two configurations up to rotation, reflection and relabelling of rows.

    .. math:: d = \min_{P, R} \|P A R - B\|_F \;/\; \|B\|_F

    over the orthogonal R allowed (``rotation``: rotations, det R = +1; with ``reflection``
    too: every orthogonal matrix; neither: R = I) and the row permutations P (``relabel``:
    every permutation, e.g. class means whose class names are arbitrary; else P = I). For a
    characterization claim ("the minimiser is unique up to rotation and relabelling"):
    ``distance=lambda W, *, p: distance_up_to(W, reference(p), relabel=True)``.

    Cost, for A and B of shape (K, h):

    * rotation / reflection only: orthogonal Procrustes, one SVD of the h x h matrix
      :math:`A^T B` (Schönemann; Kabsch's sign flip for rotations only): O(K h^2 + h^3), exact;
    * relabelling only: the optimal assignment of rows (Hungarian algorithm,
      ``scipy.optimize.linear_sum_assignment`` on squared distances): O(K^3), exact;
    * both, K <= :data:`EXACT_RELABEL_MAX` (7): one Procrustes problem per permutation, K!
      of them (5040 at K = 7), exact;
    * both, larger K: a heuristic giving an *upper bound*: rows are first matched by
      assignment on rotation- and permutation-invariant row profiles (norm and sorted inner
      products with the other rows), then Procrustes and re-assignment alternate (at most
      20 rounds, O(K^3 + K h^2) each). Configurations with equal Gram matrices up to
      relabelling and distinct row profiles (e.g. any simplex-like configuration) are
      matched exactly.

    Parameters
    ----------
    A, B : array_like of shape (K, h)
        Rows are points (class means, classifier rows, ...).
    rotation, reflection, relabel : bool
        The symmetries to quotient out. ``reflection=True`` needs ``rotation=True``.
    relative : bool
        Divide by :math:`\|B\|_F` (default; when B = 0 the absolute distance is returned).

    Returns
    -------
    float

    Examples
    --------
    >>> A = regular_simplex(3, 2)
    >>> R = np.array([[0.0, -1.0], [1.0, 0.0]])
    >>> distance_up_to(A[[2, 0, 1]] @ R, A, relabel=True) < 1e-12
    True
    >>> distance_up_to(A @ np.diag([1.0, -1.0]), A @ np.diag([1.0, -1.0]) @ R, reflection=False) < 1e-12
    True
    >>> round(distance_up_to(A[[1, 0, 2]], A, rotation=False, reflection=False), 6)  # sqrt(6)/sqrt(3)
    1.414214
    """
    caller = "distance_up_to"
    rotation = check_bool(rotation, "rotation", caller)
    reflection = check_bool(reflection, "reflection", caller)
    relabel = check_bool(relabel, "relabel", caller)
    relative = check_bool(relative, "relative", caller)
    if reflection and not rotation:
        raise fail("reflection", caller, "False when rotation=False (reflections are quotiented out "
                                         "together with rotations: rotation=True, reflection=True)", reflection)
    A = _matrix(A, "A", caller)
    B = _matrix(B, "B", caller)
    if A.shape != B.shape:
        raise fail("B", caller, f"of the same shape as `A` {A.shape}", B)
    # homogeneous of degree 1 (degree 0 when relative): computed at a power-of-two scale,
    # exactly, so entries near 1e300 or 1e-300 neither overflow nor underflow
    peak = max(float(np.max(np.abs(A), initial=0.0)), float(np.max(np.abs(B), initial=0.0)))
    e = math.frexp(peak)[1] if peak > 0 else 0
    A, B = np.ldexp(A, -e), np.ldexp(B, -e)
    norm_b = float(np.linalg.norm(B))
    value = _distance_up_to_unit(A, B, rotation, reflection, relabel)
    if relative and norm_b > 0:
        return value / norm_b
    try:
        return math.ldexp(value, e)
    except OverflowError:
        raise fail("A", caller, "of a magnitude at which the distance is representable in float64",
                   f"entries up to {peak:.3g}") from None


def _distance_up_to_unit(A: np.ndarray, B: np.ndarray, rotation: bool, reflection: bool,
                         relabel: bool) -> float:
    """The absolute distance of :func:`distance_up_to` (inputs already validated and scaled)."""
    K = A.shape[0]
    scale = 1.0

    def resid(PA: np.ndarray) -> float:
        return float(np.linalg.norm(_orthogonal_fit(PA, B, rotation, reflection) - B))

    if not relabel:
        return resid(A) / scale
    from scipy.optimize import linear_sum_assignment

    def assign(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        cost = np.sum((X[:, None, :] - Y[None, :, :]) ** 2, axis=-1)
        rows, cols = linear_sum_assignment(cost)
        perm = np.empty(K, dtype=np.int64)
        perm[cols] = rows  # row perm[j] of X goes to position j
        return perm

    if not rotation:
        return float(np.linalg.norm(A[assign(A, B)] - B)) / scale
    if K <= EXACT_RELABEL_MAX:
        import itertools

        best = math.inf
        for perm in itertools.permutations(range(K)):
            best = min(best, resid(A[list(perm)]))
            if best == 0.0:
                break
        return best / scale
    perm = assign(_row_profiles(A), _row_profiles(B))
    best = resid(A[perm])
    for _ in range(20):
        aligned = _orthogonal_fit(A[perm], B, rotation, reflection)
        # rows of the rotated A, re-assigned to B's rows
        R = np.linalg.lstsq(A[perm], aligned, rcond=None)[0]
        new = assign(A @ R, B)
        value = resid(A[new])
        if value >= best - 1e-15 * max(1.0, best):
            break
        perm, best = new, value
    return best / scale
