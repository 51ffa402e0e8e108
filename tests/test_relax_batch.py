"""Tests for theorycheck.relax.batch_sc_relaxation: graf2021's batch-summed SC loss.

Independent references: the exact batch enumeration of :func:`theorycheck.losses.sc_loss`
(features, not Gram entries), a full unreduced SDP written here over every batch of the
batch set (itertools, no symmetry), graf2021's closed-form minimum
(:func:`theorycheck.bounds.sc_minimum`), and random feasible configurations (weak duality).
"""

from __future__ import annotations

import dataclasses
import doctest
import itertools
from collections import Counter

import numpy as np
import pytest

import theorycheck.relax as relax
from theorycheck._validation import InvalidArgumentError
from theorycheck.bounds import sc_minimum, sc_minimum_exact_counts
from theorycheck.geometry import regular_simplex
from theorycheck.losses import sc_loss
from theorycheck.relax import (
    BatchRelaxationResult,
    BatchSCCertificate,
    batch_sc_relaxation,
    check_batch_sc_certificate,
)

BATCH_SETS = ("multiset", "subset", "ordered")
#: class-size profiles with N <= 12: balanced, STEP, three sizes, one class alone in its size
PROFILES = ([4, 4, 4], [4, 4, 2, 2], [5, 4, 3], [6, 2, 2, 2])


def _labels(class_sizes):
    return np.repeat(np.arange(len(class_sizes)), class_sizes)


def _features(G, rho):
    """Rows Z with Z Z^T = G (PSD), every row of norm rho."""
    vals, vecs = np.linalg.eigh(G)
    Z = vecs * np.sqrt(np.maximum(vals, 0.0))
    return rho * Z / np.linalg.norm(Z, axis=1, keepdims=True)


def _sorted_sizes(class_sizes):
    """Class sizes in the order batch_sc_relaxation numbers the classes (decreasing)."""
    return sorted(class_sizes, reverse=True)


# --------------------------------------------------------------------------------------
# the reduced loss and its weights


@pytest.mark.parametrize("batches", BATCH_SETS)
@pytest.mark.parametrize("class_sizes,b", [([4, 4, 4], 3), ([4, 4, 2, 2], 4), ([5, 4, 3], 5), ([3, 2], 5)])
def test_configuration_weights_count_every_anchor_once(class_sizes, b, batches):
    k = [class_sizes.count(v) for v in sorted(set(class_sizes), reverse=True)]
    n = sorted(set(class_sizes), reverse=True)
    rows = relax._batch_rows(k, n, b, batches)
    # every batch has b anchor positions: the weights (per batch) sum to b
    assert rows.weight.sum() + rows.weight_dropped == pytest.approx(b, rel=1e-12)
    assert np.all(rows.counts.sum(axis=1) == b - 1)
    if batches == "subset":
        assert np.all(rows.counts[:, 0] == 0)


@pytest.mark.parametrize("batches", BATCH_SETS)
@pytest.mark.parametrize("class_sizes,b", [([3, 3, 2], 3), ([2, 2, 2, 2], 4), ([4, 2], 3)])
def test_reduced_loss_equals_exact_enumeration_of_the_batches(class_sizes, b, batches):
    rng = np.random.default_rng(sum(class_sizes) * 10 + b)
    sizes = _sorted_sizes(class_sizes)
    types = [(sizes.count(v), v) for v in sorted(set(sizes), reverse=True)]
    k, n = [t[0] for t in types], [t[1] for t in types]
    T = len(types)
    rows = relax._batch_rows(k, n, b, batches)
    rho = 1.3
    for _ in range(3):
        # a random invariant point inside the elliptope: a strict convex combination of I
        # and an invariant PSD matrix (the group average of a random Gram matrix)
        within = rng.uniform(-0.2, 0.9, T)
        same = np.where(np.array(k) >= 2, rng.uniform(-0.3, 0.3, T), 0.0)
        cross = rng.uniform(-0.3, 0.3, (T, T))
        cross = 0.5 * (cross + cross.T)
        np.fill_diagonal(cross, 0.0)
        point = relax._Invariant(tuple(k), tuple(n), np.ones(T), within, same, cross)
        point = relax._repair_invariant(point, "sphere")
        G = point.expand()
        Z = _features(G, rho)
        exact = sc_loss(Z, _labels(sizes), b, batches, method="exact")
        assert relax._batch_loss(rows, point, rho**2) == pytest.approx(exact.mean, rel=1e-11, abs=1e-12)


