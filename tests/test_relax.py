"""Tests for theorycheck.relax: the SC Gram relaxation of the unconstrained-features model.

Independent references used here: a brute-force double loop for the loss, torch autograd
for gradients, mpmath for high precision, numpy eigendecompositions of the expanded
block matrices, the collapsed-simplex closed form, and the full SDP against the
symmetry-reduced programs (and vice versa).
"""

from __future__ import annotations

import doctest
import math

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as hst

import theorycheck.relax as relax
from theorycheck import backend as xp
from theorycheck._validation import InvalidArgumentError, InvalidArgumentTypeError
from theorycheck.relax import (
    ReducedRelaxationResult,
    RelaxationError,
    RelaxationResult,
    SolverUnavailableError,
    Tightness,
    gram_lower_bound,
    recover_features,
    sc_gram_loss,
    sc_gram_loss_expr,
    sc_relaxation,
    sc_relaxation_class_sizes,
    sc_relaxation_reduced,
    sc_relaxation_step,
    ufm_sc_loss,
)

# --------------------------------------------------------------------------------------
# references


def brute_force_loss(G, y, tau):
    """The THEORY.md section 4 formula as a plain double loop (math.fsum, max-shifted LSE)."""
    G = np.asarray(G, dtype=np.float64)
    total = []
    for i in range(len(y)):
        others = [G[i, l] / tau for l in range(len(y)) if l != i]
        top = max(others)
        lse = top + math.log(math.fsum(math.exp(v - top) for v in others))
        positives = [G[i, j] / tau for j in range(len(y)) if j != i and y[j] == y[i]]
        total.append(lse - math.fsum(positives) / len(positives))
    return math.fsum(total)


def simplex_gram(y):
    """Collapsed regular simplex: G_ij = 1 within a class, -1/(K-1) between classes."""
    y = np.asarray(y)
    K = np.unique(y).size
    return np.where(y[:, None] == y[None, :], 1.0, -1.0 / (K - 1))


def balanced_closed_form(N, K, tau):
    """N log(n - 1 + (N - n) exp(-K / ((K - 1) tau))): every anchor of the simplex."""
    n = N // K
    return N * math.log(n - 1 + (N - n) * math.exp(-K / ((K - 1) * tau)))


def random_unit_rows(rng, N, d):
    H = rng.standard_normal((N, d))
    return H / np.linalg.norm(H, axis=1, keepdims=True)


@hst.composite
def sc_labels(draw, max_classes=4, max_count=4):
    """Labels with 2..max_classes classes of 2..max_count samples each, shuffled."""
    counts = draw(hst.lists(hst.integers(2, max_count), min_size=2, max_size=max_classes))
    y = np.repeat(np.arange(len(counts)), counts)
    perm = draw(hst.permutations(list(range(y.size))))
    return y[np.array(perm)]


taus = hst.sampled_from([0.05, 0.1, 0.3, 1.0, 4.0])


# --------------------------------------------------------------------------------------
# the loss


@settings(max_examples=40)
@given(y=sc_labels(), tau=taus, d=hst.integers(1, 5), seed=hst.integers(0, 2**32 - 1))
def test_gram_loss_matches_brute_force_loop(y, tau, d, seed):
    H = random_unit_rows(np.random.default_rng(seed), y.size, d)
    G = H @ H.T
    expected = brute_force_loss(G, y, tau)
    assert float(sc_gram_loss(G, y, tau)) == pytest.approx(expected, rel=1e-12, abs=1e-9)
    assert float(ufm_sc_loss(H, y, tau)) == pytest.approx(expected, rel=1e-12, abs=1e-9)


@settings(max_examples=20)
@given(y=sc_labels(max_classes=3, max_count=3), tau=taus, seed=hst.integers(0, 2**32 - 1))
def test_loss_backends_agree_and_torch_gradient_is_the_analytic_one(y, tau, seed):
    rng = np.random.default_rng(seed)
    H = random_unit_rows(rng, y.size, 3)
    G = H @ H.T
    value = float(sc_gram_loss(G, y, tau))
    # torch keeps autograd; its gradient must match the closed form (softmax - C)/tau
    Gt = torch.tensor(G, requires_grad=True)
    out = sc_gram_loss(Gt, y, tau)
    out.backward()
    assert out.item() == pytest.approx(value, rel=1e-12)
    grad = Gt.grad.numpy()
    assert np.allclose(0.5 * (grad + grad.T), relax._sym_gradient(G, y, tau), atol=1e-10)
    # mpmath at 40 digits agrees with float64 to float accuracy
    with mpmath.workdps(40):
        mp_value = sc_gram_loss(xp.to_mp(G), y, tau)
        assert isinstance(mp_value, mpmath.mpf)
        assert float(mp_value) == pytest.approx(value, rel=1e-12)


