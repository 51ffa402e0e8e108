"""Optimisation judges: optimum, characterization, landscape and statistical claims.

The engine core (:mod:`theorycheck.engine.judge`) dispatches a claim to one of the
four ``judge_*`` functions below by its ``kind``; each receives a ``JudgeContext``
(``claim, params, active, spaces, budget, rng, seed, deadline``) and returns a
``KindOutcome(verdict, evidence, counterexample)``. The building blocks are public so
that claim authors, reports and users can call them directly:

* :func:`minimize` -- multi-start local optimisation of an objective over input spaces
  (torch autograd, float64, L-BFGS or Adam), continuous inputs kept on their space by
  ``Space.project``; one :class:`Run` per start.
* :func:`riemannian_gradient`, :func:`tangent_hessian`, :func:`tangent_hessian_min_eig`
  -- first- and second-order information on the constraint manifold (for rows on a
  sphere: the radial components projected out, and the curvature term
  ``-<grad f(x_i), x_i> / r^2`` per row included in the Hessian).
* :func:`pairwise_alignment_distances`, :func:`pairwise_gram_distances` -- how far the
  solutions of different starts are from each other up to an orthogonal transformation
  (uniqueness "up to rotation").

The module knows no paper: it works for any claim whose evaluator is written with
:mod:`theorycheck.backend` (so that it runs on torch tensors and on mpmath arrays).

Decision rules (stated once, used by every judge)
-------------------------------------------------
Let ``c = claim.optimum(p)`` and ``tau = max(atol + rtol |c|, 1e-12 |c|)`` with the claim's
``rtol`` and ``atol`` (defaults ``1e-9`` and ``1e-12``; :func:`optimum_tolerance`). The
floor ``1e-12 |c|`` is the relative error a claimed optimum computed in float64 may carry.
A claim whose optimum is a numerical certificate (a convex relaxation solved to 1e-7,
say) sets ``atol`` to that accuracy.

* A run *reaches* the optimum when its value lies within ``tau`` of ``c``.
* A float value below ``c - tau`` is only a *candidate*. It is decided by
  :func:`theorycheck.engine.confirm.confirm_relation` applied to ``objective >= c`` on
  exactly the float input the optimiser found, at 60 and 80 significant digits: the
  input is a counterexample iff ``c - f_mp > atol + e + max(rtol, 1e-12) max(|f|, |c|)``,
  where ``e = ||grad f(x)|| (||x - project(x)|| + 4 eps ||x||)`` bounds to first order how
  much the float point's own constraint error (a few ulps off the sphere, say) can
  lower the objective. As everywhere in the engine, a violation within the float noise
  of the evaluation, or an evaluator that leaks floats in mpmath mode, is *undecided*
  (the verdict is then INCONCLUSIVE, never REFUTED). At most 3 candidates are decided,
  the most readable first (smallest entries), and a confirmed one is then simplified
  (``Space.simplify``: rounded numbers) if the simpler input is confirmed too.
* A *spurious local minimum* (landscape claims) is a run that ends above ``c + tau``
  with tangent gradient norm ``<= 1e-5 max(1, |c|)`` whose smallest tangent Hessian
  eigenvalue is ``>= -1e-6 max(1, |largest eigenvalue|)``, from which four random
  perturbations (relative size ``1e-3``) followed by local optimisation all fail to
  descend by more than ``tau``, and whose value is confirmed (as above, for
  ``objective <= c``) to lie above ``c`` by more than the tolerance.

Stationarity is measured by the tangent gradient, which vanishes at minimisers on smooth
constraint sets (spheres, unit rows/columns, free matrices). On sets with boundaries
(balls, probability vectors, intervals, PSD cones) a constrained minimiser on the
boundary can keep a non-zero gradient: values are still right, but a landscape judge
then counts such a run as unconverged (INCONCLUSIVE), never as a spurious minimum.

Budget and determinism
----------------------
The numbers of starts and of Monte-Carlo draws are a deterministic function of the
budget: the claim's parameter ``starts`` (or ``draws``; ``steps`` sets the iterations per
start) when it declares one, else ``budget.examples``, else a default scaled from
``budget.seconds`` (optimum/characterization: 2 starts per second, 4 to 32; landscape:
4 per second, 8 to 64; statistical: 2000 draws per second, 2000 to 100000).
``ctx.deadline`` is a safety net: a run that reaches it stops, no new start begins, and
the evidence says ``stopped_by_deadline: true`` -- only then can two judgements with
the same seed differ. Evidence holds plain JSON types (floats, ints, lists, dicts, None).

While optimising, torch and BLAS run single-threaded (restored afterwards): the problems
are small, and extra threads only add synchronisation (measured 5-50x slower on a busy
2-core machine).

References
----------
P.-A. Absil, R. Mahony, R. Sepulchre. *Optimization Algorithms on Matrix Manifolds.*
Princeton University Press, 2008 (Riemannian gradient and Hessian, second-order
retractions: Prop. 5.5.5). P.-A. Absil, J. Malick. *Projection-like retractions on
matrix manifolds.* SIAM J. Optim. 22(1), 2012 (the metric projection is a
second-order retraction).
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import mpmath
import numpy as np
import torch

from .. import backend as xp
from .calling import invoke
from .confirm import confirm_relation
from .errors import ClaimError
from .evaluation import call_evaluator, describe_inputs, float_statistic, torch_objective
from .results import Counterexample, KindOutcome, Verdict
from .._validation import (
    check_choice,
    check_int,
    check_real,
    describe,
    fail,
    fail_type,
    is_torch,
)

__all__ = [
    "Run",
    "minimize",
    "riemannian_gradient",
    "tangent_hessian",
    "tangent_hessian_min_eig",
    "pairwise_alignment_distances",
    "pairwise_gram_distances",
    "optimum_tolerance",
    "NonFiniteObjective",
    "NonDifferentiableProjection",
    "judge_optimum",
    "judge_characterization",
    "judge_landscape",
    "judge_statistical",
]

#: Digits used to re-evaluate a candidate counterexample (issue 3 asks for >= 50).
CONFIRM_DPS = 60
#: Relative error allowed for a claimed optimum's own float evaluation.
OPTIMUM_FLOAT_RTOL = 1e-12
#: At most this many traces (each downsampled to TRACE_POINTS values) go into evidence.
MAX_TRACES = 16
TRACE_POINTS = 32
#: L-BFGS iterations between two retractions onto the spaces.
LBFGS_CHUNK = 100
#: Dense tangent Hessians up to this dimension; Lanczos (scipy eigsh) above it.
DENSE_HESSIAN_LIMIT = 800
#: At most this many candidates below a claimed optimum are re-evaluated in mpmath (lowest first).
MAX_CONFIRMATIONS = 3
#: The landscape judge examines (Hessian, escape test) at most this many candidate minima.
MAX_CANDIDATES = 8
_EPS = float(np.finfo(np.float64).eps)


# --------------------------------------------------------------------------- runs


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


def _is_continuous(space: Any) -> bool:
    return bool(getattr(space, "continuous", True))


def _as_constant(value: Any) -> Any:
    """An input held fixed: integer arrays (labels) stay int64 numpy, floats become torch float64."""
    if is_torch(value):
        return value.detach().to(torch.float64)
    arr = np.asarray(value)
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        return arr
    return torch.as_tensor(arr.astype(np.float64))


def _as_numpy_input(value: Any) -> np.ndarray:
    if is_torch(value):
        return value.detach().cpu().to(torch.float64).numpy().copy()
    arr = np.asarray(value)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64, copy=True)
    return arr.astype(np.float64, copy=True)


def _torch_scalar(out: Any, where: str) -> torch.Tensor:
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


class _Problem:
    """An objective over named inputs, some optimised (continuous) and the rest held fixed."""

    def __init__(self, objective: Callable, spaces: Mapping[str, Any], variables: Sequence[str],
                 constants: Mapping[str, Any], where: str):
        self.objective = objective
        self.spaces = spaces
        self.variables = tuple(variables)
        self.constants = {k: _as_constant(v) for k, v in constants.items()}
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
        return _torch_scalar(self.objective(**self.constants, **self.project(u)), self.where)

    def raw_value(self, x: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """f(x) without projecting (x already on the spaces): its gradient is the Euclidean one."""
        return _torch_scalar(self.objective(**self.constants, **{k: x[k] for k in self.variables}),
                             self.where)

    def numpy_inputs(self, x: Mapping[str, torch.Tensor]) -> dict:
        out = {k: _as_numpy_input(v) for k, v in self.constants.items()}
        out.update({k: _as_numpy_input(v) for k, v in x.items()})
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


def _downsample(trace: Sequence[float], points: int = TRACE_POINTS) -> list[float]:
    if len(trace) <= points:
        return [float(v) for v in trace]
    idx = np.unique(np.linspace(0, len(trace) - 1, points).round().astype(int))
    return [float(trace[i]) for i in idx]


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _run_one(problem: _Problem, start: Mapping[str, Any], *, index: int, origin: str,
             steps: int, method: str, tol: float, lr: float, deadline: float | None,
             stop_below: float | None = None) -> Run:
    """Optimise from one start; the continuous inputs are the variables, the rest stay fixed.

    Works on one flat float64 vector ``u`` (the variables concatenated); the objective is
    the pull-back ``f(project(u))``. L-BFGS is scipy's L-BFGS-B without bounds, run in chunks
    of ``LBFGS_CHUNK`` iterations with a retraction ``u <- project(u)`` between chunks; Adam
    is written out here with a retraction after every step. (``torch.optim`` is avoided on
    purpose: constructing any torch optimizer imports ``torch._dynamo``, seconds of start-up.)

    Where the pull-back has no usable gradient (a projection through ``torch.linalg.eigh``
    at repeated eigenvalues, as for PSD matrices at the boundary of the cone), the run goes
    on with projected gradient descent: ``x <- project(x - t grad f(x))`` with the Euclidean
    gradient and an Armijo backtracking step ``t``; its stationarity measure is the norm
    of the gradient mapping ``(x - project(x - t grad f(x))) / t``.

    A run whose value falls below ``stop_below`` ends there (``stop="below"``): the judges use
    it as a divergence guard for objectives unbounded below.
    """
    floor = -math.inf if stop_below is None else float(stop_below)
    keys = problem.variables
    with torch.no_grad():
        u0 = {k: torch.as_tensor(np.asarray(_as_numpy_input(start[k]))).to(torch.float64) for k in keys}
        x0 = problem.project(u0)
    start_np = problem.numpy_inputs(x0)
    f0, g0 = problem.tangent_grad_norm(x0)
    if not math.isfinite(f0):
        raise NonFiniteObjective(
            f"returned {f0} at the start point {describe(start_np)} (origin {origin}); "
            "an objective must be finite on its input space")
    if not keys or steps == 0:
        return Run(index, origin, start_np, start_np, f0, g0, 0, (f0,),
                   "no-variables" if not keys else "steps")
    if g0 <= tol:
        return Run(index, origin, start_np, start_np, f0, g0, 0, (f0,), "converged")

    shapes = [tuple(x0[k].shape) for k in keys]
    sizes = [int(np.prod(sh)) for sh in shapes]
    n_vars = int(sum(sizes))

    def split(vec: torch.Tensor) -> dict:
        out, at = {}, 0
        for k, sh, sz in zip(keys, shapes, sizes):
            out[k] = vec[at:at + sz].reshape(sh)
            at += sz
        return out

    def flatten(x: Mapping[str, torch.Tensor]) -> np.ndarray:
        return np.concatenate([x[k].detach().reshape(-1).numpy() for k in keys]).astype(np.float64)

    def retract(vec: np.ndarray) -> dict:
        with torch.no_grad():
            return problem.project(split(torch.from_numpy(np.array(vec, dtype=np.float64))))

    def value_and_grad(vec: np.ndarray) -> tuple[float, np.ndarray]:
        """Pull-back value and gradient; (inf, 0) where either is undefined, so line searches back off."""
        t = torch.from_numpy(np.array(vec, dtype=np.float64)).requires_grad_(True)
        try:
            val = problem.value(split(t))
            (g,) = torch.autograd.grad(val, [t], allow_unused=True)
        except RuntimeError:  # no derivative of the projection here
            return math.inf, np.zeros(n_vars)
        f = float(val.detach())
        g_np = np.zeros(n_vars) if g is None else g.detach().numpy().copy()
        if not (math.isfinite(f) and np.all(np.isfinite(g_np))):
            return math.inf, np.zeros(n_vars)
        return f, g_np

    best_x, best_f, best_g = x0, f0, g0
    trace = [f0]
    taken = 0
    stop = "steps" if math.isfinite(g0) else "non-finite"

    def consider(x: dict) -> tuple[float, float]:
        nonlocal best_x, best_f, best_g
        f, g = problem.tangent_grad_norm(x)
        if math.isfinite(f) and math.isfinite(g) and f <= best_f:
            best_x, best_f, best_g = x, f, g
        return f, g

    if stop == "non-finite":
        pass  # no gradient through the projection at the start: projected descent below
    elif method == "lbfgs":
        from scipy.optimize import minimize as scipy_minimize

        u = flatten(x0)

        def callback(intermediate_result):
            trace.append(float(intermediate_result.fun))
            if _past(deadline) or intermediate_result.fun < floor:
                raise StopIteration  # scipy ends the run and returns the current iterate

        while taken < steps:
            if _past(deadline):
                stop = "deadline"
                break
            chunk = min(LBFGS_CHUNK, steps - taken)
            prev_f = best_f
            # gtol bounds the max-abs gradient entry: <= tol/sqrt(n) implies norm <= tol.
            res = scipy_minimize(value_and_grad, u, jac=True, method="L-BFGS-B", callback=callback,
                                 options={"maxiter": chunk, "gtol": tol / math.sqrt(n_vars),
                                          "ftol": 1e-16, "maxcor": 20, "maxls": 50})
            taken += int(res.nit)
            if not np.all(np.isfinite(res.x)):
                stop = "non-finite"
                break
            x = retract(res.x)  # back onto the space (the variables drift radially, e.g.)
            f, g = consider(x)
            if not (math.isfinite(f) and math.isfinite(g)):
                stop = "non-finite"
                break
            if g <= tol:
                stop = "converged"
                break
            if f < floor:
                stop = "below"
                break
            if _past(deadline):
                stop = "deadline"
                break
            if int(res.nit) < chunk and (int(res.nit) == 0 or prev_f - f <= 4 * _EPS * max(1.0, abs(f))):
                # L-BFGS stopped early for good (line search or f tolerance); if the pull-back
                # gradient became undefined on the way, projected descent takes over below
                stop = "non-finite" if not math.isfinite(value_and_grad(res.x)[0]) else "no-progress"
                break
            u = flatten(x)
    else:
        u = flatten(x0)
        scale = np.concatenate([np.full(sz, float(getattr(problem.spaces[k], "scale", 1.0)) or 1.0)
                                for k, sz in zip(keys, sizes)])
        m = np.zeros(n_vars)
        v = np.zeros(n_vars)
        beta1, beta2, eps = 0.9, 0.999, 1e-12
        every = max(1, steps // 100)
        for t in range(1, steps + 1):
            f, grad = value_and_grad(u)  # u is on the space: the tangent gradient
            if not math.isfinite(f):
                stop = "non-finite"
                break
            gnorm = float(np.linalg.norm(grad))
            if gnorm <= tol:
                best_x, best_f, best_g = retract(u), f, gnorm  # the converged point is the answer
                stop = "converged"
                break
            if f <= best_f:
                best_x, best_f, best_g = retract(u), f, gnorm
            if f < floor:
                stop = "below"
                break
            if t % every == 0:
                trace.append(f)
                if _past(deadline):
                    stop = "deadline"
                    break
            m = beta1 * m + (1 - beta1) * grad
            v = beta2 * v + (1 - beta2) * grad * grad
            step = lr * scale * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
            u = flatten(retract(u - step))
            taken = t
        if stop not in ("converged", "non-finite"):
            f, g = consider(retract(u))
            trace.append(f)
    if stop == "non-finite" and taken < steps:
        best_x, best_f, best_g, more, stop = _projected_descent(
            problem, best_x, best_f, steps=steps - taken, tol=tol, deadline=deadline, floor=floor,
            trace=trace)
        taken += more
    return Run(index, origin, start_np, problem.numpy_inputs(best_x), best_f, best_g, taken,
               tuple(trace), stop)


def _projected_descent(problem: _Problem, x: dict, f: float, *, steps: int, tol: float,
                       deadline: float | None, floor: float, trace: list) -> tuple:
    """Projected gradient descent with Armijo backtracking (no derivative of the projection).

    Returns ``(x, f, gradient-mapping norm, steps taken, stop)``.
    """
    def euclid(x_: dict) -> tuple[float, dict]:
        leaf = {k: v.detach().clone().requires_grad_(True) for k, v in x_.items()}
        val = problem.raw_value(leaf)
        grads = torch.autograd.grad(val, [leaf[k] for k in problem.variables], allow_unused=True)
        return float(val.detach()), {k: (torch.zeros_like(leaf[k]) if g is None else g.detach())
                                     for k, g in zip(problem.variables, grads)}

    def norm(d: dict) -> float:
        return math.sqrt(sum(float((v ** 2).sum()) for v in d.values()))

    step, mapping, taken, stop = 1.0, math.nan, 0, "steps"
    for taken in range(1, steps + 1):
        if _past(deadline):
            stop = "deadline"
            break
        f, g = euclid(x)
        if not (math.isfinite(f) and all(bool(torch.isfinite(v).all()) for v in g.values())):
            stop = "non-finite"
            break
        accepted = False
        for _ in range(60):  # Armijo: f(x+) <= f(x) + 1e-4 <g, x+ - x>
            with torch.no_grad():
                trial = problem.project({k: x[k] - step * g[k] for k in problem.variables})
                f_trial = float(problem.raw_value(trial))
            d = {k: trial[k] - x[k] for k in problem.variables}
            slope = sum(float((g[k] * d[k]).sum()) for k in problem.variables)
            if math.isfinite(f_trial) and f_trial <= f + 1e-4 * slope:
                accepted = True
                break
            step *= 0.5
        mapping = norm(d) / step
        if not accepted or norm(d) == 0.0:
            stop = "converged" if mapping <= tol or norm(d) == 0.0 else "no-progress"
            break
        x, f = trial, f_trial
        trace.append(f)
        if mapping <= tol:
            stop = "converged"
            break
        if f < floor:
            stop = "below"
            break
        step *= 2.0
    return x, f, mapping, taken, stop


@contextlib.contextmanager
def _single_threaded_blas():
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


def _check_spaces(spaces: Any, caller: str) -> Mapping[str, Any]:
    if not isinstance(spaces, Mapping) or not spaces:
        raise fail_type("spaces", caller, "a non-empty dict mapping input names to Space objects", spaces)
    for k, s in spaces.items():
        if not hasattr(s, "project") or not hasattr(s, "sample"):
            raise fail_type("spaces", caller,
                            f"a dict of Space objects (theorycheck.strategies); entry {k!r} is not one", s)
    return spaces


def _draw(space: Any, rng: np.random.Generator) -> np.ndarray:
    return _as_numpy_input(space.sample(rng))


def _split_inputs(spaces: Mapping[str, Any], fixed: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(optimised inputs, inputs drawn once per start): continuous vs not, leaving out ``fixed``."""
    variables = [k for k, s in spaces.items() if k not in fixed and _is_continuous(s)]
    drawn = [k for k, s in spaces.items() if k not in fixed and not _is_continuous(s)]
    return variables, drawn


