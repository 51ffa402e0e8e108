"""The one evaluation path: how the engine calls a claim's evaluator and reads its output.

Every kind goes through here: :func:`call_evaluator` (one call in float64 or on torch
tensors; ``(lhs, rhs)`` for a kind whose evaluator returns a pair, else a scalar) and
:func:`guarded_evaluator` / :func:`torch_objective` / :func:`float_statistic` (the same
contract with the signature inspected once, for the thousands of calls an optimisation
or a Monte-Carlo loop makes). High-precision evaluation is
:func:`theorycheck.engine.confirm.mp_evaluate`; a counterexample is built by
:meth:`theorycheck.engine.results.JudgeContext.counterexample`. An exception of the
evaluator becomes :class:`~theorycheck.engine.errors.ClaimError` naming the claim and
the input; a NaN result too.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from .. import backend as xp
from .._validation import describe, is_torch
from .calling import accepts_p, invoke
from .errors import ClaimError, Discarded

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None  # type: ignore[assignment]

__all__ = ["EvaluationTimeout", "deadline_alarm", "call_evaluator", "export_inputs", "to_mode", "describe_inputs", "guarded_evaluator",
           "torch_objective", "float_statistic", "scalar_out"]


class EvaluationTimeout(BaseException):
    """An evaluation ran past its claim's deadline and was interrupted (:func:`deadline_alarm`).

    A BaseException, so that the ``except Exception`` of a user's evaluator or of a
    search loop does not swallow it; :func:`theorycheck.engine.judge.judge_with` turns it
    into the verdict INCONCLUSIVE with the reason.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"an evaluation ran past the budget's deadline and was interrupted after "
                         f"{seconds:.3g} s")


#: Depth of evaluator calls in progress (main thread): the alarm interrupts only those, so
#: the engine's own bookkeeping (and the high-precision confirmation) is never cut in half.
_IN_EVALUATOR = [0]
_ALARM_START = [0.0]
#: How often an alarm that fired outside an evaluator looks again (seconds).
_ALARM_RETRY = 0.05


def _on_alarm(signum: int, frame: Any) -> None:
    # armed again first: Python may run a handler inside a callback that swallows its
    # exception (a gc callback of Hypothesis's); then the next alarm raises again
    signal.setitimer(signal.ITIMER_REAL, _ALARM_RETRY)
    if _IN_EVALUATOR[0] > 0:
        raise EvaluationTimeout(time.monotonic() - _ALARM_START[0])


def _alarm_available() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def deadline_alarm(deadline: float | None, grace: float) -> Iterator[None]:
    """Interrupt an evaluator still running ``grace`` seconds after ``deadline`` (monotonic).

    The searches stop between evaluations at the deadline themselves; this is the hard
    stop for one evaluation that never returns (a ``time.sleep(60)`` under ``--budget 2``):
    ``SIGALRM`` raises :class:`EvaluationTimeout` inside it. Only in the main thread of a
    platform with ``setitimer`` (elsewhere, e.g. Windows or a worker thread, it does
    nothing), and only when no other alarm is armed (the caller's timer is left alone).
    """
    if deadline is None or not _alarm_available():
        yield
        return
    if signal.getitimer(signal.ITIMER_REAL)[0] > 0 or signal.getsignal(signal.SIGALRM) not in (
            signal.SIG_DFL, signal.SIG_IGN, None, _on_alarm):
        yield  # someone else's alarm (or a nested judgement's): theirs wins
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    _ALARM_START[0] = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, max(1e-3, deadline + grace - time.monotonic()))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)


def _evaluator_exit(claim: Any, exc: SystemExit, inputs: Mapping[str, Any]) -> ClaimError:
    """``sys.exit()`` inside an evaluator is the claim's error, never the tool's own exit."""
    return ClaimError(claim.id, f"called sys.exit({exc.code!r}) at inputs {describe_inputs(inputs)} "
                                f"(an evaluator must return its value, not exit)")


