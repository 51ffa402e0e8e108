"""High-precision confirmation: no counterexample is reported from float arithmetic alone.

A candidate found in float64 is re-evaluated with mpmath on *exactly* the same input
(every binary64 number is a rational, converted exactly by ``backend.to_mp``), at
``dps`` significant digits and again at ``dps + 20``. The relation is then decided on
the high-precision values.

Decision rule for ``lhs <relation> rhs`` (``relation`` in ``== <= >= < >``), with the
claim's tolerance ``tol = atol + rtol * max(|lhs|, |rhs|)``:

* the *violation* ``v`` is ``|lhs - rhs|`` for ``==``, ``lhs - rhs`` for ``<=``/``<``
  and ``rhs - lhs`` for ``>=``/``>`` (computed in high precision);
* ``v <= tol``: the relation holds at this input (for a strict relation, an exact
  tie -- equal to 10 digits short of the working precision -- is a violation);
* the *float noise* ``e`` is how far the float64 evaluation of both sides is from the
  high-precision values, ``e = |lhs_f - lhs| + |rhs_f - rhs|``. The noise floor rule:
  a violation ``v <= e`` is never a counterexample -- it is reported as undecided
  (INCONCLUSIVE if nothing else is found);
* the evaluation is *trusted* only if it really ran in high precision: every returned
  value is an ``mpmath.mpf`` (or an exact short decimal constant such as ``0.0`` or
  ``0.5``), or a plain float that does not move when the float inputs are perturbed by
  1e-6 (a constant of the params such as ``0.99 * math.log(K)``, allowed 8 ulps of
  rounding, which are added to the float noise ``e``); a float side that moves with the
  inputs leaked out of mpmath (``float()``, a float32 cast). The ``dps`` and ``dps + 20``
  evaluations must also agree to ``dps - 10`` digits. Otherwise the candidate is undecided;
* else it is a confirmed violation with ``margin = v``.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any, Callable, Mapping

import mpmath
import numpy as np

from .. import backend as xp
from .calling import invoke
from .errors import Discarded

__all__ = ["DEFAULT_DPS", "Confirmation", "mp_inputs", "mp_evaluate", "mp_evaluate_checked",
           "confirm_relation", "violation", "relation_holds_float"]

#: Significant digits of the confirming evaluation (>= 50 as the contract requires).
DEFAULT_DPS = 60
_EXTRA_DPS = 20

#: Relative size (to ``max(1, |lhs|, |rhs|)``) below which a high-precision violation is
#: indistinguishable from the rounding of the float input itself (a point a few ulps off
#: its constraint set moves the value by about this much): ~45000 ulps, a margin over the
#: constraint error of inputs built from hundreds of float operations.
_INPUT_ROUNDING = 1e-11


def mp_inputs(inputs: Mapping[str, Any]) -> dict:
    """Inputs converted for high precision at the current ``mpmath.mp.dps``.

    Float arrays become object arrays of ``mpf`` (exact conversion); integer arrays
    (labels) stay int64 numpy; 0-d values become ``mpf`` scalars.
    """
    out = {}
    for name, value in inputs.items():
        if isinstance(value, (mpmath.mpf,)):
            out[name] = value
            continue
        arr = xp.to_numpy(value) if xp.kind(value) == "torch" else np.asarray(value)
        if arr.dtype != object and np.issubdtype(arr.dtype, np.integer):
            out[name] = arr.astype(np.int64) if arr.ndim else int(arr)
        elif arr.ndim == 0:
            out[name] = mpmath.mpf(float(arr)) if arr.dtype != object else mpmath.mpf(arr.item())
        else:
            out[name] = xp.to_mp(arr)
    return out


#: A plain float returned in high-precision mode is taken as an exact constant (``0.0``,
#: ``10.0``, ``0.5``) only if it is a short decimal; a float with more significant digits is
#: the sign of a computation that left mpmath (``float()``, a float32 cast, ``np.log`` of a float).
_CONSTANT_DIGITS = 10


def _short_decimal(value: float) -> bool:
    if not np.isfinite(value):
        return False
    if float(value).is_integer():
        return True
    mantissa = repr(float(value)).lstrip("-").split("e")[0].replace(".", "").strip("0")
    return len(mantissa) <= _CONSTANT_DIGITS


def _is_mp_exact(value: Any) -> bool:
    """True when ``value`` did not come from a float computation: an mpf, an int, or a short
    decimal constant (see ``_CONSTANT_DIGITS``)."""
    if isinstance(value, mpmath.mpf):
        return True
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return all(_is_mp_exact(v) for v in value.flat)
        if value.size == 1 and np.issubdtype(value.dtype, np.floating) and value.dtype.itemsize >= 8:
            return _short_decimal(float(value.reshape(())))
        return False
    if isinstance(value, (float, np.float64)):
        return _short_decimal(float(value))
    return False


def _to_mpf(value: Any) -> Any:
    """Scalars (mpf, 0-d/size-1 arrays, numbers) -> mpf; tuples/lists element-wise."""
    if isinstance(value, (tuple, list)):
        return type(value)(_to_mpf(v) for v in value)
    if isinstance(value, mpmath.mpf):
        return value
    if isinstance(value, np.ndarray):
        if value.size == 1:
            return _to_mpf(value.reshape(()).item() if value.dtype == object else value.reshape(())[()])
        return np.vectorize(lambda v: _to_mpf(v), otypes=[object])(value)
    if xp.kind(value) == "torch":
        return _to_mpf(xp.to_numpy(value))
    if isinstance(value, (numbers.Real, np.floating, np.integer)):
        return mpmath.mpf(value) if not isinstance(value, (np.floating,)) else mpmath.mpf(float(value))
    return value


def _value_kind(value: Any) -> str:
    """``"mp"`` (computed in mpmath, or an exact short constant) or ``"float"`` (a float result)."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype == object:
        value = value.reshape(()).item()
    return "mp" if _is_mp_exact(value) else "float"