# --------------------------------------------------------------------------------------
# the full (unreduced) SDP over every batch


def _full_sdp(class_sizes, b, batches, rho):
    """min over G PSD, diag G = 1 of the mean per batch of sum_anchors [LSE - mean positives] with
    logits rho^2 G, the batches enumerated literally (cvxpy, Clarabel)."""
    import cvxpy as cp

    y = _labels(class_sizes)
    N = len(y)
    if batches == "subset":
        source = itertools.combinations(range(N), b)
    elif batches == "multiset":
        source = itertools.combinations_with_replacement(range(N), b)
    else:
        source = itertools.product(range(N), repeat=b)
    terms = Counter()  # (anchor, sorted indices at the other positions) -> number of (batch, position)
    n_batches = 0
    for batch in source:
        n_batches += 1
        for p, i in enumerate(batch):
            others = tuple(sorted(batch[:p] + batch[p + 1:]))
            if any(y[j] == y[i] for j in others):
                terms[(i, others)] += 1
    import scipy.sparse as sp

    # one log-sum-exp per (anchor, others): t_r >= LSE_j beta G[i, j], written as
    # sum_j exp(beta G[i, j] - t_r) <= 1 (vectorised: cvxpy compiles one cone block)
    rows, cols, attract, weight = [], [], np.zeros(N * N), []
    for r, ((i, others), count) in enumerate(terms.items()):
        w = count / n_batches
        weight.append(w)
        positives = [j for j in others if y[j] == y[i]]
        for j in others:
            rows.append(r)
            cols.append(i + j * N)  # column-major vec
        for j in positives:
            attract[i + j * N] += w / len(positives)
    R, J = len(weight), len(rows)
    select = sp.csr_matrix((np.ones(J), (np.arange(J), cols)), shape=(J, N * N))
    member = sp.csr_matrix((np.ones(J), (rows, np.arange(J))), shape=(R, J))
    G = cp.Variable((N, N), PSD=True)
    t = cp.Variable(R)
    beta = rho**2
    g = cp.vec(G, order="F")
    objective = np.array(weight) @ t - beta * attract @ g
    constraints = [cp.diag(G) == 1, member @ cp.exp(beta * (select @ g) - member.T @ t) <= 1]
    problem = cp.Problem(cp.Minimize(objective), constraints)
    problem.solve(solver="CLARABEL")
    # collapsed optima sit on the boundary of the PSD cone, where Clarabel may stop at
    # 'optimal_inaccurate': the caller also checks the exact loss at the (repaired) point
    assert problem.status in ("optimal", "optimal_inaccurate")
    return float(problem.value), G.value


@pytest.mark.filterwarnings("ignore:Solution may be inaccurate")  # checked below by exact evaluation
@pytest.mark.parametrize("batches", BATCH_SETS)
@pytest.mark.parametrize("class_sizes", PROFILES)
def test_reduced_program_equals_the_full_sdp(class_sizes, batches):
    b, rho = 3, 1.2
    res = batch_sc_relaxation(class_sizes, b, batches, rho)
    full, G = _full_sdp(_sorted_sizes(class_sizes), b, batches, rho)
    tol = 1e-6 * max(1.0, abs(full))  # the full program's solver tolerance
    # the full solver's point, made exactly feasible, has a loss no lower than the certified
    # bound (weak duality, exact) and close to it (the same optimum)
    y = _labels(_sorted_sizes(class_sizes))
    vals, vecs = np.linalg.eigh(0.5 * (G + G.T))
    G_feasible = (vecs * np.maximum(vals, 0.0)) @ vecs.T
    at_full = sc_loss(_features(G_feasible, rho), y, b, batches, method="exact").mean
    assert res.lower_bound <= at_full
    assert at_full - res.lower_bound <= 1e-5 * max(1.0, abs(at_full))
    # the solver optima agree within the certified gap plus the full solve's tolerance
    assert abs(full - res.lower_bound) <= res.gap + tol
    assert res.gap <= 1e-6 * max(1.0, abs(res.lower_bound))
    assert check_batch_sc_certificate(res.certificate)["valid"]


