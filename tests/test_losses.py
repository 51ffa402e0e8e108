"""Properties of theorycheck.losses: invariances, variant relations, dtype agreement, exact sc_loss.

Independent references used here: plain Python loops (math.exp / math.log) over anchors and
over every batch of a batch set, and a regular simplex built in the test from the Helmert
basis (no theorycheck.geometry).
"""

from __future__ import annotations

import doctest
import inspect
import itertools
import math

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import theorycheck.losses as L
from theorycheck import backend as xp

SETTINGS = settings(max_examples=25)


# ----------------------------------------------------------------------------- helpers


def rotation(h: int, seed: int) -> np.ndarray:
    """A random orthogonal h x h matrix (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(h, h)))
    return q * np.sign(np.diag(r))


def helmert_simplex(K: int, radius: float) -> np.ndarray:
    """Regular simplex of K vectors of norm ``radius`` in R^{K-1}, from the Helmert basis.

    Column k of the (K-1) x K Helmert matrix without its first row has norm sqrt((K-1)/K)
    and inner product -1/K with every other column; rescaling gives norm rho and inner
    products -rho^2/(K-1).
    """
    H = np.zeros((K - 1, K))
    for j in range(1, K):
        H[j - 1, :j] = 1.0
        H[j - 1, j] = -float(j)
        H[j - 1] /= math.sqrt(j * (j + 1))
    return (H.T * math.sqrt(K / (K - 1))) * radius


def labels_with_positives(rng: np.random.Generator, N: int, K: int) -> np.ndarray:
    """Random labels in [0, K) where class 0 has at least two samples."""
    y = rng.integers(0, K, size=N)
    y[:2] = 0
    return rng.permutation(y)


@st.composite
def embeddings(draw, min_n=2, max_n=9, min_h=1, max_h=5):
    n = draw(st.integers(min_n, max_n))
    h = draw(st.integers(min_h, max_h))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([0.3, 1.0, 3.0]))
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, h)) * scale, seed


def graf_batch_loss_loop(Z: np.ndarray, y, batch) -> float:
    """l(Z; B) of THEORY.md section 3 by plain loops over positions (independent oracle)."""
    total = 0.0
    for i in range(len(batch)):
        same = [j for j in range(len(batch)) if j != i and y[batch[j]] == y[batch[i]]]
        if not same:
            continue
        zi = Z[batch[i]]
        logits = [float(zi @ Z[batch[k]]) for k in range(len(batch)) if k != i]
        m = max(logits)
        lse = m + math.log(sum(math.exp(v - m) for v in logits))
        total += sum(lse - float(zi @ Z[batch[j]]) for j in same) / len(same)
    return total


def brute_force_sc(Z, y, b, batches) -> float:
    N = len(y)
    if batches == "multiset":
        source = itertools.combinations_with_replacement(range(N), b)
    elif batches == "subset":
        source = itertools.combinations(range(N), b)
    else:
        source = itertools.product(range(N), repeat=b)
    return math.fsum(graf_batch_loss_loop(Z, y, list(B)) for B in source)


# ----------------------------------------------------------------------------- public surface


def test_public_surface_is_small_and_explicit():
    public = {name for name, obj in vars(L).items()
              if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
              and getattr(obj, "__module__", "") == L.__name__}
    assert public == set(L.__all__)
    for name in L.__all__:
        assert getattr(L, name).__doc__, f"{name} has no docstring"


def test_signatures_match_issue_2():
    sig = {name: str(inspect.signature(getattr(L, name))) for name in L.__all__ if name != "SCLossResult"}
    assert sig["cross_entropy"] == "(Z, W, y, l2=0.0)"
    assert sig["supcon"] == ("(Z, y, temperature=1.0, variant='out', reduction='mean', "
                             "drop_anchors_without_positives=True, base_temperature=None, *, block_size=None)")
    assert sig["sc_loss"].startswith("(Z, y, b, batches='multiset'")
    assert sig["barlow_twins"].startswith("(z1, z2, lambd=0.0051")
    assert sig["vicreg"] == "(z1, z2, sim=25, std=25, cov=1, gamma=1, eps=0.0001)"
    assert sig["alignment"] == "(z1, z2, alpha=2)"
    assert sig["uniformity"] == "(z, t=2)"
    assert sig["sample_contrastive"] == "(K)" and sig["dimension_contrastive"] == "(K)"


def test_docstring_examples_hold():
    result = doctest.testmod(L, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 15 and result.failed == 0


# ----------------------------------------------------------------------------- rotation / permutation


def _all_losses(Z, y, W, Z2, Z3):
    """Every loss evaluated on related inputs, as a dict name -> float."""
    return {
        "cross_entropy": L.cross_entropy(Z, W, y, l2=0.1),
        "supcon_out": L.supcon(Z, y, 0.7),
        "supcon_in": L.supcon(Z, y, 0.7, variant="in"),
        "sc_loss": L.sc_loss(Z[:5], y[:5], 3).value,
        "nt_xent": L.nt_xent(Z, Z2, 0.5),
        "nt_xent_raw": L.nt_xent(Z, Z2, 0.5, normalize=False),
        "dcl": L.dcl(Z, Z2, 0.5),
        "infonce": L.infonce_one_negative(Z, Z2, Z3),
        "alignment": L.alignment(Z, Z2),
        "alignment_1": L.alignment(Z, Z2, alpha=1.0),
        "uniformity": L.uniformity(Z),
        "sample_contrastive": L.sample_contrastive(Z.T),
    }


@SETTINGS
@given(embeddings(min_n=5, min_h=2), st.integers(0, 1000))
def test_invariant_under_common_rotation(data, rot_seed):
    Z, seed = data
    rng = np.random.default_rng(seed + 1)
    N, h = Z.shape
    y = labels_with_positives(rng, N, 3)
    W = rng.normal(size=(3, h))
    Z2, Z3 = Z + 0.3 * rng.normal(size=Z.shape), rng.normal(size=Z.shape)
    R = rotation(h, rot_seed)
    before = _all_losses(Z, y, W, Z2, Z3)
    after = _all_losses(Z @ R, y, W @ R, Z2 @ R, Z3 @ R)
    for name in before:
        assert np.isclose(after[name], before[name], rtol=1e-9, atol=1e-9), name


@SETTINGS
@given(embeddings(min_n=5, min_h=2), st.integers(0, 1000))
def test_invariant_under_permutation_of_samples(data, perm_seed):
    Z, seed = data
    rng = np.random.default_rng(seed + 2)
    N, h = Z.shape
    y = labels_with_positives(rng, N, 3)
    W = rng.normal(size=(3, h))
    Z2, Z3 = Z + 0.3 * rng.normal(size=Z.shape), rng.normal(size=Z.shape)
    perm = np.random.default_rng(perm_seed).permutation(N)
    before = _all_losses(Z, y, W, Z2, Z3)
    after = _all_losses(Z[perm], y[perm], W, Z2[perm], Z3[perm])
    # sc_loss is computed on the first five samples, so permute within those only.
    perm5 = np.random.default_rng(perm_seed).permutation(5)
    before["sc_loss"] = L.sc_loss(Z[:5], y[:5], 3).value
    after["sc_loss"] = L.sc_loss(Z[:5][perm5], y[:5][perm5], 3).value
    for name in before:
        assert np.isclose(after[name], before[name], rtol=1e-9, atol=1e-9), name
    # per-anchor terms move with their anchor
    terms = L.supcon(Z, y, 0.7, reduction="none")
    assert np.allclose(L.supcon(Z[perm], y[perm], 0.7, reduction="none"), terms[perm], rtol=1e-10, atol=1e-12)


@SETTINGS
@given(embeddings(min_n=3, max_n=12, min_h=2, max_h=5), st.integers(0, 10_000))
def test_feature_losses_rotation_and_permutation(data, seed2):
    """Barlow Twins and VICReg are permutation invariant in samples, and symmetric in
    permuting feature dimensions jointly; VICReg's sim term is rotation invariant."""
    Z, seed = data
    rng = np.random.default_rng(seed2)
    Z2 = Z + 0.5 * rng.normal(size=Z.shape)
    perm_rows = rng.permutation(Z.shape[0])
    perm_cols = rng.permutation(Z.shape[1])
    for fn in (L.barlow_twins, L.vicreg, L.vicreg_exp, L.vicreg_ctr):
        kwargs = {"eps": 1e-5} if fn is L.barlow_twins else {}
        base = fn(Z, Z2, **kwargs)
        assert np.isclose(fn(Z[perm_rows], Z2[perm_rows], **kwargs), base, rtol=1e-9, atol=1e-10), fn.__name__
        assert np.isclose(fn(Z[:, perm_cols], Z2[:, perm_cols], **kwargs), base, rtol=1e-9, atol=1e-10), fn.__name__
    # dimension_contrastive is invariant under a rotation acting on samples (right side)
    R = rotation(Z.shape[0], seed2)
    K = Z.T
    assert np.isclose(L.dimension_contrastive(K @ R), L.dimension_contrastive(K), rtol=1e-9, atol=1e-9)


