"""Tests of theorycheck.bounds against independent computations.

Independent references used here: a brute-force enumeration of every batch with the
per-batch SC loss written out from its definition, exact big-integer counts
(``math.comb``), scipy.stats count distributions, mpmath evaluation of the equations,
and the cross-entropy evaluated at a collapsed aligned simplex.
"""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
import scipy.stats
import torch
from hypothesis import given, settings
from hypothesis import strategies as hs

from theorycheck import InvalidArgumentError, InvalidArgumentTypeError
from theorycheck.bounds import (
    BATCH_SETS,
    ce_l2_lower_bound,
    ce_l2_minimiser,
    ce_lower_bound,
    r_w_literal,
    sc_minimum,
    sc_minimum_exact_counts,
)
from theorycheck.geometry import regular_simplex

REFERENCE_MULTISET_6_3_9 = 25205.688636803963  # THEORY.md section 3

# --------------------------------------------------------------------------- SC minimum


def _batches(N: int, b: int, batches: str):
    if batches == "multiset":
        return itertools.combinations_with_replacement(range(N), b)
    if batches == "subset":
        return itertools.combinations(range(N), b)
    return itertools.product(range(N), repeat=b)


def _batch_loss(G: list, y: list, batch: tuple) -> float:
    """l(Z; B) of THEORY.md section 3, term by term (positions distinct even if indices repeat).

    -1/|P| sum_{j in P} log(e^{G_ij} / sum_{k != i} e^{G_ik}) is written as
    log(sum_{k != i} e^{G_ik}) - mean_{j in P} G_ij; G is a nested list for speed.
    """
    total = 0.0
    for p, i in enumerate(batch):
        row = G[i]
        positives = [row[j] for q, j in enumerate(batch) if q != p and y[j] == y[i]]
        if not positives:
            continue
        denominator = math.fsum(math.exp(row[k]) for q, k in enumerate(batch) if q != p)
        total += math.log(denominator) - math.fsum(positives) / len(positives)
    return total


def _brute_force_total(N: int, K: int, b: int, rho: float, batches: str) -> float:
    y = np.arange(N) % K  # balanced
    Z = regular_simplex(K, K, rho)[y]  # collapsed onto the rho-simplex
    G = (Z @ Z.T).tolist()
    labels = y.tolist()
    return math.fsum(_batch_loss(G, labels, batch) for batch in _batches(N, b, batches))


SMALL_CASES = [
    (N, K, b, batches)
    for N in range(2, 10)
    for K in range(2, N + 1)
    if N % K == 0
    for b in range(2, 6)
    for batches in BATCH_SETS
    if not (batches == "subset" and b > N)
]


def test_small_cases_cover_every_batch_set():
    assert {case[3] for case in SMALL_CASES} == set(BATCH_SETS)
    assert len(SMALL_CASES) > 100