def to_mode(value: Any, mode: str, requires_grad: bool = False) -> Any:
    """An input value for an evaluation mode: ``"numpy"`` (0-d -> np.float64) or ``"torch"``.

    Integer arrays (labels) stay int64 numpy in every mode.
    """
    if is_torch(value):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64) if arr.ndim else int(arr)
    if mode == "torch":
        t = torch.tensor(np.array(arr, dtype=np.float64), dtype=torch.float64)
        return t.requires_grad_(requires_grad)
    arr = arr.astype(np.float64, copy=False)
    return np.float64(arr) if arr.ndim == 0 else arr


def export_inputs(inputs: Mapping[str, Any], spaces: Mapping[str, Any] | None = None) -> dict:
    """Plain numpy copies (float64 / int64; scalars as float) for a Counterexample."""
    out = {}
    for name, value in inputs.items():
        if is_torch(value):
            value = value.detach().cpu().numpy()
        arr = np.array(value)
        if arr.dtype == object:
            arr = xp.to_numpy(arr)
        if np.issubdtype(arr.dtype, np.integer):
            out[name] = arr.astype(np.int64)
        elif arr.ndim == 0:
            out[name] = float(arr)
        else:
            out[name] = arr.astype(np.float64)
    return out


def describe_inputs(inputs: Mapping[str, Any], limit: int = 240) -> str:
    """Short text naming each input (small arrays in full, larger by shape) for error messages."""
    parts = []
    for name, value in inputs.items():
        if is_torch(value):
            value = value.detach().cpu().numpy()
        arr = np.asarray(value)
        if arr.size <= 12 and arr.dtype != object:
            parts.append(f"{name}={arr.tolist()!r}")
        else:
            parts.append(f"{name}={describe(arr)}")
    text = "{" + ", ".join(parts) + "}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def scalar_out(value: Any, claim: Any, what: str, mode: str) -> Any:
    if mode == "torch" and is_torch(value):
        if value.numel() != 1:
            raise ClaimError(claim.id, f"must return scalars; {what} has shape {tuple(value.shape)}")
        return value.reshape(())
    if is_torch(value):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ClaimError(claim.id, f"must return scalars; {what} has shape {value.shape}")
        value = value.reshape(())[()]
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ClaimError(claim.id, f"must return numbers; {what} is {describe(value)}") from None


def _not_discardable(claim: Any, inputs: Mapping[str, Any]) -> ClaimError:
    """assume() in a kind that judges every input of its spaces (optimum, landscape, ...)."""
    return ClaimError(claim.id, f"called assume() with a false condition at inputs {describe_inputs(inputs)}; "
                                f"the objective of a claim of kind {claim.kind!r} must be defined on its "
                                "whole input space (discarding inputs is for identity and inequality claims)")


def _evaluator_error(claim: Any, inputs: Mapping[str, Any], exc: BaseException,
                     discardable: bool) -> tuple[BaseException, BaseException | None]:
    """``(error, cause)`` to raise for an exception of the claim's evaluator: a ClaimError, and
    a Discarded where the kind discards inputs, as they are; assume() elsewhere, sys.exit() and
    any other exception as a ClaimError naming the input."""
    if isinstance(exc, ClaimError) or (isinstance(exc, Discarded) and discardable):
        return exc, None
    if isinstance(exc, Discarded):
        return _not_discardable(claim, inputs), None
    if isinstance(exc, SystemExit):
        return _evaluator_exit(claim, exc, inputs), None
    return ClaimError(claim.id, f"raised {type(exc).__name__} at inputs {describe_inputs(inputs)}: {exc}"), exc