def _mp_eval_kinds(fn: Callable, inputs: Mapping[str, Any], params: Any, dps: int) -> tuple[Any, tuple]:
    with mpmath.workdps(dps):
        raw = invoke(fn, mp_inputs(inputs), params)
        items = raw if isinstance(raw, (tuple, list)) else (raw,)
        return _to_mpf(raw), tuple(_value_kind(v) for v in items)


def mp_evaluate_checked(fn: Callable, inputs: Mapping[str, Any], params: Any, dps: int = DEFAULT_DPS
                        ) -> tuple[Any, bool]:
    """Like :func:`mp_evaluate`, also saying whether every returned value was computed in mpmath
    (an ``mpf``, an int, or a short decimal constant such as ``0.5``)."""
    value, kinds = _mp_eval_kinds(fn, inputs, params, dps)
    return value, all(k == "mp" for k in kinds)


def _perturbed(inputs: Mapping[str, Any]) -> dict:
    """Float inputs scaled entry-wise by 1 + 1e-6 * (fixed pattern); integers unchanged."""
    rng = np.random.default_rng(12345)
    out = {}
    for name, value in inputs.items():
        arr = np.asarray(xp.to_numpy(value) if xp.kind(value) == "torch" else value)
        if arr.dtype != object and np.issubdtype(arr.dtype, np.integer):
            out[name] = arr
        else:
            arr = np.asarray(arr, dtype=np.float64)
            out[name] = arr * (1 + 1e-6 * rng.standard_normal(arr.shape)) + 1e-9 * rng.standard_normal(arr.shape)
    return out


def mp_evaluate(fn: Callable, inputs: Mapping[str, Any], params: Any, dps: int = DEFAULT_DPS) -> Any:
    """Evaluate a claim function on mpmath object arrays at ``dps`` significant digits.

    Parameters
    ----------
    fn : callable
        The evaluator, called as ``fn(**inputs, p=params)`` (``p`` only if it takes one).
    inputs : dict
        Float inputs (numpy/torch/lists; converted exactly to mpf), integer inputs
        (labels; kept as int64 numpy).
    params : Params
    dps : int
        Decimal digits of working precision.

    Returns
    -------
    The evaluator's result with every scalar as ``mpmath.mpf`` (tuples stay tuples).

    Examples
    --------
    >>> import numpy as np, mpmath
    >>> from theorycheck import backend as xp
    >>> v = mp_evaluate(lambda u, p: xp.sum(u * u), {"u": np.array([0.1, 0.2])}, None)
    >>> mpmath.nstr(v, 20)  # exactly 0.1**2 + 0.2**2 of the binary64 inputs, not 0.05
    '0.050000000000000005551'
    """
    value, _ = mp_evaluate_checked(fn, inputs, params, dps)
    return value


def violation(relation: str, lhs: Any, rhs: Any) -> Any:
    """By how much ``lhs <relation> rhs`` fails (> 0: fails), in the number type of the inputs."""
    if relation == "==":
        return abs(lhs - rhs)
    if relation in ("<=", "<"):
        return lhs - rhs
    return rhs - lhs


def relation_holds_float(relation: str, lhs: float, rhs: float, rtol: float, atol: float) -> bool:
    """The float-level test used by the search (a float failure is only a *candidate*)."""
    tol = atol + rtol * max(abs(lhs), abs(rhs))
    return violation(relation, lhs, rhs) <= tol