@SETTINGS
@given(embeddings(min_n=3, max_n=10, min_h=1, max_h=4), st.integers(0, 10_000))
def test_barlow_twins_invariant_to_per_dimension_affine_maps(data, seed2):
    Z, _ = data
    rng = np.random.default_rng(seed2)
    Z2 = Z + 0.5 * rng.normal(size=Z.shape)
    h = Z.shape[1]
    scale1, scale2 = np.exp(rng.normal(size=h)), np.exp(rng.normal(size=h))  # positive scales
    shift1, shift2 = rng.normal(size=h) * 5, rng.normal(size=h) * 5
    base = L.barlow_twins(Z, Z2)
    moved = L.barlow_twins(Z * scale1 + shift1, Z2 * scale2 + shift2)
    assert np.isclose(moved, base, rtol=1e-8, atol=1e-9)
    # a negative scale flips the sign of F_00, so (1 - F_00)^2 changes: the scale must be > 0
    flip = np.ones(h)
    flip[0] = -1.0
    corr00 = np.corrcoef(Z[:, 0], Z2[:, 0])[0, 1]
    if abs(corr00) > 1e-3:
        assert not np.isclose(L.barlow_twins(Z * flip, Z2), base, rtol=1e-9, atol=0)


# ----------------------------------------------------------------------------- supcon variants


