"""Tests of theorycheck.geometry: exact simplices, hand-computed configurations, invariances."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as hs

from theorycheck import InvalidArgumentError, InvalidArgumentTypeError
from theorycheck import geometry
from theorycheck.geometry import (
    class_mean_cosine_statistics,
    class_means,
    distance_to_collapsed_simplex,
    distance_to_simplex,
    neural_collapse,
    pairwise_cosine_statistics,
    procrustes,
    regular_simplex,
    sample_class_mean_similarity,
    simplex_gram,
    simplex_residuals,
)


def _random_orthogonal(h: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    Q, R = np.linalg.qr(rng.standard_normal((h, h)))
    return Q * np.sign(np.diag(R))  # Haar-distributed


SIZES = dict(K=hs.integers(2, 12), extra=hs.integers(0, 3), radius=hs.floats(0.1, 100.0), seed=hs.integers(0, 2**16))


# --------------------------------------------------------------------------- simplex


@settings(max_examples=40, deadline=None)
@given(**SIZES)
def test_regular_simplex_is_exact(K, extra, radius, seed):
    h = K - 1 + extra
    Zeta = regular_simplex(K, h, radius) @ _random_orthogonal(h, seed)
    assert Zeta.shape == (K, h)
    expected_gram = radius**2 * K / (K - 1) * (np.eye(K) - np.ones((K, K)) / K)
    np.testing.assert_allclose(Zeta @ Zeta.T, expected_gram, atol=1e-13 * radius**2)
    np.testing.assert_allclose(simplex_gram(K, radius), expected_gram, rtol=1e-15, atol=1e-15 * radius**2)
    r = simplex_residuals(Zeta)
    assert max(r.s1, r.s2, r.s3) <= 1e-13 * radius
    assert r.mean_norm == pytest.approx(radius, rel=1e-14)
    s = pairwise_cosine_statistics(Zeta)
    assert s.target_cos == -1.0 / (K - 1)
    assert s.cos_mean == pytest.approx(-1.0 / (K - 1), abs=1e-14)
    assert s.cos_max_dev <= 1e-13 and s.cos_std <= 1e-13 and s.angular_max_dev <= 1e-7
    assert distance_to_simplex(Zeta) <= 1e-14
    assert distance_to_simplex(Zeta, radius=radius) <= 1e-14


def test_regular_simplex_is_deterministic_and_fills_only_k_minus_1_coordinates():
    Zeta = regular_simplex(4, 6, 2.0)
    np.testing.assert_array_equal(Zeta, regular_simplex(4, 6, 2.0))
    assert np.all(Zeta[:, 3:] == 0.0)
    np.testing.assert_allclose(regular_simplex(2, 1, 3.0), [[3.0], [-3.0]], rtol=1e-15)


def test_regular_simplex_needs_h_at_least_k_minus_1():
    with pytest.raises(InvalidArgumentError) as info:
        regular_simplex(5, 3)
    message = str(info.value)
    assert message.startswith("`h` of `regular_simplex` must be >= K-1 = 4")
    assert "rank K-1" in message and "got 3" in message


def test_simplex_residuals_by_hand():
    # e1, e2, 0: sum (1, 1); norms 1, 1, 0; distances sqrt2, 1, 1
    r = simplex_residuals([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    assert r.s1 == pytest.approx(math.sqrt(2), rel=1e-15)
    assert r.s2 == pytest.approx(1.0, rel=1e-15)
    assert r.s3 == pytest.approx(math.sqrt(2) - 1, rel=1e-15)
    assert r.mean_norm == pytest.approx(2 / 3, rel=1e-15)
    # a rectangle (centred, equal norms) is not a simplex: only S3 sees it
    r = simplex_residuals([[2.0, 1.0], [-2.0, 1.0], [-2.0, -1.0], [2.0, -1.0]])
    assert r.s1 == 0.0 and r.s2 == 0.0
    assert r.s3 == pytest.approx(2 * math.sqrt(5) - 2, rel=1e-15)


def test_cosine_statistics_of_a_square_by_hand():
    # four points on the unit circle: 4 adjacent pairs (cos 0), 2 opposite (cos -1)
    s = pairwise_cosine_statistics([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    assert s.target_cos == pytest.approx(-1 / 3)
    assert s.cos_mean == pytest.approx(-1 / 3, abs=1e-15)  # the mean matches the simplex...
    assert s.cos_std == pytest.approx(math.sqrt(2) / 3, rel=1e-14)  # ...but the spread does not
    assert s.cos_max_dev == pytest.approx(2 / 3, rel=1e-14)
    assert s.angular_mean == pytest.approx((4 * 0.5 + 2 * 0.0) / 6, abs=1e-15)
    target_angular = 1 - math.acos(-1 / 3) / math.pi
    assert s.target_angular == pytest.approx(target_angular, rel=1e-15)
    assert s.angular_max_dev == pytest.approx(max(0.5 - target_angular, target_angular), rel=1e-14)


def test_class_means_and_cosines_by_hand():
    Z = np.array([[0.0, 2.0], [2.0, 0.0], [5.0, 5.0], [-1.0, -1.0], [-3.0, -3.0]])
    y = np.array([0, 0, 1, 2, 2])
    M = class_means(Z, y)
    np.testing.assert_allclose(M, [[1.0, 1.0], [5.0, 5.0], [-2.0, -2.0]])
    s = class_mean_cosine_statistics(Z, y)
    # raw means: cos(mu0, mu1) = 1, cos(mu0, mu2) = cos(mu1, mu2) = -1
    assert s.cos_mean == pytest.approx(-1 / 3, abs=1e-15)
    assert s.cos_max_dev == pytest.approx(1.5, rel=1e-14)
    # centring by the mean of the class means (4/3, 4/3) keeps the points on one line
    centred = class_mean_cosine_statistics(Z, y, global_mean="class-means")
    assert centred.cos_mean == pytest.approx(-1 / 3, abs=1e-14)
    # sample mean is (0.6, 0.6): mu0 - (0.6, 0.6) still points along +(1, 1)
    by_samples = class_mean_cosine_statistics(Z, y, global_mean="samples")
    assert by_samples.cos_mean == pytest.approx(-1 / 3, abs=1e-14)
    assert class_means(torch.tensor(Z, dtype=torch.float32), torch.tensor(y)).dtype == np.float64


def test_sample_to_class_mean_similarity_by_hand():
    Z = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 2.0], [0.0, -1.0]])
    y = np.array([0, 0, 1, 1])
    # class 0 mean (0.5, 0.5): both samples at 45 degrees; class 1 mean (0, 0.5)
    s = sample_class_mean_similarity(Z, y)
    c = math.sqrt(0.5)
    values = np.array([c, c, 1.0, -1.0])
    assert s.mean == pytest.approx(values.mean(), rel=1e-14)
    assert s.std == pytest.approx(values.std(), rel=1e-14)
    assert s.min == pytest.approx(-1.0)


# --------------------------------------------------------------------------- neural collapse


@settings(max_examples=30, deadline=None)
@given(K=hs.integers(2, 8), extra=hs.integers(0, 3), radius=hs.floats(0.1, 10.0), seed=hs.integers(0, 2**16),
       balanced=hs.booleans())
def test_nc_metrics_vanish_at_a_collapsed_simplex(K, extra, radius, seed, balanced):
    h = K - 1 + extra
    rng = np.random.default_rng(seed)
    counts = np.full(K, 3) if balanced else rng.integers(1, 6, size=K)
    y = rng.permutation(np.repeat(np.arange(K), counts))
    zeta = regular_simplex(K, h, radius) @ _random_orthogonal(h, seed)
    m = neural_collapse(zeta[y], y, W=2.5 * zeta, bias=np.zeros(K))
    assert m.global_mean == "class-means"
    assert max(m.nc1, m.nc2_equinorm, m.nc2_equiangular_std, m.nc2_equiangular_dev, m.nc3) <= 1e-12
    assert m.nc4 == 0.0
    assert distance_to_collapsed_simplex(zeta[y], y) <= 1e-14
    assert distance_to_collapsed_simplex(zeta[y], y, radius=radius) <= 1e-14


def test_nc_metrics_by_hand():
    Z = np.array([[-2.0], [0.0], [1.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    # means -1, 2; mu_G = 0.5; M = (-1.5, 1.5); Sigma_B = 2.25, Sigma_W = 1
    m = neural_collapse(Z, y, W=[[0.0], [1.0]])
    assert m.nc1 == pytest.approx(1 / 2.25 / 2, rel=1e-14)
    assert m.nc2_equinorm == 0.0
    assert m.nc2_equiangular_std == 0.0 and m.nc2_equiangular_dev == pytest.approx(0.0, abs=1e-15)
    assert m.nc3 == pytest.approx(math.sqrt(2 - math.sqrt(2)), rel=1e-14)
    # W rows 0, z: argmax picks class 0 at z <= 0, class 1 at z > 0 == nearest centre
    assert m.nc4 == 0.0
    # a bias that moves the decision threshold to 2.5 misclassifies z = 1 only
    m = neural_collapse(Z, y, W=[[-1.0], [1.0]], bias=[0.0, -2.5])
    assert m.nc3 == pytest.approx(0.0, abs=1e-15)
    assert m.nc4 == 0.25


def test_global_mean_matters_under_imbalance():
    # collapsed but imbalanced: 3 samples at (1, 0), one at (-1, 0)
    Z = np.array([[1.0, 0.0]] * 3 + [[-1.0, 0.0]])
    y = np.array([0, 0, 0, 1])
    by_class = neural_collapse(Z, y, global_mean="class-means")
    by_sample = neural_collapse(Z, y, global_mean="samples")
    assert by_class.nc2_equinorm == 0.0
    # sample mean (0.5, 0): centred norms 0.5 and 1.5 -> std/mean = 0.5/1
    assert by_sample.nc2_equinorm == pytest.approx(0.5, rel=1e-14)
    assert by_class.nc1 == by_sample.nc1 == 0.0
    assert by_sample.global_mean == "samples" and by_sample.nc3 is None and by_sample.nc4 is None


@settings(max_examples=25, deadline=None)
@given(K=hs.integers(2, 6), extra=hs.integers(1, 4), per_class=hs.integers(2, 6), seed=hs.integers(0, 2**16),
       global_mean=hs.sampled_from(["class-means", "samples"]))
def test_nc1_matches_the_trace_formula_with_full_covariances(K, extra, per_class, seed, global_mean):
    h = K + extra  # Sigma_B (h x h) has rank <= K
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(K), per_class + rng.integers(0, 3, size=K))
    Z = rng.standard_normal((len(y), h)) + 3.0 * rng.standard_normal((K, h))[y]
    means = np.stack([Z[y == k].mean(axis=0) for k in range(K)])
    mu_G = means.mean(axis=0) if global_mean == "class-means" else Z.mean(axis=0)
    Sigma_B = sum(np.outer(m - mu_G, m - mu_G) for m in means) / K
    Sigma_W = sum(np.outer(z - means[c], z - means[c]) for z, c in zip(Z, y)) / len(y)
    expected = np.trace(Sigma_W @ np.linalg.pinv(Sigma_B, rcond=1e-10)) / K
    got = neural_collapse(Z, y, global_mean=global_mean)
    assert got.nc1 == pytest.approx(expected, rel=1e-8)
    norms = np.linalg.norm(means - mu_G, axis=1)
    assert got.nc2_equinorm == pytest.approx(norms.std() / norms.mean(), rel=1e-12)


# --------------------------------------------------------------------------- Procrustes


@settings(max_examples=30, deadline=None)
@given(n=hs.integers(1, 12), h=hs.integers(1, 6), seed=hs.integers(0, 2**16))
def test_procrustes_recovers_a_random_rotation(n, h, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((max(n, h), h))  # full column rank: R is unique
    Q = _random_orthogonal(h, seed + 1)
    result = procrustes(A, A @ Q)
    np.testing.assert_allclose(result.rotation, Q, atol=1e-9)
    assert result.residual <= 1e-11 * np.linalg.norm(A)
    np.testing.assert_allclose(result.rotation @ result.rotation.T, np.eye(h), atol=1e-12)


def test_procrustes_with_noise_beats_other_orthogonal_maps():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((10, 4))
    B = A @ _random_orthogonal(4, 7) + 0.1 * rng.standard_normal((10, 4))
    best = procrustes(A, B)
    assert best.residual == pytest.approx(np.linalg.norm(A @ best.rotation - B), rel=1e-14)
    for seed in range(20):
        assert best.residual <= np.linalg.norm(A @ _random_orthogonal(4, 100 + seed) - B) + 1e-12


def test_procrustes_proper_excludes_reflections():
    A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    B = A @ np.diag([1.0, -1.0])  # a reflection
    assert procrustes(A, B).residual < 1e-12
    assert np.linalg.det(procrustes(A, B).rotation) == pytest.approx(-1.0)
    proper = procrustes(A, B, proper=True)
    assert np.linalg.det(proper.rotation) == pytest.approx(1.0)
    assert proper.residual > 0.5


# --------------------------------------------------------------------------- distances


def test_distance_to_simplex_by_hand():
    # G = I against [[1, -1], [-1, 1]]: ||[[0, 1], [1, 0]]|| / 2
    assert distance_to_simplex(np.eye(2), radius=1.0) == pytest.approx(math.sqrt(2) / 2, rel=1e-15)
    # fitted: rho^2 = <I, P>/<P, P> = 1/2, residual [[.5, .5], [.5, .5]] of norm 1, ||G|| = sqrt 2
    assert distance_to_simplex(np.eye(2)) == pytest.approx(math.sqrt(2) / 2, rel=1e-15)
    # the right shape with the wrong radius: ||P - 4 P|| / ||4 P|| = 3/4
    assert distance_to_simplex(regular_simplex(5, 4), radius=2.0) == pytest.approx(0.75, rel=1e-14)
    # all points equal: orthogonal to the simplex direction -> the maximum, 1
    assert distance_to_simplex(np.ones((3, 2))) == pytest.approx(1.0, rel=1e-15)
    assert distance_to_simplex(np.zeros((3, 2))) == 1.0


@settings(max_examples=40, deadline=None)
@given(K=hs.integers(2, 8), extra=hs.integers(0, 3), seed=hs.integers(0, 2**16), scale=hs.floats(1e-3, 1e3))
def test_distance_to_simplex_is_rotation_invariant_and_scale_free(K, extra, seed, scale):
    h = K - 1 + extra
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((K, h))
    Q = _random_orthogonal(h, seed + 1)
    d = distance_to_simplex(X)
    assert 0.0 < d <= 1.0
    assert distance_to_simplex(X @ Q) == pytest.approx(d, rel=1e-10)
    assert distance_to_simplex(scale * X) == pytest.approx(d, rel=1e-10)
    assert distance_to_simplex(X @ Q, radius=1.3) == pytest.approx(distance_to_simplex(X, radius=1.3), rel=1e-10)


@pytest.mark.parametrize("size", [1e-2, 1e-6, 1e-10])
def test_distance_is_zero_only_at_the_simplex_and_resolves_tiny_perturbations(size):
    zeta = regular_simplex(5, 6, 2.0)
    direction = np.random.default_rng(0).standard_normal(zeta.shape)
    d = distance_to_simplex(zeta + size * direction)
    d_fixed = distance_to_simplex(zeta + size * direction, radius=2.0)
    # first order in the perturbation (no sqrt(eps) ~ 1e-8 floor from cancellation)
    assert 0.01 * size < d < 10 * size
    assert 0.01 * size < d_fixed < 10 * size


def _brute_collapsed_distance(Z, y, K, radius):
    G = Z @ Z.T
    P = np.where(y[:, None] == y[None, :], 1.0, -1.0 / (K - 1))
    if radius is None:
        c = max(np.sum(G * P) / np.sum(P * P), 0.0)
        return np.linalg.norm(G - c * P) / np.linalg.norm(G)
    return np.linalg.norm(G - radius**2 * P) / np.linalg.norm(radius**2 * P)


@settings(max_examples=40, deadline=None)
@given(K=hs.integers(2, 6), h=hs.integers(1, 6), seed=hs.integers(0, 2**16),
       radius=hs.one_of(hs.none(), hs.floats(0.2, 5.0)), noise=hs.sampled_from([0.0, 1e-3, 0.3, 3.0]))
def test_collapsed_distance_equals_the_full_gram_formula(K, h, seed, radius, noise):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.concatenate([np.arange(K), rng.integers(0, K, size=2 * K)]))
    centres = rng.standard_normal((K, h))
    Z = centres[y] + noise * rng.standard_normal((len(y), h))
    got = distance_to_collapsed_simplex(Z, y, radius)
    assert got == pytest.approx(_brute_collapsed_distance(Z, y, K, radius), rel=1e-9, abs=1e-12)
    Q = _random_orthogonal(h, seed + 1)
    assert distance_to_collapsed_simplex(Z @ Q, y, radius) == pytest.approx(got, rel=1e-9, abs=1e-12)


def test_collapsed_distance_sees_within_class_spread_and_matches_distance_to_simplex():
    zeta = regular_simplex(3, 2, 1.0)
    y = np.array([0, 0, 1, 1, 2, 2])
    assert distance_to_collapsed_simplex(zeta[y], y) < 1e-15
    spread = zeta[y].copy()
    spread[0] = zeta[0] @ np.array([[0.0, -1.0], [1.0, 0.0]])  # one sample rotated away
    assert distance_to_collapsed_simplex(spread, y) > 0.1
    X = np.random.default_rng(1).standard_normal((4, 3))
    assert distance_to_collapsed_simplex(X, np.arange(4)) == pytest.approx(distance_to_simplex(X), rel=1e-14)
    assert distance_to_collapsed_simplex(X, np.arange(4), 0.7) == pytest.approx(distance_to_simplex(X, 0.7),
                                                                               rel=1e-14)


def test_torch_and_float32_inputs_are_converted():
    zeta = regular_simplex(3, 3, 1.0)
    y = [0, 1, 2, 0]
    Zt = torch.tensor(zeta[y], dtype=torch.float32, requires_grad=True)
    assert distance_to_collapsed_simplex(Zt, torch.tensor(y)) < 1e-6
    m = neural_collapse(Zt, y, W=torch.tensor(zeta))
    assert m.nc4 == 0.0 and m.nc1 < 1e-10
    assert procrustes(Zt, Zt).residual < 1e-6


# --------------------------------------------------------------------------- validation and surface


def test_public_surface_is_small_and_exported():
    assert len(geometry.__all__) == len(set(geometry.__all__))
    for name in geometry.__all__:
        assert hasattr(geometry, name)
    assert "regular_simplex" in geometry.__all__ and "_collapsed_simplex_distance" not in geometry.__all__


def test_result_repr_rebuilds_it():
    r = simplex_residuals(regular_simplex(3, 2))
    assert eval(repr(r), {"SimplexResiduals": geometry.SimplexResiduals}) == r  # noqa: S307


GOOD_Z = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
GOOD_Y = np.array([0, 1, 1])

BAD_CALLS = [
    (regular_simplex, dict(K=1, h=3), "K", InvalidArgumentError),
    (regular_simplex, dict(K=3, h=0), "h", InvalidArgumentError),
    (regular_simplex, dict(K=3, h=2, radius=0.0), "radius", InvalidArgumentError),
    (regular_simplex, dict(K=3.5, h=2), "K", InvalidArgumentTypeError),
    (simplex_gram, dict(K=1), "K", InvalidArgumentError),
    (simplex_residuals, dict(Zeta=[[1.0, 0.0]]), "Zeta", InvalidArgumentError),
    (simplex_residuals, dict(Zeta=[1.0, 0.0]), "Zeta", InvalidArgumentError),
    (simplex_residuals, dict(Zeta=[[1.0, np.nan], [0.0, 1.0]]), "Zeta", InvalidArgumentError),
    (simplex_residuals, dict(Zeta="abc"), "Zeta", InvalidArgumentTypeError),
    (pairwise_cosine_statistics, dict(Zeta=[[1.0, 0.0], [0.0, 0.0]]), "Zeta", InvalidArgumentError),
    (class_means, dict(Z=GOOD_Z, y=[0, 1]), "y", InvalidArgumentError),
    (class_means, dict(Z=GOOD_Z, y=[0, 1, 3]), "y", InvalidArgumentError),
    (class_means, dict(Z=GOOD_Z, y=[0, 1, 1], K=3), "y", InvalidArgumentError),
    (class_means, dict(Z=GOOD_Z, y=[0, 0, 0]), "y", InvalidArgumentError),
    (class_means, dict(Z=GOOD_Z, y=[0, -1, 1]), "y", InvalidArgumentError),
    (class_means, dict(Z=GOOD_Z, y=[0.5, 1, 1]), "y", InvalidArgumentTypeError),
    (class_means, dict(Z=GOOD_Z, y=GOOD_Y, K=1), "K", InvalidArgumentError),
    (class_mean_cosine_statistics, dict(Z=GOOD_Z, y=GOOD_Y, global_mean="median"), "global_mean",
     InvalidArgumentError),
    (sample_class_mean_similarity, dict(Z=[[0.0, 0.0], [0.0, 1.0]], y=[0, 1]), "Z", InvalidArgumentError),
    (neural_collapse, dict(Z=GOOD_Z, y=GOOD_Y, global_mean="all"), "global_mean", InvalidArgumentError),
    (neural_collapse, dict(Z=GOOD_Z, y=GOOD_Y, W=np.ones((2, 3))), "W", InvalidArgumentError),
    (neural_collapse, dict(Z=GOOD_Z, y=GOOD_Y, W=np.zeros((2, 2))), "W", InvalidArgumentError),
    (neural_collapse, dict(Z=GOOD_Z, y=GOOD_Y, W=np.ones((2, 2)), bias=[1.0]), "bias", InvalidArgumentError),
    (neural_collapse, dict(Z=GOOD_Z, y=GOOD_Y, bias=[1.0, 2.0]), "bias", InvalidArgumentError),
    (neural_collapse, dict(Z=np.ones((3, 2)), y=GOOD_Y), "Z", InvalidArgumentError),
    (procrustes, dict(A=GOOD_Z, B=GOOD_Z[:2]), "B", InvalidArgumentError),
    (procrustes, dict(A=GOOD_Z, B=GOOD_Z, proper=1), "proper", InvalidArgumentTypeError),
    (procrustes, dict(A=[[np.inf]], B=[[1.0]]), "A", InvalidArgumentError),
    (distance_to_simplex, dict(Zeta=GOOD_Z, radius=-1.0), "radius", InvalidArgumentError),
    (distance_to_simplex, dict(Zeta=[[1.0, 2.0]]), "Zeta", InvalidArgumentError),
    (distance_to_collapsed_simplex, dict(Z=GOOD_Z, y=[0, 1]), "y", InvalidArgumentError),
    (distance_to_collapsed_simplex, dict(Z=GOOD_Z, y=GOOD_Y, radius=0.0), "radius", InvalidArgumentError),
]


@pytest.mark.parametrize("fn, kwargs, param, exc", BAD_CALLS,
                         ids=[f"{c[0].__name__}-{c[2]}-{i}" for i, c in enumerate(BAD_CALLS)])
def test_bad_arguments_raise_a_clear_error(fn, kwargs, param, exc):
    with pytest.raises(exc) as info:
        fn(**kwargs)
    message = str(info.value)
    assert message.startswith(f"`{param}` of `{fn.__name__}` must be ")
    assert "; got " in message


@pytest.mark.parametrize("global_mean", ["class-means", "samples"])
def test_nc1_is_unchanged_by_translating_two_classes_far_from_the_origin(global_mean):
    # two class means with the global mean between them: the centred means have rank 1,
    # and rounding in means far from the origin must not count as a second direction
    rng = np.random.default_rng(938)
    y = np.repeat([0, 1], 5)
    Z = rng.normal(size=(10, 2)) + rng.normal(size=(2, 2))[y] * 2
    near = neural_collapse(Z, y, K=2, global_mean=global_mean).nc1
    for offset in (3.0, 100.0, 1e4):
        far = neural_collapse(Z + offset, y, K=2, global_mean=global_mean).nc1
        assert far == pytest.approx(near, rel=1e-6)
    assert 0.01 < near < 100


@pytest.mark.parametrize("K", [3, 32, 33, 200])
def test_class_means_equal_an_unbuffered_scatter_add_on_both_paths(K):
    # _class_means sums per class for K <= 32 and per column with np.bincount beyond; both
    # must equal the np.add.at scatter it replaced (up to summation order)
    from theorycheck.geometry import _class_means

    rng = np.random.default_rng(K)
    y = np.concatenate([np.arange(K), rng.integers(0, K, size=5 * K)])
    Z = rng.normal(size=(y.size, 7)) * 10.0
    counts = np.bincount(y, minlength=K)
    sums = np.zeros((K, 7))
    np.add.at(sums, y, Z)
    assert np.allclose(_class_means(Z, y, K, counts), sums / counts[:, None], rtol=1e-13, atol=1e-13)