@settings(max_examples=15)
@given(y=sc_labels(max_classes=3, max_count=3), tau=taus, seed=hst.integers(0, 2**32 - 1))
def test_cvxpy_expression_equals_numpy_loss(y, tau, seed):
    import cvxpy as cp

    H = random_unit_rows(np.random.default_rng(seed), y.size, 4)
    G = H @ H.T
    expr = sc_gram_loss_expr(G, y, tau)
    assert expr.is_convex()
    assert float(expr.value) == pytest.approx(float(sc_gram_loss(G, y, tau)), rel=1e-10)
    variable = cp.Variable((y.size, y.size), symmetric=True)
    variable.value = G
    assert sc_gram_loss_expr(variable, y, tau).is_dcp()
    assert float(sc_gram_loss_expr(variable, y, tau).value) == pytest.approx(float(expr.value), rel=1e-12)


@pytest.mark.parametrize("K,n,tau", [(2, 2, 1.0), (3, 4, 0.5), (5, 3, 0.1), (10, 7, 0.05), (4, 2, 20.0)])
def test_collapsed_simplex_value_is_the_closed_form(K, n, tau):
    y = np.repeat(np.arange(K), n)
    assert float(sc_gram_loss(simplex_gram(y), y, tau)) == pytest.approx(
        balanced_closed_form(K * n, K, tau), rel=1e-13)


# --------------------------------------------------------------------------------------
# the full relaxation


@pytest.fixture(scope="module")
def balanced_result():
    return sc_relaxation(np.repeat(np.arange(4), 3), 0.5)


@pytest.fixture(scope="module")
def imbalanced_result():
    y = np.array([0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 3, 3])
    return sc_relaxation(y, 0.3)


@pytest.mark.parametrize(
    "K,n,tau,solver",
    [(2, 4, 1.0, "clarabel"), (3, 4, 0.1, "clarabel"), (4, 3, 0.5, "clarabel"),
     (3, 8, 0.2, "clarabel"), (3, 4, 1.0, "scs"), (4, 5, 0.5, "scs")],
)
def test_balanced_relaxation_equals_collapsed_simplex(K, n, tau, solver):
    y = np.repeat(np.arange(K), n)
    N = y.size
    closed = float(sc_gram_loss(simplex_gram(y), y, tau))
    assert closed == pytest.approx(balanced_closed_form(N, K, tau), rel=1e-13)
    res = sc_relaxation(y, tau, solver=solver)
    assert res.status == "optimal" and res.solver == solver
    # the certificate brackets the optimum: rigorous lower bound, attained upper bound
    assert res.lower_bound <= closed + 1e-9 * abs(closed)
    assert res.upper_bound >= closed - 1e-9 * abs(closed)
    assert res.gap <= 1e-6 * N
    # the solver's own value agrees to its tolerance (eps = 1e-7 on the per-anchor mean)
    assert res.value == pytest.approx(closed, abs=1e-4 * N)
    assert res.rank == K - 1
    assert np.allclose(res.gram, simplex_gram(y), atol=1e-3)


def test_ball_relaxation_has_the_sphere_optimum(balanced_result):
    y = balanced_result.labels
    ball = sc_relaxation(y, balanced_result.tau, constraint="ball")
    assert ball.constraint == "ball"
    assert np.all(np.diag(ball.gram) <= 1.0 + 1e-12)
    assert np.linalg.eigvalsh(ball.gram)[0] >= -1e-10
    assert ball.lower_bound <= balanced_result.upper_bound + 1e-9
    assert balanced_result.lower_bound <= ball.upper_bound + 1e-9
    assert abs(ball.upper_bound - balanced_result.upper_bound) <= 1e-6


@settings(max_examples=30)
@given(d=hst.integers(1, 14), seed=hst.integers(0, 2**32 - 1))
def test_certified_bound_is_below_every_sphere_configuration(imbalanced_result, d, seed):
    res = imbalanced_result
    rng = np.random.default_rng(seed)
    H = random_unit_rows(rng, res.labels.size, d)
    # also points near the optimum, where a wrong bound would be caught first
    H_near = res.recover(d) + 0.01 * rng.standard_normal((res.labels.size, d))
    H_near /= np.linalg.norm(H_near, axis=1, keepdims=True)
    for features in (H, H_near):
        assert float(ufm_sc_loss(features, res.labels, res.tau)) >= res.lower_bound - 1e-12


