"""theorycheck.losses against independent implementations.

* pytorch-metric-learning (another library): ``SupConLoss`` and ``NTXentLoss``, in float64,
  to 1e-10, in the settings where the definitions agree (docs/losses.md lists the
  differences; the tests below also pin the differences down).
* Transcriptions of the reference training code of each loss, written here in plain torch
  (SupContrast, Barlow Twins, VICReg, wang2020's align/uniform), and plain loops for the rest.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from pytorch_metric_learning.distances import DotProductSimilarity
from pytorch_metric_learning.losses import NTXentLoss, SupConLoss
from pytorch_metric_learning.reducers import DoNothingReducer

import theorycheck.losses as L

SETTINGS = settings(max_examples=30)
TOL = 1e-10


def close(a, b, tol=TOL) -> bool:
    a, b = float(a), float(b)
    return abs(a - b) <= tol * max(1.0, abs(b))


@st.composite
def labelled(draw, max_n=24, max_classes=6):
    """Random float64 embeddings and labels; singletons (anchors without positives) allowed."""
    n = draw(st.integers(2, max_n))
    h = draw(st.integers(1, 8))
    k = draw(st.integers(2, max_classes))
    seed = draw(st.integers(0, 2**32 - 1))
    temperature = draw(st.sampled_from([0.05, 0.1, 0.3, 1.0, 2.5]))
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, h)) * rng.uniform(0.2, 3.0)
    y = rng.integers(0, k, size=n)
    return torch.tensor(Z), torch.tensor(y), temperature


# ----------------------------------------------------------------------------- pytorch-metric-learning


@SETTINGS
@given(labelled())
def test_supcon_matches_pml_supconloss(data):
    Z, y, temperature = data
    pos = (y[:, None] == y[None, :]).sum() > len(y)  # at least one positive pair
    neg = (y[:, None] != y[None, :]).any()  # at least one negative pair
    pml_cos = SupConLoss(temperature=temperature)(Z, y)
    pml_dot = SupConLoss(temperature=temperature, distance=DotProductSimilarity(normalize_embeddings=False))(Z, y)
    if not (pos and neg):
        # PML returns 0 when a batch has no positive pair or no negative pair.
        assert float(pml_cos) == 0.0 and float(pml_dot) == 0.0
        return
    # PML: cosine similarity (rows normalized), mean over anchors with positives
    # (AvgNonZeroReducer), no base-temperature scaling.
    for inputs, distance, pml_value in ((F.normalize(Z, dim=1), None, pml_cos),
                                        (Z, DotProductSimilarity(normalize_embeddings=False), pml_dot)):
        kwargs = {} if distance is None else {"distance": distance}
        ours_terms = L.supcon(inputs, y, temperature, reduction="none")
        pml_terms = SupConLoss(temperature=temperature, reducer=DoNothingReducer(), **kwargs)(inputs, y)
        pml_terms = pml_terms["loss"]["losses"]
        # per anchor: the same number, to the rounding of logits as large as max|<z_i, z_j>|/tau
        scale = float((inputs @ inputs.T).abs().max()) / temperature
        assert torch.allclose(ours_terms, pml_terms, rtol=TOL, atol=1e-13 * max(1.0, scale)), (ours_terms, pml_terms)
        ours = L.supcon(inputs, y, temperature)
        has_positive = (y[:, None] == y[None, :]).sum(dim=1) > 1
        if bool((pml_terms[has_positive] != 0).all()):
            assert close(ours, pml_value), (float(ours), float(pml_value))
        else:
            # PML's AvgNonZeroReducer also drops anchors whose term is exactly 0.0 in float (all
            # the softmax mass on the positives: far negatives at small tau); we average over
            # every anchor with a positive (test_supcon_and_pml_differ_exactly_where_documented)
            kept = pml_terms[pml_terms != 0]
            assert close(pml_value, kept.mean() if kept.numel() else 0.0)  # none kept: PML gives 0
            assert close(ours, ours_terms[has_positive].mean())


def test_supcon_and_pml_differ_exactly_where_documented():
    rng = np.random.default_rng(0)
    Z = torch.tensor(rng.normal(size=(5, 3)))
    one_class = torch.zeros(5, dtype=torch.long)
    # one class, so no negatives: PML short-circuits to 0, the definition gives a positive value
    assert float(SupConLoss(temperature=0.5)(Z, one_class)) == 0.0
    assert float(L.supcon(F.normalize(Z, dim=1), one_class, 0.5)) > 0.1
    # anchors without positives: PML averages over the others (our default); the reference
    # SupCon code counts them as 0 in the mean (drop_anchors_without_positives=False)
    y = torch.tensor([0, 0, 1, 1, 2])
    Zn = F.normalize(Z, dim=1)
    pml = float(SupConLoss(temperature=0.5)(Z, y))
    assert close(L.supcon(Zn, y, 0.5), pml)
    assert close(L.supcon(Zn, y, 0.5, drop_anchors_without_positives=False), pml * 4 / 5)
    # PML's reducer also drops anchors whose term rounds to 0.0 (far negatives, small tau)
    Zc = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, -1.0]], dtype=torch.float64)
    yc = torch.tensor([0, 0, 1, 1])
    terms = L.supcon(Zc, yc, 1e-3, reduction="none")
    assert terms[0] == 0.0 and terms[1] == 0.0 and terms[2] > 1000
    assert close(SupConLoss(temperature=1e-3)(Zc, yc), terms[2])
    assert close(L.supcon(Zc, yc, 1e-3), terms.mean())


@SETTINGS
@given(st.integers(1, 12), st.integers(1, 8), st.integers(0, 2**32 - 1), st.sampled_from([0.05, 0.2, 0.5, 1.0]))
def test_nt_xent_matches_pml_ntxentloss(n, h, seed, temperature):
    rng = np.random.default_rng(seed)
    z1 = torch.tensor(rng.normal(size=(n, h)))
    z2 = torch.tensor(rng.normal(size=(n, h)) + 0.5 * z1.numpy())
    labels = torch.arange(n)
    pml = NTXentLoss(temperature=temperature)(torch.cat([z1, z2]), torch.cat([labels, labels]))
    ours = L.nt_xent(z1, z2, temperature)
    if n == 1:
        # one pair: no negatives, PML returns 0; the definition gives -log(e^s / e^s) = 0 too,
        # up to the rounding of logits of size 1/temperature (a few ulps of 20 at tau = 0.05)
        assert float(pml) == 0.0 and abs(float(ours)) <= 8 * np.finfo(np.float64).eps / temperature
        return
    assert close(ours, pml), (float(ours), float(pml))


# ----------------------------------------------------------------------------- reference-code transcriptions


def supcontrast_reference(features, labels, temperature, base_temperature):
    """The SupContrast repository's SupConLoss (one view, contrast_mode='all'), transcribed."""
    n = features.shape[0]
    mask = (labels[:, None] == labels[None, :]).double()
    logits = features @ features.T / temperature
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    not_self = 1.0 - torch.eye(n, dtype=torch.float64)
    mask = mask * not_self
    log_prob = logits - torch.log((torch.exp(logits) * not_self).sum(1, keepdim=True))
    positives = mask.sum(1)
    positives = torch.where(positives < 1e-6, torch.ones_like(positives), positives)
    mean_log_prob_pos = (mask * log_prob).sum(1) / positives
    return (-(temperature / base_temperature) * mean_log_prob_pos).mean()