@pytest.mark.parametrize("batches", BATCH_SETS)
def test_closed_form_equals_brute_force_on_all_small_cases(batches):
    """Every (N <= 9, K | N, b <= 5) case, at rho = 1 and at one odd radius."""
    for N, K, b, bs in SMALL_CASES:
        if bs != batches:
            continue
        rho = 1.0 if (N + b) % 2 else 0.7
        expected = _brute_force_total(N, K, b, rho, batches)
        got = sc_minimum(N, K, b, rho, batches)
        assert got.total == pytest.approx(expected, rel=1e-12, abs=1e-12), (N, K, b, rho, batches)
        n_batches = sum(1 for _ in _batches(N, b, batches))
        assert got.log_n_batches == pytest.approx(math.log(n_batches), rel=1e-14)
        assert got.mean_per_batch == pytest.approx(expected / n_batches, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("batches", BATCH_SETS)
def test_closed_form_matches_theorycheck_losses_sc_loss(batches):
    from theorycheck.losses import sc_loss

    for N, K, b in [(6, 3, 4), (8, 2, 5), (9, 3, 3)]:
        y = np.arange(N) % K
        Z = regular_simplex(K, K + 1, 1.3)[y]
        result = sc_loss(Z, y, b, batches, method="exact")
        assert sc_minimum(N, K, b, 1.3, batches).total == pytest.approx(float(result.value), rel=1e-12)


def test_reference_value_multiset():
    got = sc_minimum(6, 3, 9, 1.0, "multiset")
    exact = sc_minimum_exact_counts(6, 3, 9, 1.0, "multiset")
    # The published reference is a float64 result one ulp above the exact value.
    assert abs(got.total - REFERENCE_MULTISET_6_3_9) <= 2 * np.spacing(REFERENCE_MULTISET_6_3_9)
    assert abs(float(exact.total) - REFERENCE_MULTISET_6_3_9) <= 2 * np.spacing(REFERENCE_MULTISET_6_3_9)
    assert got.total == float(exact.total) or abs(got.total - float(exact.total)) <= np.spacing(got.total)


def test_reference_value_by_brute_force():
    assert _brute_force_total(6, 3, 9, 1.0, "multiset") == pytest.approx(REFERENCE_MULTISET_6_3_9, rel=1e-13)


def _count_distribution(N: int, K: int, b: int, batches: str):
    n = N // K
    if batches == "multiset":  # uniform multiset: beta-binomial(b, n, N-n)
        return scipy.stats.betabinom(b, n, N - n)
    if batches == "subset":
        return scipy.stats.hypergeom(N, n, b)
    return scipy.stats.binom(b, 1.0 / K)


def _mean_formula(N: int, K: int, b: int, rho: float, batches: str) -> float:
    """K E[l log(l - 1 + (b - l) e^{-rho^2 K/(K-1)})], from scipy's count distribution."""
    dist = _count_distribution(N, K, b, batches)
    decay = math.exp(-rho * rho * K / (K - 1))
    # log(l-1) + log1p(...): log(1 + tiny) would round the l = 2 term away at large rho
    return K * math.fsum(
        l * (math.log(l - 1) + math.log1p((b - l) * decay / (l - 1))) * float(dist.pmf(l)) for l in range(2, b + 1)
    )


@settings(max_examples=60, deadline=None)
@given(
    K=hs.integers(2, 30),
    n=hs.integers(1, 40),
    b=hs.integers(2, 60),
    rho=hs.floats(0.05, 5.0),
    batches=hs.sampled_from(BATCH_SETS),
)
def test_mean_per_batch_is_K_times_expectation_over_label_count(K, n, b, rho, batches):
    N = K * n
    if batches == "subset":
        b = min(b, N)
    got = sc_minimum(N, K, b, rho, batches)
    expected = _mean_formula(N, K, b, rho, batches)
    assert got.mean_per_batch == pytest.approx(expected, rel=1e-9, abs=1e-300)


@settings(max_examples=40, deadline=None)
@given(
    K=hs.integers(2, 50),
    n=hs.integers(1, 200),
    b=hs.integers(2, 300),
    rho=hs.floats(0.05, 30.0),
    batches=hs.sampled_from(BATCH_SETS),
)
def test_log_space_path_matches_exact_integer_counts(K, n, b, rho, batches):
    N = K * n
    if batches == "subset":
        b = min(b, N)
    got = sc_minimum(N, K, b, rho, batches)
    exact = sc_minimum_exact_counts(N, K, b, rho, batches)
    assert got.log_n_batches == pytest.approx(float(mpmath.log(exact.n_batches)), rel=4e-15, abs=1e-14)
    if float(exact.mean_per_batch) > 1e-290:  # away from float64 underflow
        assert got.mean_per_batch == pytest.approx(float(exact.mean_per_batch), rel=1e-13)
    if exact.total > 0:
        assert got.log_total == pytest.approx(float(exact.log_total), rel=4e-15, abs=1e-13)
    decomposition = got.decomposition
    for l, log_M in zip(decomposition.l, decomposition.log_M):
        M = exact.counts[int(l)]
        if M == 0:
            assert log_M == -math.inf
        else:
            assert log_M == pytest.approx(float(mpmath.log(M)), rel=1e-13, abs=1e-12)


@pytest.mark.parametrize("batches", BATCH_SETS)
def test_large_case_is_finite_exact_and_consistent(batches):
    N, K, b, rho = 50_000, 100, 256, 1.0
    got = sc_minimum(N, K, b, rho, batches)
    assert math.isfinite(got.mean_per_batch) and got.mean_per_batch > 0
    assert math.isfinite(got.log_total) and got.log_total > 1000  # ~10^700 batches
    assert got.total is None  # does not fit in float64
    # the mean per batch is K E[l t_l] (scipy's distributions) ...
    assert got.mean_per_batch == pytest.approx(_mean_formula(N, K, b, rho, batches), rel=1e-9)
    # ... and log_total = log(#batches) + log(mean)
    assert got.log_total == pytest.approx(got.log_n_batches + math.log(got.mean_per_batch), rel=1e-14)
    # exact to float precision against exact integer counts
    exact = sc_minimum_exact_counts(N, K, b, rho, batches)
    assert abs(got.mean_per_batch - float(exact.mean_per_batch)) <= 4 * np.spacing(got.mean_per_batch)
    assert abs(got.log_total - float(exact.log_total)) <= 4 * np.spacing(got.log_total)


def test_decomposition_adds_up():
    got = sc_minimum(60, 4, 12, 0.8, "multiset")
    d = got.decomposition
    assert d.l.tolist() == list(range(2, 13))
    assert math.fsum(d.mean_contribution) == pytest.approx(got.mean_per_batch, rel=1e-14)
    assert float(np.logaddexp.reduce(d.log_contribution)) == pytest.approx(got.log_total, rel=1e-14)
    decay = math.exp(-0.8**2 * 4 / 3)
    assert d.per_anchor.tolist() == pytest.approx([math.log(l - 1 + (12 - l) * decay) for l in range(2, 13)],
                                                  rel=1e-14)
    np.testing.assert_allclose(np.exp(d.log_contribution - got.log_total),
                               d.mean_contribution / got.mean_per_batch, rtol=1e-12)


def test_subset_impossible_counts_have_zero_weight():
    got = sc_minimum(9, 3, 6, 1.0, "subset")  # n = 3: a class appears at most 3 times
    log_M = dict(zip(got.decomposition.l.tolist(), got.decomposition.log_M.tolist()))
    assert log_M[4] == log_M[5] == log_M[6] == -math.inf
    assert math.isfinite(log_M[3])


def test_batch_size_two_gives_zero():
    # one positive and no negative: -log(e^s / e^s) = 0 for every anchor
    for batches in BATCH_SETS:
        got = sc_minimum(6, 3, 2, 1.0, batches)
        assert got.total == 0.0 and got.mean_per_batch == 0.0 and got.log_total == -math.inf


def test_large_radius_keeps_tiny_terms_in_log_space():
    # n = 2 per class and subsets: only l <= 2, whose term log1p((b-2) e^{-x}) underflows at rho = 100
    got = sc_minimum(20, 10, 5, 100.0, "subset")
    x = 100.0**2 * 10 / 9
    assert got.mean_per_batch == 0.0  # the true value ~ e^{-11111} is below float64's range
    log_M2 = math.log(10 * math.comb(2, 2) * math.comb(18, 3))
    assert got.log_total == pytest.approx(math.log(2) + log_M2 + math.log(3) - x, rel=1e-14)
    assert got.total == 0.0


def test_sc_minimum_is_fast_enough_to_call_in_loops():
    # not a timing assertion: just that the big case needs no enumeration (O(b) arrays)
    got = sc_minimum(50_000, 100, 256, 1.0, "ordered")
    assert got.decomposition.l.shape == (255,)


def test_repr_rebuilds_the_call():
    got = sc_minimum(6, 3, 9, 1.0, "multiset")
    assert repr(got) == "sc_minimum(N=6, K=3, b=9, rho=1.0, batches='multiset')"
    rebuilt = eval(repr(got), {"sc_minimum": sc_minimum})  # noqa: S307 - the documented contract
    assert rebuilt.total == got.total
    assert "25205.68863680396" in str(got)


# --------------------------------------------------------------------------- cross-entropy


def _ce_at_aligned_simplex(K: int, rho: float, scale: float) -> float:
    """Mean CE with z_n = zeta_{y_n} on the rho-simplex and w_k = scale * zeta_k."""
    zeta = regular_simplex(K, K - 1, rho)
    y = np.repeat(np.arange(K), 2)
    Z, W = zeta[y], scale * zeta
    logits = Z @ W.T
    return float(np.mean(scipy.special.logsumexp(logits, axis=1) - logits[np.arange(len(y)), y]))


@settings(max_examples=40, deadline=None)
@given(K=hs.integers(2, 20), rho=hs.floats(0.1, 10.0), scale=hs.floats(0.0, 5.0))
def test_ce_bound_is_attained_at_the_aligned_simplex(K, rho, scale):
    W_fro = scale * rho * math.sqrt(K)  # ||W||_F of the rows scale * zeta_k
    assert ce_lower_bound(K, rho, W_fro) == pytest.approx(_ce_at_aligned_simplex(K, rho, scale), rel=1e-10, abs=1e-13)


def test_ce_bound_closed_values_and_stability():
    assert ce_lower_bound(5, 2.0, 0.0) == pytest.approx(math.log(5), rel=1e-15)
    # a huge exponent: no overflow, value ~ (K-1) e^{-a r}
    a_r = 100.0 * math.sqrt(10) / 9 * 2.0
    got = ce_lower_bound(10, 100.0, 2.0)
    assert got == pytest.approx(9 * math.exp(-a_r), rel=1e-12) and got > 0
    assert ce_lower_bound(10, 100.0, 1e6) == 0.0  # e^{-a r} underflows to 0, never NaN
    with mpmath.workdps(40):
        expected = mpmath.log(1 + 3 * mpmath.exp(-mpmath.mpf(1.5) * 2 / 3 * mpmath.mpf(0.25)))
        assert ce_lower_bound(4, 1.5, 0.25) == pytest.approx(float(expected), rel=1e-15)


def test_ce_bound_keeps_the_number_system():
    W = torch.tensor(1.7, dtype=torch.float64, requires_grad=True)
    value = ce_lower_bound(3, 1.2, W)
    value.backward()
    a = 1.2 * math.sqrt(3) / 2
    # d/dr log(1 + 2 e^{-a r}) = -2 a e^{-a r} / (1 + 2 e^{-a r})
    expected_grad = -2 * a * math.exp(-a * 1.7) / (1 + 2 * math.exp(-a * 1.7))
    assert float(W.grad) == pytest.approx(expected_grad, rel=1e-12)
    with mpmath.workdps(60):
        mp_value = ce_lower_bound(3, 1.2, mpmath.mpf("1.7"))
        assert isinstance(mp_value, mpmath.mpf)
        assert float(mp_value) == pytest.approx(float(value.detach()), rel=1e-14)
    arr = ce_lower_bound(3, 1.2, np.array([0.0, 1.7]))
    assert arr.shape == (2,) and arr[0] == pytest.approx(math.log(3))
    l2 = ce_l2_lower_bound(3, 1.2, 0.1, W.detach())
    assert float(l2) == pytest.approx(float(value.detach()) + 0.1 * 1.7**2, rel=1e-14)


def _literal_residual(K, rho, lam, r):
    with mpmath.workdps(50):
        r = mpmath.mpf(r)
        return 2 * mpmath.mpf(lam) * r * (mpmath.exp(mpmath.mpf(K) / (K - 1) * rho * r) + K - 1) - rho


PARAMS = dict(K=hs.integers(2, 1000), rho=hs.floats(0.01, 100.0), lam=hs.floats(1e-6, 100.0))


@settings(max_examples=60, deadline=None)
@given(**PARAMS)
def test_r_w_literal_solves_its_equation_to_float_precision(K, rho, lam):
    r = r_w_literal(K, rho, lam)
    assert 0 < r <= rho / (2 * lam * K)
    # the exact equation changes sign within a few ulps of r
    assert _literal_residual(K, rho, lam, r * (1 - 1e-14)) < 0 < _literal_residual(K, rho, lam, r * (1 + 1e-14))


def _g(K, rho, lam, r):
    with mpmath.workdps(50):
        a = mpmath.mpf(rho) * mpmath.sqrt(K) / (K - 1)
        r = mpmath.mpf(r)
        return mpmath.log(1 + (K - 1) * mpmath.exp(-a * r)) + lam * r * r


def _g_prime(K, rho, lam, r):
    with mpmath.workdps(50):
        a = mpmath.mpf(rho) * mpmath.sqrt(K) / (K - 1)
        r = mpmath.mpf(r)
        return 2 * lam * r - a * (K - 1) * mpmath.exp(-a * r) / (1 + (K - 1) * mpmath.exp(-a * r))


@settings(max_examples=60, deadline=None)
@given(**PARAMS)
def test_ce_l2_minimiser_is_the_root_of_g_prime_and_beats_neighbours(K, rho, lam):
    m = ce_l2_minimiser(K, rho, lam)
    r = m.frobenius_norm
    assert r > 0
    assert _g_prime(K, rho, lam, r * (1 - 1e-14)) < 0 < _g_prime(K, rho, lam, r * (1 + 1e-14))
    assert m.row_norm == pytest.approx(r / math.sqrt(K), rel=1e-15)
    g_star = _g(K, rho, lam, r)
    assert m.objective == pytest.approx(float(g_star), rel=1e-13)
    for step in (1e-6, 1e-3, 0.1, 0.5):
        assert g_star <= _g(K, rho, lam, r * (1 + step))
        assert g_star <= _g(K, rho, lam, r * (1 - step))
    assert g_star <= _g(K, rho, lam, 0.0)


def test_ce_l2_minimiser_against_a_grid_scan():
    K, rho, lam = 4, 1.0, 5e-3
    m = ce_l2_minimiser(K, rho, lam)
    grid = np.linspace(0.0, 60.0, 600_001)
    a = rho * math.sqrt(K) / (K - 1)
    values = np.log1p((K - 1) * np.exp(-a * grid)) + lam * grid**2
    assert abs(grid[np.argmin(values)] - m.frobenius_norm) <= 1e-4
    assert m.objective <= values.min() + 1e-15


# --------------------------------------------------------------------------- validation


BAD_CALLS = [
    (sc_minimum, dict(N=6, K=1, b=3, rho=1.0), "K", InvalidArgumentError),
    (sc_minimum, dict(N=7, K=3, b=3, rho=1.0), "N", InvalidArgumentError),
    (sc_minimum, dict(N=2, K=3, b=3, rho=1.0), "N", InvalidArgumentError),
    (sc_minimum, dict(N=6, K=3, b=1, rho=1.0), "b", InvalidArgumentError),
    (sc_minimum, dict(N=6, K=3, b=3, rho=0.0), "rho", InvalidArgumentError),
    (sc_minimum, dict(N=6, K=3, b=3, rho=-1.0), "rho", InvalidArgumentError),
    (sc_minimum, dict(N=6, K=3, b=3, rho=float("nan")), "rho", InvalidArgumentError),
    (sc_minimum, dict(N=6, K=3, b=3, rho=1.0, batches="pairs"), "batches", InvalidArgumentError),
    (sc_minimum, dict(N=6, K=3, b=7, rho=1.0, batches="subset"), "b", InvalidArgumentError),
    (sc_minimum, dict(N=6.5, K=3, b=3, rho=1.0), "N", InvalidArgumentTypeError),
    (sc_minimum, dict(N=6, K=3, b="3", rho=1.0), "b", InvalidArgumentTypeError),
    (sc_minimum_exact_counts, dict(N=7, K=3, b=3, rho=1.0), "N", InvalidArgumentError),
    (sc_minimum_exact_counts, dict(N=6, K=3, b=3, rho=1.0, batches="x"), "batches", InvalidArgumentError),
    (ce_lower_bound, dict(K=1, rho=1.0, W_fro=1.0), "K", InvalidArgumentError),
    (ce_lower_bound, dict(K=3, rho=0.0, W_fro=1.0), "rho", InvalidArgumentError),
    (ce_lower_bound, dict(K=3, rho=1.0, W_fro=-1.0), "W_fro", InvalidArgumentError),
    (ce_lower_bound, dict(K=3, rho=1.0, W_fro=np.array([1.0, -2.0])), "W_fro", InvalidArgumentError),
    (ce_lower_bound, dict(K=3, rho=1.0, W_fro=float("inf")), "W_fro", InvalidArgumentError),
    (ce_lower_bound, dict(K=3, rho=1.0, W_fro="big"), "W_fro", InvalidArgumentTypeError),
    (ce_l2_lower_bound, dict(K=3, rho=1.0, lam=-0.1, W_fro=1.0), "lam", InvalidArgumentError),
    (r_w_literal, dict(K=1, rho=1.0, lam=0.1), "K", InvalidArgumentError),
    (r_w_literal, dict(K=3, rho=-1.0, lam=0.1), "rho", InvalidArgumentError),
    (r_w_literal, dict(K=3, rho=1.0, lam=0.0), "lam", InvalidArgumentError),
    (ce_l2_minimiser, dict(K=3, rho=1.0, lam=0.0), "lam", InvalidArgumentError),
    (ce_l2_minimiser, dict(K=3, rho=1.0, lam=None), "lam", InvalidArgumentTypeError),
    (ce_l2_minimiser, dict(K=2.5, rho=1.0, lam=0.1), "K", InvalidArgumentTypeError),
]


@pytest.mark.parametrize("fn, kwargs, param, exc", BAD_CALLS,
                         ids=[f"{c[0].__name__}-{c[2]}-{i}" for i, c in enumerate(BAD_CALLS)])
def test_bad_arguments_raise_a_clear_error(fn, kwargs, param, exc):
    with pytest.raises(exc) as info:
        fn(**kwargs)
    message = str(info.value)
    assert message.startswith(f"`{param}` of `{fn.__name__}` must be ")
    assert "; got " in message


def test_divisibility_error_says_why():
    with pytest.raises(InvalidArgumentError, match="balanced"):
        sc_minimum(7, 3, 3, 1.0)
