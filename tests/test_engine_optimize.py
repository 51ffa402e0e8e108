"""Tests of the optimisation judges (theorycheck.engine.optimize).

Every verdict here is checked against something computed independently of the engine:
closed-form minima of toy objectives, exact rational re-evaluation of counterexamples,
closed-form Riemannian gradients and Hessians on the sphere, and known moments of
inner products of uniform points on the sphere.

Toy objectives (all on rows of unit norm):

* pairwise(X) = sum_{i<j} <x_i, x_j> = (||sum_i x_i||^2 - N) / 2 >= -N/2, attained by every
  configuration with zero sum (not only the regular simplex when N >= 4);
* expsum(X) = sum_{i != j} exp(<x_i, x_j>) >= N(N-1) exp(-1/(N-1)) (Jensen + sum of the Gram
  matrix >= 0), attained only by the regular simplex (N <= h + 1);
* on the circle, f(x) = -x_1^2 - x_1/2 has a global minimum -3/2 at (1, 0) and a spurious local
  minimum -1/2 at (-1, 0) (second derivative along the circle 3/2 there).
"""

from __future__ import annotations

import dataclasses
import math
import time
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as hst

from theorycheck import InvalidArgumentError, InvalidArgumentTypeError
from theorycheck import backend as xp
from theorycheck import strategies as st
from theorycheck.engine.claim import ClaimError, Param, claim
from theorycheck.engine.optimize import (
    NonDifferentiableProjection,
    NonFiniteObjective,
    Run,
    judge_characterization,
    judge_landscape,
    judge_optimum,
    judge_statistical,
    minimize,
    optimum_tolerance,
    pairwise_alignment_distances,
    pairwise_gram_distances,
    riemannian_gradient,
    tangent_hessian,
    tangent_hessian_min_eig,
)
from theorycheck.engine.results import Budget, Counterexample, JudgeContext, KindOutcome, Verdict

# --------------------------------------------------------------------------- toy claims


def pairwise_value(X):
    s = xp.sum(X, axis=0)
    return (xp.sum(s * s) - xp.sum(X * X)) / 2


def expsum_value(X):
    G = X @ X.T
    return xp.sum(xp.exp(G)) - xp.sum(xp.exp(xp.diag(G)))


def expsum_min(N):
    return N * (N - 1) * math.exp(-1.0 / (N - 1))


def simplex_gram_distance(X, *, p):
    """Frobenius distance of the Gram matrix to that of a unit regular simplex (0 iff simplex)."""
    N = X.shape[0]
    target = (N / (N - 1)) * np.eye(N) - np.ones((N, N)) / (N - 1)
    return float(np.linalg.norm(X @ X.T - target))


def collapsed_distance(X, *, p):
    return float(np.linalg.norm(X - X.mean(axis=0)))


def sizes(N=4, h=3):
    return (Param("N", N, "points", min=2), Param("h", h, "dimension", min=1))


def sphere_inputs(p, active):
    return {"X": st.sphere(p.N, p.h, 1.0)}


def make_optimum(optimum, *, kind="optimum", value=pairwise_value, N=4, h=3, extra_params=(), **kw):
    @claim(id=f"toy.{kind}", cite=("wang2020",), kind=kind, statement="a toy objective on the sphere",
           params=sizes(N, h) + tuple(extra_params), inputs=sphere_inputs, optimum=optimum,
           register=False, **kw)
    def toy(X, *, p):
        return value(X)

    return toy


def circle_claim(optimum, f):
    @claim(id="toy.circle", cite=("wang2020",), kind="landscape", statement="a function on the circle",
           inputs=lambda p, active: {"x": st.sphere(1, 2, 1.0)}, optimum=optimum, register=False)
    def on_circle(x, *, p):
        return f(x)

    return on_circle


def context(c, params=None, *, seed=0, seconds=60.0, examples=None, deadline=None):
    p = c.resolve_params(params or {})
    active = c.active_assumptions()
    return JudgeContext(claim=c, params=p, active=active, spaces=c.spaces(p, active),
                        budget=Budget(seconds=seconds, examples=examples), rng=np.random.default_rng(seed),
                        seed=seed, deadline=time.monotonic() + seconds if deadline is None else deadline)


def exact_pairwise(X) -> Fraction:
    """sum_{i<j} <x_i, x_j> in exact rational arithmetic (every float is a rational)."""
    rows = [[Fraction(float(v)) for v in row] for row in np.asarray(X)]
    total = Fraction(0)
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            total += sum(a * b for a, b in zip(rows[i], rows[j]))
    return total


# --------------------------------------------------------------------------- minimize


def test_minimize_reaches_closed_form_minimum_on_the_sphere():
    space = st.sphere(5, 3, 1.0)
    runs = minimize(pairwise_value, {"X": space}, starts=4, rng=np.random.default_rng(1))
    assert len(runs) == 4 and all(isinstance(r, Run) for r in runs)
    for r in runs:
        assert space.contains(r.inputs["X"]) and space.contains(r.start["X"])
        assert abs(r.value - (-2.5)) <= 1e-12
        # the end point's value is what the run reports, and the optimiser made progress
        assert abs(float(pairwise_value(r.inputs["X"])) - r.value) <= 1e-12
        assert r.trace[0] == pytest.approx(float(pairwise_value(r.start["X"])), abs=1e-12)
        assert r.trace[-1] <= r.trace[0] and r.steps > 0
        assert r.converged and r.grad_norm <= 1e-9


