"""Input spaces: every value they produce satisfies their constraints, projections land in
the space (numpy and torch, with gradients), Unsatisfiable when no value exists, and
checks against closed forms."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as hst

from theorycheck import strategies as st
from theorycheck._validation import InvalidArgumentError

SPACES = [
    st.labels(7, 3),
    st.balanced_labels(6, 3),
    st.imbalanced_labels(7, 3, min_count=2),
    st.sphere(4, 3, 2.0),
    st.ball(4, 3, 1.5),
    st.real_matrix(3, 2, 0.5),
    st.simplex_configuration(3, 4, 1.0),
    st.simplex_configuration(4, 3, 2.0),
    st.perturbed_simplex(3, 2, 1.0, 0.1),
    st.perturbed_simplex(3, 3, 1.0, 0.2, on_sphere=False),
    st.collapsed_on_simplex(np.array([0, 0, 1, 2, 2]), 3, 1.5),
    st.psd(4),
    st.psd(4, rank=2),
    st.elliptope(4),
    st.elliptope(5, rank=2),
    st.unit_rows(3, 4),
    st.unit_columns(3, 4),
    st.doubly_normalized(3, 3),
    st.probability_vector(4),
    st.probability_vector(4, min_entry=0.1),
    st.real(-1.0, 2.0),
    st.fixed(3.0),
    st.fixed(np.array([1, 2])),
]
IDS = [repr(s) for s in SPACES]


@pytest.mark.parametrize("space", SPACES, ids=IDS)
def test_samples_special_and_simplified_values_are_in_the_space(space):
    rng = np.random.default_rng(0)
    for _ in range(15):
        x = space.sample(rng)
        assert np.shape(x) == space.shape and space.contains(x), x
        for simpler in space.simplify(x):
            assert space.contains(simpler), simpler
    for x in space.special():
        assert space.contains(x), x
    assert space.special(), "every space offers structured inputs"


@pytest.mark.parametrize("space", SPACES, ids=IDS)
def test_projection_lands_in_the_space_numpy_and_torch(space):
    if not space.continuous:  # discrete spaces are kept fixed by local optimisation
        x = space.sample(np.random.default_rng(1))
        assert space.project(x) is x
        return
    rng = np.random.default_rng(1)
    for scale in (0.01, 1.0, 10.0):
        x = np.asarray(space.sample(rng), dtype=np.float64) + scale * rng.standard_normal(space.shape)
        assert space.contains(space.project(x))
        t = torch.tensor(x, requires_grad=True)
        out = space.project(t)
        assert isinstance(out, torch.Tensor) and space.contains(out.detach().numpy(), atol=1e-6)
        # the torch projection keeps the graph: gradients reach the input
        out.sum().backward()
        assert t.grad is not None and bool(torch.isfinite(t.grad).all())


@pytest.mark.parametrize("space", SPACES, ids=IDS)
def test_hypothesis_strategy_generates_only_members(space):
    @settings(max_examples=25, database=None, deadline=None)
    @given(space.strategy())
    def check(x):
        assert np.shape(x) == space.shape and space.contains(x), x

    check()


@pytest.mark.parametrize("space", SPACES, ids=IDS)
def test_repr_is_the_call_that_rebuilds_it(space):
    namespace = {name: getattr(st, name) for name in st.__all__}
    namespace["np"] = np
    rebuilt = eval(repr(space), namespace)
    assert repr(rebuilt) == repr(space) and rebuilt.shape == space.shape
    assert isinstance(space.describe(), str) and space.describe()


@pytest.mark.parametrize("build, match", [
    (lambda: st.balanced_labels(7, 3), r"balanced labels need K to divide N; got N=7, K=3"),
    (lambda: st.imbalanced_labels(5, 3, min_count=2), r"K \* min_count = 6 > N=5"),
    (lambda: st.simplex_configuration(5, 3), r"needs h >= K-1 = 4; got h=3"),
    (lambda: st.perturbed_simplex(4, 2, 1.0, 0.1), r"needs h >= K-1 = 3; got h=2"),
    (lambda: st.collapsed_on_simplex([0, 1, 2, 3], 2), r"needs h >= K-1 = 3; got h=2"),
    (lambda: st.doubly_normalized(2, 3), r"the squared Frobenius norm would be 2 \(rows\) and 3 \(columns\)"),
    (lambda: st.probability_vector(4, min_entry=0.3), r"K=4 entries of at least 0.3 sum to more than 1"),
    (lambda: st.real(1.0, 0.0), r"low > high is empty"),
    (lambda: st.elliptope(3, rank=0), r"unit diagonal has rank >= 1"),
])
def test_unsatisfiable_sizes_raise_unsatisfiable(build, match):
    with pytest.raises(st.Unsatisfiable, match=match):
        build()


@pytest.mark.parametrize("build, match", [
    (lambda: st.sphere(0, 3), r"`N` of `sphere` must be an integer >= 1; got 0"),
    (lambda: st.sphere(2, 3, -1.0), r"`radius` of `sphere` must be >= 0"),
    (lambda: st.real_matrix(2, 2, 0.0), r"`scale` of `real_matrix` must be > 0"),
    (lambda: st.labels(3, 1.5), r"`K` of `labels` must be an integer; got 1.5"),
    (lambda: st.psd(3, rank=4), r"`rank` of `psd` must be an integer <= n = 3; got 4"),
    (lambda: st.collapsed_on_simplex([0.5, 1], 3), r"`y` of `collapsed_on_simplex` must be a 1-D array of "
                                                   r"integer class labels"),
    (lambda: st.fixed("a"), r"`value` of `fixed` must be a number or an array of numbers"),
    (lambda: st.fixed(np.nan), r"`value` of `fixed` must be finite"),
])
def test_bad_arguments_name_the_argument(build, match):
    with pytest.raises(InvalidArgumentError, match=match):
        build()


# --------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("K, h, rho", [(2, 1, 1.0), (3, 2, 2.0), (4, 5, 0.5), (6, 5, 3.0)])
def test_simplex_gram_is_the_closed_form(K, h, rho):
    # graf2021: Gram = rho^2 K/(K-1) (I - 11^T/K) for a rho-inscribed regular simplex
    expected = rho ** 2 * K / (K - 1) * (np.eye(K) - np.ones((K, K)) / K)
    space = st.simplex_configuration(K, h, rho)
    for z in [space.sample(np.random.default_rng(s)) for s in range(3)] + [st.regular_simplex(K, h, rho)]:
        assert np.allclose(z @ z.T, expected, atol=1e-12)
    assert np.linalg.matrix_rank(expected) == K - 1


def test_simplex_projection_recovers_a_rotated_simplex():
    space = st.simplex_configuration(4, 3, 1.0)
    z = space.sample(np.random.default_rng(3))
    assert np.allclose(space.project(z + 1e-4 * np.random.default_rng(4).standard_normal(z.shape)), z, atol=1e-3)


def test_collapsed_rows_follow_the_labels():
    y = np.array([2, 0, 0, 1])
    z = st.collapsed_on_simplex(y, 3, 2.0).sample(np.random.default_rng(0))
    assert np.allclose(z[1], z[2]) and not np.allclose(z[0], z[1])
    assert np.allclose(np.linalg.norm(z, axis=1), 2.0)
    assert np.isclose(z[0] @ z[1], -2.0 ** 2 / 2)  # -rho^2/(K-1)


def test_probability_projection_is_the_euclidean_projection():
    # brute force: the minimiser over a fine grid of the 3-simplex is the projection
    space = st.probability_vector(3)
    v = np.array([0.9, 0.4, -0.6])
    grid = [np.array([a, b, 1 - a - b]) for a, b in itertools.product(np.linspace(0, 1, 201), repeat=2)
            if a + b <= 1 + 1e-12]
    best = min(grid, key=lambda q: np.sum((q - v) ** 2))
    assert np.allclose(space.project(v), best, atol=5e-3)
    assert np.allclose(space.project(v), [0.75, 0.25, 0.0])  # closed form: shift by theta = 0.15


def test_psd_projection_clips_negative_eigenvalues():
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))[0]
    a = q @ np.diag([2.0, -1.0, 0.5]) @ q.T
    assert np.allclose(st.psd(3).project(a), q @ np.diag([2.0, 0.0, 0.5]) @ q.T)
    assert np.allclose(st.psd(3, rank=1).project(a), q @ np.diag([2.0, 0.0, 0.0]) @ q.T)


def test_doubly_normalized_exists_exactly_when_square():
    for M, N in itertools.product(range(1, 5), repeat=2):
        if M == N:
            x = st.doubly_normalized(M, N).sample(np.random.default_rng(M))
            assert np.allclose(np.linalg.norm(x, axis=0), 1) and np.allclose(np.linalg.norm(x, axis=1), 1)
        else:
            with pytest.raises(st.Unsatisfiable):
                st.doubly_normalized(M, N)


@given(hst.integers(1, 12), hst.integers(1, 5))
@settings(max_examples=30, deadline=None)
def test_label_spaces_respect_their_counts(N, K):
    if N % K == 0:
        y = st.balanced_labels(N, K).sample(np.random.default_rng(N))
        assert np.all(np.bincount(y, minlength=K) == N // K)
    if K <= N:
        y = st.imbalanced_labels(N, K).sample(np.random.default_rng(K))
        assert np.all(np.bincount(y, minlength=K) >= 1) and y.max() < K


def test_ball_draws_reach_the_boundary_and_the_inside():
    x = st.ball(200, 3, 2.0).sample(np.random.default_rng(0))
    norms = np.linalg.norm(x, axis=1)
    assert np.any(np.isclose(norms, 2.0)) and np.any(norms < 1.5) and np.all(norms <= 2.0 + 1e-12)


def test_sphere_projection_maps_zero_rows_to_the_sphere():
    out = st.sphere(2, 3, 3.0).project(np.zeros((2, 3)))
    assert np.allclose(np.linalg.norm(out, axis=1), 3.0)


def test_real_scalar_values():
    space = st.real(-1.0, 2.0)
    assert space.shape == () and space.project(np.float64(5.0)) == 2.0
    assert [float(v) for v in space.special()] == [-1.0, 2.0, 0.5, 0.0, 1.0]
    assert float(space.simplify(np.float64(math.pi / 3))[0]) == 1.0  # nearest integer first


def test_unit_rows_from_tiny_factors_keep_full_precision():
    """Rows of 1e-162 entries have a subnormal sum of squares; normalising them must still give
    an exact unit diagonal (found by hypothesis: the elliptope once returned diag 0.902)."""
    from theorycheck import strategies as st

    tiny = np.full((5, 2), 4.72138314e-162)
    space = st.elliptope(5, rank=2)
    G = space._from_raw(tiny)
    assert space.contains(G)
    np.testing.assert_allclose(np.diag(G), 1.0, rtol=0, atol=1e-15)
    rows = st.sphere(3, 4, 2.0).project(np.full((3, 4), 1e-170))
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 2.0, rtol=1e-15)


def test_public_building_blocks_for_user_spaces():
    # normalize_rows: numpy rows (including a zero row and tiny entries) land on the sphere
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1e-162, 1e-162]])
    out = st.normalize_rows(x, radius=2.0)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 2.0, rtol=1e-15)
    np.testing.assert_allclose(out[0], [1.2, 1.6], rtol=1e-15)
    # torch: differentiable; the gradient of sum(normalize(x) . c) is orthogonal to x
    t = torch.tensor([[3.0, 4.0]], dtype=torch.float64, requires_grad=True)
    (st.normalize_rows(t) * torch.tensor([[1.0, 2.0]], dtype=torch.float64)).sum().backward()
    assert abs(float((t.grad * t.detach()).sum())) < 1e-14
    # straight_through: the exact value, the identity's gradient
    u = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    v = st.straight_through(u, np.array([5.0, -1.0]))
    (v * torch.tensor([3.0, 7.0], dtype=torch.float64)).sum().backward()
    assert v.detach().tolist() == [5.0, -1.0]
    assert u.grad.tolist() == [3.0, 7.0]
    # float_arrays: a hypothesis strategy of finite arrays within the bound

    @settings(max_examples=20)
    @given(st.float_arrays((2, 3), 0.5))
    def check(a):
        assert a.shape == (2, 3) and np.all(np.isfinite(a)) and np.all(np.abs(a) <= 0.5)

    check()


def test_exact_membership_in_rational_arithmetic():
    assert st.sphere(2, 2, 1.0).exactly_contains(np.array([[1.0, 0.0], [0.0, -1.0]])) is True
    # 0.6 and 0.8 are not the binary numbers whose squares sum to 1; contains() says yes, exactly not
    assert st.sphere(1, 2, 1.0).contains(np.array([[0.6, 0.8]]))
    assert st.sphere(1, 2, 1.0).exactly_contains(np.array([[0.6, 0.8]])) is False
    assert st.sphere(1, 2, 2.0).exactly_contains(np.array([[1.5, 1.3228756555322954]])) is False
    assert st.ball(1, 2, 1.0).exactly_contains(np.array([[0.5, 0.5]])) is True
    assert st.real_matrix(2, 2).exactly_contains(np.ones((2, 2))) is True
    assert st.unit_columns(2, 2).exactly_contains(np.eye(2)) is True
    assert st.unit_rows(2, 2).exactly_contains(np.full((2, 2), 0.5)) is False
    assert st.real(0.0, 1.0).exactly_contains(np.asarray(1.0)) is True
    assert st.real(0.0, 1.0).exactly_contains(np.asarray(1.0 + 2**-52)) is False
    assert st.labels(3, 2).exactly_contains(np.array([0, 1, 1])) is True
    assert st.labels(3, 2).exactly_contains(np.array([0, 1, 2])) is False
    assert st.psd(2).exactly_contains(np.eye(2)) is None  # cannot tell: never used as exact