@dataclasses.dataclass
class Confirmation:
    """The high-precision decision at one input.

    ``status``: ``"violated"`` (a counterexample, margin > 0), ``"holds"``, or ``"undecided"``
    (``reason`` says why: float leak, unstable precision, violation at float-noise level,
    evaluator cannot run in mpmath).
    """

    status: str
    lhs: float
    rhs: float
    margin: float
    precision_digits: int
    reason: str = ""
    float_noise: float = 0.0
    lhs_digits: str = ""
    rhs_digits: str = ""


def confirm_relation(fn: Callable, inputs: Mapping[str, Any], params: Any, relation: str, *,
                     rtol: float, atol: float, dps: int = DEFAULT_DPS,
                     float_values: tuple[float, float] | None = None,
                     input_noise: float | None = None) -> Confirmation:
    """Decide ``lhs <relation> rhs`` at ``inputs`` in high precision (rule in the module docstring).

    ``fn`` returns ``(lhs, rhs)``. ``float_values`` are the float64 values the search
    saw (for the noise floor); when omitted they are recomputed in float64. ``input_noise``
    bounds how much the float input's own rounding (a few ulps off its constraint set) can
    move ``lhs - rhs``; it widens the band inside which a violation within the tolerance, or
    a strict tie, is not decided (default: ``1e-11 max(1, |lhs|, |rhs|)``).
    """
    if float_values is None:
        flt = invoke(fn, {k: (np.asarray(v) if not np.isscalar(v) else v) for k, v in inputs.items()}, params)
        float_values = (xp.asfloat(flt[0]), xp.asfloat(flt[1]))
    try:
        lo_val, lo_kinds = _mp_eval_kinds(fn, inputs, params, dps)
        hi_val, hi_kinds = _mp_eval_kinds(fn, inputs, params, dps + _EXTRA_DPS)
    except Discarded:  # assume() rejects the input in exact arithmetic: it is no counterexample
        return Confirmation("holds", float_values[0], float_values[1], 0.0, dps,
                            reason="assume() discards this input in high precision")
    except Exception as exc:  # the evaluator cannot run on mpmath arrays: cannot confirm
        return Confirmation("undecided", float_values[0], float_values[1], 0.0, dps,
                            reason=f"the evaluator cannot run in high precision ({type(exc).__name__}: {exc})")
    if not (isinstance(lo_val, (tuple, list)) and len(lo_val) == 2):
        return Confirmation("undecided", float_values[0], float_values[1], 0.0, dps,
                            reason="the high-precision evaluation did not return (lhs, rhs)")
    leaked = False
    float_sides = [i for i, kind in enumerate(hi_kinds) if kind == "float"]
    if float_sides:
        # A float side that moves when the inputs move was computed from them in float: a leak.
        # One that does not is a constant of the params (``0.99 * math.log(K)``): accepted, with
        # an allowance of a few ulps for its own rounding.
        try:
            moved, _ = _mp_eval_kinds(fn, _perturbed(inputs), params, 30)
            leaked = any(moved[i] != hi_val[i] for i in float_sides)
        except Exception:
            leaked = True
    with mpmath.workdps(dps + 2 * _EXTRA_DPS):
        if not all(isinstance(v, mpmath.mpf) for v in (*hi_val, *lo_val)):
            return Confirmation("undecided", float_values[0], float_values[1], 0.0, dps,
                                reason="the high-precision evaluation did not return scalars")
        (lhs, rhs), mp_noise, settled = _settle_precision(fn, inputs, params, dps, lo_val, hi_val, leaked)
        v = violation(relation, lhs, rhs)
        tol = mpmath.mpf(atol) + mpmath.mpf(rtol) * max(abs(lhs), abs(rhs))
        # float noise: how far the float64 evaluation was from the high-precision one; a side
        # whose float value is not finite (overflow, 0/0 rescued here) says nothing about it
        noise = mpmath.mpf(0)
        for f_val, mp_val in zip(float_values, (lhs, rhs)):
            if np.isfinite(f_val):
                noise += abs(mpmath.mpf(float(f_val)) - mp_val)
        # 2**-49 = 8 ulps (relative) of rounding in a float constant side
        noise += sum(mpmath.mpf(2) ** -49 * abs(hi_val[i]) for i in float_sides)
        scale = max(abs(lhs), abs(rhs), mpmath.mpf(1))
        band = noise + mp_noise + (mpmath.mpf(_INPUT_ROUNDING) * scale if input_noise is None
                                   else mpmath.mpf(float(input_noise)))
        common = dict(lhs=float(lhs), rhs=float(rhs), precision_digits=dps, float_noise=float(noise),
                      lhs_digits=mpmath.nstr(lhs, 30), rhs_digits=mpmath.nstr(rhs, 30))
        if leaked:
            return Confirmation("undecided", margin=float(max(v, 0)), reason=(
                "the evaluator returned float values computed from the inputs in high-precision mode (a "
                "float() or float32 cast inside it), so the float result cannot be checked"), **common)
        if not settled:
            return Confirmation("undecided", margin=float(max(v, 0)), reason=(
                f"the high-precision values change between {dps} and {dps + _EXTRA_DPS} digits by more "
                f"than 1e-{dps - 10} of the terms' magnitude and do not settle at {dps + 2 * _EXTRA_DPS}, "
                "so the evaluator does not compute in high precision throughout"), **common)
        return _decide(relation, v, tol, noise, mp_noise, band, bool(float_sides), common)


