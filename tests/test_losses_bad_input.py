"""Every public loss rejects bad input at the boundary with one clear error naming the argument."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import theorycheck.losses as L
from theorycheck import InvalidArgumentError, InvalidArgumentTypeError

rng = np.random.default_rng(0)
Z = rng.normal(size=(6, 3))
Z2 = rng.normal(size=(6, 3))
W = rng.normal(size=(3, 3))
Y = np.array([0, 0, 1, 1, 2, 2])
NAN = Z.copy()
NAN[1, 2] = np.nan
INF = Z.copy()
INF[0, 0] = np.inf
ZERO_ROW = Z.copy()
ZERO_ROW[2] = 0.0
CONSTANT_COLUMN = Z.copy()
CONSTANT_COLUMN[:, 1] = 4.0

# (function, args, kwargs, name of the argument the error must name)
BAD_CALLS = [
    # cross_entropy
    (L.cross_entropy, (NAN, W, Y), {}, "Z"),
    (L.cross_entropy, (Z[0], W, Y), {}, "Z"),
    (L.cross_entropy, ("abc", W, Y), {}, "Z"),
    (L.cross_entropy, (Z, W[:, :2], Y), {}, "W"),
    (L.cross_entropy, (Z, W[:1], Y[:6] * 0), {}, "W"),
    (L.cross_entropy, (Z, W, Y[:5]), {}, "y"),
    (L.cross_entropy, (Z, W, Y + 1), {}, "y"),  # label 3 with K = 3
    (L.cross_entropy, (Z, W, Y - 1), {}, "y"),
    (L.cross_entropy, (Z, W, Y + 0.5), {}, "y"),
    (L.cross_entropy, (Z, W, Y), {"l2": -1.0}, "l2"),
    (L.cross_entropy, (Z, W, Y), {"l2": float("nan")}, "l2"),
    # supcon
    (L.supcon, (INF, Y), {}, "Z"),
    (L.supcon, (torch.tensor(NAN), Y), {}, "Z"),
    (L.supcon, (Z[:1], Y[:1]), {}, "Z"),
    (L.supcon, (Z, Y[:4]), {}, "y"),
    (L.supcon, (Z, Y.reshape(2, 3)), {}, "y"),
    (L.supcon, (Z, -Y), {}, "y"),
    (L.supcon, (Z, Y), {"temperature": 0.0}, "temperature"),
    (L.supcon, (Z, Y), {"temperature": -0.1}, "temperature"),
    (L.supcon, (Z, Y), {"variant": "both"}, "variant"),
    (L.supcon, (Z, Y), {"reduction": "avg"}, "reduction"),
    (L.supcon, (Z, Y), {"drop_anchors_without_positives": "yes"}, "drop_anchors_without_positives"),
    (L.supcon, (Z, Y), {"base_temperature": 0.0}, "base_temperature"),
    (L.supcon, (Z, np.arange(6)), {}, "y"),  # mean over anchors with positives, but none has one
    # sc_loss
    (L.sc_loss, (NAN, Y, 3), {}, "Z"),
    (L.sc_loss, (Z, Y[:3], 3), {}, "y"),
    (L.sc_loss, (Z, Y, 1), {}, "b"),
    (L.sc_loss, (Z, Y, 2.5), {}, "b"),
    (L.sc_loss, (Z, Y, 7, "subset"), {}, "b"),
    (L.sc_loss, (Z, Y, 3, "all"), {}, "batches"),
    (L.sc_loss, (Z, Y, 3), {"method": "fast"}, "method"),
    (L.sc_loss, (Z, Y, 3), {"max_batches": 0}, "max_batches"),
    (L.sc_loss, (Z, Y, 3), {"method": "exact", "max_batches": 10}, "max_batches"),
    (L.sc_loss, (Z, Y, 3), {"n_samples": 1}, "n_samples"),
    (L.sc_loss, (Z, Y, 3), {"seed": -1}, "seed"),
    # nt_xent
    (L.nt_xent, (Z, Z2[:5], 0.5), {}, "z2"),
    (L.nt_xent, (NAN, Z2, 0.5), {}, "z1"),
    (L.nt_xent, (Z, Z2, 0.0), {}, "temperature"),
    (L.nt_xent, (ZERO_ROW, Z2, 0.5), {}, "z1"),
    (L.nt_xent, (Z, ZERO_ROW, 0.5), {}, "z2"),
    (L.nt_xent, (Z, Z2, 0.5), {"normalize": 1}, "normalize"),
    # dcl
    (L.dcl, (Z[:1], Z2[:1], 0.5), {}, "z1"),
    (L.dcl, (Z, Z2[:, :2], 0.5), {}, "z2"),
    (L.dcl, (Z, Z2, -1.0), {}, "temperature"),
    (L.dcl, (ZERO_ROW, Z2, 0.5), {}, "z1"),
    # infonce_one_negative
    (L.infonce_one_negative, (Z, Z2[:4], Z), {}, "f2"),
    (L.infonce_one_negative, (Z, Z2, Z[:, :2]), {}, "f_neg"),
    (L.infonce_one_negative, (NAN, Z2, Z), {}, "f1"),
    (L.infonce_one_negative, (Z, Z2, None), {}, "f_neg"),
    # barlow_twins
    (L.barlow_twins, (Z, Z2[:5]), {}, "z2"),
    (L.barlow_twins, (Z[:1], Z2[:1]), {}, "z1"),
    (L.barlow_twins, (CONSTANT_COLUMN, Z2), {}, "z1"),
    (L.barlow_twins, (Z, CONSTANT_COLUMN), {}, "z2"),
    (L.barlow_twins, (Z, Z2), {"lambd": -0.1}, "lambd"),
    (L.barlow_twins, (Z, Z2), {"eps": -1e-5}, "eps"),
    # vicreg
    (L.vicreg, (Z[:1], Z2[:1]), {}, "z1"),
    (L.vicreg, (Z, Z2.T), {}, "z2"),
    (L.vicreg, (Z, INF), {}, "z2"),
    (L.vicreg, (Z, Z2), {"sim": -1}, "sim"),
    (L.vicreg, (Z, Z2), {"std": "25"}, "std"),
    (L.vicreg, (Z, Z2), {"cov": -1}, "cov"),
    (L.vicreg, (Z, Z2), {"gamma": 0}, "gamma"),
    (L.vicreg, (Z, Z2), {"eps": -1e-4}, "eps"),
    # vicreg_exp / vicreg_ctr
    (L.vicreg_exp, (Z[:, :1], Z2[:, :1]), {}, "z1"),
    (L.vicreg_exp, (Z, Z2), {"temperature": 0}, "temperature"),
    (L.vicreg_exp, (Z, Z2[:3]), {}, "z2"),
    (L.vicreg_ctr, (Z[:, :1], Z2[:, :1]), {}, "z1"),
    (L.vicreg_ctr, (Z, Z2), {"temperature": -2.0}, "temperature"),
    (L.vicreg_ctr, (Z[:1], Z2[:1]), {}, "z1"),
    # sample_contrastive / dimension_contrastive
    (L.sample_contrastive, (Z[0],), {}, "K"),
    (L.sample_contrastive, (NAN,), {}, "K"),
    (L.sample_contrastive, (np.zeros((2, 2, 2)),), {}, "K"),
    (L.dimension_contrastive, ("K",), {}, "K"),
    (L.dimension_contrastive, (INF,), {}, "K"),
    (L.dimension_contrastive, (np.array([[1.0, 2.0], [3.0, 4.0 + 1j]]),), {}, "K"),
    # alignment / uniformity
    (L.alignment, (Z, Z2[:, :2]), {}, "z2"),
    (L.alignment, (Z, Z2), {"alpha": 0}, "alpha"),
    (L.alignment, (Z, NAN), {}, "z2"),
    (L.uniformity, (Z[:1],), {}, "z"),
    (L.uniformity, (Z,), {"t": 0.0}, "t"),
    (L.uniformity, (NAN,), {}, "z"),
    (L.uniformity, (np.array([[True, False], [False, True]]),), {}, "z"),
]


def _case_id(case):
    fn, args, kwargs, param = case
    return f"{fn.__name__}-{param}-{'-'.join(kwargs) or 'args'}"


@pytest.mark.parametrize("case", BAD_CALLS, ids=[_case_id(c) for c in BAD_CALLS])
def test_bad_input_raises_a_clear_error(case):
    fn, args, kwargs, param = case
    with pytest.raises(InvalidArgumentError) as info:
        fn(*args, **kwargs)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.param == param and err.caller == fn.__name__
    assert str(err).startswith(f"`{param}` of `{fn.__name__}` must be ")
    assert "got " in str(err)


def test_every_public_function_has_bad_input_cases():
    covered = {fn.__name__ for fn, *_ in BAD_CALLS}
    functions = {name for name in L.__all__ if name != "SCLossResult"}
    assert covered == functions


def test_wrong_types_are_type_errors():
    for fn, args in [(L.supcon, (None, Y)), (L.cross_entropy, (Z, W, [0.5, 1, 2, 0, 1, 2])),
                     (L.barlow_twins, (Z, "z2")), (L.sc_loss, (Z, Y, "3"))]:
        with pytest.raises(InvalidArgumentTypeError):
            fn(*args)
        with pytest.raises(TypeError):
            fn(*args)


def test_no_silent_nan_from_degenerate_but_valid_input():
    # all embeddings equal, zero vectors, a single class: defined values, never NaN
    zeros = np.zeros((4, 2))
    y = np.array([0, 0, 1, 1])
    assert np.isfinite(L.supcon(zeros, y)) and np.isfinite(L.supcon(zeros, y, variant="in"))
    assert np.isfinite(L.supcon(Z[:4], np.zeros(4, dtype=int)))
    assert np.isfinite(L.sc_loss(zeros, y, 3).value)
    assert np.isfinite(L.nt_xent(zeros, zeros, 0.5, normalize=False))
    assert np.isfinite(L.barlow_twins(Z, Z2, eps=1e-5)) and np.isfinite(L.barlow_twins(CONSTANT_COLUMN, Z2, eps=1e-5))
    assert np.isfinite(L.vicreg(zeros, zeros)) and np.isfinite(L.vicreg_exp(zeros, zeros))
    assert np.isfinite(L.vicreg_ctr(zeros, zeros)) and np.isfinite(L.uniformity(zeros))
    assert L.alignment(zeros, zeros, alpha=0.5) == 0.0
    t = torch.zeros(4, 2, dtype=torch.float64, requires_grad=True)
    L.alignment(t, torch.zeros(4, 2)).backward()
    assert torch.isfinite(t.grad).all()
