"""High-precision confirmation: exact conversion, the decision rule, the noise floor."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from theorycheck import backend as xp
from theorycheck.engine.claim import Params
from theorycheck.engine.confirm import (
    DEFAULT_DPS,
    confirm_relation,
    mp_evaluate,
    mp_inputs,
    relation_holds_float,
    violation,
)


def test_mp_inputs_are_exact_and_labels_stay_integers():
    with mpmath.workdps(60):
        converted = mp_inputs({"x": np.array([0.1, -2.5]), "y": np.array([0, 2, 1]), "s": np.float64(0.3)})
        assert converted["y"].dtype == np.int64 and converted["y"].tolist() == [0, 2, 1]
        assert isinstance(converted["s"], mpmath.mpf)
        # 0.1 as a binary64 number is 3602879701896397 / 2**55, exactly
        assert converted["x"][0] == mpmath.mpf(3602879701896397) / mpmath.mpf(2) ** 55
        assert converted["x"][1] == mpmath.mpf(-5) / 2


def test_mp_evaluate_computes_at_the_requested_precision():
    value = mp_evaluate(lambda u, p: xp.sum(u * u), {"u": np.array([0.1, 0.2])}, None, dps=60)
    with mpmath.workdps(60):
        exact = (mpmath.mpf(3602879701896397) / 2 ** 55) ** 2 + (mpmath.mpf(3602879701896397) / 2 ** 54) ** 2
        assert isinstance(value, mpmath.mpf)
        assert abs(value - exact) < mpmath.mpf(10) ** -58
    # p is passed when the function takes it, and tuples keep their shape
    pair = mp_evaluate(lambda u, *, p: (xp.sum(u) * p.c, xp.sum(u)), {"u": np.array([1.0, 2.0])},
                       Params(c=2), dps=50)
    assert isinstance(pair, tuple) and pair == (6, 3)


@pytest.mark.parametrize("relation, lhs, rhs, expected", [
    ("==", 1.0, 1.5, 0.5), ("==", 2.0, 1.0, 1.0), ("<=", 2.0, 1.0, 1.0), ("<=", 1.0, 2.0, -1.0),
    ("<", 3.0, 3.0, 0.0), (">=", 1.0, 2.0, 1.0), (">", 2.0, 1.0, -1.0),
])
def test_violation_sign_convention(relation, lhs, rhs, expected):
    assert violation(relation, lhs, rhs) == expected
    assert relation_holds_float(relation, lhs, rhs, rtol=0.0, atol=0.0) is (expected <= 0)


def _cs(u, v, *, p):
    return xp.abs(xp.sum(u * v)), xp.norm(u) * xp.norm(v)


def test_equality_case_of_an_inequality_holds_in_high_precision():
    u = np.array([0.1, 0.2, 0.3])
    conf = confirm_relation(_cs, {"u": u, "v": u}, None, "<=", rtol=1e-9, atol=1e-12)
    assert conf.status == "holds" and conf.precision_digits == DEFAULT_DPS


def test_real_violation_is_confirmed_with_its_margin():
    def broken(u, v, *, p):
        return xp.abs(xp.sum(u * v)), 0.9 * xp.norm(u) * xp.norm(v)

    u = np.array([1.0, 2.0])
    conf = confirm_relation(broken, {"u": u, "v": u}, None, "<=", rtol=1e-9, atol=1e-12)
    assert conf.status == "violated"
    # |<u,u>| - 0.9 ||u||^2 = 0.1 * 5 with 0.9 the binary64 number
    with mpmath.workdps(60):
        expected = 5 - mpmath.mpf(0.9) * 5
    assert conf.margin == pytest.approx(float(expected), rel=1e-15)
    assert conf.lhs == 5.0 and conf.rhs == pytest.approx(4.5)


def test_float_leak_is_undecided_but_short_constants_are_exact():
    def leaky(u, v, *, p):
        return float(xp.abs(xp.sum(u * v))), 0.9 * float(xp.norm(u) * xp.norm(v))

    u = np.array([0.1, 0.7])
    conf = confirm_relation(leaky, {"u": u, "v": u}, None, "<=", rtol=1e-9, atol=1e-12)
    assert conf.status == "undecided" and "float" in conf.reason

    def constant_rhs(x, *, p):
        return x * x, 0.25

    conf = confirm_relation(constant_rhs, {"x": np.float64(0.75)}, None, "<=", rtol=0.0, atol=0.0)
    assert conf.status == "violated" and conf.margin == pytest.approx(0.3125)


def test_precision_dependent_evaluation_is_undecided():
    def unstable(x, *, p):
        # an "mpf" result that really depends on the working precision
        return x + mpmath.mpf(10) ** (-(mpmath.mp.dps // 2)), x

    conf = confirm_relation(unstable, {"x": np.float64(1.0)}, None, "==", rtol=0.0, atol=0.0)
    assert conf.status == "undecided" and "change between" in conf.reason


def test_violation_below_the_float_noise_is_never_confirmed():
    # (x + 1e8) - 1e8 loses ~1e-8 in float64; in mpmath it is exactly x.
    def cancel(x, *, p):
        return (x + 1e8) - 1e8, x - 1e-10

    x = np.float64(0.1)
    lhs_f = float((x + 1e8) - 1e8)
    conf = confirm_relation(cancel, {"x": x}, None, "<=", rtol=0.0, atol=0.0)
    # true violation 1e-10 > 0 = tolerance, but the float computation is off by ~6e-9
    assert abs(lhs_f - 0.1) > 1e-9
    assert conf.status == "undecided" and "float noise" in conf.reason
    assert conf.margin == pytest.approx(1e-10, rel=1e-6)


def test_strict_relation_fails_at_exact_equality():
    conf = confirm_relation(lambda x, *, p: (x * x, 0.0), {"x": np.float64(0.0)}, None, ">", rtol=1e-9,
                            atol=1e-12)
    assert conf.status == "violated" and conf.margin == 0.0


def test_evaluator_that_cannot_run_in_mpmath_is_undecided():
    def eig(A, *, p):
        vals = np.linalg.eigvalsh(A)  # LAPACK has no mpmath object-array path
        return vals[0], 0.0

    conf = confirm_relation(eig, {"A": -np.eye(2)}, None, ">=", rtol=1e-9, atol=1e-12)
    assert conf.status == "undecided" and "cannot run in high precision" in conf.reason
