"""VICReg (theorycheck.losses.vicreg) against pytorch-metric-learning's VICRegLoss.

Where the conventions agree the two must give the same number: PML's VICRegLoss with its
default MeanReducer computes

    invariance_lambda * mean_n mean_k (z1 - z2)^2
    + variance_mu * [mean_k relu(1 - std(z1)_k) / 2 + mean_k relu(1 - std(z2)_k) / 2]
    + covariance_v * [sum_{i != j} C(z1)_ij^2 / d + sum_{i != j} C(z2)_ij^2 / d],

std with the unbiased variance plus eps under the root, C the unbiased covariance -- the
reference code's conventions, which theorycheck.losses.vicreg follows (sim, std, cov =
invariance_lambda, variance_mu, covariance_v).

Documented differences, each checked below:

* PML has no ``gamma``: its hinge target is fixed at 1. For gamma != 1 the two differ by
  exactly ``std * (v_gamma - v_1)`` with v the averaged hinge, computed here by a loop;
* one sample (N = 1): the unbiased variance is 0/0; PML returns NaN, theorycheck raises
  InvalidArgumentError naming ``z1``;
* float32 input: PML computes in float32, theorycheck always in float64 (agreement to
  float32 precision only);
* PML needs torch tensors and takes the second view as ``ref_emb``; theorycheck takes numpy
  arrays, torch tensors (keeping autograd) or mpmath arrays.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as hst
from pytorch_metric_learning.losses import VICRegLoss

from theorycheck import losses as L
from theorycheck._validation import InvalidArgumentError


def _pml(z1, z2, **kwargs) -> float:
    return float(VICRegLoss(**kwargs)(torch.as_tensor(z1), ref_emb=torch.as_tensor(z2)))


@settings(max_examples=40)
@given(seed=hst.integers(0, 2**32 - 1), N=hst.integers(2, 24), d=hst.integers(1, 9),
       scale=hst.sampled_from([0.05, 0.5, 1.0, 3.0]), correlated=hst.booleans())
def test_vicreg_matches_pml_with_reference_constants(seed, N, d, scale, correlated):
    rng = np.random.default_rng(seed)
    z1 = scale * rng.standard_normal((N, d))
    z2 = z1 + 0.1 * rng.standard_normal((N, d)) if correlated else scale * rng.standard_normal((N, d))
    assert L.vicreg(z1, z2) == pytest.approx(_pml(z1, z2), rel=1e-12, abs=1e-12)


@settings(max_examples=25)
@given(seed=hst.integers(0, 2**32 - 1), sim=hst.floats(0, 50), std=hst.floats(0, 50), cov=hst.floats(0, 5),
       eps=hst.sampled_from([1e-6, 1e-4, 1e-2]))
def test_vicreg_matches_pml_for_any_weights_and_eps(seed, sim, std, cov, eps):
    rng = np.random.default_rng(seed)
    z1, z2 = rng.standard_normal((8, 5)) * 0.7, rng.standard_normal((8, 5)) * 0.7
    ours = L.vicreg(z1, z2, sim=sim, std=std, cov=cov, eps=eps)
    theirs = _pml(z1, z2, invariance_lambda=sim, variance_mu=std, covariance_v=cov, eps=eps)
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12)


def test_gradients_agree_with_pml():
    rng = np.random.default_rng(3)
    a = torch.tensor(rng.standard_normal((10, 4)), requires_grad=True)
    b = torch.tensor(rng.standard_normal((10, 4)), requires_grad=True)
    ours = L.vicreg(a, b)
    g_ours = torch.autograd.grad(ours, (a, b))
    theirs = VICRegLoss()(a, ref_emb=b)
    g_theirs = torch.autograd.grad(theirs, (a, b))
    for x, y in zip(g_ours, g_theirs):
        assert torch.allclose(x, y, rtol=1e-10, atol=1e-12)


def _hinge(z: np.ndarray, gamma: float, eps: float) -> float:
    """mean_k relu(gamma - sqrt(var_k + eps)), unbiased variance, by a plain loop."""
    N, d = z.shape
    total = 0.0
    for k in range(d):
        col = z[:, k]
        mean = sum(col) / N
        var = sum((v - mean) ** 2 for v in col) / (N - 1)
        total += max(0.0, gamma - math.sqrt(var + eps))
    return total / d


@pytest.mark.parametrize("gamma", [0.5, 2.0, 4.0])
def test_gamma_is_the_documented_difference(gamma):
    rng = np.random.default_rng(11)
    z1, z2 = rng.standard_normal((12, 6)), 1.5 * rng.standard_normal((12, 6))
    diff = L.vicreg(z1, z2, gamma=gamma) - _pml(z1, z2)
    expected = 25 * ((_hinge(z1, gamma, 1e-4) + _hinge(z2, gamma, 1e-4)) / 2
                     - (_hinge(z1, 1.0, 1e-4) + _hinge(z2, 1.0, 1e-4)) / 2)
    assert diff == pytest.approx(expected, rel=1e-10, abs=1e-12)
    assert abs(diff) > 1e-3  # the difference is real, not rounding


def test_single_sample_is_nan_in_pml_and_an_error_here():
    z = np.ones((1, 3))
    with pytest.warns(UserWarning, match="degrees of freedom"):  # torch's var() with one sample
        assert math.isnan(_pml(z, z))
    with pytest.raises(InvalidArgumentError, match="`z1`"):
        L.vicreg(z, z)


def test_float32_agrees_to_float32_precision():
    rng = np.random.default_rng(5)
    a32 = rng.standard_normal((16, 8)).astype(np.float32)
    b32 = rng.standard_normal((16, 8)).astype(np.float32)
    ours = L.vicreg(a32, b32)  # computed in float64 from the float32 values
    theirs = float(VICRegLoss()(torch.from_numpy(a32), ref_emb=torch.from_numpy(b32)))
    assert ours == pytest.approx(theirs, rel=1e-5)
    assert ours == pytest.approx(_pml(a32.astype(np.float64), b32.astype(np.float64)), rel=1e-12)
