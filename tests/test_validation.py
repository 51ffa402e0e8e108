"""Table tests of the validation boundary (theorycheck/_validation.py).

Every bad call raises the one exception family with the one message template
"`{param}` of `{caller}` must be {constraint}; got {value}"; every good call returns the
cleaned value.
"""

from __future__ import annotations

import re

import mpmath
import numpy as np
import pytest
import torch

from theorycheck._validation import (
    InvalidArgumentError,
    InvalidArgumentTypeError,
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_labels,
    check_probability_vector,
    check_real,
    check_same_length,
    describe,
    fail,
)

TEMPLATE = re.compile(r"^`(?P<param>[^`]+)` of `(?P<caller>[^`]+)` must be (?P<constraint>.+); got (?P<value>.+)$",
                      re.S)

# (call, exception type, constraint fragment)
BAD_CALLS = [
    (lambda: check_array("abc", "Z", "f"), InvalidArgumentTypeError, "an array of real numbers"),
    (lambda: check_array(None, "Z", "f"), InvalidArgumentTypeError, "an array of real numbers"),
    (lambda: check_array([[1.0], [1.0, 2.0]], "Z", "f"), InvalidArgumentTypeError, "an array of real numbers"),
    (lambda: check_array(np.array([1 + 2j]), "Z", "f"), InvalidArgumentTypeError, "an array of real numbers"),
    (lambda: check_array(np.array([True]), "Z", "f"), InvalidArgumentTypeError, "an array of real numbers"),
    (lambda: check_array(np.array([1.0, np.nan]), "Z", "f"), InvalidArgumentError, "finite (no NaN or inf)"),
    (lambda: check_array(np.array([np.inf]), "Z", "f"), InvalidArgumentError, "finite (no NaN or inf)"),
    (lambda: check_array(np.ones(3), "Z", "f", ndim=2), InvalidArgumentError, "2-dimensional"),
    (lambda: check_array(np.ones(3), "Z", "f", ndim=(2, 3)), InvalidArgumentError, "2-dimensional or 3-dimensional"),
    (lambda: check_array(np.ones((2, 3)), "Z", "f", shape=(None, 4)), InvalidArgumentError, "of shape (*, 4)"),
    (lambda: check_array(np.ones((1, 3)), "Z", "f", min_rows=2), InvalidArgumentError, "at least 2 row(s)"),
    (lambda: check_array(torch.ones(2), "Z", "f", allow_torch=False), InvalidArgumentTypeError,
     "a numpy array (torch tensors are not supported here)"),
    (lambda: check_array(torch.tensor([1.0, float("nan")]), "Z", "f"), InvalidArgumentError, "finite"),
    (lambda: check_array(torch.tensor([True]), "Z", "f"), InvalidArgumentTypeError, "a real floating or integer"),
    (lambda: check_array(np.array([mpmath.mpf(1)], dtype=object), "Z", "f", allow_mp=False),
     InvalidArgumentTypeError, "an array of real numbers"),
    (lambda: check_array(np.array(["a"], dtype=object), "Z", "f"), InvalidArgumentTypeError,
     "an array of real numbers"),
    (lambda: check_labels([0.5, 1.0], "y", "f"), InvalidArgumentTypeError, "a 1-D array of integer class labels"),
    (lambda: check_labels([[0, 1]], "y", "f"), InvalidArgumentError, "a 1-D array of integer class labels"),
    (lambda: check_labels([True, False], "y", "f"), InvalidArgumentTypeError, "integer class labels"),
    (lambda: check_labels("01", "y", "f"), InvalidArgumentTypeError, "integer class labels"),
    (lambda: check_labels(torch.tensor([0.0, 1.0]), "y", "f"), InvalidArgumentTypeError, "integer class labels"),
    (lambda: check_labels([0, -1], "y", "f"), InvalidArgumentError, "labels in [0, K) (non-negative integers)"),
    (lambda: check_labels([0, 3], "y", "f", num_classes=3), InvalidArgumentError, "labels in [0, 3)"),
    (lambda: check_labels([0, 1], "y", "f", n=3), InvalidArgumentError, "of length 3"),
    (lambda: check_int(True, "K", "f"), InvalidArgumentTypeError, "an integer"),
    (lambda: check_int(2.5, "K", "f"), InvalidArgumentTypeError, "an integer"),
    (lambda: check_int("3", "K", "f"), InvalidArgumentTypeError, "an integer"),
    (lambda: check_int(1, "K", "f", min_value=2), InvalidArgumentError, "an integer >= 2"),
    (lambda: check_int(9, "K", "f", max_value=8), InvalidArgumentError, "an integer <= 8"),
    (lambda: check_real(False, "rho", "f"), InvalidArgumentTypeError, "a real number"),
    (lambda: check_real("1", "rho", "f"), InvalidArgumentTypeError, "a real number"),
    (lambda: check_real(float("nan"), "rho", "f"), InvalidArgumentError, "a finite real number"),
    (lambda: check_real(float("inf"), "rho", "f"), InvalidArgumentError, "a finite real number"),
    (lambda: check_real(0.0, "rho", "f", gt=0.0), InvalidArgumentError, "> 0"),
    (lambda: check_real(-1.0, "rho", "f", ge=0.0), InvalidArgumentError, ">= 0"),
    (lambda: check_real(2.0, "rho", "f", lt=1.0), InvalidArgumentError, "< 1"),
    (lambda: check_real(2.0, "rho", "f", le=1.0), InvalidArgumentError, "<= 1"),
    (lambda: check_choice("sum", "reduction", "f", ("mean", "none")), InvalidArgumentError,
     "one of 'mean', 'none'"),
    (lambda: check_bool(1, "flag", "f"), InvalidArgumentTypeError, "True or False"),
    (lambda: check_probability_vector([0.5, 0.6], "p", "f"), InvalidArgumentError, "summing to 1"),
    (lambda: check_probability_vector([1.5, -0.5], "p", "f"), InvalidArgumentError, "every entry >= 0"),
    (lambda: check_probability_vector([1.0, 0.0], "p", "f", strictly_positive=True), InvalidArgumentError,
     "every entry > 0"),
    (lambda: check_probability_vector([], "p", "f"), InvalidArgumentError, "a non-empty probability vector"),
    (lambda: check_same_length(3, 2, "Z", "y", "f", [0, 1]), InvalidArgumentError,
     "of the same length as `Z` (3)"),
]