@SETTINGS
@given(embeddings(min_n=3, max_n=10), st.integers(0, 10_000), st.floats(0.05, 5.0))
def test_supcon_in_is_at_most_out_by_jensen(data, seed2, temperature):
    Z, _ = data
    rng = np.random.default_rng(seed2)
    y = labels_with_positives(rng, Z.shape[0], 3)
    t_in = L.supcon(Z, y, temperature, variant="in", reduction="none")
    t_out = L.supcon(Z, y, temperature, variant="out", reduction="none")
    assert np.all(t_in <= t_out + 1e-10 * (1 + np.abs(t_out)))
    # anchors with exactly one positive: the average over positives is trivial, so equal
    one_positive = np.array([np.sum(y == y[i]) == 2 for i in range(len(y))])
    assert np.allclose(t_in[one_positive], t_out[one_positive], rtol=1e-12, atol=1e-12)


def test_supcon_in_equals_out_when_positive_similarities_are_equal():
    # two collapsed classes: every anchor sees identical similarities to all its positives
    Z = np.array([[1.0, 0.2]] * 3 + [[-0.5, 1.0]] * 3)
    y = np.array([0, 0, 0, 1, 1, 1])
    assert np.isclose(L.supcon(Z, y, 0.3, variant="in"), L.supcon(Z, y, 0.3, variant="out"), rtol=1e-14)
    # and strictly below when they differ
    Z2 = Z + np.array([[0.0, 0.0], [0.5, 0.0], [0.0, -0.7], [0, 0], [0, 0], [0, 0]])
    assert L.supcon(Z2, y, 0.3, variant="in") < L.supcon(Z2, y, 0.3, variant="out") - 1e-3


