"""The optimisation problem: an objective over named inputs, some optimised, the rest fixed.

:class:`Problem` evaluates the pull-back ``f(project(u))`` of an objective through the
projections of its input spaces (whose gradient at a point of a space is the tangent
gradient); :class:`Run` is one start's result. Shared by the local optimiser
(:mod:`.local`), the manifold diagnostics (:mod:`.manifold`) and the judges of the kinds.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch

from ..._validation import fail, fail_type, is_torch


TRACE_POINTS = 32


EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Run:
    """One start of a local optimisation.

    Attributes
    ----------
    index : int
        Position of the start in the list of starts (0-based).
    origin : str
        Where the start came from: ``"random"`` (drawn with ``Space.sample``),
        ``"special"`` (``Space.special()``), ``"given"`` (passed by the caller),
        ``"perturbed"`` (escape test of the landscape judge) or ``"continued"``.
    start : dict of str to ndarray
        The start, projected onto the spaces (all inputs, labels included).
    inputs : dict of str to ndarray
        The end point, on the spaces (all inputs, labels included): pass it to the
        objective as ``objective(**run.inputs)``.
    value : float
        Objective at ``inputs`` (float64).
    grad_norm : float
        Norm of the tangent (Riemannian) gradient at ``inputs``: for rows on a sphere the
        radial component of each row's gradient is removed. After projected descent (see
        :func:`minimize`) the norm of the gradient mapping; NaN where neither is defined.
    steps : int
        Optimiser iterations taken.
    trace : tuple of float
        Objective at the start and after every iteration (L-BFGS) or at about 100 evenly
        spaced steps (Adam), for report figures.
    stop : str
        Why the run ended: ``"converged"`` (``grad_norm <= tol``), ``"steps"``,
        ``"no-progress"`` (the line search could not decrease the objective any more),
        ``"deadline"``, ``"below"`` (fell below the judges' divergence guard),
        ``"non-finite"`` (a step produced NaN/inf; the last finite point is kept) or
        ``"no-variables"`` (nothing continuous to optimise).
    """

    index: int
    origin: str
    start: dict
    inputs: dict
    value: float
    grad_norm: float
    steps: int
    trace: tuple
    stop: str

    @property
    def converged(self) -> bool:
        """True when the run stopped because its tangent gradient norm fell below ``tol``."""
        return self.stop == "converged"


class NonFiniteObjective(FloatingPointError):
    """The objective is NaN or infinite at a point of its input space."""


class NonDifferentiableProjection(RuntimeError):
    """A space's projection has no usable derivative at a point (no tangent space there)."""


def is_continuous(space: Any) -> bool:
    return bool(getattr(space, "continuous", True))


def as_constant(value: Any) -> Any:
    """An input held fixed: integer arrays (labels) stay int64 numpy, floats become torch float64."""
    if is_torch(value):
        return value.detach().to(torch.float64)
    arr = np.asarray(value)
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        return arr
    return torch.as_tensor(arr.astype(np.float64))


def as_numpy_input(value: Any) -> np.ndarray:
    if is_torch(value):
        return value.detach().cpu().to(torch.float64).numpy().copy()
    arr = np.asarray(value)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64, copy=True)
    return arr.astype(np.float64, copy=True)


def torch_scalar(out: Any, where: str) -> torch.Tensor:
    """The objective's value as a 0-d float64 tensor that still carries autograd."""
    if not is_torch(out):
        raise fail_type(
            "objective", where,
            "written with theorycheck.backend (or plain + * @) so that it returns a torch "
            "tensor for torch inputs; it returned a non-tensor, so it cannot be "
            "differentiated (did it call numpy functions or float()?)", out)
    if out.numel() != 1:
        raise fail("objective", where, "a scalar (one number per input)", out)
    return out.reshape(()).to(torch.float64)


class Problem:
    """An objective over named inputs, some optimised (continuous) and the rest held fixed."""

    def __init__(self, objective: Callable, spaces: Mapping[str, Any], variables: Sequence[str],
                 constants: Mapping[str, Any], where: str):
        self.objective = objective
        self.spaces = spaces
        self.variables = tuple(variables)
        self.constants = {k: as_constant(v) for k, v in constants.items()}
        self.where = where

    def project(self, u: Mapping[str, torch.Tensor]) -> dict:
        out = {}
        for k in self.variables:
            x = self.spaces[k].project(u[k])
            if not is_torch(x):
                raise fail_type("spaces", self.where,
                                f"spaces whose project() maps torch tensors to torch tensors "
                                f"(space of {k!r} returned {type(x).__name__})", self.spaces[k])
            out[k] = x.to(torch.float64)
        return out

    def value(self, u: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """f(project(u)): the objective pulled back through the projections."""
        return torch_scalar(self.objective(**self.constants, **self.project(u)), self.where)

    def raw_value(self, x: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """f(x) without projecting (x already on the spaces): its gradient is the Euclidean one."""
        return torch_scalar(self.objective(**self.constants, **{k: x[k] for k in self.variables}),
                             self.where)

    def numpy_inputs(self, x: Mapping[str, torch.Tensor]) -> dict:
        out = {k: as_numpy_input(v) for k, v in self.constants.items()}
        out.update({k: as_numpy_input(v) for k, v in x.items()})
        return out

    def tangent_grad_norm(self, x: Mapping[str, torch.Tensor]) -> tuple[float, float]:
        """(value, tangent gradient norm) at a point ``x`` already on the spaces.

        The gradient of f o project at a point of the space is the tangent (Riemannian)
        gradient: the Jacobian of a metric projection there is the orthogonal projector
        onto the tangent space (for sphere rows: I - x x^T / r^2 per row).
        """
        leaf = {k: v.detach().clone().requires_grad_(True) for k, v in x.items()}
        try:
            val = self.value(leaf)
            if not self.variables:
                return float(val.detach()), 0.0
            grads = torch.autograd.grad(val, [leaf[k] for k in self.variables], allow_unused=True)
        except RuntimeError:
            # a projection without a usable derivative here (torch.linalg.eigh with repeated
            # eigenvalues, say): the value is still defined, the tangent gradient is not
            with torch.no_grad():
                return float(self.raw_value(x)), math.nan
        sq = sum(float((g.detach() ** 2).sum()) for g in grads if g is not None)
        return float(val.detach()), math.sqrt(sq)


def downsample(trace: Sequence[float], points: int = TRACE_POINTS) -> list[float]:
    if len(trace) <= points:
        return [float(v) for v in trace]
    idx = np.unique(np.linspace(0, len(trace) - 1, points).round().astype(int))
    return [float(trace[i]) for i in idx]


def deadline_passed(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


@contextlib.contextmanager
def single_threaded_blas():
    """torch and BLAS limited to one thread while optimising; restored afterwards.

    The problems are small (tens to a few thousand variables, one evaluation at a time):
    extra threads only add synchronisation. Measured on the 2-core CI box under load:
    scipy's L-BFGS-B with a multi-threaded OpenBLAS 20-50x slower, torch autograd on a
    40 x 12 UFM loss 5-15x slower with 2 intra-op threads than with 1. threadpoolctl
    comes with scikit-learn; without it only torch is limited.
    """
    previous = torch.get_num_threads()
    try:
        from threadpoolctl import threadpool_limits
        blas = threadpool_limits(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover - scikit-learn (a dependency) brings it
        blas = contextlib.nullcontext()
    torch.set_num_threads(1)
    try:
        with blas:
            yield
    finally:
        torch.set_num_threads(previous)