# --------------------------------------------------------------------------------------
# the certificate and its standalone re-check


@pytest.mark.parametrize("batches", BATCH_SETS)
@pytest.mark.parametrize("class_sizes", [[3, 3, 3], [4, 4, 2, 2], [4, 3, 2]])
def test_certified_bound_is_below_every_sphere_configuration(class_sizes, batches):
    rho, b = 1.5, 3
    res = batch_sc_relaxation(class_sizes, b, batches, rho)
    y = _labels(_sorted_sizes(class_sizes))
    rng = np.random.default_rng(len(y) + b)
    # weak duality with the bound the solver-free re-check computes from the dual variables
    check = check_batch_sc_certificate(res.certificate)
    assert check["valid"]
    for h in (1, 2, 5):
        Z = rng.standard_normal((len(y), h))
        Z = rho * Z / np.linalg.norm(Z, axis=1, keepdims=True)
        assert sc_loss(Z, y, b, batches, method="exact").mean >= check["bound"]
    # the optimum itself is attained by features of dimension rank(G*)
    Z = _features(res.gram(), rho)
    assert sc_loss(Z, y, b, batches, method="exact").mean == pytest.approx(res.upper_bound, rel=1e-9)


def test_recheck_accepts_the_certificate_and_rejects_tampering():
    res = batch_sc_relaxation([6, 6, 3, 3], 4, "multiset", 1.0)
    cert = res.certificate
    ok = check_batch_sc_certificate(cert)
    assert ok["valid"] and ok["masses_ok"] and ok["rows_match"]
    assert ok["bound"] == pytest.approx(res.lower_bound, rel=1e-12)
    assert ok["min_eigenvalue"] >= 0
    # a larger diagonal breaks A - diag(d) PSD
    bigger = dataclasses.replace(cert, diagonal=cert.diagonal + 1e-3, lower_bound=cert.lower_bound + 1e-3 * 18)
    assert not check_batch_sc_certificate(bigger)["valid"]
    # masses that are not probability vectors are rejected
    bad = cert.masses.copy()
    bad[0] *= 2
    assert not check_batch_sc_certificate(dataclasses.replace(cert, masses=bad))["valid"]
    # a claimed bound above what the dual variables give is rejected
    assert not check_batch_sc_certificate(dataclasses.replace(cert, lower_bound=cert.lower_bound + 1e-6))["valid"]
    # other masses give another (valid, lower) bound: re-normalised softmax of a perturbed point
    rng = np.random.default_rng(0)
    noisy = cert.masses * np.exp(0.1 * rng.standard_normal(cert.masses.shape))
    noisy = noisy / noisy.sum(axis=1, keepdims=True)
    bound, d, masses = relax._batch_dual_bound(relax._batch_rows([2, 2], [6, 3], 4, "multiset"), noisy, 1.0)
    other = check_batch_sc_certificate(dataclasses.replace(cert, masses=masses, diagonal=d, lower_bound=bound))
    assert other["valid"] and bound <= res.lower_bound
    with pytest.raises(InvalidArgumentError, match="certificate"):
        check_batch_sc_certificate("not a certificate")


# --------------------------------------------------------------------------------------
# balanced: the closed form (graf2021.sc.minimum)