def test_supcon_reductions_and_anchor_conventions():
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(7, 3))
    y = np.array([0, 0, 1, 1, 1, 2, 3])  # classes 2 and 3 are singletons: no positives
    terms = L.supcon(Z, y, 0.5, reduction="none")
    assert terms.shape == (7,) and terms[5] == 0.0 and terms[6] == 0.0 and np.all(terms[:5] > 0)
    assert np.isclose(L.supcon(Z, y, 0.5, reduction="sum"), terms.sum(), rtol=1e-14)
    assert np.isclose(L.supcon(Z, y, 0.5), terms.sum() / 5, rtol=1e-14)
    assert np.isclose(L.supcon(Z, y, 0.5, drop_anchors_without_positives=False), terms.sum() / 7, rtol=1e-14)
    # reference-code scaling: temperature / base_temperature on every term
    assert np.isclose(L.supcon(Z, y, 0.5, base_temperature=0.07), terms.sum() / 5 * 0.5 / 0.07, rtol=1e-14)
    # sum over no anchors is 0 (graf2021's empty sum); the mean over no anchors is an error
    assert L.supcon(Z[[0, 2, 5]], [0, 1, 2], reduction="sum") == 0.0
    with pytest.raises(ValueError, match="`y` of `supcon`"):
        L.supcon(Z[[0, 2, 5]], [0, 1, 2])


@SETTINGS
@given(embeddings(min_n=2, max_n=8), st.integers(0, 10_000))
def test_supcon_out_sum_at_unit_temperature_is_grafs_batch_term(data, seed2):
    Z, _ = data
    rng = np.random.default_rng(seed2)
    y = rng.integers(0, 3, size=Z.shape[0])
    ours = L.supcon(Z, y, 1.0, variant="out", reduction="sum")
    assert np.isclose(ours, graf_batch_loss_loop(Z, y, list(range(len(y)))), rtol=1e-10, atol=1e-12)


@SETTINGS
@given(embeddings(min_n=3, max_n=8, max_h=4), st.integers(0, 10_000))
def test_nt_xent_is_supcon_with_pair_labels(data, seed2):
    z1, _ = data
    z2 = z1 + np.random.default_rng(seed2).normal(size=z1.shape)
    N = z1.shape[0]
    labels = np.concatenate([np.arange(N), np.arange(N)])
    both = np.concatenate([z1, z2])
    assert np.isclose(L.nt_xent(z1, z2, 0.4, normalize=False), L.supcon(both, labels, 0.4), rtol=1e-12)
    # DCL drops the positive from the denominator, so it is below NT-Xent
    assert L.dcl(z1, z2, 0.4) < L.nt_xent(z1, z2, 0.4)


# ----------------------------------------------------------------------------- dtypes and backends