@pytest.mark.parametrize("call, exc_type, constraint", BAD_CALLS, ids=[f"bad{i}" for i in range(len(BAD_CALLS))])
def test_bad_calls_raise_with_the_one_template(call, exc_type, constraint):
    with pytest.raises(InvalidArgumentError) as info:
        call()
    err = info.value
    assert type(err) is exc_type
    assert isinstance(err, ValueError) and (exc_type is not InvalidArgumentTypeError or isinstance(err, TypeError))
    match = TEMPLATE.match(str(err))
    assert match, str(err)
    assert constraint in match["constraint"], (constraint, str(err))
    assert match["param"] == err.param and match["caller"] == err.caller == "f"


GOOD_CALLS = [
    (lambda: check_array([[1, 2]], "Z", "f"), np.array([[1.0, 2.0]])),
    (lambda: check_array(np.float32([0.5]), "Z", "f").dtype, np.float64),
    (lambda: check_labels(np.array([0.0, 2.0]), "y", "f", num_classes=3).tolist(), [0, 2]),
    (lambda: check_labels(torch.tensor([1, 0]), "y", "f").dtype, np.int64),
    (lambda: check_int(4.0, "K", "f", min_value=2), 4),
    (lambda: check_int(np.int32(3), "K", "f"), 3),
    (lambda: check_real(torch.tensor(2.5), "rho", "f", gt=0), 2.5),
    (lambda: check_real(np.float32(0.5), "rho", "f"), 0.5),
    (lambda: check_choice("mean", "reduction", "f", ("mean", "sum")), "mean"),
    (lambda: check_bool(np.bool_(True), "flag", "f"), True),
    (lambda: check_probability_vector([0.25, 0.75], "p", "f").tolist(), [0.25, 0.75]),
]


@pytest.mark.parametrize("call, expected", GOOD_CALLS, ids=[f"good{i}" for i in range(len(GOOD_CALLS))])
def test_good_calls_return_clean_values(call, expected):
    got = call()
    if isinstance(expected, np.ndarray):
        assert got.dtype == np.float64 and np.array_equal(got, expected)
    else:
        assert got == expected


def test_torch_input_keeps_its_graph():
    t = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True)
    out = check_array(t, "Z", "f")
    assert out.dtype == torch.float64
    out.sum().backward()
    assert t.grad.tolist() == [1.0, 1.0]


def test_mp_arrays_are_kept_in_high_precision():
    arr = np.array([mpmath.mpf("0.1"), 2], dtype=object)
    out = check_array(arr, "Z", "f")
    assert out.dtype == object and all(isinstance(v, mpmath.mpf) for v in out)


def test_describe_summarises_large_values():
    assert describe(np.zeros((10, 10))) == "array of shape (10, 10) and dtype float64"
    assert describe(torch.zeros(2, 3)) == "torch.Tensor of shape (2, 3) and dtype torch.float32"
    assert describe("x" * 100).endswith("...") and len(describe("x" * 100)) == 80
    assert str(fail("a", "b", "c", 1)) == "`a` of `b` must be c; got 1"


def test_our_errors_pickle_with_message_and_attributes():
    # errors raised on a Dask worker travel back pickled; the default exception pickling
    # calls cls(*args), which fails for __init__ signatures other than the message
    import pickle

    from theorycheck._validation import InvalidArgumentError, InvalidArgumentTypeError, MissingDependencyError
    from theorycheck.engine.errors import ClaimError

    for error in (InvalidArgumentError("K", "f", "an integer >= 2", 1),
                  InvalidArgumentTypeError("y", "f", "an array of labels", "x"),
                  MissingDependencyError("distributed", "dask", "--workers"),
                  ClaimError("t.c", "raised ValueError at inputs {}")):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error)
        assert back.__dict__ == error.__dict__