@settings(max_examples=15)
@given(rank=hst.integers(1, 12), seed=hst.integers(0, 2**32 - 1))
def test_gram_lower_bound_is_valid_from_any_expansion_point(imbalanced_result, rank, seed):
    res = imbalanced_result
    H = random_unit_rows(np.random.default_rng(seed), res.labels.size, rank)
    bound = gram_lower_bound(H @ H.T, res.labels, res.tau)
    assert bound <= res.upper_bound + 1e-9
    ball_bound = gram_lower_bound(H @ H.T, res.labels, res.tau, constraint="ball")
    assert ball_bound <= res.upper_bound + 1e-9


def test_gram_lower_bound_is_tight_at_the_optimum():
    y = np.repeat(np.arange(3), 3)
    G = simplex_gram(y)
    closed = float(sc_gram_loss(G, y, 0.7))
    assert gram_lower_bound(G, y, 0.7) == pytest.approx(closed, abs=1e-9)
    # solver-style multipliers of either sign are only extra candidates
    assert gram_lower_bound(G, y, 0.7, multipliers=np.ones(9)) == pytest.approx(closed, abs=1e-9)


def test_imbalanced_certificate_is_tight_and_consistent(imbalanced_result):
    res = imbalanced_result
    assert res.gap <= 1e-6
    assert res.upper_bound <= res.gram_loss <= res.upper_bound + res.gap + 1e-12
    assert float(sc_gram_loss(res.gram, res.labels, res.tau)) == pytest.approx(res.gram_loss, rel=1e-12)
    assert np.allclose(np.diag(res.gram), 1.0)
    assert res.eigenvalues[-1] >= -1e-10
    assert np.all(np.diff(res.eigenvalues) <= 1e-12)  # descending
    assert res.rank == int(np.sum(res.eigenvalues > res.rank_tol * res.eigenvalues[0]))
    assert res.solver_rank >= res.rank


def test_tightness_per_dimension(balanced_result):
    res = balanced_result  # K = 4: simplex needs d >= 3
    rows = res.tightness(range(1, 6))
    assert [t.d for t in rows] == [1, 2, 3, 4, 5]
    for t in rows:
        assert isinstance(t, Tightness)
        assert t.gap == pytest.approx(t.loss - t.lower_bound)
        assert t.gap >= -1e-9
        assert t.rank_fits == (t.d >= res.rank)
    assert rows[0].gap > 1.0 and rows[1].gap > 1e-2  # below K-1 the relaxation is not attained
    for t in rows[2:]:
        assert t.gap <= 1e-6


def test_recover_features_reproduces_a_low_rank_gram(balanced_result):
    res = balanced_result
    H = recover_features(res.gram, 3)
    assert H.shape == (12, 3)
    assert np.allclose(np.linalg.norm(H, axis=1), 1.0)
    assert np.allclose(H @ H.T, res.gram, atol=1e-6)
    assert np.allclose(res.recover(3), H)
    wide = recover_features(res.gram, 20)
    assert wide.shape == (12, 20) and np.allclose(wide[:, 12:], 0.0)


def test_recover_features_keeps_rows_feasible():
    G = np.zeros((3, 3))
    H = recover_features(G, 2)  # every row vanishes: replaced by the first basis vector
    assert np.allclose(H, [[1.0, 0.0]] * 3)
    G = np.diag([4.0, 0.25, 1.0])
    ball = recover_features(G, 3, constraint="ball")
    assert np.allclose(np.sort(np.linalg.norm(ball, axis=1)), [0.5, 1.0, 1.0])
    sphere = recover_features(G, 3)
    assert np.allclose(np.linalg.norm(sphere, axis=1), 1.0)


# --------------------------------------------------------------------------------------
# the symmetry-reduced programs


def _random_invariant(rng, k, n):
    T = len(k)
    cross = np.zeros((T, T))
    if T == 2:
        cross[0, 1] = cross[1, 0] = rng.uniform(-1, 1)
    same = np.where(np.array(k) >= 2, rng.uniform(-1, 1, T), 0.0)
    return relax._Invariant(tuple(k), tuple(n), rng.uniform(0.5, 2, T), rng.uniform(-1, 1, T), same, cross)


@settings(max_examples=25)
@given(k1=hst.integers(1, 3), n1=hst.integers(2, 4), k2=hst.integers(1, 3), n2=hst.integers(2, 4),
       two_types=hst.booleans(), tau=taus, seed=hst.integers(0, 2**32 - 1))
