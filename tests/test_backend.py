"""theorycheck.backend: the same call gives the same number in float64 numpy, torch and mpmath."""

from __future__ import annotations

import doctest

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as hst
from hypothesis.extra.numpy import arrays

from theorycheck import backend as xp

finite = hst.floats(-50, 50, allow_nan=False, allow_infinity=False)
matrices = arrays(np.float64, hst.tuples(hst.integers(1, 4), hst.integers(1, 5)), elements=finite)


def _three(x: np.ndarray):
    return x, torch.tensor(x, dtype=torch.float64), xp.to_mp(x)


@pytest.mark.parametrize("fn", ["exp", "log1p", "abs", "sqrt"])
@given(x=matrices)
def test_elementwise_functions_agree(fn, x):
    if fn in ("log1p", "sqrt"):
        x = np.abs(x)
    a, t, m = (getattr(xp, fn)(v) for v in _three(x))
    # atol: torch's CPU kernels may flush subnormal results (log1p(5e-324)) to zero
    np.testing.assert_allclose(xp.to_numpy(t), a, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(xp.to_numpy(m), a, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("axis", [None, 0, 1])
@given(x=matrices)
def test_reductions_and_logsumexp_agree(axis, x):
    for name in ("sum", "max", "min", "mean", "logsumexp"):
        a, t, m = (getattr(xp, name)(v, axis=axis) for v in _three(x))
        np.testing.assert_allclose(xp.to_numpy(t), a, rtol=1e-13, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(xp.to_numpy(m), a, rtol=1e-13, atol=1e-12, err_msg=name)


def test_logsumexp_does_not_overflow_and_keeps_autograd():
    big = np.array([1000.0, 1000.0])
    assert xp.logsumexp(big) == pytest.approx(1000.0 + np.log(2.0), rel=1e-15)
    with mpmath.workdps(60):
        exact = xp.logsumexp(xp.to_mp(big))
        assert abs(exact - (1000 + mpmath.log(2))) < mpmath.mpf(10) ** -55
    t = torch.tensor(big, requires_grad=True)
    xp.logsumexp(t).backward()
    np.testing.assert_allclose(t.grad.numpy(), [0.5, 0.5])


def test_constants_follow_the_number_system_of_like():
    assert isinstance(xp.scalar(0.1, xp.to_mp(np.zeros(1))), mpmath.mpf)
    # exact conversion: the mp constant is the binary64 number the float search used
    assert xp.scalar(0.1, xp.to_mp(np.zeros(1))) == mpmath.mpf(0.1)
    t = xp.scalar([1.0, 2.0], torch.zeros(1, dtype=torch.float32))
    assert t.dtype == torch.float32 and t.tolist() == [1.0, 2.0]
    assert xp.scalar(2.0, np.zeros(1)) == np.float64(2.0)
    eye = xp.eye_like(xp.to_mp(np.zeros(1)), 3)
    assert eye.dtype == object and xp.to_numpy(eye).tolist() == np.eye(3).tolist()


def test_where_mixes_number_systems_of_its_branches():
    cond = np.array([True, False])
    out = xp.where(cond, torch.tensor([1.0, 2.0], dtype=torch.float64), 0.0)
    assert torch.is_tensor(out) and out.tolist() == [1.0, 0.0]
    out = xp.where(cond, xp.to_mp(np.array([1.0, 2.0])), np.array([5.0, 6.0]))
    assert xp.kind(out) == "mp" and xp.to_numpy(out).tolist() == [1.0, 6.0]


def test_module_examples_run():
    assert doctest.testmod(xp).failed == 0