@SETTINGS
@given(embeddings(min_n=4, max_n=8, min_h=2, max_h=4), st.integers(0, 10_000))
def test_float32_inputs_agree_with_float64_of_the_same_values(data, seed2):
    Z, _ = data
    rng = np.random.default_rng(seed2)
    Z32 = Z.astype(np.float32)
    Z2_32 = (Z + rng.normal(size=Z.shape)).astype(np.float32)
    Z64, Z2_64 = Z32.astype(np.float64), Z2_32.astype(np.float64)
    y = labels_with_positives(rng, Z.shape[0], 2)
    W32 = rng.normal(size=(2, Z.shape[1])).astype(np.float32)
    pairs = [
        (L.cross_entropy(Z32, W32, y), L.cross_entropy(Z64, W32.astype(np.float64), y)),
        (L.supcon(Z32, y, 0.1), L.supcon(Z64, y, 0.1)),
        (L.nt_xent(Z32, Z2_32, 0.1), L.nt_xent(Z64, Z2_64, 0.1)),
        (L.barlow_twins(Z32, Z2_32, eps=1e-5), L.barlow_twins(Z64, Z2_64, eps=1e-5)),
        (L.vicreg(Z32, Z2_32), L.vicreg(Z64, Z2_64)),
        (L.uniformity(Z32), L.uniformity(Z64)),
        (L.sample_contrastive(Z32), L.sample_contrastive(Z64)),
    ]
    for ours32, ours64 in pairs:
        assert isinstance(ours32, np.float64)
        # float32 inputs are computed in float64: identical to the float64 copy of the values
        assert ours32 == ours64
    # and close to the original float64 values (only input rounding differs)
    assert np.isclose(L.supcon(Z32, y, 0.5), L.supcon(Z, y, 0.5), rtol=1e-5, atol=1e-5)
    # torch tensors keep their dtype (the fused SupCon): float32 in, float32 out, close to
    # the float64 value of the same inputs (bound documented in supcon, tested in test_losses_fused)
    t32 = torch.tensor(Z32, requires_grad=True)
    out = L.supcon(t32, y, 0.1)
    assert out.dtype == torch.float32 and np.isclose(out.item(), L.supcon(Z64, y, 0.1), rtol=1e-5, atol=1e-5)
    out.backward()
    assert t32.grad is not None and t32.grad.dtype == torch.float32 and torch.isfinite(t32.grad).all()


def test_torch_numpy_and_mpmath_agree_and_gradients_flow():
    rng = np.random.default_rng(11)
    Z, Z2, Z3 = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    y = np.array([0, 0, 1, 1, 2, 2])
    W = rng.normal(size=(3, 3))
    calls = {
        "cross_entropy": lambda a, b, c, w: L.cross_entropy(a, w, y, l2=0.3),
        "supcon": lambda a, b, c, w: L.supcon(a, y, 0.5),
        "supcon_in": lambda a, b, c, w: L.supcon(a, y, 0.5, variant="in", base_temperature=0.07),
        "sc_loss": lambda a, b, c, w: L.sc_loss(a, y, 3, "subset").value,
        "sc_loss_ordered": lambda a, b, c, w: L.sc_loss(a, y, 3, "ordered").value,
        "sc_loss_monte_carlo": lambda a, b, c, w: L.sc_loss(a, y, 4, method="monte-carlo", n_samples=30).value,
        "nt_xent": lambda a, b, c, w: L.nt_xent(a, b, 0.5),
        "infonce_one_negative": lambda a, b, c, w: L.infonce_one_negative(a, b, c),
        "dcl": lambda a, b, c, w: L.dcl(a, b, 0.5),
        "barlow_twins": lambda a, b, c, w: L.barlow_twins(a, b),
        "vicreg": lambda a, b, c, w: L.vicreg(a, b),
        "vicreg_exp": lambda a, b, c, w: L.vicreg_exp(a, b, temperature=0.5),
        "vicreg_ctr": lambda a, b, c, w: L.vicreg_ctr(a, b, temperature=0.5),
        "sample_contrastive": lambda a, b, c, w: L.sample_contrastive(a),
        "dimension_contrastive": lambda a, b, c, w: L.dimension_contrastive(a),
        "alignment": lambda a, b, c, w: L.alignment(a, b, alpha=1.5),
        "uniformity": lambda a, b, c, w: L.uniformity(a),
    }
    for name, call in calls.items():
        value_np = call(Z, Z2, Z3, W)
        tensors = [torch.tensor(v, requires_grad=True) for v in (Z, Z2, Z3, W)]
        value_t = call(*tensors)
        assert isinstance(value_t, torch.Tensor) and value_t.ndim == 0, name
        assert np.isclose(value_t.item(), float(value_np), rtol=1e-12, atol=1e-12), name
        value_t.backward()
        assert tensors[0].grad is not None and torch.isfinite(tensors[0].grad).all(), name
        with mpmath.workdps(40):
            value_mp = call(*(xp.to_mp(v) for v in (Z, Z2, Z3, W)))
            assert isinstance(value_mp, mpmath.mpf), name
            assert abs(float(value_mp) - float(value_np)) <= 1e-10 * (1 + abs(float(value_np))), name