def test_invariant_algebra_matches_the_expanded_matrix(k1, n1, k2, n2, two_types, tau, seed):
    rng = np.random.default_rng(seed)
    k, n = ((k1, k2), (n1, n2)) if two_types else ((max(k1, 2),), (n1,))
    point = _random_invariant(rng, k, n)
    G = point.expand()
    labels = relax._labels_for_types(k, n)[0]
    # closed-form spectrum with multiplicities == numpy eigenvalues
    closed = np.sort(np.concatenate([[v] * m for v, m in point.spectrum()]))
    assert np.allclose(closed, np.linalg.eigvalsh(G), atol=1e-10)
    # loss, gradient and inner product == the full-matrix versions
    assert point.loss(tau) == pytest.approx(float(sc_gram_loss(G, labels, tau)), rel=1e-12)
    A = point.gradient(tau)
    assert np.allclose(A.expand(), relax._sym_gradient(G, labels, tau), atol=1e-12)
    assert A.inner(point) == pytest.approx(float(np.sum(A.expand() * G)), rel=1e-12, abs=1e-12)
    # Fenchel-Young at the induced dual point: sum_i H(P_i) == L(G) - <A, G>
    masses = relax._masses_at(point, tau)
    assert relax._entropy_term(k, n, masses) == pytest.approx(point.loss(tau) - A.inner(point), rel=1e-10, abs=1e-10)


@settings(max_examples=15)
@given(k1=hst.integers(1, 3), n1=hst.integers(2, 4), k2=hst.integers(1, 3), n2=hst.integers(2, 4),
       seed=hst.integers(0, 2**32 - 1))
def test_invariant_truncation_rebuilds_the_matrix_from_its_spectrum(k1, n1, k2, n2, seed):
    rng = np.random.default_rng(seed)
    # a PSD invariant matrix: the group average of a random Gram matrix
    k, n = (k1, k2), (n1, n2)
    labels, types = relax._labels_for_types(k, n)
    H = random_unit_rows(rng, labels.size, 3)
    G = H @ H.T
    same_class = labels[:, None] == labels[None, :]
    off = ~np.eye(labels.size, dtype=bool)

    def average(mask):
        return float(G[mask].mean()) if mask.any() else 0.0

    within = np.array([average(same_class & off & (types[:, None] == s)) for s in range(2)])
    same = np.array([average(~same_class & (types[:, None] == s) & (types[None, :] == s)) for s in range(2)])
    cross = np.zeros((2, 2))
    cross[0, 1] = cross[1, 0] = average((types[:, None] == 0) & (types[None, :] == 1))
    point = relax._Invariant(k, n, np.ones(2), within, same, cross)
    assert min(v for v, _ in point.spectrum()) >= -1e-10  # the average of PSD matrices is PSD
    rebuilt = point.truncated(1e-300, "sphere")
    assert np.allclose(rebuilt.expand(), point.expand(), atol=1e-9)
    cut = point.truncated(0.5, "sphere")  # drops the small eigenvalues, keeps diag 1
    assert np.allclose(np.diag(cut.expand()), 1.0)
    assert min(v for v, _ in cut.spectrum()) >= -1e-10


@settings(max_examples=25)
@given(types=hst.lists(hst.tuples(hst.integers(1, 3), hst.integers(2, 4)), min_size=1, max_size=3)
       .filter(lambda ts: sum(k for k, _ in ts) >= 2),
       tau=taus, seed=hst.integers(0, 2**32 - 1))
def test_class_level_dual_bound_holds_for_any_dual_point(types, tau, seed):
    """Weak duality: any masses give a bound below the loss of every feasible G (1 to 3 types)."""
    rng = np.random.default_rng(seed)
    k, n = tuple(t[0] for t in types), tuple(t[1] for t in types)
    T = len(types)
    raw = rng.uniform(0.01, 1.0, (2 + T, T))
    cross = raw[2:] * (1.0 - np.eye(T))  # no mass on one's own type through "cross"
    masses = relax._RowMasses(raw[0], np.where(np.array(k) >= 2, raw[1], 0.0), cross)
    labels = relax._labels_for_types(k, n)[0]
    for constraint in ("sphere", "ball"):
        bound = relax._invariant_dual_bound(k, n, masses, tau, constraint)
        for d in (1, 2, labels.size):
            H = random_unit_rows(rng, labels.size, d)
            if constraint == "ball":
                H *= rng.uniform(0.0, 1.0, (labels.size, 1))
            assert bound <= float(sc_gram_loss(H @ H.T, labels, tau)) + 1e-9