@pytest.mark.parametrize("batches", BATCH_SETS)
@pytest.mark.parametrize("K", range(3, 11))
def test_balanced_bound_is_the_closed_form(K, batches):
    n, b, rho = 3, 4, 1.0
    res = batch_sc_relaxation([n] * K, b, batches, rho)
    closed = sc_minimum(n * K, K, b, rho, batches)
    assert res.lower_bound <= closed.mean_per_batch <= res.upper_bound + 1e-12
    assert closed.mean_per_batch - res.lower_bound <= max(res.gap, 0.0) + 1e-13
    assert res.gap <= 1e-10 * max(1.0, closed.mean_per_batch)
    assert res.geometry()["within"] == pytest.approx(1.0, abs=1e-9)
    assert res.geometry()["cos_between"] == pytest.approx(-1.0 / (K - 1), abs=1e-9)
    assert res.rank == K - 1
    assert res.log_n_batches == pytest.approx(closed.log_n_batches, rel=1e-12)


@pytest.mark.parametrize("batches", BATCH_SETS)
def test_large_balanced_problem_is_certified_quickly(batches):
    res = batch_sc_relaxation([100] * 100, 32, batches, 1.0)
    # the closed form with exact counts (mpmath): the float one is itself off by ~1e-11 here
    exact = sc_minimum_exact_counts(10_000, 100, 32, 1.0, batches)
    closed = float(exact.mean_per_batch)
    assert res.lower_bound <= closed <= res.lower_bound + res.gap + 1e-12
    assert res.gap <= 1e-10 * closed
    assert check_batch_sc_certificate(res.certificate)["valid"]


@pytest.mark.parametrize("rho", [0.5, 2.0, 3.0])
def test_balanced_bound_follows_rho(rho):
    res = batch_sc_relaxation([5] * 4, 5, "multiset", rho)
    closed = sc_minimum(20, 4, 5, rho, "multiset").mean_per_batch
    assert abs(res.lower_bound - closed) <= res.gap + 1e-12


# --------------------------------------------------------------------------------------
# beyond the theorem: b = 2 and class imbalance


@pytest.mark.parametrize("batches", BATCH_SETS)
def test_two_sample_batches_have_a_constant_loss(batches):
    # at b = 2 an anchor's only other entry is its positive (term 0) or it has none (dropped)
    res = batch_sc_relaxation([3, 3, 3], 2, batches, 1.0)
    assert abs(res.lower_bound) <= 1e-12 and abs(res.upper_bound) <= 1e-12
    y = _labels([3, 3, 3])
    Z = np.random.default_rng(1).standard_normal((9, 4))
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    assert sc_loss(Z, y, 2, batches, method="exact").mean == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("batches", BATCH_SETS)
def test_imbalanced_optimum_beats_the_collapsed_simplex(batches):
    sizes = [6, 6, 2, 2]
    rho, b = 1.0, 3
    res = batch_sc_relaxation(sizes, b, batches, rho)
    y = _labels(sizes)
    simplex = sc_loss(regular_simplex(4, 3, rho)[y], y, b, batches, method="exact").mean
    assert res.lower_bound < simplex - 1e-4  # the simplex is not optimal under imbalance
    geo = res.geometry()
    assert geo["ratio"] == 3.0
    assert geo["within_majority"] == pytest.approx(1.0, abs=1e-6)
    assert geo["within_minority"] == pytest.approx(1.0, abs=1e-6)
    # minority classes are pulled together relative to the simplex angle -1/3
    assert geo["cos_minority_minority"] > -1.0 / 3.0


def test_three_size_profile_geometry_and_certificate():
    res = batch_sc_relaxation([40, 40, 20, 10, 10], 6, "multiset", 1.0)
    geo = res.type_geometry()
    assert [t["samples_per_class"] for t in geo["types"]] == [40, 20, 10]
    assert set(geo["cos"]) == {(0, 0), (0, 1), (0, 2), (1, 2), (2, 2)}
    assert res.gap <= 1e-8 * res.lower_bound
    assert check_batch_sc_certificate(res.certificate)["valid"]