def test_torch_gradients_are_correct_and_twice_differentiable():
    rng = np.random.default_rng(5)
    Z = torch.tensor(rng.normal(size=(5, 3)), requires_grad=True)
    y = np.array([0, 0, 1, 1, 1])
    for variant in ("out", "in"):
        assert torch.autograd.gradcheck(lambda z: L.supcon(z, y, 0.7, variant=variant), (Z,))
        assert torch.autograd.gradgradcheck(lambda z: L.supcon(z, y, 0.7, variant=variant), (Z,))
    z2 = torch.tensor(rng.normal(size=(5, 3)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: L.nt_xent(a, b, 0.5), (Z, z2))
    assert torch.autograd.gradcheck(lambda a, b: L.barlow_twins(a, b), (Z, z2))
    assert torch.autograd.gradcheck(lambda a, b: L.vicreg(a, b), (Z, z2))
    assert torch.autograd.gradcheck(lambda a: L.sc_loss(a, y, 3).value, (Z,))


def test_mixed_numpy_and_torch_views_follow_torch():
    rng = np.random.default_rng(0)
    a = torch.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    b = rng.normal(size=(4, 3))
    out = L.nt_xent(a, b, 0.5)
    assert isinstance(out, torch.Tensor) and np.isclose(out.item(), L.nt_xent(a.detach().numpy(), b, 0.5))


# ----------------------------------------------------------------------------- identities of garrido2023 / huang2023


@SETTINGS
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 10_000))
def test_duality_identity_of_sample_and_dimension_contrastive(M, N, seed):
    K = np.random.default_rng(seed).normal(size=(M, N))
    lhs = L.dimension_contrastive(K) + np.sum(np.sum(K**2, axis=1) ** 2)
    rhs = L.sample_contrastive(K) + np.sum(np.sum(K**2, axis=0) ** 2)
    assert np.isclose(lhs, rhs, rtol=1e-10)