@pytest.mark.parametrize("K,n,tau", [(3, 4, 0.5), (4, 3, 0.1), (2, 5, 2.0)])
def test_reduced_balanced_equals_full_sdp(K, n, tau):
    full = sc_relaxation(np.repeat(np.arange(K), n), tau)
    reduced = sc_relaxation_reduced(n_per_class=n, K=K, tau=tau)
    closed = balanced_closed_form(K * n, K, tau)
    for res in (full, reduced):
        assert res.lower_bound <= closed + 1e-9 and res.upper_bound >= closed - 1e-9
    assert reduced.value == pytest.approx(full.value, abs=1e-5)
    assert reduced.gap <= 1e-7
    geometry = reduced.geometry()
    assert geometry["within"] == pytest.approx(1.0, abs=1e-7)
    assert geometry["cos_between"] == pytest.approx(-1.0 / (K - 1), abs=1e-7)
    assert reduced.rank == full.rank == K - 1
    assert np.allclose(reduced.gram(), full.gram, atol=1e-3)


STEP_CASES = [
    (2, 4, 2, 2, 0.5),
    (1, 6, 3, 2, 0.3),  # a single majority class
    (2, 5, 1, 2, 1.0),  # a single minority class
    (3, 4, 3, 2, 0.1),
    (2, 6, 2, 3, 0.2),
]


@pytest.mark.parametrize("k1,n1,k2,n2,tau", STEP_CASES)
def test_reduced_step_equals_full_sdp(k1, n1, k2, n2, tau):
    step = sc_relaxation_step(k1, n1, k2, n2, tau)
    y = step.labels()
    assert y.size == step.N == k1 * n1 + k2 * n2
    full = sc_relaxation(y, tau)
    # each program's certified bracket must contain the other's optimum
    assert full.lower_bound <= step.upper_bound + 1e-9
    assert step.lower_bound <= full.upper_bound + 1e-9
    assert step.gap <= 1e-6 and full.gap <= 1e-6
    assert step.value == pytest.approx(full.value, abs=1e-5)
    # the invariant G* and the full G* describe the same geometry (solver tolerance,
    # flat directions at small tau: compare the group averages of full G*)
    G, types = full.gram, relax._labels_for_types((k1, k2), (n1, n2))[1]
    same_class = y[:, None] == y[None, :]
    off = ~np.eye(y.size, dtype=bool)
    for s in range(2):
        assert G[same_class & off & (types[:, None] == s)].mean() == pytest.approx(step.within[s], abs=1e-3)
        if (s, s) in step.between:
            block = ~same_class & (types[:, None] == s) & (types[None, :] == s)
            assert G[block].mean() == pytest.approx(step.between[(s, s)], abs=1e-3)
    cross = (types[:, None] == 0) & (types[None, :] == 1)
    assert G[cross].mean() == pytest.approx(step.between[(0, 1)], abs=1e-3)
    assert step.rank == full.rank


@pytest.mark.parametrize("class_sizes,tau,constraint", [
    ([4, 3, 3, 2], 0.5, "sphere"),
    ([2, 3, 4], 0.2, "sphere"),
    ([3, 2, 2, 4, 5], 1.0, "ball"),
])
def test_class_sizes_program_equals_full_sdp(class_sizes, tau, constraint):
    """Three or more distinct class sizes: the T x T type block is a matrix inequality."""
    red = sc_relaxation_class_sizes(class_sizes, tau, constraint=constraint)
    assert len(red.class_types) >= 3
    assert [n for _, n in red.class_types] == sorted(set(class_sizes), reverse=True)
    y = red.labels()
    assert sorted(np.bincount(y).tolist()) == sorted(class_sizes) and red.N == sum(class_sizes)
    full = sc_relaxation(y, tau, constraint=constraint)
    # each program's certified bracket must contain the other's optimum
    assert full.lower_bound <= red.upper_bound + 1e-9
    assert red.lower_bound <= full.upper_bound + 1e-9
    assert red.gap <= 1e-6 and full.gap <= 1e-6
    # the class-level entries are the orbit averages of the full G*
    G, types = full.gram, relax._labels_for_types(*zip(*red.class_types))[1]
    same_class = y[:, None] == y[None, :]
    off = ~np.eye(y.size, dtype=bool)
    for s_ in range(len(red.class_types)):
        rows = types[:, None] == s_
        assert G[same_class & off & rows].mean() == pytest.approx(red.within[s_], abs=1e-3)
        for t_ in range(len(red.class_types)):
            if (s_, t_) in red.between:
                block = rows & (types[None, :] == t_) & ~same_class
                assert G[block].mean() == pytest.approx(red.between[(s_, t_)], abs=1e-3)
    # weak duality against features in a few dimensions
    rng = np.random.default_rng(0)
    for d in (1, 3, y.size):
        H = random_unit_rows(rng, y.size, d)
        if constraint == "ball":
            H *= rng.uniform(0.0, 1.0, (y.size, 1))
        assert red.lower_bound <= float(ufm_sc_loss(H, y, tau)) + 1e-9
    geometry = red.geometry()
    assert geometry == red.type_geometry()
    assert [t["samples_per_class"] for t in geometry["types"]] == [n for _, n in red.class_types]
    assert all(-1.0 <= c <= 1.0 for c in geometry["cos"].values() if c is not None)