def test_minimize_adam_reaches_minimum_and_keeps_points_on_the_space():
    space = st.sphere(3, 2, 2.0)
    runs = minimize(pairwise_value, {"X": space}, starts=2, steps=3000, method="adam", lr=0.05,
                    rng=np.random.default_rng(2))
    for r in runs:
        assert space.contains(r.inputs["X"])
        # radius 2: sum_{i<j} <x_i, x_j> >= -N r^2 / 2 = -6
        assert r.value == pytest.approx(-6.0, rel=1e-6)


def test_minimize_is_deterministic_for_a_seed():
    spaces = {"X": st.sphere(4, 3, 1.0)}
    a = minimize(expsum_value, spaces, starts=3, rng=np.random.default_rng(7))
    b = minimize(expsum_value, spaces, starts=3, rng=np.random.default_rng(7))
    for ra, rb in zip(a, b):
        assert ra.value == rb.value and ra.trace == rb.trace
        np.testing.assert_array_equal(ra.inputs["X"], rb.inputs["X"])


def test_minimize_holds_labels_fixed_and_draws_them_per_start():
    # f(X, y) = -sum_n x_n[y_n]: each row moves to the axis its label names
    def objective(X, y):
        return -xp.sum(X[np.arange(X.shape[0]), y])

    spaces = {"X": st.sphere(6, 3, 1.0), "y": st.balanced_labels(6, 3)}
    runs = minimize(objective, spaces, starts=3, rng=np.random.default_rng(3))
    for r in runs:
        y = r.inputs["y"]
        assert y.dtype == np.int64
        np.testing.assert_array_equal(y, r.start["y"])  # labels never move
        np.testing.assert_allclose(r.inputs["X"], np.eye(3)[y], atol=1e-6)
        assert r.value == pytest.approx(-6.0, abs=1e-10)
    fixed_y = np.array([0, 0, 1, 1, 2, 2])
    runs = minimize(objective, spaces, {"y": fixed_y}, starts=2, rng=np.random.default_rng(3))
    for r in runs:
        np.testing.assert_array_equal(r.inputs["y"], fixed_y)


def test_minimize_accepts_explicit_starts_and_a_real_scalar_space():
    # minimise (t - 0.3)^2 + sum_{i<j} <x_i, x_j> over t in [-1, 1] and X on the sphere
    def objective(X, t):
        return (t - 0.3) ** 2 + pairwise_value(X)

    spaces = {"X": st.sphere(2, 2, 1.0), "t": st.real(-1.0, 1.0)}
    start = {"X": np.array([[1.0, 0.0], [0.0, 1.0]]), "t": np.array(0.9)}
    (run,) = minimize(objective, spaces, starts=[start])
    assert run.origin == "given"
    assert float(run.inputs["t"]) == pytest.approx(0.3, abs=1e-7)
    assert run.value == pytest.approx(-1.0, abs=1e-12)