@SETTINGS
@given(embeddings(min_n=2, max_n=8, min_h=2, max_h=5))
def test_infonce_decomposition_on_the_sphere(data):
    Z, seed = data
    rng = np.random.default_rng(seed)
    unit = lambda A: A / np.linalg.norm(A, axis=1, keepdims=True)  # noqa: E731
    f1, f2, fn = unit(Z), unit(Z + 0.3 * rng.normal(size=Z.shape)), unit(rng.normal(size=Z.shape))
    l1 = 0.5 * L.alignment(f1, f2) - 1
    l2 = np.mean(np.logaddexp(np.sum(f1 * f2, 1), np.sum(f1 * fn, 1)))
    assert np.isclose(L.infonce_one_negative(f1, f2, fn), l1 + l2, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- sc_loss: exact values


def test_sc_loss_reference_value_at_the_simplex():
    K, n = 3, 2
    y = np.repeat(np.arange(K), n)
    Z = helmert_simplex(K, 1.0)[y]
    # the construction really is the rho = 1 simplex
    G = helmert_simplex(K, 1.0) @ helmert_simplex(K, 1.0).T
    assert np.allclose(G, (K / (K - 1)) * (np.eye(K) - 1.0 / K), atol=1e-15)
    result = L.sc_loss(Z, y, 9, "multiset")
    assert result.method == "exact" and result.n_batches == math.comb(14, 9) == 2002
    assert result.standard_error == 0.0
    assert abs(result.value - 25205.688636803963) <= 1e-9 * 25205.688636803963
    assert np.isclose(result.mean * result.n_batches, result.value, rtol=1e-15)


@pytest.mark.parametrize("batches", ["multiset", "subset", "ordered"])
@pytest.mark.parametrize("case", ["simplex", "random"])
def test_sc_loss_exact_equals_brute_force_enumeration(batches, case):
    rng = np.random.default_rng(7)
    if case == "simplex":
        y = np.array([0, 0, 1, 1])
        Z = helmert_simplex(2, 1.3)[y]
        Z = np.hstack([Z, np.zeros((4, 1))])  # embed in h = 2 > K - 1
    else:
        y = np.array([0, 1, 0, 2, 1])
        Z = rng.normal(size=(5, 3))
    for b in (2, 3, 4):
        if batches == "subset" and b > len(y):
            continue
        result = L.sc_loss(Z, y, b, batches, method="exact")
        expected = brute_force_sc(Z, y, b, batches)
        assert result.n_batches == {"multiset": math.comb(len(y) + b - 1, b), "subset": math.comb(len(y), b),
                                    "ordered": len(y) ** b}[batches]
        assert abs(result.value - expected) <= 1e-12 * max(1.0, abs(expected)), (batches, b)


def test_sc_loss_per_batch_term_matches_supcon_on_the_batch():
    rng = np.random.default_rng(2)
    Z, y = rng.normal(size=(4, 2)), np.array([0, 1, 1, 0])
    # one batch set with a single member: all subsets of size N
    assert np.isclose(L.sc_loss(Z, y, 4, "subset").value, L.supcon(Z, y, 1.0, reduction="sum"), rtol=1e-13)
    # a multiset with repeated indices: repeated positions are distinct positions
    batch = [0, 0, 3, 1]
    assert np.isclose(L.supcon(Z[batch], y[batch], 1.0, reduction="sum"), graf_batch_loss_loop(Z, y, batch), rtol=1e-12)


@pytest.mark.parametrize("batches", ["multiset", "subset", "ordered"])
def test_sc_loss_monte_carlo_is_unbiased_and_seeded(batches):
    rng = np.random.default_rng(1)
    y = np.array([0, 0, 1, 1, 2, 2, 0])
    Z = rng.normal(size=(7, 3))
    exact = L.sc_loss(Z, y, 4, batches)
    estimates = [L.sc_loss(Z, y, 4, batches, method="monte-carlo", n_samples=3000, seed=s) for s in range(6)]
    for est in estimates:
        assert est.method == "monte-carlo" and est.n_batches == exact.n_batches and est.standard_error > 0
        assert np.isclose(est.value, est.mean * est.n_batches, rtol=1e-14)
    # the average of independent estimates is within 4 standard errors of the exact value
    pooled = np.mean([e.value for e in estimates])
    pooled_se = math.sqrt(sum(e.standard_error**2 for e in estimates)) / len(estimates)
    assert abs(pooled - exact.value) <= 4 * pooled_se
    # the standard error is the right size: spread of estimates vs reported error
    spread = np.std([e.value for e in estimates], ddof=1)
    assert 0.2 < spread / np.mean([e.standard_error for e in estimates]) < 3.0
    again = L.sc_loss(Z, y, 4, batches, method="monte-carlo", n_samples=3000, seed=0)
    assert again.value == estimates[0].value


def test_sc_loss_auto_switch_and_limits():
    rng = np.random.default_rng(0)
    Z, y = rng.normal(size=(6, 2)), np.array([0, 0, 1, 1, 2, 2])
    assert L.sc_loss(Z, y, 3, max_batches=56).method == "exact"  # C(8, 3) = 56 multisets
    assert L.sc_loss(Z, y, 3, max_batches=55, n_samples=50).method == "monte-carlo"
    with pytest.raises(ValueError, match="max_batches"):
        L.sc_loss(Z, y, 3, method="exact", max_batches=55)
    # ordered tuples are enumerated through their multisets
    res = L.sc_loss(Z, y, 3, "ordered")
    assert res.n_batches == 216 and res.n_evaluated == 56
    # large batch sets: the count is exact, the total overflows but the mean stays finite
    big = L.sc_loss(np.repeat(Z, 50, axis=0), np.repeat(y, 50), 200, "ordered", n_samples=20)
    assert big.n_batches == 300**200 and big.method == "monte-carlo"
    assert math.isinf(big.value) and math.isfinite(big.mean)
    assert np.isclose(big.log_n_batches, 200 * math.log(300))
    assert float(L.sc_loss(Z, y, 2)) == float(L.sc_loss(Z, y, 2).value)