def _settle_precision(fn: Callable, inputs: Mapping[str, Any], params: Any, dps: int, lo_val: Any,
                      hi_val: Any, leaked: bool) -> tuple:
    """``((lhs, rhs), mp rounding, settled)``: the high-precision values and their rounding.

    Values that move between ``dps`` and ``dps + 20`` digits by more than ``1e-(dps-10)`` of
    their own size are the rounding of large *terms* that cancel (an identity in difference
    form, lhs - rhs == 0, over entries ~1e3: terms ~1e12, rounding ~1e-48 at 60 digits), or a
    computation that is not in high precision throughout. A third evaluation at ``dps + 40``
    tells them apart: rounding shrinks by ~10^-20 per 20 more digits, a float leak does not.
    When it settles, the terms' magnitude is the change times ``10^dps`` and a difference
    below ``1e-(dps-10)`` of it is zero.
    """
    lhs, rhs = hi_val
    scale = max(abs(lhs), abs(rhs), mpmath.mpf(1))
    mp_noise = scale * mpmath.mpf(10) ** (-(dps - 10))
    change = max(abs(lhs - lo_val[0]), abs(rhs - lo_val[1]))
    if change <= mp_noise or leaked:
        return (lhs, rhs), mp_noise, True
    try:
        top_val, _ = _mp_eval_kinds(fn, inputs, params, dps + 2 * _EXTRA_DPS)
    except Exception:  # noqa: BLE001 - it ran at two precisions; a failure here leaves it unsettled
        return (lhs, rhs), mp_noise, False
    if not (len(top_val) == 2 and all(isinstance(v, mpmath.mpf) for v in top_val)):
        return (lhs, rhs), mp_noise, False
    if max(abs(top_val[0] - lhs), abs(top_val[1] - rhs)) > change * mpmath.mpf(10) ** -(_EXTRA_DPS - 5):
        return (lhs, rhs), mp_noise, False
    terms = max(scale, change * mpmath.mpf(10) ** dps)
    return tuple(top_val), terms * mpmath.mpf(10) ** (-(dps - 10)), True


def _decide(relation: str, v: Any, tol: Any, noise: Any, mp_noise: Any, band: Any, float_side: bool,
            common: dict) -> Confirmation:
    """The decision rule on the high-precision violation ``v`` (module docstring)."""
    if relation in ("<", ">"):
        if abs(v) <= mp_noise:
            return Confirmation("violated", margin=0.0, reason="equality where a strict inequality is claimed",
                                **common)
        if v > band:
            return Confirmation("violated", margin=float(v), **common)
        if v >= -band:
            return Confirmation("undecided", margin=float(max(v, 0)), reason=(
                f"a tie on a strict relation: the two sides differ by {mpmath.nstr(v, 3)}, within the "
                f"rounding {mpmath.nstr(band, 3)} of the float input, so whether the claim fails at "
                "the exact point this input approximates cannot be decided"), **common)
        return Confirmation("holds", margin=float(v), **common)
    if v <= mp_noise:
        return Confirmation("holds", margin=float(v), **common)
    if v > tol and v > noise + mp_noise:
        return Confirmation("violated", margin=float(v), **common)
    if v > band and not float_side:
        # a violation beyond every rounding is real, even inside the claim's tolerance: the
        # tolerance is there for float noise, not for the claim's own margin. Not so when a
        # side is a float constant (a certificate a solver computed to 1e-9, say): its error
        # is what the claim's tolerance states, and high precision cannot see past it
        return Confirmation("violated", margin=float(v), reason=(
            "a violation inside the claim's tolerance, but beyond every rounding of the computation"),
            **common)
    if v <= tol:
        return Confirmation("holds", margin=float(v), **common)
    return Confirmation("undecided", margin=float(v), reason=(
        f"the violation {mpmath.nstr(v, 3)} is below the float noise {mpmath.nstr(band, 3)} of the "
        "computation"), **common)