@SETTINGS
@given(labelled(max_n=16))
def test_supcon_matches_the_supcontrast_reference_code(data):
    Z, y, temperature = data
    Zn = F.normalize(Z, dim=1)
    expected = supcontrast_reference(Zn, y, temperature, 0.07)
    ours = L.supcon(Zn, y, temperature, drop_anchors_without_positives=False, base_temperature=0.07)
    assert close(ours, expected)


def _lse(values) -> float:
    m = max(values)
    return m + math.log(sum(math.exp(v - m) for v in values))


@SETTINGS
@given(labelled(max_n=12))
def test_supcon_variants_match_plain_loops(data):
    Z, y, temperature = data
    Zn, y = Z.numpy(), y.numpy()
    out_terms, in_terms = [], []
    for i in range(len(y)):
        positives = [j for j in range(len(y)) if j != i and y[j] == y[i]]
        if not positives:
            continue
        log_denominator = _lse([Zn[i] @ Zn[k] / temperature for k in range(len(y)) if k != i])
        log_probs = [Zn[i] @ Zn[j] / temperature - log_denominator for j in positives]
        out_terms.append(-sum(log_probs) / len(log_probs))
        in_terms.append(-(_lse(log_probs) - math.log(len(log_probs))))
    if not out_terms:
        return
    scale = 1.0 + float(np.max(np.abs(Zn @ Zn.T))) / temperature  # size of the logits
    assert abs(L.supcon(Zn, y, temperature, reduction="sum") - sum(out_terms)) <= 1e-12 * scale * len(y)
    assert abs(L.supcon(Zn, y, temperature, variant="in") - np.mean(in_terms)) <= 1e-12 * scale