def _minimize(objective: Callable, spaces: Mapping[str, Any], fixed: Mapping[str, Any],
              starts: Sequence[tuple[str, Mapping[str, Any]]], *, steps: int, method: str,
              tol: float, lr: float, deadline: float | None, rng: np.random.Generator,
              where: str, claim_id: str | None = None, stop_below: float | None = None) -> list[Run]:
    """Run every (origin, start) pair; non-continuous inputs missing from a start are drawn."""
    variables, drawn = _split_inputs(spaces, fixed)
    with _single_threaded_blas():
        return _minimize_all(objective, spaces, fixed, starts, variables, drawn, steps=steps,
                             method=method, tol=tol, lr=lr, deadline=deadline, rng=rng, where=where,
                             claim_id=claim_id, stop_below=stop_below)


def _minimize_all(objective, spaces, fixed, starts, variables, drawn, *, steps, method, tol, lr,
                  deadline, rng, where, claim_id, stop_below) -> list[Run]:
    runs: list[Run] = []
    for index, (origin, start) in enumerate(starts):
        if runs and _past(deadline):
            break
        start = dict(start)
        for k in drawn:
            if k not in start:
                start[k] = _draw(spaces[k], rng)
        constants = {k: fixed[k] for k in fixed}
        constants.update({k: start[k] for k in drawn})
        problem = _Problem(objective, spaces, variables, constants, where)
        try:
            runs.append(_run_one(problem, start, index=index, origin=origin, steps=steps,
                                 method=method, tol=tol, lr=lr, deadline=deadline, stop_below=stop_below))
        except NonFiniteObjective as exc:
            if claim_id is None:
                raise NonFiniteObjective(f"the objective {exc}") from None
            raise ClaimError(claim_id, str(exc)) from None
    return runs