def _project_simplex(v):
    """Euclidean projection onto the probability simplex (sort-based, Duchi et al. 2008)."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - 1.0
    k = np.nonzero(u - css / np.arange(1, len(v) + 1) > 0)[0][-1]
    return np.maximum(v - css[k] / (k + 1), 0.0)


def test_minimize_reaches_closed_form_minima_on_sets_with_boundaries():
    # min <C, X> + 0.1 ||X||^2 = 0.1 ||X + 5C||^2 - 2.5 ||C||^2 over a convex set S is attained at
    # the projection of -5C onto S: closed forms for the PSD cone (eigenvalues clipped; the
    # projection through eigh has no derivative at the rank-deficient optimum, so projected
    # descent takes over) and for the probability simplex.
    rng = np.random.default_rng(0)
    C = rng.standard_normal((4, 4))
    C = (C + C.T) / 2
    w, V = np.linalg.eigh(-5 * C)
    X_star = (V * np.maximum(w, 0)) @ V.T
    c = rng.standard_normal(5)
    p_star = _project_simplex(-5 * c)
    for space, coef, best in [(st.psd(4), C, X_star), (st.probability_vector(5), c, p_star)]:
        Ct = torch.as_tensor(coef)
        expected = float((coef * best).sum() + 0.1 * (best * best).sum())
        runs = minimize(lambda X: xp.sum(Ct * X) + 0.1 * xp.sum(X * X), {"X": space}, starts=3,
                        rng=np.random.default_rng(1))
        for r in runs:
            assert space.contains(r.inputs["X"])
            assert r.value == pytest.approx(expected, abs=1e-7)
            np.testing.assert_allclose(r.inputs["X"], best, atol=1e-4)


def test_minimize_stops_at_a_past_deadline_after_one_start():
    runs = minimize(expsum_value, {"X": st.sphere(4, 3, 1.0)}, starts=5, rng=np.random.default_rng(0),
                    deadline=time.monotonic() - 1.0)
    assert len(runs) == 1 and runs[0].stop == "deadline" and runs[0].steps == 0


@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"method": "newton"}, InvalidArgumentError, "`method` of `minimize`"),
    ({"steps": -1}, InvalidArgumentError, "`steps` of `minimize`"),
    ({"starts": 0}, InvalidArgumentError, "`starts` of `minimize`"),
    ({"starts": "many"}, InvalidArgumentTypeError, "`starts` of `minimize`"),
    ({"starts": [{"Y": np.zeros((2, 2))}]}, InvalidArgumentError, "lacks ['X']"),
    ({"tol": 0.0}, InvalidArgumentError, "`tol` of `minimize`"),
    ({"fixed": {"Z": 1.0}}, InvalidArgumentError, "`fixed` of `minimize`"),
    ({"rng": 3}, InvalidArgumentTypeError, "`rng` of `minimize`"),
])
def test_minimize_rejects_bad_arguments(kwargs, error, fragment):
    with pytest.raises(error) as info:
        minimize(pairwise_value, {"X": st.sphere(2, 2, 1.0)}, **kwargs)
    assert fragment in str(info.value)


def test_minimize_rejects_bad_spaces_and_objectives():
    with pytest.raises(InvalidArgumentTypeError, match="`spaces` of `minimize`"):
        minimize(pairwise_value, {"X": np.zeros((2, 2))})
    with pytest.raises(InvalidArgumentTypeError, match="`objective` of `minimize`"):
        minimize(42, {"X": st.sphere(2, 2, 1.0)})
    # numpy inside the objective cannot be differentiated: say so, naming the backend
    with pytest.raises(InvalidArgumentTypeError, match="theorycheck.backend"):
        minimize(lambda X: float(np.sum(np.asarray(X.detach()))), {"X": st.sphere(2, 2, 1.0)}, starts=1)
    with pytest.raises(NonFiniteObjective, match="nan"):
        minimize(lambda X: xp.sum(X) * float("nan"), {"X": st.sphere(2, 2, 1.0)}, starts=1)


# --------------------------------------------------------------------------- tangent geometry


@settings(max_examples=12)
@given(seed=hst.integers(0, 2**32 - 1), h=hst.integers(2, 5), radius=hst.floats(0.25, 4.0))
def test_riemannian_gradient_and_hessian_match_the_sphere_closed_form(seed, h, radius):
    # f(x) = x^T A x + b^T x on the sphere of radius r (one row): grad = P(2Ax + b),
    # Hess = P (2A - <2Ax + b, x>/r^2 I) P on the tangent space (Absil et al. 2008, ex. 5.4.2)
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((h, h))
    A = A + A.T
    b = rng.standard_normal(h)
    At, bt = torch.as_tensor(A), torch.as_tensor(b)

    def f(X):
        x = X[0]
        return x @ (At @ x) + xp.sum(bt * x)

    x = rng.standard_normal(h)
    x = x / np.linalg.norm(x) * radius
    spaces = {"X": st.sphere(1, h, radius)}
    euclid = 2 * A @ x + b
    P = np.eye(h) - np.outer(x, x) / radius**2
    grad = riemannian_gradient(f, {"X": x[None]}, spaces)["X"][0]
    np.testing.assert_allclose(grad, P @ euclid, atol=1e-10 * (1 + np.abs(euclid).max()))
    H, B = tangent_hessian(f, {"X": x[None]}, spaces)
    assert B.shape == (h, h - 1)
    np.testing.assert_allclose(B.T @ B, np.eye(h - 1), atol=1e-10)
    np.testing.assert_allclose(B.T @ x, 0.0, atol=1e-10 * radius)
    closed = B.T @ (2 * A - (euclid @ x) / radius**2 * np.eye(h)) @ B
    np.testing.assert_allclose(H, closed, atol=1e-9 * (1 + np.abs(closed).max()))
    assert tangent_hessian_min_eig(f, {"X": x[None]}, spaces) == pytest.approx(
        np.linalg.eigvalsh(closed)[0], abs=1e-9 * (1 + np.abs(closed).max()))


def test_tangent_hessian_at_eigenvectors_of_a_quadratic_form():
    # f(x) = x^T A x on the unit sphere, critical at eigenvector e_i: Hessian eigenvalues
    # 2 (lambda_j - lambda_i) for j != i -- the curvature term -<grad, x> = -2 lambda_i shifts them.
    lam = np.array([-1.0, 0.5, 2.0, 3.5])
    At = torch.as_tensor(np.diag(lam))

    def f(X):
        return X[0] @ (At @ X[0])

    spaces = {"X": st.sphere(1, 4, 1.0)}
    for i in range(4):
        x = np.eye(4)[i][None]
        H, _ = tangent_hessian(f, {"X": x}, spaces)
        expected = np.sort(2 * (np.delete(lam, i) - lam[i]))
        np.testing.assert_allclose(np.linalg.eigvalsh(H), expected, atol=1e-12)
        assert np.linalg.norm(riemannian_gradient(f, {"X": x}, spaces)["X"]) <= 1e-14


def test_multi_row_hessian_curvature_per_row_and_lanczos_agree():
    rng = np.random.default_rng(5)
    N, h, r = 5, 3, 1.5
    C = rng.standard_normal((N * h, N * h))
    C = C + C.T
    Ct = torch.as_tensor(C)

    def f(X):
        v = X.reshape(-1)
        return v @ (Ct @ v)

    X = rng.standard_normal((N, h))
    X = X / np.linalg.norm(X, axis=1, keepdims=True) * r
    spaces = {"X": st.sphere(N, h, r)}
    H, B = tangent_hessian(f, {"X": X}, spaces)
    g = (2 * C @ X.reshape(-1)).reshape(N, h)
    curvature = np.kron(np.diag([g[i] @ X[i] / r**2 for i in range(N)]), np.eye(h))
    closed = B.T @ (2 * C - curvature) @ B
    np.testing.assert_allclose(H, closed, atol=1e-9)
    dense = tangent_hessian_min_eig(f, {"X": X}, spaces)
    lanczos = tangent_hessian_min_eig(f, {"X": X}, spaces, dense_limit=0)
    assert dense == pytest.approx(np.linalg.eigvalsh(closed)[0], abs=1e-9)
    assert lanczos == pytest.approx(dense, abs=1e-7)
    # without a constraint the tangent Hessian is the Euclidean one
    H_free, B_free = tangent_hessian(f, {"X": X}, {"X": st.real_matrix(N, h)})
    np.testing.assert_allclose(B_free @ H_free @ B_free.T, 2 * C, atol=1e-9)


def test_tangent_hessian_says_when_the_projection_has_no_derivative():
    # the PSD projection goes through eigh, whose derivative is undefined at repeated eigenvalues
    with pytest.raises(NonDifferentiableProjection, match="repeated eigenvalues"):
        tangent_hessian_min_eig(lambda X: xp.sum(X * X), {"X": np.eye(3)}, {"X": st.psd(3)})


# --------------------------------------------------------------------------- uniqueness helpers


def test_alignment_and_gram_distances_vanish_up_to_rotation_only():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((6, 3))
    Q, _ = np.linalg.qr(rng.standard_normal((3, 3)))  # a rotation or a reflection
    other = rng.standard_normal((6, 3))
    runs = [{"X": X}, {"X": X @ Q}, {"X": other}]
    P = pairwise_alignment_distances(runs, "X")
    G = pairwise_gram_distances(runs, "X")
    assert P.shape == G.shape == (3, 3)
    np.testing.assert_allclose(np.diag(P), 0.0)
    np.testing.assert_allclose(P, P.T)
    assert P[0, 1] <= 1e-12 and G[0, 1] <= 1e-12
    assert P[0, 2] > 0.1 and G[0, 2] > 0.1
    # the optimal alignment is never worse than no alignment at all
    assert P[0, 2] <= 0.5 * (np.linalg.norm(X - other) / np.linalg.norm(other)
                             + np.linalg.norm(other - X) / np.linalg.norm(X)) + 1e-12
    # points as columns: the orthogonal map acts on the left
    cols = [{"H": X.T}, {"H": Q.T @ X.T}]
    assert pairwise_alignment_distances(cols, "H", points="columns")[0, 1] <= 1e-12
    with pytest.raises(InvalidArgumentError, match="`key` of `pairwise_alignment_distances`"):
        pairwise_alignment_distances(runs, "Y")


# --------------------------------------------------------------------------- judge_optimum


def test_true_optimum_holds_and_reports_numbers():
    out = judge_optimum(context(make_optimum(lambda p: -p.N / 2), examples=6))
    assert isinstance(out, KindOutcome) and out.verdict is Verdict.HOLDS and out.counterexample is None
    ev = out.evidence
    assert ev["claimed_optimum"] == -2.0 and ev["n_starts"] == 6 and ev["reached"] >= 1
    assert abs(ev["best_value"] + 2.0) <= ev["tolerance"] and ev["below_in_float"] == 0
    assert len(ev["final_values"]) == 6 and len(ev["traces"]) == 6
    assert ev["stopped_by_deadline"] is False


def test_too_high_optimum_is_refuted_with_an_exactly_confirmed_input():
    out = judge_optimum(context(make_optimum(lambda p: -p.N / 2 + 0.1), examples=6))
    assert out.verdict is Verdict.REFUTED
    cx = out.counterexample
    assert isinstance(cx, Counterexample) and cx.precision_digits >= 50
    assert cx.rhs == pytest.approx(-1.9) and cx.margin == pytest.approx(0.1, abs=1e-9)
    assert st.sphere(4, 3, 1.0).contains(cx.inputs["X"])
    # independent check: exact rational arithmetic at the reported float input
    assert exact_pairwise(cx.inputs["X"]) < Fraction(-19, 10)
    assert cx.lhs == pytest.approx(float(exact_pairwise(cx.inputs["X"])), abs=1e-15)
    assert cx.claim_id == "toy.optimum" and "below the claimed optimum" in cx.note


def test_too_low_optimum_is_inconclusive_not_refuted():
    out = judge_optimum(context(make_optimum(lambda p: -p.N / 2 - 0.1), examples=4))
    assert out.verdict is Verdict.INCONCLUSIVE and out.counterexample is None
    assert out.evidence["reached"] == 0 and out.evidence["gap"] == pytest.approx(0.1, abs=1e-9)


def test_float_noise_below_the_optimum_is_not_a_counterexample():
    # rtol = atol = 0: float rounding puts values ~1e-16 below -N/2; only mp may decide
    c = make_optimum(lambda p: -p.N / 2, rtol=0.0, atol=0.0)
    out = judge_optimum(context(c, examples=6))
    assert out.verdict is Verdict.HOLDS
    assert out.evidence["tolerance"] == optimum_tolerance(-2.0, rtol=0.0, atol=0.0) == 2e-12


def test_witness_alone_is_not_enough_for_holds():
    def witness(p):  # a regular simplex in R^3 (rows sum to zero)
        return {"X": np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / math.sqrt(3)}

    c = make_optimum(lambda p: -p.N / 2, witness=witness, search={"steps": 1})
    out = judge_optimum(context(c, examples=3))
    assert out.evidence["max_steps"] == 1 and out.evidence["reached"] == 0
    assert out.evidence["witness_reaches"] is True
    assert out.evidence["witness_value"] == pytest.approx(-2.0, abs=1e-15)
    # issue 13: the witness shows the optimum is attained, not that nothing is lower
    assert out.verdict is Verdict.INCONCLUSIVE
    assert "no start reached the claimed optimum" in out.evidence["reason"]
    assert "witness attains it" in out.evidence["reason"]


def test_optimum_judge_is_deterministic_for_a_seed():
    c = make_optimum(lambda p: expsum_min(p.N), value=expsum_value)
    a = judge_optimum(context(c, examples=4, seed=3))
    b = judge_optimum(context(c, examples=4, seed=3))
    assert a.verdict == b.verdict and a.evidence == b.evidence


def test_evaluator_nan_becomes_a_claim_error():
    c = make_optimum(lambda p: 0.0, value=lambda X: xp.sum(X) * float("nan"))
    with pytest.raises(ClaimError, match="toy.optimum"):
        judge_optimum(context(c, examples=2))


# --------------------------------------------------------------------------- characterization


def test_simplex_characterization_holds_with_distances_reported():
    c = make_optimum(lambda p: expsum_min(p.N), kind="characterization", value=expsum_value,
                     distance=simplex_gram_distance)
    out = judge_characterization(context(c, examples=6))
    ev = out.evidence
    assert out.verdict is Verdict.HOLDS
    assert ev["reached"] >= 1 and len(ev["distances"]) == ev["reached"]
    assert ev["max_distance"] == ev["distance_at_optimum_max"] <= ev["distance_tolerance"]
    assert ev["far_from_property"] == 0


def test_an_exact_minimiser_without_the_property_refutes_the_characterization():
    # the minimisers of sum_{i<j} <x_i, x_j> on the sphere are all zero-sum configurations,
    # not only the simplex: a simplified one ties with the optimum exactly
    c = make_optimum(lambda p: -p.N / 2, kind="characterization", distance=simplex_gram_distance)
    out = judge_characterization(context(c, examples=6))
    ev = out.evidence
    assert out.verdict is Verdict.REFUTED
    assert ev["far_from_property"] >= 1 and ev["counterexample_distance"] > ev["distance_tolerance"]
    cx = out.counterexample
    X = np.asarray(cx.inputs["X"])
    # checked here without the engine: rows exactly unit, objective exactly -N/2, far from a simplex
    assert all(sum(Fraction(float(v)) ** 2 for v in row) == 1 for row in X)
    assert exact_pairwise(X) == Fraction(-X.shape[0], 2)
    assert simplex_gram_distance(X, p=None) > 0.1
    assert cx.relation == ">" and cx.margin == 0.0 and "equals the claimed optimum" in cx.note


def test_a_tie_on_a_space_that_cannot_check_membership_exactly_stays_inconclusive():
    sphere_space = type(st.sphere(1, 1, 1.0))

    class OpaqueSphere(sphere_space):
        def exactly_contains(self, x):
            return None

    @claim(id="toy.opaque", cite=("wang2020",), kind="characterization", statement="zero-sum configurations",
           params=sizes(4, 3), inputs=lambda p, active: {"X": OpaqueSphere(p.N, p.h, 1.0, "sphere")},
           optimum=lambda p: -p.N / 2, distance=simplex_gram_distance, register=False)
    def opaque(X, *, p):
        return pairwise_value(X)

    out = judge_characterization(context(opaque, examples=6))
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.evidence["far_from_property"] >= 1 and out.evidence["max_distance"] > 0.1


def test_wrong_characterization_is_refuted_by_an_input_far_from_the_property():
    # claim: the collapsed configuration (value N(N-1)e) is minimal -- far from it is lower
    c = make_optimum(lambda p: p.N * (p.N - 1) * math.e, kind="characterization", value=expsum_value,
                     distance=collapsed_distance)
    out = judge_characterization(context(c, examples=6))
    assert out.verdict is Verdict.REFUTED
    assert out.evidence["counterexample_distance"] > out.evidence["distance_tolerance"]
    cx = out.counterexample
    assert cx.lhs < cx.rhs and cx.margin == pytest.approx(cx.rhs - cx.lhs, rel=1e-12)
    assert float(expsum_value(cx.inputs["X"])) == pytest.approx(cx.lhs, rel=1e-14)


# --------------------------------------------------------------------------- landscape


def test_spurious_local_minimum_on_the_circle_is_refuted_with_its_certificate():
    c = circle_claim(lambda p: -1.5, lambda x: -x[0, 0] ** 2 - 0.5 * x[0, 0])
    out = judge_landscape(context(c, examples=10))
    assert out.verdict is Verdict.REFUTED
    ev = out.evidence
    spurious = [cand for cand in ev["candidates"] if cand["status"] == "spurious"]
    assert len(spurious) == 1 and ev["n_spurious"] == 1
    assert spurious[0]["min_tangent_eig"] == pytest.approx(1.5, abs=1e-6)  # closed form
    assert spurious[0]["escaped"] is False and spurious[0]["grad_norm"] <= 1e-8
    cx = out.counterexample
    np.testing.assert_allclose(cx.inputs["x"], [[-1.0, 0.0]], atol=1e-8)
    assert cx.lhs == pytest.approx(-0.5, abs=1e-12) and cx.margin == pytest.approx(1.0, abs=1e-9)
    assert 0.0 < ev["global_fraction"] < 1.0 and ev["worst_gap"] == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("f", [lambda x: -x[0, 0], lambda x: -x[0, 0] ** 2],
                         ids=["one-minimum", "two-global-minima"])
def test_benign_landscapes_on_the_circle_hold(f):
    out = judge_landscape(context(circle_claim(lambda p: -1.0, f), examples=8))
    assert out.verdict is Verdict.HOLDS
    assert out.evidence["global_fraction"] == 1.0 and out.evidence["n_spurious"] == 0
    assert out.evidence["starts"] == 8


def test_landscape_reports_uniqueness_up_to_rotation():
    # the regular simplex (N = 3 in R^2) is the unique minimiser up to rotation and reflection
    unique = make_optimum(lambda p: expsum_min(p.N), kind="landscape", value=expsum_value, N=3, h=2)
    out = judge_landscape(context(unique, examples=8))
    assert out.verdict is Verdict.HOLDS and out.evidence["reached"] >= 2
    assert out.evidence["procrustes_max"] <= 1e-6 and out.evidence["gram_distance_max"] <= 1e-6
    # zero-sum configurations of 4 points in R^3 form a continuum: large distances
    many = make_optimum(lambda p: -p.N / 2, kind="landscape")
    out = judge_landscape(context(many, examples=8))
    assert out.verdict is Verdict.HOLDS
    assert out.evidence["gram_distance_max"] > 0.1 and out.evidence["uniqueness"]["X"]["procrustes_max"] > 0.1


def test_a_claimed_global_optimum_that_is_not_a_lower_bound_is_refuted():
    c = circle_claim(lambda p: -1.2, lambda x: -x[0, 0] ** 2 - 0.5 * x[0, 0])
    out = judge_landscape(context(c, examples=8))
    assert out.verdict is Verdict.REFUTED
    assert out.counterexample.lhs == pytest.approx(-1.5, abs=1e-12)
    assert "not a lower bound" in out.counterexample.note


def test_landscape_with_unfinished_starts_is_inconclusive_not_holds():
    # one optimiser step per start (the claim's `search` setting): nothing converges, nothing is decided
    @claim(id="toy.unfinished", cite=("wang2020",), kind="landscape", statement="x on the circle",
           search={"steps": 1}, inputs=lambda p, active: {"x": st.sphere(1, 2, 1.0)},
           optimum=lambda p: -1.0, register=False)
    def unfinished(x, *, p):
        return -x[0, 0]

    out = judge_landscape(context(unfinished, examples=8))
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.evidence["unconverged"] >= 1 and out.evidence["max_steps"] == 1


def test_a_passed_deadline_stops_the_search_without_a_false_verdict():
    c = make_optimum(lambda p: expsum_min(p.N), value=expsum_value)
    out = judge_optimum(context(c, examples=8, deadline=time.monotonic() - 1.0))
    assert out.evidence["stopped_by_deadline"] is True and out.evidence["n_starts"] == 1
    assert out.verdict is Verdict.INCONCLUSIVE  # the one (unoptimised) start proves nothing


# --------------------------------------------------------------------------- statistical


def inner_product_claim(expected, confidence=0.99):
    @claim(id="toy.statistical", cite=("garrido2023",), kind="statistical",
           statement="inner products of independent uniform points on S^{h-1}",
           params=(Param("h", 3, "dimension", min=2),),
           inputs=lambda p, active: {"u": st.sphere(1, p.h, 1.0), "v": st.sphere(1, p.h, 1.0)},
           expected=expected, confidence=confidence, register=False)
    def inner(u, v, *, p):
        return xp.sum(u * v)

    return inner


def test_uniform_sphere_inner_products_have_mean_zero_and_variance_one_over_h():
    out = judge_statistical(context(inner_product_claim(lambda p: {"mean": 0.0, "var": 1.0 / p.h}),
                                    examples=6000))
    ev = out.evidence
    assert out.verdict is Verdict.HOLDS
    assert ev["n_draws"] == 6000 and ev["confidence"] == 0.99 and ev["bonferroni_tests"] == 2
    assert ev["mean_ci"][0] <= 0.0 <= ev["mean_ci"][1]
    assert ev["var_ci"][0] <= 1 / 3 <= ev["var_ci"][1]
    assert 0 < ev["var_ci_width"] < 0.03 and "not a proof" in ev["note"]


def test_a_wrong_variance_is_refuted_at_the_stated_confidence():
    # 1/(h-1) instead of 1/h
    out = judge_statistical(context(inner_product_claim(lambda p: {"mean": 0.0, "var": 1.0 / (p.h - 1)},
                                                        confidence=0.999), examples=6000))
    ev = out.evidence
    assert out.verdict is Verdict.REFUTED and out.counterexample is None
    assert ev["confidence"] == 0.999 and ev["var_inside"] is False and ev["mean_inside"] is True
    assert not (ev["var_ci"][0] <= 0.5 <= ev["var_ci"][1])


def test_statistical_judge_is_deterministic_and_takes_a_bare_mean():
    c = inner_product_claim(lambda p: 0.0)
    a = judge_statistical(context(c, examples=2000, seed=4))
    b = judge_statistical(context(c, examples=2000, seed=4))
    assert a.verdict is Verdict.HOLDS and a.evidence == b.evidence
    assert "var_estimate" not in a.evidence and a.evidence["expected"] == 0.0
    wrong = judge_statistical(context(inner_product_claim(lambda p: 0.1), examples=2000, seed=4))
    assert wrong.verdict is Verdict.REFUTED and wrong.evidence["mean_z"] < -5


def test_statistical_judge_rejects_unknown_expected_keys():
    with pytest.raises(InvalidArgumentError, match="`expected` of `toy.statistical`"):
        judge_statistical(context(inner_product_claim(lambda p: {"median": 0.0}), examples=100))


# --------------------------------------------------------------------------- end to end: judge(...)


def test_judge_end_to_end_optimum_with_ablation_and_json():
    import json

    from theorycheck.engine import judge
    from theorycheck.engine.claim import Assumption
    from theorycheck.engine.results import ClaimResult

    def inputs(p, active):
        return {"X": st.sphere(p.N, p.h, 1.0) if "sphere" in active else st.real_matrix(p.N, p.h)}

    @claim(id="toy.e2e-optimum", cite=("wang2020",), kind="optimum",
           statement="sum_{i<j} <x_i, x_j> >= -N/2 for unit vectors", params=sizes(),
           assumptions=(Assumption("sphere", "rows have unit norm"),), inputs=inputs,
           optimum=lambda p: -p.N / 2, register=False)
    def e2e(X, *, p):
        return pairwise_value(X)

    budget = Budget(seconds=60.0, examples=4)
    result = judge(e2e, budget=budget, seed=1, ablate=True)
    assert result.verdict is Verdict.HOLDS
    (ablation,) = result.ablations
    # without the sphere the sum is unbounded below: a confirmed counterexample
    assert ablation.dropped == "sphere" and ablation.verdict is Verdict.REFUTED
    assert exact_pairwise(ablation.counterexample.inputs["X"]) < Fraction(-2)
    data = result.to_dict()
    text = json.dumps(data)  # plain JSON types only
    assert ClaimResult.from_dict(json.loads(text)).verdict is Verdict.HOLDS
    # the same seed gives the same JSON apart from timings
    again = judge(e2e, budget=budget, seed=1, ablate=True).to_dict()
    for d in (data, again):
        d.pop("seconds")
    assert json.dumps(again, sort_keys=True) == json.dumps(data, sort_keys=True)


def test_judge_end_to_end_characterization_landscape_statistical():
    import json

    from theorycheck.engine import judge

    char = make_optimum(lambda p: expsum_min(p.N), kind="characterization", value=expsum_value,
                        distance=simplex_gram_distance)
    res = judge(char, budget=Budget(seconds=60.0, examples=4), seed=0)
    assert res.verdict is Verdict.HOLDS and res.evidence["max_distance"] <= 1e-6
    land = circle_claim(lambda p: -1.5, lambda x: -x[0, 0] ** 2 - 0.5 * x[0, 0])
    res = judge(land, budget=Budget(seconds=60.0, examples=8), seed=0)
    assert res.verdict is Verdict.REFUTED and "local minimum" in res.counterexample.note
    assert json.loads(json.dumps(res.to_dict()))["counterexample"]["precision_digits"] >= 50
    stat = inner_product_claim(lambda p: {"mean": 0.0, "var": 1.0 / p.h})
    res = judge(stat, {"h": 4}, budget=Budget(seconds=60.0, examples=3000), seed=0)
    assert res.verdict is Verdict.HOLDS and res.evidence["var_expected"] == 0.25
    assert res.evidence["n_draws"] == 3000


def test_refuted_optimum_claims_are_shrunk_to_smaller_sizes_by_rejudging():
    from theorycheck.engine import judge

    # claimed minimum -N/2 + 1/4 is too high at every size: the smallest N still refutes
    c = make_optimum(lambda p: -p.N / 2 + 0.25, N=6, h=3, search={"starts": 4})
    res = judge(c, budget=Budget(seconds=None, examples=4), seed=0)
    assert res.verdict is Verdict.REFUTED
    shrink = res.evidence["size_shrink"]
    assert shrink["params_from"] == {"N": 6, "h": 3}  # the search setting is no parameter
    cx = res.counterexample
    assert cx.params["N"] < 6 and res.evidence["n_starts"] == 4
    assert shrink["params_to"] == cx.params and 0 < shrink["size_tries"] <= 8 and shrink["size_errors"] == 0
    assert "shrunk to smaller sizes (N=6->" in cx.note
    X = np.asarray(cx.inputs["X"])
    assert X.shape == (cx.params["N"], cx.params["h"])
    # the counterexample is real at its own size: exactly below the claimed optimum there
    assert exact_pairwise(X) < Fraction(-cx.params["N"], 2) + Fraction(1, 4)
    # the evidence of the original size is kept
    assert res.evidence["claimed_optimum"] == -2.75
    again = judge(c, budget=Budget(seconds=None, examples=4), seed=0)
    assert again.counterexample.params == cx.params and again.evidence["size_shrink"] == shrink

    # a size the evaluator fails at is skipped and counted; the refutation stands
    def fails_below_four(X):
        if X.shape[0] < 4:
            raise ValueError("needs four points")
        return pairwise_value(X)

    picky = make_optimum(lambda p: -p.N / 2 + 0.25, N=6, h=3, value=fails_below_four)
    res = judge(picky, budget=Budget(seconds=None, examples=4), seed=0)
    assert res.verdict is Verdict.REFUTED and res.counterexample.params["N"] == 4
    assert res.evidence["size_shrink"]["size_errors"] >= 1


def test_judge_end_to_end_turns_a_raising_evaluator_into_a_claim_error():
    from theorycheck.engine import judge

    def broken(X):
        raise ValueError("boom")

    c = make_optimum(lambda p: 0.0, value=broken)
    with pytest.raises(ClaimError, match=r"toy.optimum.*ValueError.*boom"):
        judge(c, budget=Budget(seconds=30.0, examples=2))


def test_statistical_judge_turns_a_nan_statistic_into_a_claim_error():
    @claim(id="toy.nan-statistic", cite=("garrido2023",), kind="statistical", statement="log of zero",
           inputs=lambda p, active: {"u": st.sphere(1, 3, 1.0)}, expected=lambda p: 0.0, register=False)
    def nan_statistic(u, *, p):
        return xp.sum(u) * float("nan")

    with pytest.raises(ClaimError, match="toy.nan-statistic"):
        judge_statistical(context(nan_statistic, examples=100))


# --------------------------------------------------------------------------- engine settings


def test_a_claim_parameter_named_starts_or_steps_does_not_steer_the_engine():
    # a user's claim with parameters that happen to be called starts/steps: the engine's
    # amount of optimisation ignores them
    @claim(id="toy.named", cite=("wang2020",), kind="optimum", statement="starts, steps are statement params",
           params=sizes(4, 3) + (Param("starts", 1, min=1), Param("steps", 1, min=1)),
           inputs=sphere_inputs, optimum=lambda p: -p.N / 2, register=False)
    def named(X, *, p):
        return pairwise_value(X)

    out = judge_optimum(context(named, examples=5))
    assert out.evidence["n_starts"] == 5  # from the budget's examples, not the param starts=1
    assert out.evidence["max_steps"] == 300  # the kind's default, not the param steps=1
    assert out.verdict is Verdict.HOLDS


def test_engine_settings_come_from_the_claim_search_and_the_budget_overrides_them():
    c = make_optimum(lambda p: -p.N / 2, search={"starts": 3, "steps": 40})
    out = judge_optimum(context(c, examples=50))
    assert out.evidence["n_starts"] == 3 and out.evidence["max_steps"] == 40
    ctx = context(c, examples=50)
    ctx = dataclasses.replace(ctx, budget=Budget(seconds=60.0, starts=2, steps=25))
    out = judge_optimum(ctx)
    assert out.evidence["n_starts"] == 2 and out.evidence["max_steps"] == 25


@pytest.mark.parametrize("search, message", [
    ({"restarts": 3}, "`search` of `claim 'toy.optimum'`"),
    ({"starts": 0}, "search['starts']"),
    ([("starts", 3)], "`search` of `claim 'toy.optimum'`"),
])
def test_bad_search_settings_name_the_argument(search, message):
    with pytest.raises((InvalidArgumentError, InvalidArgumentTypeError)) as info:
        make_optimum(lambda p: -p.N / 2, search=search)
    assert message in str(info.value)


def test_budget_validates_and_keeps_search_settings_when_scaled():
    b = Budget(seconds=10.0, starts=5, draws=100)
    assert b.search_settings() == {"starts": 5, "draws": 100}
    assert b.scaled(0.5).search_settings() == {"starts": 5, "draws": 100}
    assert "starts=5" in repr(b)
    with pytest.raises(InvalidArgumentError, match="`steps` of `Budget`"):
        Budget(steps=0)