def test_class_sizes_program_with_one_or_two_sizes_is_the_balanced_or_step_program():
    one = sc_relaxation_class_sizes([5, 5, 5, 5], 0.3)
    assert one.class_types == ((4, 5),)
    assert one.lower_bound == pytest.approx(sc_relaxation_reduced(n_per_class=5, K=4, tau=0.3).lower_bound, abs=1e-6)
    two = sc_relaxation_class_sizes([2, 8, 2, 8, 2], 0.2)
    assert two.class_types == ((2, 8), (3, 2))
    assert two.lower_bound == pytest.approx(sc_relaxation_step(2, 8, 3, 2, 0.2).lower_bound, abs=1e-6)


@pytest.mark.parametrize("class_sizes,tau,match", [
    ("abc", 0.5, "class_sizes"),
    (5, 0.5, "class_sizes"),
    ([5], 0.5, "at least two class sizes"),
    ([3, 1], 0.5, r"class_sizes\[1\]"),
    ([3, 2.5], 0.5, r"class_sizes\[1\]"),
    ([3, 3], 0.0, "tau"),
])
def test_class_sizes_program_rejects_bad_input(class_sizes, tau, match):
    with pytest.raises((InvalidArgumentError, TypeError), match=match):
        sc_relaxation_class_sizes(class_sizes, tau)


def test_step_geometry_keys_and_ranges():
    step = sc_relaxation_step(2, 8, 3, 2, 0.2)
    g = step.geometry()
    assert g["ratio"] == 4.0
    for key in ("cos_majority_majority", "cos_minority_minority", "cos_majority_minority"):
        assert -1.0 <= g[key] <= 1.0
    assert 0.0 <= g["within_minority"] <= 1.0 + 1e-12 and 0.0 <= g["within_majority"] <= 1.0 + 1e-12
    # the majority is the type with more samples per class, whatever the argument order.
    # The loss is flat to second order along the class-mean angles (a certified gap of 1e-9
    # lets a cosine move by ~sqrt(1e-9) = 3e-5), so the solver's two answers agree to 1e-4.
    swapped = sc_relaxation_step(3, 2, 2, 8, 0.2)
    assert swapped.gap < 1e-7 and step.gap < 1e-7
    for key, value in g.items():
        assert swapped.geometry()[key] == pytest.approx(value, abs=1e-4)
    single = sc_relaxation_step(1, 8, 2, 2, 0.2).geometry()
    assert single["cos_majority_majority"] is None  # one majority class has no partner


def test_step_with_equal_class_sizes_is_the_balanced_program():
    step = sc_relaxation_step(2, 3, 3, 3, 0.4)
    balanced = sc_relaxation_reduced(n_per_class=3, K=5, tau=0.4)
    assert step.value == pytest.approx(balanced.value, abs=1e-6)
    assert step.lower_bound <= balanced.upper_bound + 1e-9
    assert balanced.lower_bound <= step.upper_bound + 1e-9
    for value in step.mean_cos.values():
        assert value == pytest.approx(-0.25, abs=1e-4)


def test_large_balanced_problem_is_certified_by_the_reduced_program():
    res = sc_relaxation_reduced(n_per_class=100, K=100, tau=0.1)
    closed = balanced_closed_form(10_000, 100, 0.1)
    assert res.N == 10_000
    assert res.lower_bound <= closed + 1e-9 and closed <= res.upper_bound + 1e-9
    assert res.gap <= 1e-6
    assert res.rank == 99
    assert sum(m for _, m in res.eigenvalues) == 10_000
    assert res.geometry()["cos_between"] == pytest.approx(-1.0 / 99, abs=1e-9)


@pytest.mark.parametrize("n,K,tau", [(3, 3, 0.5), (100, 100, 0.1), (7, 4, 2.0)])
def test_balanced_optimum_is_graf2021_minimum_with_one_full_batch(n, K, tau):
    """graf2021's SC minimum with the whole data set as the only batch (subset, b = N) and
    rho^2 = 1/tau is the full-batch UFM minimum."""
    from theorycheck.bounds import sc_minimum

    N = n * K
    graf = sc_minimum(N, K, N, 1.0 / math.sqrt(tau), "subset")
    res = sc_relaxation_reduced(n_per_class=n, K=K, tau=tau)
    assert graf.total == pytest.approx(balanced_closed_form(N, K, tau), rel=1e-12)
    assert res.lower_bound <= graf.total + 1e-9 and graf.total <= res.upper_bound + 1e-9
    assert res.gap <= 1e-6