def minimize(objective: Callable, spaces: Mapping[str, Any], fixed: Mapping[str, Any] | None = None,
             *, starts: int | Sequence[Mapping[str, Any]] = 8, steps: int = 500,
             rng: np.random.Generator | None = None, method: str = "lbfgs", tol: float = 1e-9,
             lr: float = 0.05, deadline: float | None = None) -> list[Run]:
    r"""Multi-start local minimisation of ``objective(**inputs)`` over input spaces.

    Each continuous input ``k`` is a torch float64 variable ``u_k``; the objective is
    evaluated at ``x_k = spaces[k].project(u_k)``, i.e. the optimiser minimises the
    pull-back :math:`f \circ P`. For a metric projection onto a smooth constraint set
    (rows on a sphere, unit columns, ...) its gradient at a point of the set is the tangent
    (Riemannian) gradient, so unconstrained L-BFGS / Adam on ``u`` is a projected method;
    ``u`` is moved back onto the space (a retraction) after every chunk of 100 L-BFGS
    iterations and after every Adam step. Where the projection has no usable derivative
    (PSD cones at rank-deficient points) the run continues by projected gradient descent
    with Armijo backtracking. Non-continuous inputs (labels) are held fixed: taken from
    ``fixed`` if given there, else drawn once per start with ``Space.sample(rng)``.

    Parameters
    ----------
    objective : callable
        ``objective(**inputs) -> scalar``, written with :mod:`theorycheck.backend` so
        that it returns a torch tensor for torch inputs (labels arrive as int64 numpy).
    spaces : dict of str to Space
        The input spaces (``theorycheck.strategies``).
    fixed : dict of str to array, optional
        Inputs held at the given value (not optimised, not drawn).
    starts : int or sequence of dict
        Number of random starts (each continuous input drawn with ``Space.sample(rng)``),
        or explicit start points (dicts from input name to array; missing non-continuous
        inputs are drawn).
    steps : int
        Maximum optimiser iterations per start.
    rng : numpy.random.Generator, optional
        Source of every random draw (default ``numpy.random.default_rng(0)``).
    method : {"lbfgs", "adam"}
        L-BFGS (scipy's L-BFGS-B without bounds, memory 20, Wolfe line search; the
        default), or Adam with step size ``lr`` times each space's ``scale``.
    tol : float
        A run has converged when its tangent gradient norm is ``<= tol``.
    lr : float
        Adam step size (unused by L-BFGS).
    deadline : float, optional
        ``time.monotonic()`` value after which the current run stops and no new start begins.

    Returns
    -------
    list of Run
        One per start that was begun, in order.

    Examples
    --------
    Minimise :math:`\sum_{i<j} \langle x_i, x_j \rangle = (\|\sum_i x_i\|^2 - N)/2` over
    N = 3 unit vectors in R^2; the minimum is -N/2 (any configuration with zero sum).

    >>> from theorycheck import strategies as st
    >>> def pairwise(X):
    ...     s = X.sum(0)
    ...     return ((s * s).sum() - (X * X).sum()) / 2
    >>> runs = minimize(pairwise, {"X": st.sphere(3, 2, 1.0)}, starts=2, rng=np.random.default_rng(0))
    >>> [round(r.value, 9) for r in runs]
    [-1.5, -1.5]
    """
    where = "minimize"
    if not callable(objective):
        raise fail_type("objective", where, "a callable objective(**inputs) -> scalar", objective)
    spaces = _check_spaces(spaces, where)
    fixed = {} if fixed is None else fixed
    if not isinstance(fixed, Mapping):
        raise fail_type("fixed", where, "a dict mapping input names to arrays", fixed)
    unknown = sorted(set(fixed) - set(spaces))
    if unknown:
        raise fail("fixed", where, f"keys among the input names {sorted(spaces)}", unknown)
    steps = check_int(steps, "steps", where, min_value=0)
    method = check_choice(method, "method", where, ("lbfgs", "adam"))
    tol = check_real(tol, "tol", where, gt=0)
    lr = check_real(lr, "lr", where, gt=0)
    if deadline is not None:
        deadline = check_real(deadline, "deadline", where)
    if rng is None:
        rng = np.random.default_rng(0)
    elif not isinstance(rng, np.random.Generator):
        raise fail_type("rng", where, "a numpy.random.Generator (numpy.random.default_rng(seed))", rng)
    variables, _ = _split_inputs(spaces, fixed)
    if isinstance(starts, (int, np.integer)) and not isinstance(starts, bool):
        n = check_int(starts, "starts", where, min_value=1)
        plan = [("random", {k: _draw(spaces[k], rng) for k in variables}) for _ in range(n)]
    elif isinstance(starts, Sequence) and not isinstance(starts, (str, bytes)) and len(starts) > 0:
        plan = []
        for i, s in enumerate(starts):
            if not isinstance(s, Mapping):
                raise fail_type("starts", where, "an int or a list of dicts of start inputs", s)
            missing = [k for k in variables if k not in s]
            if missing:
                raise fail("starts", where,
                           f"start points naming every optimised input {variables} "
                           f"(start {i} lacks {missing})", sorted(s))
            plan.append(("given", dict(s)))
    else:
        raise fail_type("starts", where, "a positive int or a non-empty list of dicts of start inputs", starts)
    return _minimize(objective, spaces, fixed, plan, steps=steps, method=method, tol=tol, lr=lr,
                     deadline=deadline, rng=rng, where=where)


# ------------------------------------------------------------- tangent geometry


class _Flat:
    """Flatten the optimised inputs into one vector (and back), projecting onto the spaces."""

    def __init__(self, objective: Callable, inputs: Mapping[str, Any], spaces: Mapping[str, Any],
                 keys: Sequence[str] | None, where: str):
        spaces = _check_spaces(spaces, where)
        if not isinstance(inputs, Mapping):
            raise fail_type("inputs", where, "a dict mapping input names to arrays", inputs)
        if keys is None:
            keys = [k for k in inputs if k in spaces and _is_continuous(spaces[k])]
        else:
            keys = list(keys)
            bad = [k for k in keys if k not in inputs or k not in spaces]
            if bad:
                raise fail("keys", where, f"names present in both `inputs` and `spaces` ({sorted(inputs)})", bad)
        self.keys = keys
        constants = {k: v for k, v in inputs.items() if k not in keys}
        self.problem = _Problem(objective, spaces, keys, constants, where)
        self.shapes = [tuple(np.shape(_as_numpy_input(inputs[k]))) for k in keys]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.n = int(sum(self.sizes))
        with torch.no_grad():
            u = {k: torch.as_tensor(_as_numpy_input(inputs[k])) for k in keys}
            x = self.problem.project(u)
        self.x = torch.cat([x[k].reshape(-1) for k in keys]) if keys else torch.zeros(0, dtype=torch.float64)

    def split(self, flat: torch.Tensor) -> dict:
        out, at = {}, 0
        for k, shape, size in zip(self.keys, self.shapes, self.sizes):
            out[k] = flat[at:at + size].reshape(shape)
            at += size
        return out

    def project_flat(self, flat: torch.Tensor) -> torch.Tensor:
        x = self.problem.project(self.split(flat))
        return torch.cat([x[k].reshape(-1) for k in self.keys])

    def pulled_back(self, flat: torch.Tensor) -> torch.Tensor:
        return self.problem.value(self.split(flat))

    def tangent_projector(self) -> torch.Tensor:
        """Jacobian of the projection at x: the orthogonal projector onto the tangent space."""
        try:
            J = torch.autograd.functional.jacobian(self.project_flat, self.x)
        except RuntimeError as exc:
            raise NonDifferentiableProjection(
                f"the projection onto the space of {self.keys} has no derivative at this point "
                f"({type(exc).__name__}: {str(exc).splitlines()[0]}), so its tangent space is "
                "not available") from exc
        if not bool(torch.isfinite(J).all()):
            raise NonDifferentiableProjection(
                f"the projection onto the space of {self.keys} has a non-finite derivative at this "
                "point (e.g. eigh at repeated eigenvalues), so its tangent space is not available")
        return (J + J.T) / 2

    def tangent_basis(self) -> torch.Tensor:
        """Orthonormal basis (n, m) of the tangent space: eigenvectors of the projector with eigenvalue 1."""
        evals, evecs = torch.linalg.eigh(self.tangent_projector())
        return evecs[:, evals > 0.5]


def riemannian_gradient(objective: Callable, inputs: Mapping[str, Any], spaces: Mapping[str, Any],
                        *, keys: Sequence[str] | None = None) -> dict:
    r"""Tangent (Riemannian) gradient of ``objective`` at ``inputs``, per optimised input.

    For an input constrained to a space with metric projection :math:`P`, the Riemannian
    gradient at a point :math:`x` of the space is :math:`\nabla (f \circ P)(x) = P_{T_x}
    \nabla f(x)`; for rows on a sphere of radius r this removes the radial component of
    each row, :math:`g_i - \langle g_i, x_i \rangle x_i / r^2` (Absil et al. 2008, Sec. 3.6).
    ``inputs`` are first projected onto their spaces.

    Parameters
    ----------
    objective : callable
        ``objective(**inputs) -> scalar`` written with :mod:`theorycheck.backend`.
    inputs : dict of str to array
        The point (labels included).
    spaces : dict of str to Space
        Spaces of the inputs.
    keys : sequence of str, optional
        Inputs to differentiate (default: every continuous input); the others are constants.

    Returns
    -------
    dict of str to ndarray
        Tangent gradient of each key, with the key's shape.
    """
    flat = _Flat(objective, inputs, spaces, keys, "riemannian_gradient")
    x = flat.x.detach().clone().requires_grad_(True)
    val = flat.pulled_back(x)
    (g,) = torch.autograd.grad(val, [x])
    return {k: v.detach().numpy().copy() for k, v in flat.split(g).items()}


