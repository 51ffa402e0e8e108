"""The local optimiser on products of input spaces: multi-start, projected L-BFGS or Adam.

:func:`minimize` is the public entry point; :func:`run_starts` runs a plan of starts for
the judges. Each start is one :func:`run_one`: a strategy (:class:`LBFGS` or
:class:`Adam`, :mod:`.strategies`) descends the pull-back ``f(project(u))`` with a
retraction onto the spaces between steps, and projected gradient descent with Armijo
backtracking takes over where the projection has no usable derivative. See
:mod:`theorycheck.engine.optim` for the decision rules that use the runs.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch

from ..._validation import check_choice, check_int, check_real, describe, fail, fail_type
from ..errors import ClaimError
from .strategies import Adam, Descent, LBFGS, projected_descent
from .problem import (
    NonFiniteObjective,
    Problem,
    Run,
    as_numpy_input,
    deadline_passed,
    is_continuous,
    single_threaded_blas,
)




def run_one(problem: Problem, start: Mapping[str, Any], *, index: int, origin: str,
            steps: int, method: str, tol: float, lr: float, deadline: float | None,
            stop_below: float | None = None) -> Run:
    """Optimise from one start; the continuous inputs are the variables, the rest stay fixed.

    Works on one flat float64 vector ``u`` (the variables concatenated); the objective is
    the pull-back ``f(project(u))``. ``method`` picks the strategy (:mod:`.strategies`):
    ``"lbfgs"`` (scipy's L-BFGS-B without bounds, in chunks of ``LBFGS_CHUNK`` iterations
    with a retraction ``u <- project(u)`` between chunks) or ``"adam"`` (a retraction after
    every step).

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
        u0 = {k: torch.as_tensor(np.asarray(as_numpy_input(start[k]))).to(torch.float64) for k in keys}
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
    d = Descent(problem, x0, f0, g0)
    if d.stop != "non-finite":  # else no gradient through the projection at the start
        strategy = LBFGS() if method == "lbfgs" else Adam(lr)
        strategy.descend(d, steps=steps, tol=tol, deadline=deadline, floor=floor)
    if d.stop == "non-finite" and d.taken < steps:
        projected_descent(d, steps=steps - d.taken, tol=tol, deadline=deadline, floor=floor)
    return Run(index, origin, start_np, problem.numpy_inputs(d.best_x), d.best_f, d.best_g, d.taken,
               tuple(d.trace), d.stop)


def check_spaces(spaces: Any, caller: str) -> Mapping[str, Any]:
    if not isinstance(spaces, Mapping) or not spaces:
        raise fail_type("spaces", caller, "a non-empty dict mapping input names to Space objects", spaces)
    for k, s in spaces.items():
        if not hasattr(s, "project") or not hasattr(s, "sample"):
            raise fail_type("spaces", caller,
                            f"a dict of Space objects (theorycheck.strategies); entry {k!r} is not one", s)
    return spaces


def draw_input(space: Any, rng: np.random.Generator) -> np.ndarray:
    return as_numpy_input(space.sample(rng))


def _split_inputs(spaces: Mapping[str, Any], fixed: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(optimised inputs, inputs drawn once per start): continuous vs not, leaving out ``fixed``."""
    variables = [k for k, s in spaces.items() if k not in fixed and is_continuous(s)]
    drawn = [k for k, s in spaces.items() if k not in fixed and not is_continuous(s)]
    return variables, drawn


def run_starts(objective: Callable, spaces: Mapping[str, Any], fixed: Mapping[str, Any],
              starts: Sequence[tuple[str, Mapping[str, Any]]], *, steps: int, method: str,
              tol: float, lr: float, deadline: float | None, rng: np.random.Generator,
              where: str, claim_id: str | None = None, stop_below: float | None = None) -> list[Run]:
    """Run every (origin, start) pair; non-continuous inputs missing from a start are drawn."""
    variables, drawn = _split_inputs(spaces, fixed)
    with single_threaded_blas():
        return _minimize_all(objective, spaces, fixed, starts, variables, drawn, steps=steps,
                             method=method, tol=tol, lr=lr, deadline=deadline, rng=rng, where=where,
                             claim_id=claim_id, stop_below=stop_below)


def _minimize_all(objective, spaces, fixed, starts, variables, drawn, *, steps, method, tol, lr,
                  deadline, rng, where, claim_id, stop_below) -> list[Run]:
    runs: list[Run] = []
    for index, (origin, start) in enumerate(starts):
        if runs and deadline_passed(deadline):
            break
        start = dict(start)
        for k in drawn:
            if k not in start:
                start[k] = draw_input(spaces[k], rng)
        constants = {k: fixed[k] for k in fixed}
        constants.update({k: start[k] for k in drawn})
        problem = Problem(objective, spaces, variables, constants, where)
        try:
            runs.append(run_one(problem, start, index=index, origin=origin, steps=steps,
                                 method=method, tol=tol, lr=lr, deadline=deadline, stop_below=stop_below))
        except NonFiniteObjective as exc:
            if claim_id is None:
                raise NonFiniteObjective(f"the objective {exc}") from None
            raise ClaimError(claim_id, str(exc)) from None
    return runs


def _start_plan(starts: Any, spaces: Mapping[str, Any], variables: Sequence[str], rng: np.random.Generator,
                where: str) -> list[tuple[str, dict]]:
    """``minimize``'s ``starts`` (a count of random starts, or start points) as ``(origin, start)`` pairs."""
    if isinstance(starts, (int, np.integer)) and not isinstance(starts, bool):
        n = check_int(starts, "starts", where, min_value=1)
        plan = [("random", {k: draw_input(spaces[k], rng) for k in variables}) for _ in range(n)]
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
    return plan


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
    spaces = check_spaces(spaces, where)
    fixed = _checked_fixed(fixed, spaces, where)
    settings = {"steps": check_int(steps, "steps", where, min_value=0),
                "method": check_choice(method, "method", where, ("lbfgs", "adam")),
                "tol": check_real(tol, "tol", where, gt=0), "lr": check_real(lr, "lr", where, gt=0),
                "deadline": None if deadline is None else check_real(deadline, "deadline", where)}
    if rng is None:
        rng = np.random.default_rng(0)
    elif not isinstance(rng, np.random.Generator):
        raise fail_type("rng", where, "a numpy.random.Generator (numpy.random.default_rng(seed))", rng)
    variables, _ = _split_inputs(spaces, fixed)
    plan = _start_plan(starts, spaces, variables, rng, where)
    return run_starts(objective, spaces, fixed, plan, rng=rng, where=where, **settings)


def _checked_fixed(fixed: Any, spaces: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    fixed = {} if fixed is None else fixed
    if not isinstance(fixed, Mapping):
        raise fail_type("fixed", where, "a dict mapping input names to arrays", fixed)
    unknown = sorted(set(fixed) - set(spaces))
    if unknown:
        raise fail("fixed", where, f"keys among the input names {sorted(spaces)}", unknown)
    return fixed