def test_large_step_problem_is_certified():
    res = sc_relaxation_step(50, 150, 50, 50, 0.1)
    assert res.N == 10_000 and res.geometry()["ratio"] == 3.0
    assert res.gap <= 1e-4
    assert res.lower_bound <= res.value + 1e-6 * abs(res.value)
    # the minority classes are pulled together relative to the majority ones
    g = res.geometry()
    assert g["cos_minority_minority"] > g["cos_majority_majority"]


def test_reduced_ball_equals_sphere():
    sphere = sc_relaxation_step(2, 5, 2, 2, 0.5)
    ball = sc_relaxation_step(2, 5, 2, 2, 0.5, constraint="ball")
    assert ball.lower_bound <= sphere.upper_bound + 1e-9
    assert sphere.lower_bound <= ball.upper_bound + 1e-9
    assert all(v <= 1.0 + 1e-12 for v in ball.diag)


def test_reduced_scs_agrees_with_clarabel():
    a = sc_relaxation_step(2, 5, 2, 2, 0.5, solver="scs", eps=1e-8)
    b = sc_relaxation_step(2, 5, 2, 2, 0.5, solver="clarabel")
    assert a.value == pytest.approx(b.value, abs=1e-5)
    assert a.lower_bound <= b.upper_bound + 1e-9 and b.lower_bound <= a.upper_bound + 1e-9


# --------------------------------------------------------------------------------------
# failures


def test_iteration_limit_raises_with_a_fix():
    y = np.repeat(np.arange(3), 3)
    for solver in ("scs", "clarabel"):
        with pytest.raises(RelaxationError) as info:
            sc_relaxation(y, 0.5, solver=solver, max_iters=2)
        assert info.value.solver == solver
        assert info.value.status in ("optimal_inaccurate", "user_limit")
        assert "max_iters" in str(info.value) and "no value is reported" in str(info.value)
    with pytest.raises(RelaxationError):
        sc_relaxation_step(2, 4, 2, 2, 0.5, max_iters=1)


def test_unknown_solver_is_an_argument_error():
    with pytest.raises(InvalidArgumentError, match="`solver` of `sc_relaxation` must be one of 'scs', 'clarabel'"):
        sc_relaxation([0, 0, 1, 1], 1.0, solver="mosek")


def test_missing_solver_says_how_to_fix(monkeypatch):
    import cvxpy as cp

    monkeypatch.setattr(cp, "installed_solvers", lambda: ["SCS"])
    with pytest.raises(SolverUnavailableError, match="not installed.*solver='scs'") as info:
        sc_relaxation([0, 0, 1, 1], 1.0, solver="clarabel")
    assert isinstance(info.value, RelaxationError)
    with pytest.raises(SolverUnavailableError):
        sc_relaxation_reduced(n_per_class=3, K=3, tau=1.0, solver="clarabel")


def test_infeasible_program_raises():
    import cvxpy as cp

    x = cp.Variable()
    problem = cp.Problem(cp.Minimize(x), [x >= 1, x <= 0])
    for solver in ("scs", "clarabel"):
        with pytest.raises(RelaxationError, match="infeasible") as info:
            relax._solve_checked(problem, solver, 1e-7, None, False, "toy")
        assert info.value.status.startswith("infeasible")


def test_solver_exception_becomes_relaxation_error(monkeypatch):
    import cvxpy as cp

    def broken(self, *args, **kwargs):
        raise cp.error.SolverError("numerical trouble")

    monkeypatch.setattr(cp.Problem, "solve", broken)
    with pytest.raises(RelaxationError, match="numerical trouble") as info:
        sc_relaxation([0, 0, 1, 1], 1.0)
    assert info.value.status == "solver_error"


@pytest.mark.parametrize("status", ["optimal_inaccurate", "user_limit", "infeasible", "infeasible_inaccurate",
                                    "unbounded", "unbounded_inaccurate", "solver_error", None])
def test_every_non_optimal_status_raises(status):
    with pytest.raises(RelaxationError) as info:
        relax._raise_for_status(status, "scs", 1e-7, 10, "what")
    assert info.value.status == (None if status is None else status)
    relax._raise_for_status("optimal", "scs", 1e-7, 10, "what")  # no error