def tangent_hessian(objective: Callable, inputs: Mapping[str, Any], spaces: Mapping[str, Any],
                    *, keys: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Riemannian Hessian of ``objective`` at ``inputs`` in an orthonormal tangent basis.

    With :math:`P` the metric projection onto the spaces and :math:`B` an orthonormal
    basis of the tangent space at :math:`x` (eigenvectors of the Jacobian of :math:`P`
    with eigenvalue 1), the matrix returned is

    .. math:: H = \nabla^2_c\, f(P(x + B c))\big|_{c=0},

    the Hessian of the pull-back through the projective retraction. Because that
    retraction is second order (Absil & Malick 2012), :math:`H` is the Riemannian Hessian
    at every point, not only at critical points (Absil et al. 2008, Prop. 5.5.5). For
    rows on a sphere of radius :math:`r` it equals, per row,

    .. math:: P_T\, \nabla^2 f\, P_T - \frac{\langle \nabla f(x)_i, x_i \rangle}{r^2} P_{T,i},

    the Euclidean Hessian projected onto the tangent space plus the curvature term.

    Parameters
    ----------
    objective, inputs, spaces, keys
        As in :func:`riemannian_gradient`.

    Returns
    -------
    hessian : ndarray of shape (m, m)
        Symmetric Riemannian Hessian in the basis.
    basis : ndarray of shape (n, m)
        Orthonormal tangent basis (columns) in the flattened coordinates of the keys
        (concatenated in order, each raveled in C order).
    """
    flat = _Flat(objective, inputs, spaces, keys, "tangent_hessian")
    with _single_threaded_blas():
        B = flat.tangent_basis()
        H = _dense_pullback_hessian(flat, B)
    return H.numpy(), B.numpy()


def _dense_pullback_hessian(flat: _Flat, B: torch.Tensor) -> torch.Tensor:
    x0 = flat.x.detach()

    def g(c):
        return flat.pulled_back(x0 + B @ c)

    c0 = torch.zeros(B.shape[1], dtype=torch.float64)
    try:
        H = torch.autograd.functional.hessian(g, c0, vectorize=True)
    except RuntimeError:  # some ops have no batching rule (vmap): one backward pass per column
        H = torch.autograd.functional.hessian(g, c0)
    return (H + H.T) / 2


def _tangent_extremes(flat: _Flat, dense_limit: int, tol: float) -> tuple[float, float, int]:
    """(smallest eigenvalue, largest |eigenvalue|, tangent dimension) of the Riemannian Hessian."""
    if flat.n == 0:
        return 0.0, 0.0, 0
    if flat.n <= dense_limit:
        B = flat.tangent_basis()
        if B.shape[1] == 0:
            return 0.0, 0.0, 0
        evals = torch.linalg.eigvalsh(_dense_pullback_hessian(flat, B))
        return float(evals[0]), float(evals.abs().max()), int(B.shape[1])
    try:
        return _lanczos_extremes(flat, tol)
    except RuntimeError as exc:
        if isinstance(exc, NonDifferentiableProjection):
            raise
        raise NonDifferentiableProjection(
            f"Hessian-vector products through the projection failed at this point "
            f"({type(exc).__name__}: {str(exc).splitlines()[0]})") from exc


def _lanczos_extremes(flat: _Flat, tol: float) -> tuple[float, float, int]:
    """Matrix-free: operator v -> J H J v + s (v - J v) on R^n, J the tangent projector.

    H is the ambient Hessian of f o P at x (its restriction to tangent vectors is the
    Riemannian Hessian); the shift s > |lambda|max moves the normal directions out of
    the way so the smallest eigenvalue found is a tangent one.
    """
    from scipy.sparse.linalg import LinearOperator, eigsh

    x = flat.x.detach().clone().requires_grad_(True)
    px = flat.project_flat(x)
    val = flat.pulled_back(x)
    (grad,) = torch.autograd.grad(val, [x], create_graph=True)

    def J(v: torch.Tensor) -> torch.Tensor:
        # the Jacobian of a metric projection at a point of the space is symmetric: J^T v = J v
        (out,) = torch.autograd.grad(px, [x], v, retain_graph=True)
        return out

    def H(v: torch.Tensor) -> torch.Tensor:
        (out,) = torch.autograd.grad(grad, [x], v, retain_graph=True)
        return out

    def tangent_op(v_np: np.ndarray, shift: float) -> np.ndarray:
        v = torch.as_tensor(np.ascontiguousarray(v_np).reshape(-1), dtype=torch.float64)
        jv = J(v)
        out = J(H(jv)) + shift * (v - jv)
        return out.detach().numpy()

    n = flat.n
    v0 = np.random.default_rng(12345).standard_normal(n)  # fixed start vector: deterministic
    plain = LinearOperator((n, n), matvec=lambda v: tangent_op(v, 0.0), dtype=np.float64)
    lam_max = float(abs(eigsh(plain, k=1, which="LM", v0=v0, tol=1e-3, return_eigenvectors=False)[0]))
    shift = 2.0 * lam_max + 1.0
    shifted = LinearOperator((n, n), matvec=lambda v: tangent_op(v, shift), dtype=np.float64)
    lam_min = float(eigsh(shifted, k=1, which="SA", v0=v0, tol=tol, return_eigenvectors=False,
                          maxiter=max(1000, 20 * n))[0])
    dim = int(round(float(torch.trace(flat.tangent_projector())))) if n <= 4000 else -1
    return lam_min, lam_max, dim


def tangent_hessian_min_eig(objective: Callable, inputs: Mapping[str, Any], spaces: Mapping[str, Any],
                            *, keys: Sequence[str] | None = None, dense_limit: int = DENSE_HESSIAN_LIMIT,
                            tol: float = 1e-10) -> float:
    r"""Smallest eigenvalue of the Riemannian Hessian at ``inputs`` (see :func:`tangent_hessian`).

    A local minimum on the constraint manifold needs this to be >= 0 (up to tolerance);
    a negative value certifies a descent direction (a saddle point). Problems with at
    most ``dense_limit`` variables use the dense Hessian (``torch.autograd.functional
    .hessian``); larger ones a Lanczos iteration (``scipy.sparse.linalg.eigsh``) on
    Hessian-vector products restricted to the tangent space.

    Parameters
    ----------
    objective, inputs, spaces, keys
        As in :func:`riemannian_gradient`.
    dense_limit : int
        Largest number of flattened variables handled densely.
    tol : float
        Relative accuracy of the Lanczos eigenvalue.

    Returns
    -------
    float
        The smallest tangent Hessian eigenvalue (0.0 when there is nothing to optimise).
    """
    dense_limit = check_int(dense_limit, "dense_limit", "tangent_hessian_min_eig", min_value=0)
    tol = check_real(tol, "tol", "tangent_hessian_min_eig", gt=0)
    flat = _Flat(objective, inputs, spaces, keys, "tangent_hessian_min_eig")
    with _single_threaded_blas():
        return _tangent_extremes(flat, dense_limit, tol)[0]


# ------------------------------------------------------------------ uniqueness


def _run_matrices(runs: Sequence[Any], key: str, points: str, caller: str) -> list[np.ndarray]:
    points = check_choice(points, "points", caller, ("rows", "columns"))
    mats = []
    for r in runs:
        src = r.inputs if hasattr(r, "inputs") else r
        if key not in src:
            raise fail("key", caller, f"an input name of the runs ({sorted(src)})", key)
        m = np.asarray(src[key], dtype=np.float64)
        if m.ndim == 1:
            m = m[:, None] if points == "rows" else m[None, :]
        if m.ndim != 2:
            raise fail("key", caller, "the name of a matrix input (1-D or 2-D)", key)
        mats.append(m if points == "rows" else m.T)
    if len({m.shape for m in mats}) > 1:
        raise fail("runs", caller, f"runs whose {key!r} inputs all have the same shape", [m.shape for m in mats])
    return mats


def pairwise_alignment_distances(runs: Sequence[Any], key: str, *, points: str = "rows",
                                 relative: bool = True) -> np.ndarray:
    r"""Distances between the solutions of different runs after orthogonal Procrustes alignment.

    For solutions :math:`X_a, X_b \in \mathbb{R}^{N \times h}` (points as rows),

    .. math:: d(a, b) = \min_{Q^\top Q = I} \|X_a Q - X_b\|_F \; / \; \|X_b\|_F

    (``relative=False`` drops the division), solved in closed form by the SVD of
    :math:`X_a^\top X_b` (:func:`theorycheck.geometry.procrustes`). A minimiser that is unique
    up to rotation gives distances at the optimiser's accuracy (behnia2024.ufm.unique).

    Parameters
    ----------
    runs : sequence of Run or of dict
        The solutions (``run.inputs[key]``).
    key : str
        The input to compare.
    points : {"rows", "columns"}
        Whether the points (samples) are the rows (``st.sphere(N, h, r)``) or the columns
        (``H`` in R^{d x N}) of the matrix; the orthogonal map acts on the other side.
    relative : bool
        Divide by the Frobenius norm of the second solution.

    Returns
    -------
    ndarray of shape (n_runs, n_runs)
        Symmetrised distance matrix (the mean of d(a, b) and d(b, a)), zero diagonal.
    """
    from ..geometry import procrustes

    mats = _run_matrices(runs, key, points, "pairwise_alignment_distances")
    n = len(mats)
    out = np.zeros((n, n))
    for a in range(n):
        for b in range(a + 1, n):
            vals = []
            for s, t in ((mats[a], mats[b]), (mats[b], mats[a])):
                d = procrustes(s, t).residual
                vals.append(d / max(float(np.linalg.norm(t)), 1e-300) if relative else d)
            out[a, b] = out[b, a] = 0.5 * (vals[0] + vals[1])
    return out


def pairwise_gram_distances(runs: Sequence[Any], key: str, *, points: str = "rows",
                            relative: bool = True) -> np.ndarray:
    r"""Distances between the Gram matrices of different runs' solutions.

    .. math:: d(a, b) = \|G_a - G_b\|_F / \|G_b\|_F, \qquad G = X X^\top \ (\text{points as rows}),

    invariant under any orthogonal transformation of the embedding space; symmetrised as in
    :func:`pairwise_alignment_distances`.

    Returns
    -------
    ndarray of shape (n_runs, n_runs)
    """
    mats = _run_matrices(runs, key, points, "pairwise_gram_distances")
    grams = [m @ m.T for m in mats]
    n = len(grams)
    out = np.zeros((n, n))
    for a in range(n):
        for b in range(a + 1, n):
            d = float(np.linalg.norm(grams[a] - grams[b]))
            if relative:
                d = 0.5 * (d / max(float(np.linalg.norm(grams[b])), 1e-300)
                           + d / max(float(np.linalg.norm(grams[a])), 1e-300))
            out[a, b] = out[b, a] = d
    return out


# -------------------------------------------------------------- judge helpers


def optimum_tolerance(claimed: float, *, rtol: float = 1e-9, atol: float = 1e-12) -> float:
    r"""Tolerance ``tau`` around a claimed optimum ``c``: reached within it, refuted beyond it.

    .. math:: \tau = \max(\mathrm{atol} + \mathrm{rtol}\,|c|,\; 10^{-12} |c|)

    The floor is the relative error a claimed optimum computed in float64 is allowed
    to carry (closed forms with logs and sums of a few thousand terms stay below it).

    >>> optimum_tolerance(-2.0)
    2.001e-09
    """
    return max(atol + rtol * abs(claimed), OPTIMUM_FLOAT_RTOL * abs(claimed))


def _claim_tolerances(claim: Any) -> tuple[float, float]:
    rtol = getattr(claim, "rtol", None)
    atol = getattr(claim, "atol", None)
    return (1e-9 if rtol is None else float(rtol)), (1e-12 if atol is None else float(atol))


def _param(ctx: Any, name: str) -> Any:
    params = ctx.params
    try:
        return params[name] if name in params else None
    except TypeError:
        return getattr(params, name, None)


def _budget_count(ctx: Any, name: str, per_second: float, low: int, high: int) -> int:
    """How many starts/draws: a claim param, else budget.examples, else scaled from seconds.

    A deterministic function of the budget, so the same seed and budget give the same plan.
    """
    value = _param(ctx, name)
    if value is not None:
        return check_int(value, name, ctx.claim.id if hasattr(ctx.claim, "id") else "judge", min_value=1)
    budget = getattr(ctx, "budget", None)
    examples = getattr(budget, "examples", None)
    if examples is not None:
        return max(1, int(examples))
    seconds = getattr(budget, "seconds", None)
    if seconds is None:
        return high
    return int(min(high, max(low, round(per_second * float(seconds)))))


def _steps(ctx: Any, default: int) -> int:
    value = _param(ctx, "steps")
    return default if value is None else check_int(value, "steps", getattr(ctx.claim, "id", "judge"), min_value=1)


def _objective(ctx: Any) -> Callable:
    """The claim's evaluator on torch inputs (the engine's one evaluation path)."""
    return torch_objective(ctx.claim, ctx.params)


def _divergence_floor(claimed: float) -> float:
    """Runs stop once this far below the claimed optimum: the objective is unbounded below
    there (or the claim is off by orders of magnitude) and going on only costs time."""
    return claimed - 1e6 * max(1.0, abs(claimed))


def _numpy_evaluator(ctx: Any) -> Callable:
    """The claim's evaluator in float64, one number per draw (the engine's one evaluation path)."""
    return float_statistic(ctx.claim, ctx.params)


def _claimed_optimum(ctx: Any) -> float:
    fn = getattr(ctx.claim, "optimum", None)
    if fn is None:
        raise fail("optimum", getattr(ctx.claim, "id", "claim"),
                   "given for optimum, characterization and landscape claims "
                   "(optimum=lambda p: <claimed minimal value>)", None)
    value = float(xp.asfloat(fn(ctx.params)))
    if not math.isfinite(value):
        raise fail("optimum", getattr(ctx.claim, "id", "claim"), "a finite number", value)
    return value


def _constraint_noise(ctx: Any, inputs: Mapping[str, Any]) -> float:
    """First-order bound on how much a float point's constraint error can lower the objective."""
    spaces = ctx.spaces
    keys = [k for k in inputs if k in spaces and _is_continuous(spaces[k])]
    if not keys:
        return 0.0
    objective = _objective(ctx)
    leaf = {k: torch.as_tensor(_as_numpy_input(inputs[k])).requires_grad_(True) for k in keys}
    consts = {k: _as_constant(v) for k, v in inputs.items() if k not in keys}
    val = _torch_scalar(objective(**consts, **leaf), getattr(ctx.claim, "id", "claim"))
    grads = torch.autograd.grad(val, [leaf[k] for k in keys], allow_unused=True)
    gnorm = math.sqrt(sum(float((g ** 2).sum()) for g in grads if g is not None))
    off, size = 0.0, 0.0
    with torch.no_grad():
        for k in keys:
            x = leaf[k].detach()
            off += float((spaces[k].project(x.clone()) - x).norm()) ** 2
            size += float(x.norm()) ** 2
    return gnorm * (math.sqrt(off) + 4 * _EPS * math.sqrt(size))