def batch_norm_reference(z, eps):
    """nn.BatchNorm1d(d, affine=False) in training mode: batch mean, biased batch variance."""
    return (z - z.mean(dim=0)) / torch.sqrt(z.var(dim=0, unbiased=False) + eps)


def test_batch_norm_reference_is_torch_batchnorm():
    z = torch.tensor(np.random.default_rng(0).normal(size=(7, 3)) * 3 + 1)
    bn = torch.nn.BatchNorm1d(3, affine=False).double().train()
    assert torch.allclose(bn(z), batch_norm_reference(z, bn.eps), rtol=1e-13, atol=1e-13)


@SETTINGS
@given(st.integers(2, 16), st.integers(1, 8), st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.0051, 1.0]))
def test_barlow_twins_matches_the_reference_code(n, d, seed, lambd):
    rng = np.random.default_rng(seed)
    z1 = torch.tensor(rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + rng.normal(size=d))
    z2 = torch.tensor(rng.normal(size=(n, d)) + z1.numpy())
    bn_eps = 1e-5
    c = batch_norm_reference(z1, bn_eps).T @ batch_norm_reference(z2, bn_eps) / n
    on_diag = (torch.diagonal(c) - 1).pow(2).sum()
    off_diag = (c - torch.diag(torch.diagonal(c))).pow(2).sum()
    expected = on_diag + lambd * off_diag
    assert close(L.barlow_twins(z1, z2, lambd, eps=bn_eps), expected)


@SETTINGS
@given(st.integers(2, 16), st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_vicreg_matches_the_reference_code(n, d, seed):
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.normal(size=(n, d)) * rng.uniform(0.1, 2.0))
    y = torch.tensor(rng.normal(size=(n, d)) * 0.5 + x.numpy())
    repr_loss = F.mse_loss(x, y)
    xc, yc = x - x.mean(dim=0), y - y.mean(dim=0)
    std_x, std_y = torch.sqrt(xc.var(dim=0) + 1e-4), torch.sqrt(yc.var(dim=0) + 1e-4)
    std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
    cov_x, cov_y = xc.T @ xc / (n - 1), yc.T @ yc / (n - 1)
    off = 1 - torch.eye(d, dtype=torch.float64)
    cov_loss = ((cov_x * off) ** 2).sum() / d + ((cov_y * off) ** 2).sum() / d
    expected = 25 * repr_loss + 25 * std_loss + 1 * cov_loss
    assert close(L.vicreg(x, y), expected)


def c_exp_loop(X: np.ndarray, tau: float) -> float:
    """garrido2023's c_exp with the unbiased covariance of the columns of X (rows = samples)."""
    n, d = X.shape
    mean = X.mean(axis=0)
    C = [[sum((X[r, i] - mean[i]) * (X[r, j] - mean[j]) for r in range(n)) / (n - 1) for j in range(d)] for i in range(d)]
    return sum(math.log(sum(math.exp(C[i][j] / tau) for j in range(d) if j != i)) for i in range(d)) / d


def variance_hinge_loop(X: np.ndarray, gamma: float, eps: float) -> float:
    n, d = X.shape
    out = 0.0
    for k in range(d):
        col = X[:, k]
        var = sum((v - col.mean()) ** 2 for v in col) / (n - 1)
        out += max(0.0, gamma - math.sqrt(var + eps))
    return out / d