BAD_CALLS = [
    (lambda: sc_relaxation([0, 0, 1], 1.0), "y", "at least 2 samples"),
    (lambda: sc_relaxation([0, 0, 0], 1.0), "y", "at least 2 distinct classes"),
    (lambda: sc_relaxation([0.5, 0, 1, 1], 1.0), "y", "integer"),
    (lambda: sc_relaxation([[0, 0], [1, 1]], 1.0), "y", "1-D"),
    (lambda: sc_relaxation([0, 0, 1, 1], 0.0), "tau", "> 0"),
    (lambda: sc_relaxation([0, 0, 1, 1], -1.0), "tau", "> 0"),
    (lambda: sc_relaxation([0, 0, 1, 1], float("nan")), "tau", "finite"),
    (lambda: sc_relaxation([0, 0, 1, 1], "1"), "tau", "real number"),
    (lambda: sc_relaxation([0, 0, 1, 1], 1.0, constraint="cube"), "constraint", "'sphere', 'ball'"),
    (lambda: sc_relaxation([0, 0, 1, 1], 1.0, eps=0.0), "eps", "> 0"),
    (lambda: sc_relaxation([0, 0, 1, 1], 1.0, max_iters=0), "max_iters", ">= 1"),
    (lambda: sc_relaxation([0, 0, 1, 1], 1.0, verbose="yes"), "verbose", "True or False"),
    (lambda: sc_relaxation([0, 0, 1, 1], 1.0, rank_tol=1.5), "rank_tol", "< 1"),
    (lambda: sc_gram_loss(np.eye(3), [0, 0, 1, 1], 1.0), "G", "shape (4, 4)"),
    (lambda: sc_gram_loss(np.full((4, 4), np.nan), [0, 0, 1, 1], 1.0), "G", "finite"),
    (lambda: ufm_sc_loss(np.ones((3, 2)), [0, 0, 1, 1], 1.0), "y", "length 3"),
    (lambda: ufm_sc_loss(np.ones(4), [0, 0, 1, 1], 1.0), "H", "2-dimensional"),
    (lambda: sc_gram_loss_expr(np.eye(3), [0, 0, 1, 1], 1.0), "G", "shape (4, 4)"),
    (lambda: gram_lower_bound(np.eye(4), [0, 0, 1, 1], 1.0, multipliers=np.ones(3)), "multipliers", "shape (4)"),
    (lambda: recover_features(np.eye(3), 0), "d", ">= 1"),
    (lambda: recover_features(np.ones((3, 2)), 1), "G", "square"),
    (lambda: recover_features(np.eye(3), 2, constraint="box"), "constraint", "'sphere', 'ball'"),
    (lambda: sc_relaxation_reduced(n_per_class=1, K=3, tau=1.0), "n_per_class", ">= 2"),
    (lambda: sc_relaxation_reduced(n_per_class=3, K=1, tau=1.0), "K", ">= 2"),
    (lambda: sc_relaxation_reduced(n_per_class=3, K=2.5, tau=1.0), "K", "integer"),
    (lambda: sc_relaxation_step(0, 3, 2, 2, 1.0), "k1", ">= 1"),
    (lambda: sc_relaxation_step(2, 3, 2, 1, 1.0), "n2", ">= 2"),
    (lambda: sc_relaxation_step(2, 3, 2, 2, 0.0), "tau", "> 0"),
]


@pytest.mark.parametrize("call,param,fragment", BAD_CALLS)
def test_bad_arguments_raise_clear_errors(call, param, fragment):
    with pytest.raises(InvalidArgumentError) as info:
        call()
    message = str(info.value)
    assert message.startswith(f"`{param}` of `")
    assert fragment in message


def test_type_errors_are_also_type_errors():
    with pytest.raises(TypeError):
        sc_relaxation([0, 0, 1, 1], None)
    with pytest.raises(InvalidArgumentTypeError):
        sc_relaxation_reduced(n_per_class="3", K=3, tau=1.0)


# --------------------------------------------------------------------------------------
# surface


def test_public_surface_and_reprs(balanced_result):
    for name in relax.__all__:
        assert hasattr(relax, name)
    assert isinstance(balanced_result, RelaxationResult)
    text = repr(balanced_result)
    assert text.startswith("RelaxationResult(N=12, tau=0.5, constraint='sphere', solver='clarabel'")
    assert "rank=3" in text and "status='optimal'" in text
    reduced = sc_relaxation_reduced(n_per_class=3, K=3, tau=1.0)
    assert isinstance(reduced, ReducedRelaxationResult)
    assert repr(reduced).startswith("ReducedRelaxationResult(class_types=((3, 3),), tau=1.0")


def test_docstring_examples_run():
    failures, tried = doctest.testmod(relax, optionflags=doctest.ELLIPSIS)
    assert tried >= 5 and failures == 0
