"""Streaming geometry metrics, encoders and objectives of theorycheck.empirical.

The metrics are checked on exact regular-simplex configurations (closed-form values),
on known non-simplex ones, and against the batch implementations of
``theorycheck.geometry`` on random data (an independent reference); the loss gaps against
``theorycheck.bounds`` at configurations where the bound is attained.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as hst

from theorycheck import InvalidArgumentError
from theorycheck.bounds import ce_lower_bound, sc_minimum
from theorycheck.empirical.metrics import (
    GeometryTracker,
    NearestClassMeanAgreement,
    ce_loss_gap,
    expected_batch_loss,
    geometry_summary,
    sc_loss_gap,
)
from theorycheck.empirical.models import MLP, ResNet18, SmallCNN, SphereProjection, build_encoder
from theorycheck.empirical.objectives import CrossEntropyObjective, SupConObjective, make_objective
from theorycheck.geometry import (
    class_mean_cosine_statistics,
    distance_to_collapsed_simplex,
    neural_collapse,
    regular_simplex,
    sample_class_mean_similarity,
    simplex_gram,
)
from theorycheck.losses import cross_entropy, supcon


def _rotation(h: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(h, h)))
    return q


# -- exact simplex and known non-simplex configurations -------------------------------------

@pytest.mark.parametrize("K, h, rho", [(2, 1, 1.0), (3, 2, 2.0), (10, 12, 1.5), (5, 4, 0.3)])
def test_collapsed_simplex_gives_the_closed_form_values(K, h, rho):
    zeta = regular_simplex(K, h, rho) @ _rotation(h, K)
    y = np.tile(np.arange(K), 4)
    W = 2.5 * zeta / rho  # a classifier aligned with the simplex
    m = geometry_summary(zeta[y], y, K, classifier=W)
    assert m["n"] == 4 * K
    assert abs(m["cos_mean"] - (-1 / (K - 1))) < 1e-12 and m["cos_max_dev"] < 1e-12
    assert abs(m["angular_mean"] - (1 - math.acos(-1 / (K - 1)) / math.pi)) < 1e-12
    assert abs(m["sample_mean_similarity"] - 1.0) < 1e-12
    assert m["simplex_distance"] < 1e-12 and m["collapsed_simplex_distance"] < 1e-12
    assert m["nc1"] < 1e-20 and m["nc2_equinorm"] < 1e-12 and m["nc2_equiangular_dev"] < 1e-12
    assert m["nc3"] < 1e-12 and m["nc4"] == 0.0 and m["ncc_accuracy"] == 1.0 and m["train_accuracy"] == 1.0
    assert abs(m["max_norm"] - rho) < 1e-12
    # graf2021.ce.equality: at the collapsed simplex with W aligned, CE equals its bound
    gap = ce_loss_gap(m["ce_loss"], K, rho, m["w_norm"], balanced=True)
    assert abs(gap["ce_gap"]) < 1e-12
    assert gap["ce_bound"] == pytest.approx(math.log1p((K - 1) * math.exp(-rho * 2.5 * K / (K - 1))), rel=1e-12)


def test_orthogonal_class_means_are_not_a_simplex():
    K = 4
    means = 3.0 * np.eye(K)
    y = np.repeat(np.arange(K), 3)
    m = geometry_summary(means[y], y, K)
    assert abs(m["cos_mean"]) < 1e-15 and abs(m["cos_max_dev"] - 1 / 3) < 1e-15
    # Gram 9 I vs the nearest simplex Gram c (I - 11^T/K) K/(K-1): sin of the angle between them
    G, Q = 9 * np.eye(K), simplex_gram(K)
    c = np.sum(G * Q) / np.sum(Q * Q)
    assert m["simplex_distance"] == pytest.approx(np.linalg.norm(G - c * Q) / np.linalg.norm(G), rel=1e-12)
    # centring turns the orthogonal frame into a simplex: NC2 is 0 although graf2021's raw cosines are not
    assert m["nc2_equiangular_dev"] < 1e-12 and m["nc1"] < 1e-20
    assert m["nc3"] is None and m["nc4"] is None


def test_within_class_spread_shows_in_nc1_and_sample_similarity():
    K, h = 3, 2
    zeta = regular_simplex(K, h)
    y = np.repeat(np.arange(K), 2)
    # each class: two points at angles +-t around its simplex vertex, same norm
    t = 0.3
    rot = lambda a: np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])  # noqa: E731
    Z = np.stack([zeta[k] @ rot(s * t).T for k in range(K) for s in (1, -1)])
    m = geometry_summary(Z, y, K)
    # every sample is at angle t from its class mean, which points at the vertex
    assert m["sample_mean_similarity"] == pytest.approx(math.cos(t), abs=1e-12)
    assert m["cos_max_dev"] < 1e-12  # the means still form a simplex
    # Sigma_W = sin(t)^2 e e^T (per class, along the tangent); NC1 = Tr(Sigma_W Sigma_B^+)/K
    assert m["nc1"] > 0.01
    ref = neural_collapse(Z, y, K=K)
    assert m["nc1"] == pytest.approx(ref.nc1, rel=1e-10)


@settings(max_examples=25)
@given(K=hst.integers(2, 6), h=hst.integers(1, 7), per=hst.integers(2, 5), seed=hst.integers(0, 2**16),
       global_mean=hst.sampled_from(["class-means", "samples"]), chunks=hst.integers(1, 4))
def test_streaming_metrics_match_geometry_on_random_data(K, h, per, seed, global_mean, chunks):
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.arange(K), rng.integers(0, K, size=K * (per - 1))])  # every class, imbalanced
    Z = rng.normal(size=(y.size, h)) + rng.normal(size=(K, h))[y] * 2
    W = rng.normal(size=(K, h))
    tracker = GeometryTracker(K, classifier=W, global_mean=global_mean)
    order = rng.permutation(y.size)
    for part in np.array_split(order, chunks):  # streamed in pieces, in any order
        tracker.update(torch.as_tensor(Z[part]), torch.as_tensor(y[part]))
    m = tracker.compute()
    second = NearestClassMeanAgreement(tracker.class_means(), classifier=W)
    second.update(Z, y)
    m.update(second.compute())
    ref = neural_collapse(Z, y, W, K=K, global_mean=global_mean)
    assert m["nc1"] == pytest.approx(ref.nc1, rel=1e-7, abs=1e-12)
    assert m["nc2_equinorm"] == pytest.approx(ref.nc2_equinorm, rel=1e-9, abs=1e-12)
    if h > 1 or K == 2:
        assert m["nc2_equiangular_dev"] == pytest.approx(ref.nc2_equiangular_dev, rel=1e-9, abs=1e-12)
    assert m["nc3"] == pytest.approx(ref.nc3, rel=1e-9, abs=1e-12)
    assert m["nc4"] == pytest.approx(ref.nc4, abs=1e-12)
    cs = class_mean_cosine_statistics(Z, y, K)
    assert m["cos_mean"] == pytest.approx(cs.cos_mean, abs=1e-12)
    assert m["cos_max_dev"] == pytest.approx(cs.cos_max_dev, abs=1e-12)
    assert m["sample_mean_similarity"] == pytest.approx(sample_class_mean_similarity(Z, y, K).mean, abs=1e-12)
    assert m["collapsed_simplex_distance"] == pytest.approx(distance_to_collapsed_simplex(Z, y, K=K), abs=1e-9)
    assert m["ce_loss"] == pytest.approx(float(cross_entropy(Z, W, y)), rel=1e-12)
    assert m["train_accuracy"] == pytest.approx(np.mean(np.argmax(Z @ W.T, 1) == y))
    nearest = np.argmin(((Z[:, None, :] - tracker.class_means()[None]) ** 2).sum(-1), axis=1)
    assert m["ncc_accuracy"] == pytest.approx(np.mean(nearest == y))


def test_tracker_reset_and_errors():
    t = GeometryTracker(3)
    with pytest.raises(InvalidArgumentError, match="called at least once"):
        t.compute()
    t.update(np.eye(3)[[0, 1]], [0, 1])
    with pytest.raises(InvalidArgumentError, match=r"no samples of class\(es\) \[2\]"):
        t.compute()
    with pytest.raises(InvalidArgumentError, match=r"shape \(batch, 3\)"):
        t.update(np.ones((2, 4)), [0, 1])
    with pytest.raises(InvalidArgumentError, match=r"labels in \[0, 3\)"):
        t.update(np.ones((1, 3)), [3])
    with pytest.raises(InvalidArgumentError, match="finite"):
        t.update(np.full((1, 3), np.nan), [0])
    t.reset()
    t.update(np.eye(3), [0, 1, 2])
    assert t.compute()["n"] == 3
    with pytest.raises(InvalidArgumentError, match="num_classes"):
        GeometryTracker(1)


# -- loss gaps against the closed forms --------------------------------------------------------

@pytest.mark.parametrize("replacement", [True, False])
def test_sc_gap_is_zero_in_expectation_at_the_collapsed_simplex(replacement):
    K, per, b, rho = 4, 6, 8, 1.3
    zeta = regular_simplex(K, K, rho)
    y = np.repeat(np.arange(K), per)
    mean, se = expected_batch_loss(torch.as_tensor(zeta[y]), y, b, replacement=replacement, num_batches=400, seed=1)
    gap = sc_loss_gap(mean, se, y.size, K, b, rho, replacement=replacement, balanced=True)
    batches = "ordered" if replacement else "subset"
    assert gap["sc_batches"] == batches
    assert gap["sc_minimum"] == pytest.approx(sc_minimum(y.size, K, b, rho, batches).mean_per_batch)
    assert abs(gap["sc_gap"]) < 4 * se  # Monte-Carlo mean of l(Z; B) at the minimiser
    # away from the simplex the gap is clearly positive
    noisy = zeta[y] + np.random.default_rng(0).normal(scale=0.5, size=zeta[y].shape)
    mean2, se2 = expected_batch_loss(noisy, y, b, replacement=replacement, num_batches=200, seed=1, radius=rho)
    assert mean2 - gap["sc_minimum"] > 4 * se2


def test_expected_batch_loss_is_supcon_sum_on_the_drawn_batches():
    rng = np.random.default_rng(3)
    Z, y = rng.normal(size=(10, 3)), np.array([0, 1] * 5)
    mean, _ = expected_batch_loss(Z, y, 10, replacement=False, num_batches=3, seed=0)
    # without replacement and b = N every batch is the whole set (in some order)
    assert mean == pytest.approx(float(supcon(Z, y, temperature=1.0, reduction="sum")), rel=1e-12)
    with pytest.raises(InvalidArgumentError, match="batch_size"):
        expected_batch_loss(Z, y, 11, replacement=False)


def test_sc_gap_needs_balanced_labels():
    out = sc_loss_gap(5.0, 0.1, 10, 3, 4, 1.0, replacement=True, balanced=False)
    assert out["sc_gap"] is None and "not balanced" in out["sc_note"]


def test_ce_gap_is_positive_off_the_simplex():
    rng = np.random.default_rng(0)
    K, h = 3, 4
    Z = rng.normal(size=(30, h))
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    y = np.repeat(np.arange(K), 10)
    W = rng.normal(size=(K, h))
    m = geometry_summary(Z, y, K, classifier=W)
    gap = ce_loss_gap(m["ce_loss"], K, 1.0, np.linalg.norm(W), balanced=True)
    assert gap["ce_gap"] > 0 and gap["ce_bound"] == pytest.approx(float(ce_lower_bound(K, 1.0, np.linalg.norm(W))))


# -- encoders ------------------------------------------------------------------------------------

def test_encoders_map_inputs_to_h_dimensional_features():
    torch.manual_seed(0)
    assert MLP(64, 16)(torch.rand(5, 64)).shape == (5, 16)
    assert MLP(64, 16)(torch.rand(5, 1, 8, 8)).shape == (5, 16)  # images are flattened
    for size in (8, 28, 32):
        assert SmallCNN(3, 10, width=8)(torch.rand(2, 3, size, size)).shape == (2, 10)
    net = ResNet18(3).eval()
    with torch.no_grad():
        assert net(torch.rand(1, 3, 32, 32)).shape == (1, 512)
    # the CIFAR variant: a 3x3 stride-1 stem and no max-pool (11.17M parameters)
    stem = net.stem[0]
    assert stem.kernel_size == (3, 3) and stem.stride == (1, 1)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in net.modules())
    assert sum(p.numel() for p in net.parameters()) == 11_168_832
    with torch.no_grad():
        assert ResNet18(1, out_dim=20).eval()(torch.rand(1, 1, 16, 16)).shape == (1, 20)


def test_sphere_projection_puts_features_on_the_sphere():
    z = torch.randn(7, 5, dtype=torch.float64) * 10
    out = SphereProjection(2.5)(z)
    assert torch.allclose(out.norm(dim=1), torch.full((7,), 2.5, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(out / 2.5, z / z.norm(dim=1, keepdim=True))
    enc = build_encoder("mlp", (4,), 3, radius=0.5)
    assert torch.allclose(enc(torch.rand(3, 4)).norm(dim=1), torch.full((3,), 0.5), atol=1e-6)
    with pytest.raises(InvalidArgumentError, match="radius"):
        SphereProjection(0.0)


def test_build_encoder_errors():
    with pytest.raises(InvalidArgumentError, match="'mlp' for vector data"):
        build_encoder("cnn", (64,), 8)
    with pytest.raises(InvalidArgumentError, match="`model` of `build_encoder`"):
        build_encoder("vit", (3, 32, 32), 8)


# -- objectives ------------------------------------------------------------------------------------

def test_ce_fix_classifier_is_an_exact_fixed_regular_simplex():
    obj = CrossEntropyObjective(10, 12, fixed=True, weight_radius=2.0)
    W = obj.classifier.double().numpy()
    np.testing.assert_allclose(W @ W.T, simplex_gram(10, 2.0), atol=1e-6)  # float32 storage
    assert not list(obj.parameters())  # nothing to train
    assert "weight" in dict(obj.named_buffers())
    z, y = torch.randn(6, 12, requires_grad=True), torch.tensor([0, 1, 2, 3, 4, 5])
    loss = obj(z, y)
    loss.backward()
    assert loss.dtype == torch.float64 and z.grad is not None
    assert float(loss.detach()) == pytest.approx(float(cross_entropy(z.detach(), obj.classifier, y)), rel=1e-12)
    with pytest.raises(InvalidArgumentError, match=">= K - 1 = 9"):
        CrossEntropyObjective(10, 8, fixed=True)


def test_trainable_ce_and_supcon_objectives():
    ce = CrossEntropyObjective(3, 4, seed=1)
    assert [n for n, _ in ce.named_parameters()] == ["weight"]
    z, y = torch.randn(6, 4), torch.tensor([0, 0, 1, 1, 2, 2])
    assert float(ce(z, y).detach()) == pytest.approx(float(cross_entropy(z, ce.weight.detach(), y)), rel=1e-12)
    sc = SupConObjective(temperature=0.25, feature_radius=1.0, reduction="sum")
    assert sc.effective_radius == pytest.approx(2.0)
    u = torch.nn.functional.normalize(z, dim=1)
    # temperature tau on unit features == temperature 1 on the sphere of radius 1/sqrt(tau)
    assert float(sc(u, y)) == pytest.approx(float(supcon(2.0 * u, y, temperature=1.0, reduction="sum")), rel=1e-12)


def test_make_objective_radius_conventions_and_errors():
    obj, radius = make_objective("supcon", 10, 16, rho=2.0)
    assert radius == 2.0 and obj.temperature == 1.0 and obj.effective_radius == 2.0
    obj, radius = make_objective("supcon", 10, 16, temperature=0.1)
    assert radius == 1.0 and obj.effective_radius == pytest.approx(math.sqrt(10))
    obj, radius = make_objective("ce", 10, 16)
    assert radius is None and obj.has_classifier
    with pytest.raises(InvalidArgumentError, match="give one of them"):
        make_objective("supcon", 10, 16, rho=1.0, temperature=0.5)
    with pytest.raises(InvalidArgumentError, match="only for loss 'supcon'"):
        make_objective("ce-fix", 10, 16, temperature=0.5)
    with pytest.raises(InvalidArgumentError, match="`loss` of `make_objective`"):
        make_objective("mse", 10, 16)


@pytest.mark.parametrize("batch", [1, 3, 7, 64])
def test_streamed_scatter_equals_the_direct_within_class_scatter(batch):
    # Far from the origin, the old raw-moment formula lost about half the digits; the
    # merged scatter must match the two-pass computation to rounding level.
    rng = np.random.default_rng(batch)
    K, h = 4, 5
    y = rng.integers(0, K, size=60)
    y[:K] = np.arange(K)
    Z = 1e3 + rng.normal(size=(60, h))
    t = GeometryTracker(K)
    for start in range(0, 60, batch):
        t.update(Z[start:start + batch], y[start:start + batch])
    means = np.stack([Z[y == k].mean(axis=0) for k in range(K)])
    E = Z - means[y]
    np.testing.assert_allclose(t.scatter.numpy(), E.T @ E, rtol=1e-9, atol=1e-9)


def test_collapsed_features_give_a_rounding_level_distance_in_any_batching():
    zeta = regular_simplex(5, 4, 0.3) @ _rotation(4, 5)
    y = np.tile(np.arange(5), 9)
    t = GeometryTracker(5)
    for start in range(0, y.size, 4):
        t.update(zeta[y[start:start + 4]], y[start:start + 4])
    # the raw-moment accumulation gave 1.05e-8 here (the square root of its cancellation error)
    assert t.compute()["collapsed_simplex_distance"] < 1e-13