def _decide(ctx: Any, inputs: Mapping[str, Any], claimed: float, relation: str, float_value: float) -> dict:
    """Decide ``objective(inputs) <relation> claimed`` in high precision (the engine's confirm rule).

    ``">="``: the claim says nothing goes below ``c``; violated = a confirmed input below.
    ``"<="``: a local minimum should be global; violated = a confirmed value above ``c``.
    The tolerance is the claim's ``atol + rtol * max(|f|, |c|)`` (rtol at least 1e-12) plus
    the constraint noise of the float point (:func:`_constraint_noise`); values within the
    float noise of the evaluation, or an evaluator that leaks floats in mpmath mode, are
    undecided (:func:`theorycheck.engine.confirm.confirm_relation`).
    """
    rtol, atol = _claim_tolerances(ctx.claim)
    noise = _constraint_noise(ctx, inputs)
    evaluate = ctx.claim.evaluate

    def against_claimed(*, p, **named):
        value = invoke(evaluate, named, p)
        # the claimed optimum enters as an exact mpf in high precision, so it is not a "float leak"
        return value, (mpmath.mpf(claimed) if xp.kind(value) == "mp" else claimed)

    conf = confirm_relation(against_claimed, inputs, ctx.params, relation,
                            rtol=max(rtol, OPTIMUM_FLOAT_RTOL), atol=atol + noise, dps=CONFIRM_DPS,
                            float_values=(float(float_value), float(claimed)))
    return {"status": conf.status, "confirmed": conf.status == "violated", "value_float": float(conf.lhs),
            "margin": float(conf.margin), "value_digits": conf.lhs_digits, "noise": noise,
            "reason": conf.reason, "digits": int(conf.precision_digits)}


def _outcome(verdict_name: str, evidence: dict, counterexample: Any) -> KindOutcome:
    return KindOutcome(Verdict[verdict_name], evidence, counterexample)


def _counterexample(ctx: Any, inputs: Mapping[str, Any], lhs: float, rhs: float, margin: float,
                    note: str, relation: str) -> Counterexample:
    """``lhs`` = objective (mp value, rounded), ``rhs`` = claimed optimum, and ``relation`` what the
    claim asserted between them: ``">="`` (nothing below the optimum) or ``"<="`` (a local
    minimum is no higher than the global optimum)."""
    return ctx.counterexample(inputs, lhs, rhs, margin, CONFIRM_DPS, note=note, relation=relation)


