"""Numerical stability: temperatures down to 1e-4, sphere radius 100, float32 inputs.

Every float result is compared with a 50-digit mpmath evaluation of the same inputs: an
independent mpmath loop for supcon, the closed-form minimum of graf2021 for sc_loss at the
simplex, and theorycheck's own functions on mpmath object arrays for the rest.
Tolerances scale with the size of the logits (|<z_i, z_j>| / tau): that is the condition of
the problem in float64, not slack in the implementation.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import theorycheck.losses as L
from theorycheck import backend as xp

TEMPERATURES = [1.0, 1e-1, 1e-2, 1e-3, 1e-4]
DPS = 50


def unit_rows(rng, n, h, dtype=np.float64):
    Z = rng.normal(size=(n, h))
    return (Z / np.linalg.norm(Z, axis=1, keepdims=True)).astype(dtype)


def supcon_mpmath_loop(Z, y, temperature, variant):
    """Mean over anchors with positives of L_out / L_in, by plain loops at DPS digits."""
    with mpmath.workdps(DPS):
        Zm = [[mpmath.mpf(float(v)) for v in row] for row in Z]
        tau = mpmath.mpf(temperature)
        dot = lambda a, b: mpmath.fsum(p * q for p, q in zip(a, b)) / tau  # noqa: E731
        terms = []
        for i in range(len(y)):
            positives = [j for j in range(len(y)) if j != i and y[j] == y[i]]
            if not positives:
                continue
            log_den = mpmath.log(mpmath.fsum(mpmath.exp(dot(Zm[i], Zm[k])) for k in range(len(y)) if k != i))
            log_probs = [dot(Zm[i], Zm[j]) - log_den for j in positives]
            if variant == "out":
                terms.append(-mpmath.fsum(log_probs) / len(log_probs))
            else:
                terms.append(-mpmath.log(mpmath.fsum(mpmath.exp(v) for v in log_probs) / len(log_probs)))
        return mpmath.fsum(terms) / len(terms)


def logit_scale(Z, temperature) -> float:
    Z = np.asarray(Z, dtype=np.float64)
    return 1.0 + float(np.max(np.abs(Z @ Z.T))) / temperature


@settings(max_examples=12)
@given(st.integers(3, 8), st.integers(2, 5), st.integers(0, 2**32 - 1),
       st.sampled_from(TEMPERATURES), st.sampled_from(["out", "in"]), st.sampled_from(["float64", "float32"]))
def test_supcon_small_temperatures_agree_with_mpmath(n, h, seed, temperature, variant, dtype):
    rng = np.random.default_rng(seed)
    Z = unit_rows(rng, n, h, np.dtype(dtype))
    y = rng.integers(0, 2, size=n)
    y[:2] = 0
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        ours = L.supcon(Z, y, temperature, variant=variant)
    exact = supcon_mpmath_loop(Z, y, temperature, variant)
    assert np.isfinite(ours)
    assert abs(ours - float(exact)) <= 1e-13 * logit_scale(Z, temperature) * n


@pytest.mark.parametrize("temperature", TEMPERATURES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_supcon_every_small_temperature_and_dtype(temperature, dtype):
    rng = np.random.default_rng(12)
    Z = unit_rows(rng, 6, 3, np.dtype(dtype))
    y = np.array([0, 0, 0, 1, 1, 2])
    for variant in ("out", "in"):
        ours = L.supcon(Z, y, temperature, variant=variant)
        exact = supcon_mpmath_loop(Z, y, temperature, variant)
        assert np.isfinite(ours) and abs(ours - float(exact)) <= 1e-13 * logit_scale(Z, temperature) * 6


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_supcon_torch_gradients_stay_finite(temperature):
    rng = np.random.default_rng(1)
    y = np.array([0, 0, 0, 1, 1, 2])
    for dtype in (torch.float64, torch.float32):
        Z = torch.tensor(unit_rows(rng, 6, 3), dtype=dtype, requires_grad=True)
        for variant in ("out", "in"):
            Z.grad = None
            loss = L.supcon(Z, y, temperature, variant=variant)
            loss.backward()
            assert torch.isfinite(loss) and torch.isfinite(Z.grad).all()
        for fn in (L.nt_xent, L.dcl):
            Z.grad = None
            fn(Z[:3], Z[3:], temperature).backward()
            assert torch.isfinite(Z.grad).all()


def test_sphere_of_radius_100_equals_temperature_1e_minus_4():
    rng = np.random.default_rng(2)
    Z = unit_rows(rng, 7, 4)
    y = np.array([0, 0, 1, 1, 1, 2, 2])
    on_big_sphere = L.supcon(100 * Z, y, 1.0)
    at_small_temperature = L.supcon(Z, y, 1e-4)
    assert np.isfinite(on_big_sphere)
    assert abs(on_big_sphere - at_small_temperature) <= 1e-12 * logit_scale(Z, 1e-4)
    assert abs(on_big_sphere - float(supcon_mpmath_loop(100 * Z, y, 1.0, "out"))) <= 1e-12 * logit_scale(Z, 1e-4)


def simplex(K: int, radius: float) -> np.ndarray:
    """Regular simplex in R^{K-1} (Helmert basis), rows of norm ``radius``."""
    H = np.zeros((K - 1, K))
    for j in range(1, K):
        H[j - 1, :j] = 1.0
        H[j - 1, j] = -float(j)
        H[j - 1] /= math.sqrt(j * (j + 1))
    return (H.T * math.sqrt(K / (K - 1))) * radius


def sc_minimum_closed_form(N, K, b, rho):
    """graf2021.sc.minimum, multiset batches, evaluated at DPS digits."""
    n = N // K
    with mpmath.workdps(DPS):
        q = mpmath.exp(-mpmath.mpf(rho) ** 2 * K / (K - 1))
        return sum(l * K * math.comb(n + l - 1, l) * math.comb(N - n + b - l - 1, b - l) * mpmath.log(l - 1 + (b - l) * q)
                   for l in range(2, b + 1))


@pytest.mark.parametrize("rho", [1.0, 10.0, 100.0])
def test_sc_loss_at_the_simplex_matches_the_closed_form_minimum_at_large_radius(rho):
    N, K, b = 6, 3, 5
    y = np.repeat(np.arange(K), N // K)
    Z = simplex(K, rho)[y]
    result = L.sc_loss(Z, y, b, "multiset")
    expected = sc_minimum_closed_form(N, K, b, rho)
    assert np.isfinite(result.value)
    assert abs(result.value - float(expected)) <= 1e-12 * float(expected) + 1e-12 * rho**2 * result.n_batches
    with mpmath.workdps(DPS):
        high = L.sc_loss(xp.to_mp(Z), y, b, "multiset").value
        assert isinstance(high, mpmath.mpf)
        # at 50 digits the only error left is the float rounding of the simplex itself
        assert abs(high - expected) <= mpmath.mpf(1e-12) * (1 + abs(expected))


@settings(max_examples=10)
@given(st.integers(2, 6), st.integers(2, 4), st.integers(0, 2**32 - 1), st.sampled_from(TEMPERATURES),
       st.sampled_from(["float64", "float32"]))
def test_two_view_losses_at_small_temperature_agree_with_mpmath(n, h, seed, temperature, dtype):
    rng = np.random.default_rng(seed)
    z1 = unit_rows(rng, n, h, np.dtype(dtype))
    z2 = unit_rows(rng, n, h, np.dtype(dtype))
    scale = logit_scale(np.concatenate([z1, z2]), temperature)
    calls = [
        lambda a, b: L.nt_xent(a, b, temperature),
        lambda a, b: L.dcl(a, b, temperature),
        lambda a, b: L.vicreg_exp(a, b, temperature=temperature),
        lambda a, b: L.vicreg_ctr(a, b, temperature=temperature),
    ]
    for call in calls:
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            ours = call(z1, z2)
        with mpmath.workdps(DPS):
            exact = call(xp.to_mp(z1), xp.to_mp(z2))
        assert np.isfinite(ours)
        assert abs(ours - float(exact)) <= 1e-12 * scale


def test_cross_entropy_with_huge_logits_agrees_with_mpmath():
    rng = np.random.default_rng(3)
    Z = 100 * unit_rows(rng, 5, 3)
    W = 100 * unit_rows(rng, 4, 3)
    y = np.array([0, 1, 2, 3, 0])
    ours = L.cross_entropy(Z, W, y, l2=1e-3)
    with mpmath.workdps(DPS):
        exact = L.cross_entropy(xp.to_mp(Z), xp.to_mp(W), y, l2=1e-3)
        loop = mpmath.fsum(
            mpmath.log(mpmath.fsum(mpmath.exp(mpmath.fsum(mpmath.mpf(a) * mpmath.mpf(b) for a, b in zip(Z[i], W[k])))
                                   for k in range(4)))
            - mpmath.fsum(mpmath.mpf(a) * mpmath.mpf(b) for a, b in zip(Z[i], W[y[i]]))
            for i in range(5)) / 5 + mpmath.mpf(1e-3) * mpmath.fsum(mpmath.mpf(v) ** 2 for v in W.flat)
        assert abs(exact - loop) < mpmath.mpf(10) ** (-40)
    assert np.isfinite(ours) and abs(ours - float(exact)) <= 1e-12 * 1e4


def test_infonce_uniformity_and_barlow_twins_stay_finite_at_extremes():
    f = np.array([[100.0, 0.0], [0.0, 100.0]])
    g = -f
    # gap of 2e4: log(1 + e^{2e4}) = 2e4 (+ e^{-2e4}), no overflow
    assert L.infonce_one_negative(f, g, f) == pytest.approx(2e4, rel=1e-15)
    assert L.infonce_one_negative(f, f, g) == pytest.approx(0.0, abs=1e-300)
    # uniformity with very large t: log-mean of e^{-t d^2} = -t d^2 - 0 for one pair
    assert L.uniformity(np.array([[1.0, 0.0], [-1.0, 0.0]]), t=1e4) == pytest.approx(-4e4, rel=1e-15)
    rng = np.random.default_rng(4)
    z = rng.normal(size=(6, 3))
    with mpmath.workdps(DPS):
        exact = L.uniformity(xp.to_mp(z), t=500.0)
    assert abs(L.uniformity(z, t=500.0) - float(exact)) <= 1e-12 * 500 * float(np.max(np.sum(z**2, 1))) * 4
    # Barlow Twins on columns of tiny spread (variance ~1e-200) is still finite with eps = 0,
    # and standardization makes it equal to the same data at unit scale
    zt = rng.normal(size=(5, 2))
    zt2 = zt + rng.normal(size=(5, 2))
    tiny = L.barlow_twins(1e-100 * zt, 1e-100 * zt2)
    assert np.isfinite(tiny) and tiny == pytest.approx(L.barlow_twins(zt, zt2), rel=1e-12)


@settings(max_examples=10)
@given(st.integers(2, 5), st.integers(2, 5), st.integers(0, 2**32 - 1))
def test_float32_inputs_agree_with_mpmath_for_feature_losses(n, d, seed):
    rng = np.random.default_rng(seed)
    z1 = (rng.normal(size=(n, d)) * 3).astype(np.float32)
    z2 = (z1 + rng.normal(size=(n, d))).astype(np.float32)
    for fn in (L.barlow_twins, L.vicreg, L.sample_contrastive, L.dimension_contrastive, L.alignment):
        args = (z1,) if fn in (L.sample_contrastive, L.dimension_contrastive) else (z1, z2)
        ours = fn(*args)
        with mpmath.workdps(DPS):
            exact = fn(*(xp.to_mp(a) for a in args))
        assert np.isfinite(ours) and abs(ours - float(exact)) <= 1e-9 * (1 + abs(float(exact))), fn.__name__