@pytest.mark.parametrize("seed", range(4))
def test_vicreg_exp_and_ctr_match_plain_loops(seed):
    rng = np.random.default_rng(seed)
    n, d, tau = 6, 4, 0.7
    a = rng.normal(size=(n, d)) * 0.6
    b = a + 0.3 * rng.normal(size=(n, d))
    inv = float(np.mean((a - b) ** 2))
    exp_expected = (25 * inv + 25 * (variance_hinge_loop(a, 1, 1e-4) + variance_hinge_loop(b, 1, 1e-4)) / 2
                    + 1 * (c_exp_loop(a, tau) + c_exp_loop(b, tau)))
    ctr_expected = (25 * inv + 25 * (variance_hinge_loop(a.T, 1, 1e-4) + variance_hinge_loop(b.T, 1, 1e-4)) / 2
                    + 1 * (c_exp_loop(a.T, tau) + c_exp_loop(b.T, tau)))
    assert close(L.vicreg_exp(a, b, temperature=tau), exp_expected)
    assert close(L.vicreg_ctr(a, b, temperature=tau), ctr_expected)


@SETTINGS
@given(st.integers(2, 12), st.integers(1, 6), st.integers(0, 2**32 - 1), st.sampled_from([0.5, 1.0, 2.0, 3.0]))
def test_alignment_and_uniformity_match_wang2020_reference_code(n, h, seed, alpha):
    rng = np.random.default_rng(seed)
    x = F.normalize(torch.tensor(rng.normal(size=(n, h))), dim=1)
    y = F.normalize(torch.tensor(rng.normal(size=(n, h))) + x, dim=1)
    align = (x - y).norm(p=2, dim=1).pow(alpha).mean()
    uniform = torch.pdist(x, p=2).pow(2).mul(-2).exp().mean().log()
    assert close(L.alignment(x, y, alpha=alpha), align)
    assert close(L.uniformity(x), uniform, 1e-9)


@SETTINGS
@given(st.integers(1, 12), st.integers(2, 6), st.integers(1, 6), st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.01, 1.0]))
def test_cross_entropy_matches_torch(n, k, h, seed, l2):
    rng = np.random.default_rng(seed)
    Z, W = torch.tensor(rng.normal(size=(n, h)) * 2), torch.tensor(rng.normal(size=(k, h)))
    y = torch.tensor(rng.integers(0, k, size=n))
    expected = F.cross_entropy(Z @ W.T, y) + l2 * (W**2).sum()
    assert close(L.cross_entropy(Z, W, y, l2=l2), expected)


@SETTINGS
@given(st.integers(2, 8), st.integers(1, 5), st.integers(0, 2**32 - 1), st.sampled_from([0.1, 0.5, 1.0]))
def test_infonce_and_dcl_match_plain_loops(n, h, seed, tau):
    rng = np.random.default_rng(seed)
    f1, f2, fn = (rng.normal(size=(n, h)) for _ in range(3))
    expected = np.mean([-math.log(math.exp(f1[i] @ f2[i]) / (math.exp(f1[i] @ f2[i]) + math.exp(f1[i] @ fn[i])))
                        for i in range(n)])
    assert close(L.infonce_one_negative(f1, f2, fn), expected)
    u = np.concatenate([f1, f2])
    u = u / np.linalg.norm(u, axis=1, keepdims=True)
    terms = []
    for i in range(2 * n):
        p = (i + n) % (2 * n)
        negatives = sum(math.exp(u[i] @ u[k] / tau) for k in range(2 * n) if k not in (i, p))
        terms.append(-math.log(math.exp(u[i] @ u[p] / tau) / negatives))
    assert close(L.dcl(f1, f2, tau), np.mean(terms))


@SETTINGS
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_sample_and_dimension_contrastive_match_plain_loops(M, N, seed):
    K = np.random.default_rng(seed).normal(size=(M, N))
    lc = sum((K[:, i] @ K[:, j]) ** 2 for i in range(N) for j in range(N) if i != j)
    lnc = sum((K[i] @ K[j]) ** 2 for i in range(M) for j in range(M) if i != j)
    assert close(L.sample_contrastive(K), lc)
    assert close(L.dimension_contrastive(K), lnc)