def _finite(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(float(v)) else None


def _starts_for(ctx: Any, n_starts: int, use_special: bool) -> list[tuple[str, dict]]:
    """Special starts (Space.special(), at most half the starts) then random draws, all from ctx.rng."""
    spaces = ctx.spaces
    variables = [k for k, s in spaces.items() if _is_continuous(s)]
    specials = {}
    if use_special:
        for k in variables:
            special = getattr(spaces[k], "special", None)
            cands = [np.asarray(v) for v in (special() if special is not None else [])]
            if cands:
                specials[k] = cands
    n_special = min(max((len(v) for v in specials.values()), default=0), n_starts // 2)
    plan = []
    for i in range(n_starts):
        if i < n_special:
            start = {k: (specials[k][i % len(specials[k])] if k in specials else _draw(spaces[k], ctx.rng))
                     for k in variables}
            plan.append(("special", start))
        else:
            plan.append(("random", {k: _draw(spaces[k], ctx.rng) for k in variables}))
    return plan


def _traces(runs: Sequence[Run]) -> list[list[float]]:
    return [_downsample(r.trace) for r in runs[:MAX_TRACES]]


def _witness(ctx: Any) -> dict | None:
    fn = getattr(ctx.claim, "witness", None)
    if fn is None:
        return None
    w = fn(ctx.params)
    if not isinstance(w, Mapping):
        raise fail_type("witness", getattr(ctx.claim, "id", "claim"), "a function returning a dict of inputs", w)
    missing = sorted(set(ctx.spaces) - set(w))
    if missing:
        raise fail("witness", getattr(ctx.claim, "id", "claim"),
                   f"a dict naming every input {sorted(ctx.spaces)} (missing {missing})", sorted(w))
    return {k: _as_numpy_input(v) for k, v in w.items()}


def _float_value(ctx: Any, inputs: Mapping[str, Any]) -> float:
    value = float(call_evaluator(ctx.claim, inputs, ctx.params, mode="numpy"))
    if not math.isfinite(value):
        raise ClaimError(getattr(ctx.claim, "id", "?"), f"returned {value} at its witness {describe(dict(inputs))}")
    return value


def _optimise_and_classify(ctx: Any, *, use_special: bool, default_steps: int):
    """Shared part of the optimum and characterization judges."""
    claimed = _claimed_optimum(ctx)
    rtol, atol = _claim_tolerances(ctx.claim)
    tau = optimum_tolerance(claimed, rtol=rtol, atol=atol)
    n_starts = _budget_count(ctx, "starts", per_second=2.0, low=4, high=32)
    steps = _steps(ctx, default_steps)
    witness = _witness(ctx)
    plan = _starts_for(ctx, n_starts, use_special)
    runs = _minimize(_objective(ctx), ctx.spaces, {}, plan, steps=steps, method="lbfgs", tol=1e-10,
                     lr=0.05, deadline=getattr(ctx, "deadline", None), rng=ctx.rng,
                     where=getattr(ctx.claim, "id", "judge"), claim_id=getattr(ctx.claim, "id", "?"),
                     stop_below=_divergence_floor(claimed))
    points = [("run", r.index, r.inputs, r.value) for r in runs]
    witness_value = None
    if witness is not None:
        witness_value = _float_value(ctx, witness)
        points.append(("witness", -1, witness, witness_value))
    confirmed, mp_checked = _confirm_below(ctx, points, claimed, tau)
    undecided = [c for c in mp_checked.values() if c["status"] == "undecided"]

    def settled(source, idx, value):
        check = mp_checked.get((source, idx))
        return check["value_float"] if check is not None else value

    reached = [r for r in runs if abs(settled("run", r.index, r.value) - claimed) <= tau]
    witness_reaches = (witness_value is not None
                       and abs(settled("witness", -1, witness_value) - claimed) <= tau)
    values = [r.value for r in runs]
    best = min(values) if values else None
    evidence = {
        "claimed_optimum": claimed,
        "best_value": _finite(best),
        "gap": _finite(best - claimed) if best is not None else None,
        "relative_gap": _finite((best - claimed) / max(abs(claimed), 1e-300)) if best is not None else None,
        "tolerance": tau,
        "n_starts": len(runs),
        "n_special_starts": sum(r.origin == "special" for r in runs),
        "reached": len(reached),
        "below_in_float": sum(v < claimed - tau for v in values),
        "witness_value": _finite(witness_value),
        "witness_reaches": bool(witness_reaches) if witness is not None else None,
        "worst_value": _finite(max(values)) if values else None,
        "median_value": _finite(float(np.median(values))) if values else None,
        "final_values": [float(v) for v in values],
        "grad_norms": [float(r.grad_norm) for r in runs],
        "median_steps": int(np.median([r.steps for r in runs])) if runs else 0,
        "converged": sum(r.converged for r in runs),
        "method": "lbfgs",
        "max_steps": steps,
        "traces": _traces(runs),
        "stopped_by_deadline": any(r.stop == "deadline" for r in runs) or len(runs) < len(plan),
        "confirm_digits": CONFIRM_DPS,
        "undecided": len(undecided),
    }
    if undecided:
        evidence["undecided_reason"] = undecided[0]["reason"]
    return claimed, tau, runs, reached, witness, witness_reaches, confirmed, evidence


def _largest_entry(inputs: Mapping[str, Any], spaces: Mapping[str, Any]) -> float:
    mags = [float(np.max(np.abs(np.asarray(v, dtype=np.float64)))) for k, v in inputs.items()
            if k in spaces and _is_continuous(spaces[k]) and np.size(v)]
    return max(mags, default=0.0)


def _simplify_while(ctx: Any, inputs: Mapping[str, Any], accept: Callable[[dict, float], bool]) -> dict | None:
    """Simpler numbers (``Space.simplify``, simplest first) for which ``accept(inputs, float value)``
    still holds.

    Greedy, one input at a time, at most three passes; ``None`` if nothing simpler works.
    """
    spaces = ctx.spaces
    current, changed = dict(inputs), False
    for _ in range(3):
        progress = False
        for k, space in spaces.items():
            if not _is_continuous(space) or _past(getattr(ctx, "deadline", None)):
                continue
            for candidate in space.simplify(current[k]):
                trial = dict(current)
                trial[k] = candidate
                try:
                    value = float(call_evaluator(ctx.claim, trial, ctx.params, mode="numpy"))
                    ok = math.isfinite(value) and accept(trial, value)
                except ClaimError:
                    continue
                if ok:
                    current, changed, progress = trial, True, True
                    break
        if not progress:
            break
    return current if changed else None


def _simplify_below(ctx: Any, inputs: Mapping[str, Any], claimed: float, tau: float) -> dict | None:
    """Simpler numbers that stay below ``c - tau`` in float (:func:`_simplify_while`)."""
    return _simplify_while(ctx, inputs, lambda trial, value: value < claimed - tau)


def _confirm_below(ctx: Any, points: Sequence[tuple], claimed: float, tau: float) -> tuple:
    """Decide the float candidates below ``c - tau`` in mpmath; return (confirmed or None, checks).

    ``points`` are ``(source, index, inputs, float value)``. Candidates are tried most
    readable first (smallest entries, to within a factor 10^0.1), then lowest value; at
    most :data:`MAX_CONFIRMATIONS`. A confirmed one is then simplified (rounded numbers)
    and kept simplified only if that is confirmed too.
    """
    below = [pt for pt in points if pt[3] < claimed - tau]
    below.sort(key=lambda t: (round(math.log10(max(_largest_entry(t[2], ctx.spaces), 1e-300)), 1), t[3]))
    checks: dict = {}
    for source, idx, inputs, value in below[:MAX_CONFIRMATIONS]:
        check = _decide(ctx, inputs, claimed, ">=", value)
        checks[(source, idx)] = check
        if not check["confirmed"]:
            continue
        simpler = _simplify_below(ctx, inputs, claimed, tau)
        if simpler is not None:
            simple_value = float(call_evaluator(ctx.claim, simpler, ctx.params, mode="numpy"))
            simple_check = _decide(ctx, simpler, claimed, ">=", simple_value)
            if simple_check["confirmed"]:
                simple_check["simplified"] = True
                return (source, idx, simpler, simple_check), checks
        return (source, idx, inputs, check), checks
    return None, checks


def _confirm_minimiser_off_property(ctx: Any, reached: Sequence[Run], distances: Sequence[float],
                                    claimed: float, tau: float, dist_tol: float) -> tuple | None:
    """A run that reached ``c``, lies far from the property, and has objective *equal* to ``c``
    in high precision: ``(index, inputs, check, distance)`` or None.

    The claim says the minimum is ``c`` and that every minimiser has the property, so off
    the property the objective must exceed ``c`` strictly. That strict inequality is
    decided by :func:`theorycheck.engine.confirm.confirm_relation` (``objective > c``):
    it fails only when the objective equals ``c`` to 50 digits at both 60 and 80 digits
    of working precision. Then either the input is a minimiser without the property, or
    the true minimum is below ``c`` -- the claim is false either way. The input must lie
    in its spaces exactly (``Space.exactly_contains``: rational arithmetic on the floats),
    else the tie could be an artefact of a point slightly off the constraint set; spaces
    that cannot tell rule the input out. A float-optimised
    point on a valley of minimisers is rarely exactly on it, so simpler numbers
    (``Space.simplify``) that stay at the optimum in float and far from the property are
    tried first. With a claimed optimum that is not exactly representable in float64 the
    tie cannot be exact, and such runs stay evidence only (``far_from_property``).
    """
    far = [(r, d) for r, d in zip(reached, distances) if d > dist_tol]
    far.sort(key=lambda t: (round(math.log10(max(_largest_entry(t[0].inputs, ctx.spaces), 1e-300)), 1), -t[1]))

    def at_optimum_and_far(trial: dict, value: float) -> bool:
        return abs(value - claimed) <= tau and _distance(ctx, trial) > dist_tol

    def exactly_admissible(inputs: Mapping[str, Any]) -> bool:
        # a tie at a point a few ulps off the constraint set says nothing about the set itself
        return all(getattr(space, "exactly_contains", lambda x: None)(inputs[k]) is True
                   for k, space in ctx.spaces.items())

    for run, _ in far[:MAX_CONFIRMATIONS]:
        simpler = _simplify_while(ctx, run.inputs, at_optimum_and_far)
        for inputs in ([simpler] if simpler is not None else []) + [run.inputs]:
            if not exactly_admissible(inputs):
                continue
            value = float(call_evaluator(ctx.claim, inputs, ctx.params, mode="numpy"))
            check = _decide(ctx, inputs, claimed, ">", value)
            if check["status"] == "violated" and check["margin"] == 0.0:
                check["simplified"] = inputs is simpler
                return run.index, inputs, check, _distance(ctx, inputs)
    return None


def _below_counterexample(ctx, claimed, confirmed, note_extra=""):
    source, idx, inputs, check = confirmed
    where = "the claim's witness" if source == "witness" else f"start {idx}"
    if check.get("simplified"):
        where += ", numbers simplified"
    note = (f"objective {check['value_digits']} ({check['digits']} digits, mpmath) at this input, "
            f"found from {where}, is below the claimed optimum {claimed!r} by {check['margin']:.6g} "
            f"(more than the claim's tolerance plus the constraint noise {check['noise']:.3g})"
            f"{note_extra}; margin = claimed optimum - value")
    return _counterexample(ctx, inputs, check["value_float"], claimed, check["margin"], note, ">=")


# --------------------------------------------------------------------- judges


def judge_optimum(ctx: Any):
    r"""Judge an ``optimum`` claim: ``optimum(p)`` is the minimum of the evaluator.

    Multi-start L-BFGS (special starts from ``Space.special()``, at most half, then random
    draws) minimises ``claim.evaluate(**inputs, p=p)``; the claim's ``witness(p)``, if
    given, is evaluated too.

    Verdict
        REFUTED if some input's objective, re-evaluated in mpmath (60 digits), is below
        ``c = optimum(p)`` by more than the tolerance of :func:`optimum_tolerance` plus the
        constraint noise (module docstring); HOLDS if nothing goes below and at least one
        start (or the witness) reaches ``c`` within the tolerance; INCONCLUSIVE if the
        optimum is never reached and nothing goes below (e.g. a claimed optimum that is
        too low, or a budget too small).

    Evidence
        ``claimed_optimum, best_value, gap, relative_gap, tolerance, n_starts,
        n_special_starts, reached, below_in_float, witness_value, witness_reaches,
        worst_value, median_value, final_values, grad_norms, median_steps, converged,
        method, max_steps, traces, stopped_by_deadline, confirm_digits`` and, when
        refuted, ``counterexample_value`` (the mp value as a 25-digit string).
    """
    claimed, tau, runs, reached, witness, witness_reaches, confirmed, evidence = \
        _optimise_and_classify(ctx, use_special=True, default_steps=300)
    if confirmed is not None:
        evidence["counterexample_value"] = confirmed[3]["value_digits"]
        return _outcome("REFUTED", evidence, _below_counterexample(ctx, claimed, confirmed))
    if (reached or witness_reaches) and not evidence["undecided"]:
        return _outcome("HOLDS", evidence, None)
    return _outcome("INCONCLUSIVE", evidence, None)


def _distance(ctx: Any, inputs: Mapping[str, Any]) -> float:
    fn = getattr(ctx.claim, "distance", None)
    if fn is None:
        raise fail("distance", getattr(ctx.claim, "id", "claim"),
                   "given for characterization claims (distance=lambda **inputs, p: "
                   "<distance to the property, 0 iff it holds>)", None)
    named = {k: _as_numpy_input(v) for k, v in inputs.items()}
    try:
        value = float(xp.asfloat(invoke(fn, named, ctx.params)))
    except ClaimError:
        raise
    except Exception as exc:
        raise ClaimError(getattr(ctx.claim, "id", "?"), f"distance raised {type(exc).__name__} at inputs "
                         f"{describe_inputs(named)}: {exc}") from exc
    if not math.isfinite(value):
        raise ClaimError(getattr(ctx.claim, "id", "?"), f"distance returned {value} at {describe(dict(inputs))}")
    return value


def judge_characterization(ctx: Any):
    r"""Judge a ``characterization`` claim: every minimiser has property P, ``distance = 0``.

    As :func:`judge_optimum`, and the claim's ``distance(**inputs, p=p)`` is measured at
    every run that reached the optimum (and at the witness). The distance tolerance is
    :math:`\sqrt{\tau}` (a point whose value is within :math:`\tau` of a non-degenerate
    minimum is within :math:`O(\sqrt{\tau})` of it), at least ``1e-6``.

    Verdict
        REFUTED if a confirmed input (mpmath) has objective strictly below the claimed
        optimum; the evidence says whether that input also lies far from P
        (``counterexample_distance``). Also REFUTED if a run far from P (or simpler numbers
        near it) has objective *equal* to the claimed optimum to 50 digits at 60 and 80
        digits of precision (:func:`_confirm_minimiser_off_property`): an exact minimiser
        without P, e.g. a loss that is constant in some direction; the counterexample's
        relation is ``objective > optimum`` (what the claim implies off P) with margin 0.
        HOLDS if the optimum is reached and every run that reached it lies within the
        distance tolerance of P. INCONCLUSIVE otherwise: the optimum was never reached, or
        some run reached it (within tolerance) far from P without an exact tie -- such a
        run is evidence against the characterization but not a proof, since it is only a
        near-minimiser; ``far_from_property`` counts them.

    Evidence
        Everything :func:`judge_optimum` reports, plus ``distance_tolerance,
        distance_at_optimum_max, distance_at_optimum_median, distances`` (one per reached
        run), ``max_distance`` (= ``distance_at_optimum_max``, the default summary key),
        ``far_from_property``, ``witness_distance``.
    """
    claimed, tau, runs, reached, witness, witness_reaches, confirmed, evidence = \
        _optimise_and_classify(ctx, use_special=True, default_steps=300)
    dist_tol = max(math.sqrt(tau), 1e-6)
    distances = [_distance(ctx, r.inputs) for r in reached]
    witness_distance = _distance(ctx, witness) if witness is not None else None
    far = sum(d > dist_tol for d in distances)
    evidence.update({
        "distance_tolerance": dist_tol,
        "distance_at_optimum_max": _finite(max(distances)) if distances else None,
        "max_distance": _finite(max(distances)) if distances else None,
        "distance_at_optimum_median": _finite(float(np.median(distances))) if distances else None,
        "distances": [float(d) for d in distances],
        "far_from_property": int(far),
        "witness_distance": _finite(witness_distance),
    })
    if confirmed is not None:
        d = _distance(ctx, confirmed[2])
        evidence["counterexample_value"] = confirmed[3]["value_digits"]
        evidence["counterexample_distance"] = _finite(d)
        extra = (f"; its distance to the property is {d:.6g}"
                 + (" (it also lacks the property)" if d > dist_tol else " (it has the property: the claimed optimum value is wrong)"))
        return _outcome("REFUTED", evidence, _below_counterexample(ctx, claimed, confirmed, extra))
    off_property = _confirm_minimiser_off_property(ctx, reached, distances, claimed, tau, dist_tol) if far else None
    if off_property is not None:
        idx, inputs, check, d = off_property
        evidence["counterexample_value"] = check["value_digits"]
        evidence["counterexample_distance"] = _finite(d)
        where = f"start {idx}" + (", numbers simplified" if check["simplified"] else "")
        note = (f"objective {check['value_digits']} ({check['digits']} digits, mpmath) at this input, found "
                f"from {where}, equals the claimed optimum {claimed!r} to {check['digits'] - 10} digits, but "
                f"its distance to the property is {d:.6g} (tolerance {dist_tol:.3g}): a minimiser without "
                f"the property, unless the true minimum is below the claimed one -- false either way; "
                f"claimed: objective > optimum off the property")
        return _outcome("REFUTED", evidence, _counterexample(ctx, inputs, check["value_float"], claimed, 0.0,
                                                             note, ">"))
    if (reached or witness_reaches) and far == 0 and not evidence["undecided"]:
        return _outcome("HOLDS", evidence, None)
    return _outcome("INCONCLUSIVE", evidence, None)


def _escape_test(problem_factory, run: Run, spaces, variables, tau, rng_escape, steps, deadline,
                 n: int = 4, scale: float = 1e-3) -> tuple[bool, float]:
    """Perturb a candidate minimum slightly and re-optimise: does any perturbation descend?"""
    lowest = run.value
    for i in range(n):
        start = dict(run.inputs)
        for k in variables:
            x = np.asarray(run.inputs[k], dtype=np.float64)
            size = float(np.linalg.norm(x)) / math.sqrt(max(x.size, 1)) or 1.0
            start[k] = x + scale * size * rng_escape.standard_normal(x.shape)
        problem = problem_factory(run.inputs)
        r = _run_one(problem, start, index=run.index, origin="perturbed", steps=steps, method="lbfgs",
                     tol=1e-10, lr=0.05, deadline=deadline)
        lowest = min(lowest, r.value)
        if r.value < run.value - tau:
            return True, lowest
    return False, lowest


def judge_landscape(ctx: Any):
    r"""Judge a ``landscape`` claim: every local minimum has the global value ``optimum(p)``.

    Many random starts (no special inputs: those are often symmetric critical points)
    are optimised with L-BFGS; starts that stop unconverged get one continuation. Per
    start the final value is compared with the claimed global optimum ``c`` (e.g. a
    convex-relaxation certificate). A start that stalls above ``c + tau`` with tangent
    gradient norm below ``1e-5 max(1, |c|)`` is a *candidate spurious minimum*: its
    smallest tangent Hessian eigenvalue (:func:`tangent_hessian_min_eig`) is computed and
    an escape test (4 perturbations of relative size 1e-3, re-optimised) is run.

    Verdict
        REFUTED if a candidate is a confirmed local minimum: small gradient, smallest
        tangent Hessian eigenvalue ``>= -1e-6 max(1, |lambda|_max)``, no perturbation
        descends, and its value, re-evaluated in mpmath, is above ``c`` by more than the
        tolerance and constraint noise. Also REFUTED if an input goes below ``c``
        (mp-confirmed): then ``c`` is not the global optimum. HOLDS if nothing refutes, at
        least one start reaches ``c``, and every start ended either at ``c`` or at a
        point shown not to be a local minimum. INCONCLUSIVE otherwise (starts that never
        converged, or no start reaching ``c``).

    Evidence
        ``claimed_optimum, tolerance, n_starts, reached, fraction_reached, worst_gap,
        median_gap, final_gaps, grad_norms, unconverged, saddles, candidates`` (a list of
        ``{start, value, gap, grad_norm, min_tangent_eig, max_abs_eig, escaped, status}``
        with status ``"saddle"`` (negative curvature), ``"escaped"`` (a perturbation
        descended), ``"spurious"`` (confirmed local minimum), ``"at optimum"`` (the mp value
        is within noise of ``c``), ``"undecided"`` (beyond the first 8 candidates or past the
        deadline) or ``"not examined"`` (already refuted)), ``n_spurious``, ``undecided``,
        ``starts`` and ``global_fraction`` (= ``n_starts``, ``fraction_reached``: the
        default summary keys), uniqueness among the runs that reached ``c``:
        ``procrustes_max, procrustes_median, gram_distance_max, gram_distance_median``
        and per matrix input ``uniqueness``; ``traces``, ``stopped_by_deadline``.
    """
    with _single_threaded_blas():
        return _judge_landscape(ctx)


def _judge_landscape(ctx: Any):
    claimed = _claimed_optimum(ctx)
    rtol, atol = _claim_tolerances(ctx.claim)
    tau = optimum_tolerance(claimed, rtol=rtol, atol=atol)
    n_starts = _budget_count(ctx, "starts", per_second=4.0, low=8, high=64)
    steps = _steps(ctx, 500)
    deadline = getattr(ctx, "deadline", None)
    where = getattr(ctx.claim, "id", "judge")
    objective = _objective(ctx)
    spaces = ctx.spaces
    variables = [k for k, s in spaces.items() if _is_continuous(s)]
    plan = _starts_for(ctx, n_starts, use_special=False)
    runs = _minimize(objective, spaces, {}, plan, steps=steps, method="lbfgs", tol=1e-10, lr=0.05,
                     deadline=deadline, rng=ctx.rng, where=where, claim_id=where,
                     stop_below=_divergence_floor(claimed))

    def problem_for(inputs):
        return _Problem(objective, spaces, variables, {k: v for k, v in inputs.items() if k not in variables}, where)

    grad_tol = 1e-5 * max(1.0, abs(claimed))
    # one continuation for runs that ran out of steps above the optimum without a small gradient
    finished = []
    for r in runs:
        if r.value > claimed + tau and r.grad_norm > grad_tol and r.stop == "steps" and not _past(deadline):
            more = _run_one(problem_for(r.inputs), r.inputs, index=r.index, origin="continued",
                            steps=steps, method="lbfgs", tol=1e-10, lr=0.05, deadline=deadline)
            r = Run(r.index, r.origin, r.start, more.inputs, more.value, more.grad_norm,
                    r.steps + more.steps, r.trace + more.trace[1:], more.stop)
        finished.append(r)
    runs = finished

    # anything below the claimed global optimum refutes the certificate itself
    below, checks = _confirm_below(ctx, [("run", r.index, r.inputs, r.value) for r in runs], claimed, tau)
    mp_value_of = {idx: check["value_float"] for (_, idx), check in checks.items()}
    undecided_below = [check for check in checks.values() if check["status"] == "undecided"]

    def value(r):
        return mp_value_of.get(r.index, r.value)

    reached = [r for r in runs if abs(value(r) - claimed) <= tau]
    above = [r for r in runs if value(r) > claimed + tau]
    unconverged = sum(r.grad_norm > grad_tol for r in above)
    # stalled above the optimum with a small gradient: candidate spurious minima, worst first
    stalled = sorted((r for r in above if r.grad_norm <= grad_tol), key=lambda r: -r.value)
    candidates: list[dict] = []
    spurious = None
    rng_escape = np.random.default_rng([int(getattr(ctx, "seed", 0) or 0), 7])
    for r in stalled:
        info = {"start": r.index, "value": float(r.value), "gap": float(r.value - claimed),
                "grad_norm": float(r.grad_norm), "min_tangent_eig": None, "max_abs_eig": None,
                "escaped": None, "status": "undecided"}
        candidates.append(info)
        if spurious is not None:
            info["status"] = "not examined"  # the verdict is already REFUTED
            continue
        if len(candidates) > MAX_CANDIDATES or _past(deadline):
            continue
        try:
            flat = _Flat(objective, r.inputs, spaces, variables, where)
            lam_min, lam_abs, _ = _tangent_extremes(flat, DENSE_HESSIAN_LIMIT, 1e-10)
        except NonDifferentiableProjection as exc:
            info["undecided_reason"] = str(exc)
            continue
        info["min_tangent_eig"], info["max_abs_eig"] = float(lam_min), float(lam_abs)
        if lam_min < -1e-6 * max(1.0, lam_abs):
            info["status"] = "saddle"  # a certified descent direction
            continue
        escaped, _ = _escape_test(problem_for, r, spaces, variables, tau, rng_escape, steps, deadline)
        info["escaped"] = bool(escaped)
        if escaped:
            info["status"] = "escaped"
            continue
        check = _decide(ctx, r.inputs, claimed, "<=", r.value)
        info["value_digits"] = check["value_digits"]
        if check["confirmed"]:
            info["status"] = "spurious"
            spurious = (r, info, check)  # check["margin"] = mp value - claimed optimum
        elif check["status"] == "holds":
            info["status"] = "at optimum"
        else:
            info["undecided_reason"] = check["reason"]
    undecided = sum(c["status"] == "undecided" for c in candidates)
    gaps = [value(r) - claimed for r in runs]
    evidence = {
        "claimed_optimum": claimed,
        "tolerance": tau,
        "n_starts": len(runs),
        "starts": len(runs),
        "reached": len(reached),
        "fraction_reached": len(reached) / len(runs) if runs else 0.0,
        "global_fraction": len(reached) / len(runs) if runs else 0.0,
        "worst_gap": _finite(max(gaps)) if gaps else None,
        "median_gap": _finite(float(np.median(gaps))) if gaps else None,
        "final_gaps": [float(g) for g in gaps],
        "grad_norms": [float(r.grad_norm) for r in runs],
        "gradient_tolerance": grad_tol,
        "unconverged": int(unconverged),
        "saddles": sum(c["status"] in ("saddle", "escaped") for c in candidates),
        "candidates": candidates,
        "n_candidates": len(candidates),
        "n_spurious": int(spurious is not None),
        "undecided": int(undecided),
        "undecided_below": len(undecided_below),
        "max_steps": steps,
        "traces": _traces(runs),
        "stopped_by_deadline": any(r.stop == "deadline" for r in runs) or len(runs) < len(plan),
    }
    evidence["median_steps"] = int(np.median([r.steps for r in runs])) if runs else 0
    finals = [value(r) for r in runs]
    if runs and not reached and min(finals) > claimed + tau and max(finals) - min(finals) <= tau:
        evidence["note"] = ("every start ended at the same value, above the claimed global optimum: the "
                            "claimed optimum may not be attainable at these sizes (e.g. a convex "
                            "relaxation that is not tight), rather than the landscape having a spurious "
                            "minimum")
    evidence.update(_uniqueness(reached, spaces))
    if undecided_below:
        evidence["undecided_reason"] = undecided_below[0]["reason"]
    if below is not None:
        evidence["counterexample_value"] = below[3]["value_digits"]
        return _outcome("REFUTED", evidence, _below_counterexample(
            ctx, claimed, below, "; the claimed global optimum is not a lower bound"))
    if spurious is not None:
        r, info, check = spurious
        note = (f"a local minimum above the claimed global optimum {claimed!r}: objective "
                f"{info['value_digits']} ({check['digits']} digits, mpmath), tangent gradient norm "
                f"{info['grad_norm']:.3g}, smallest tangent Hessian eigenvalue {info['min_tangent_eig']:.6g}, "
                f"no descent from 4 perturbations; margin = value - claimed optimum")
        evidence["counterexample_value"] = info["value_digits"]
        return _outcome("REFUTED", evidence, _counterexample(ctx, r.inputs, check["value_float"], claimed,
                                                             check["margin"], note, "<="))
    if reached and unconverged == 0 and undecided == 0 and not undecided_below:
        return _outcome("HOLDS", evidence, None)
    return _outcome("INCONCLUSIVE", evidence, None)


def _uniqueness(reached: Sequence[Run], spaces: Mapping[str, Any]) -> dict:
    """Procrustes and Gram distances between the solutions that reached the optimum."""
    out: dict[str, Any] = {"uniqueness": {}}
    if len(reached) < 2:
        out.update({"procrustes_max": None, "procrustes_median": None,
                    "gram_distance_max": None, "gram_distance_median": None})
        return out
    keys = [k for k, s in spaces.items() if _is_continuous(s) and np.ndim(reached[0].inputs[k]) == 2]
    pmax, pmed, gmax, gmed = [], [], [], []
    iu = np.triu_indices(len(reached), 1)
    for k in keys:
        P = pairwise_alignment_distances(reached, k)[iu]
        G = pairwise_gram_distances(reached, k)[iu]
        entry = {"procrustes_max": float(P.max()), "procrustes_median": float(np.median(P)),
                 "gram_distance_max": float(G.max()), "gram_distance_median": float(np.median(G))}
        out["uniqueness"][k] = entry
        pmax.append(entry["procrustes_max"]); pmed.append(entry["procrustes_median"])
        gmax.append(entry["gram_distance_max"]); gmed.append(entry["gram_distance_median"])
    out.update({"procrustes_max": max(pmax) if pmax else None, "procrustes_median": max(pmed) if pmed else None,
                "gram_distance_max": max(gmax) if gmax else None, "gram_distance_median": max(gmed) if gmed else None})
    return out


_EXPECTED_KEYS = ("mean", "var")


def judge_statistical(ctx: Any):
    r"""Judge a ``statistical`` claim: the per-draw statistic has the expected mean / variance.

    Inputs are drawn from the spaces with ``ctx.rng`` (``Space.sample``); the evaluator
    returns one statistic :math:`T` per draw. With :math:`n` draws, sample mean
    :math:`\bar T`, unbiased variance :math:`s^2` and fourth central moment
    :math:`\hat m_4`, the confidence intervals at per-test level :math:`1 - \alpha` are the
    normal (CLT) intervals

    .. math::
        \bar T \pm z_{1-\alpha/2}\, s/\sqrt{n}, \qquad
        s^2 \pm z_{1-\alpha/2} \sqrt{(\hat m_4 - s^4 (n-3)/(n-1))/n}.

    ``claim.expected(p)`` returns ``{"mean": ..., "var": ...}`` (either or both; a bare
    number is the expected mean); with
    :math:`m` entries each is tested at :math:`\alpha = (1 - \text{confidence})/m`
    (Bonferroni), so the verdict's overall level is ``claim.confidence`` (default 0.99).
    This is the simple asymptotic variant: no Chebyshev or Bernstein bound is used for
    the verdict; the distribution-free Chebyshev half-width of the mean,
    :math:`s / \sqrt{n \alpha}`, is reported beside it for comparison.

    The number of draws is ``params["draws"]``, else ``budget.examples``, else
    ``clip(2000 * budget.seconds, 2000, 100000)``; the deadline stops early (reported).

    Verdict
        HOLDS if every expected value lies in its interval (widened by the claim's
        ``atol + rtol |expected|``), REFUTED if one lies outside -- a statistical verdict
        at the stated confidence, not a proof; INCONCLUSIVE with fewer than 30 draws.

    Evidence
        ``n_draws, confidence, per_test_confidence, method, bonferroni_tests, note,
        stopped_by_deadline``; for the mean ``mean_estimate, mean_expected, mean_ci,
        mean_ci_width, mean_z, mean_inside, chebyshev_mean_ci_width``; for the variance
        ``var_estimate, var_expected, var_ci, var_ci_width, var_z, var_inside``; and the
        default summary keys ``mean`` (the estimate) and ``expected`` (the expected mean, or
        the expected variance when no mean is claimed).
    """
    where = getattr(ctx.claim, "id", "judge")
    expected_fn = getattr(ctx.claim, "expected", None)
    if expected_fn is None:
        raise fail("expected", where, "given for statistical claims (expected=lambda p: {'mean': ..., 'var': ...})", None)
    expected = expected_fn(ctx.params)
    if not isinstance(expected, Mapping):
        expected = {"mean": expected}  # a bare number is the expected mean
    if not expected or set(expected) - set(_EXPECTED_KEYS):
        raise fail("expected", where,
                   "a function returning a number (the mean) or a dict with keys among 'mean' and 'var'",
                   expected)
    expected = {k: check_real(xp.asfloat(v), f"expected()['{k}']", where) for k, v in expected.items()}
    confidence = getattr(ctx.claim, "confidence", None)
    confidence = 0.99 if confidence is None else check_real(confidence, "confidence", where, gt=0, lt=1)
    rtol, atol = _claim_tolerances(ctx.claim)
    n_target = _budget_count(ctx, "draws", per_second=2000.0, low=2000, high=100_000)
    statistic = _numpy_evaluator(ctx)
    deadline = getattr(ctx, "deadline", None)
    values = np.empty(n_target)
    n = 0
    for n in range(n_target):
        if n % 256 == 0 and n >= 30 and _past(deadline):
            break
        inputs = {k: s.sample(ctx.rng) for k, s in ctx.spaces.items()}
        v = statistic(inputs)
        if not math.isfinite(v):
            raise ClaimError(where, f"returned {v} at draw {n} of the Monte-Carlo sample: {describe(inputs)}")
        values[n] = v
    else:
        n = n_target
    values = values[:n]
    from scipy.special import ndtri  # the normal quantile, without importing scipy.stats

    m = len(expected)
    alpha = (1.0 - confidence) / m
    z = float(ndtri(1.0 - alpha / 2.0))
    evidence: dict[str, Any] = {
        "n_draws": int(n),
        "confidence": confidence,
        "per_test_confidence": 1.0 - alpha,
        "method": "clt",
        "bonferroni_tests": m,
        "note": (f"statistical verdict at confidence {confidence} (normal approximation, Bonferroni over "
                 f"{m} test{'s' if m > 1 else ''}); not a proof"),
        "stopped_by_deadline": bool(n < n_target),
    }
    if n < 30:
        return _outcome("INCONCLUSIVE", evidence, None)
    mean = float(values.mean())
    var = float(values.var(ddof=1))
    inside = True
    if "mean" in expected:
        half = z * math.sqrt(var / n)
        slack = atol + rtol * abs(expected["mean"])
        ok = abs(mean - expected["mean"]) <= half + slack
        inside &= ok
        evidence.update({
            "mean_estimate": mean, "mean_expected": expected["mean"],
            "mean_ci": [mean - half, mean + half], "mean_ci_width": 2 * half,
            "mean_z": _finite((mean - expected["mean"]) / math.sqrt(var / n)) if var > 0 else None,
            "mean_inside": bool(ok),
            "chebyshev_mean_ci_width": 2 * math.sqrt(var / (n * alpha)),
        })
    if "var" in expected:
        centred = values - mean
        m4 = float(np.mean(centred ** 4))
        se = math.sqrt(max(m4 - var ** 2 * (n - 3) / (n - 1), 0.0) / n)
        half = z * se
        slack = atol + rtol * abs(expected["var"])
        ok = abs(var - expected["var"]) <= half + slack
        inside &= ok
        evidence.update({
            "var_estimate": var, "var_expected": expected["var"],
            "var_ci": [var - half, var + half], "var_ci_width": 2 * half,
            "var_z": _finite((var - expected["var"]) / se) if se > 0 else None,
            "var_inside": bool(ok),
        })
    evidence["mean"] = mean
    evidence["expected"] = expected.get("mean", expected.get("var"))
    return _outcome("HOLDS" if inside else "REFUTED", evidence, None)