@pytest.mark.parametrize("b", [3, 8])
def test_three_sizes_at_large_n_stay_tight(b):
    # the dual matrix has entries ~ weight / N^2: without rescaling, the type-block program
    # met its absolute tolerance with a gap of 1e-2 at N = 10^4
    m = 526
    res = batch_sc_relaxation([4 * m] * 2 + [2 * m] * 3 + [m] * 5, b, "multiset", 1.0)
    assert res.gap <= 1e-8 * res.lower_bound
    assert check_batch_sc_certificate(res.certificate)["valid"]


# --------------------------------------------------------------------------------------
# errors and surface


@pytest.mark.parametrize("kwargs,param", [
    ({"class_sizes": [3], "b": 3}, "class_sizes"),
    ({"class_sizes": "33", "b": 3}, "class_sizes"),
    ({"class_sizes": [3, 1], "b": 3}, "class_sizes[1]"),
    ({"class_sizes": [3, 3], "b": 1}, "b"),
    ({"class_sizes": [3, 3], "b": 7, "batches": "subset"}, "b"),
    ({"class_sizes": [3, 3], "b": 3, "batches": "sets"}, "batches"),
    ({"class_sizes": [3, 3], "b": 3, "rho": 0.0}, "rho"),
    ({"class_sizes": [3, 4, 5, 6, 7], "b": 200}, "b"),
])
def test_bad_arguments_name_the_argument(kwargs, param):
    with pytest.raises(InvalidArgumentError, match=param.replace("[", r"\[").replace("]", r"\]")):
        batch_sc_relaxation(**kwargs)


def test_public_surface_and_repr():
    assert {"batch_sc_relaxation", "check_batch_sc_certificate", "BatchRelaxationResult",
            "BatchSCCertificate"} <= set(relax.__all__)
    res = batch_sc_relaxation([3, 3], 3)
    assert isinstance(res, BatchRelaxationResult) and isinstance(res.certificate, BatchSCCertificate)
    assert "lower_bound" in repr(res) and "rows=" in repr(res.certificate)
    assert res.N == 6 and list(res.labels()) == [0, 0, 0, 1, 1, 1]
    assert res.gram().shape == (6, 6) and np.allclose(np.diag(res.gram()), 1.0)


def test_class_gram_is_the_gram_matrix_between_classes():
    res = batch_sc_relaxation([5, 5, 3, 2, 2], 4, "ordered", 1.3)
    G, y = res.gram(), res.labels()
    C = res.class_gram()
    K = len(set(y.tolist()))
    first = [int(np.flatnonzero(y == c)[0]) for c in range(K)]
    second = [int(np.flatnonzero(y == c)[1]) for c in range(K)]
    assert C.shape == (K, K)
    assert np.allclose(C, G[np.ix_(first, second)], rtol=0, atol=1e-15)
    assert np.allclose(np.diag(C), 1.3**2, atol=1e-9)  # every class collapses here


def test_docstring_example_runs():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for fn in (relax.batch_sc_relaxation, relax.batch_sc_simplex_value):
        for test in finder.find(fn, fn.__name__, globs=vars(relax)):
            runner.run(test)
    assert runner.failures == 0


@pytest.mark.parametrize("batches", BATCH_SETS)
def test_simplex_value_is_the_closed_form_and_the_enumerated_loss(batches):
    from theorycheck.relax import batch_sc_simplex_value

    assert batch_sc_simplex_value([5] * 4, 6, batches, 1.3) == pytest.approx(
        sc_minimum(20, 4, 6, 1.3, batches).mean_per_batch, rel=1e-12)
    sizes = [4, 2, 2]
    y = _labels(sizes)
    exact = sc_loss(regular_simplex(3, 2, 0.8)[y], y, 4, batches, method="exact").mean
    assert batch_sc_simplex_value(sizes, 4, batches, 0.8) == pytest.approx(exact, rel=1e-11)
    with pytest.raises(InvalidArgumentError, match="rho"):
        batch_sc_simplex_value(sizes, 4, batches, -1.0)