def call_evaluator(claim: Any, inputs: Mapping[str, Any], p: Any, mode: str = "numpy",
                   *, prepared: bool = False, allow_nan: bool = False) -> Any:
    """Evaluate the claim in float64 (``mode="numpy"``) or on torch tensors (``mode="torch"``).

    identity/inequality evaluators return ``(lhs, rhs)``, others a scalar. An exception
    raised by the evaluator becomes :class:`ClaimError` ("claim X raised ValueError at
    inputs {...}: ..."); a NaN result too. ``prepared=True``: inputs are already in
    ``mode`` (torch leaves with gradients). ``allow_nan=True``: a NaN result is returned,
    not raised (the relation search treats it as a hole of the claim's domain and decides it
    in high precision).
    """
    args = dict(inputs) if prepared else {k: to_mode(v, mode) for k, v in inputs.items()}
    _IN_EVALUATOR[0] += 1
    try:
        # overflow/underflow are expected at extreme inputs: non-finite results are counted, NaN is an error
        with np.errstate(all="ignore"):
            out = invoke(claim.evaluate, args, p)
    except (Exception, SystemExit) as exc:  # KeyboardInterrupt passes: it is the user's interrupt
        # assume() in a relation claim drops this input; the relation search counts it
        error, cause = _evaluator_error(claim, inputs, exc, getattr(claim.kind_spec, "states_relation", False))
        if error is exc:
            raise
        raise error from cause
    finally:
        _IN_EVALUATOR[0] -= 1
    pair = claim.kind_spec.returns_pair
    if pair:
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise ClaimError(claim.id, f"must return a pair (lhs, rhs); got {describe(out)}")
        values = (scalar_out(out[0], claim, "lhs", mode), scalar_out(out[1], claim, "rhs", mode))
    else:
        values = (scalar_out(out, claim, "the value", mode),)
    for v in values:
        fv = float(v.detach()) if is_torch(v) else v
        if math.isnan(fv) and mode == "numpy" and not allow_nan:
            raise ClaimError(claim.id, f"returned NaN at inputs {describe_inputs(inputs)}")
    return values if pair else values[0]


def guarded_evaluator(claim: Any, params: Any) -> Callable[[Mapping[str, Any]], Any]:
    """The claim's evaluator as ``call(inputs)``; its exceptions become ClaimError naming the input.

    Same errors as :func:`call_evaluator`, with the signature inspected once instead of
    at every one of the thousands of calls an optimisation or a Monte-Carlo loop makes.
    """
    evaluate = claim.evaluate
    extra = {"p": params} if accepts_p(evaluate) else {}

    def call(inputs: Mapping[str, Any]) -> Any:
        _IN_EVALUATOR[0] += 1
        try:
            return evaluate(**inputs, **extra)
        except (Exception, SystemExit) as exc:  # KeyboardInterrupt passes: it is the user's interrupt
            error, cause = _evaluator_error(claim, inputs, exc, False)
            if error is exc:
                raise
            raise error from cause
        finally:
            _IN_EVALUATOR[0] -= 1

    return call


def torch_objective(claim: Any, params: Any) -> Callable:
    """The claim's evaluator on torch inputs (:func:`guarded_evaluator`), checked to return a scalar.

    Same contract as ``call_evaluator(..., mode="torch", prepared=True)``.
    """
    call = guarded_evaluator(claim, params)

    def objective(**inputs):
        out = call(inputs)
        if is_torch(out) and out.numel() != 1:
            raise ClaimError(claim.id, f"must return scalars; the value has shape {tuple(out.shape)}")
        return out

    return objective


def float_statistic(claim: Any, params: Any) -> Callable:
    """The claim's evaluator in float64 for a Monte-Carlo loop (:func:`guarded_evaluator`):
    one float per draw, a non-scalar result a ClaimError too.
    """
    call = guarded_evaluator(claim, params)

    def statistic(inputs: Mapping[str, Any]) -> float:
        out = call(inputs)
        if np.size(out) != 1:
            raise ClaimError(claim.id, f"must return one number per draw; got {describe(out)}")
        try:
            return float(xp.asfloat(out))
        except (TypeError, ValueError):
            raise ClaimError(claim.id, f"must return numbers; got {describe(out)}") from None

    return statistic
