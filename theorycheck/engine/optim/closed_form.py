"""Objectives with a closed-form gradient: the optimiser's hot path without an autograd graph.

A claim may give ``gradient(**inputs, p=p) -> (value, {name: gradient})`` in float64
numpy next to its torch evaluator (``claim(..., gradient=...)``). The local optimiser
spends nearly all its time in one call: the pull-back ``f(project(u))`` and its gradient
(:meth:`Descent.value_and_grad <.strategies.Descent.value_and_grad>`). With a closed
form, the objective is evaluated in numpy and only the projections onto the spaces (a
handful of torch operations: row normalisation, clamping) keep an autograd graph, whose
vector-Jacobian product with the closed-form gradient is the pull-back gradient; spaces that give that product in
closed form too (``Space.project_vjp``: rows on a sphere, free matrices) need no torch at
all. Measured
on the landscape claims (N = 20, d = 11): ``benchmarks/bench_verify_ufm.py``.

Everything else (values at the retractions, tangent gradient norms, Hessians, the mp
checks) still calls the claim's torch evaluator, so a closed form only changes speed.
It is checked against the evaluator at the first point it is used; a disagreement is
a :class:`~theorycheck.engine.errors.ClaimError`, never a silently wrong optimisation.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np
import torch

from ..._validation import describe
from ..calling import accepts_p
from ..errors import ClaimError
from .problem import Problem, as_numpy_input

__all__ = ["ClosedFormObjective", "with_closed_form"]

#: Agreement demanded between the closed form and torch autograd at the first point:
#: relative to max(1, |value|) and max(1, ||gradient||) (both are float64 computations of
#: the same formula, differing by rounding only).
VALUE_RTOL = 1e-9
GRAD_RTOL = 1e-7


class ClosedFormObjective:
    """A claim's torch objective together with its closed-form numpy value and gradient.

    Calling it calls the torch objective (every use but the optimiser's hot path);
    :meth:`pullback_value_and_grad` is what :class:`~.strategies.Descent` uses instead of
    autograd when it is present.

    Parameters
    ----------
    objective : callable
        The torch evaluator ``objective(**inputs)``.
    gradient : callable
        ``gradient(**inputs, p=p) -> (value, {name: ndarray})`` on float64 numpy inputs.
    params : Params
        Passed as ``p`` if ``gradient`` takes it.
    claim_id : str
        Named in errors.
    """

    def __init__(self, objective: Callable, gradient: Callable, params: Any, claim_id: str):
        self.objective = objective
        self.gradient = gradient
        self.extra = {"p": params} if accepts_p(gradient) else {}
        self.claim_id = claim_id
        self.checked = False
        self._constants: tuple[Problem, dict] | None = None

    def __call__(self, **inputs: Any) -> Any:
        return self.objective(**inputs)

    def _numpy_constants(self, problem: Problem) -> dict:
        # one numpy copy of the fixed inputs per problem, not per evaluation; the problem itself
        # is kept (not its id, which a later problem may reuse once this one is collected)
        if self._constants is None or self._constants[0] is not problem:
            self._constants = (problem, {k: as_numpy_input(v) for k, v in problem.constants.items()})
        return self._constants[1]

    def closed_form(self, problem: Problem, x: Mapping[str, np.ndarray]) -> tuple[float, list[np.ndarray]]:
        """``(value, [gradient of each variable])`` of the closed form at ``x`` (on the spaces)."""
        inputs = {**self._numpy_constants(problem), **x}
        try:
            value, grads = self.gradient(**inputs, **self.extra)
            out = [np.asarray(grads[k], dtype=np.float64) for k in problem.variables]
        except ClaimError:
            raise
        except Exception as exc:
            raise ClaimError(self.claim_id, f"its gradient raised {type(exc).__name__} at inputs "
                                            f"{describe(x)}: {exc}") from exc
        for k, g in zip(problem.variables, out):
            if g.shape != np.shape(x[k]):
                raise ClaimError(self.claim_id, f"its gradient for {k!r} has shape {g.shape}, the input "
                                                f"{np.shape(x[k])}")
        return float(value), out

    def pullback_value_and_grad(self, problem: Problem, split: Callable, vec: np.ndarray
                                ) -> tuple[float, np.ndarray]:
        """Value and gradient of ``f(project(u))`` at the flat vector ``vec``; (inf, 0) where undefined.

        Where every variable's space gives its projection's vector-Jacobian product in
        closed form (``Space.project_vjp``: rows on a sphere, free matrices), no torch at
        all; otherwise the projections are differentiated with torch.
        """
        if self.checked:
            out = self._numpy_pullback(problem, vec)
            if out is not None:
                return out
        return self._torch_pullback(problem, split, vec)

    def _numpy_pullback(self, problem: Problem, vec: np.ndarray) -> tuple[float, np.ndarray] | None:
        x, vjps, at = {}, [], 0
        vec = np.asarray(vec, dtype=np.float64)
        for k in problem.variables:
            space = problem.spaces[k]
            shape = tuple(getattr(space, "shape", ()))
            size = int(np.prod(shape))
            pv = getattr(space, "project_vjp", None)
            projected = None if pv is None else pv(vec[at:at + size].reshape(shape))
            if projected is None:
                return None
            x[k], vjp = projected
            vjps.append(vjp)
            at += size
        if at != vec.size:
            return None  # shapes not declared as the optimiser flattens them: the torch path
        f, grads = self.closed_form(problem, x)
        if not (math.isfinite(f) and all(np.all(np.isfinite(g)) for g in grads)):
            return math.inf, np.zeros(vec.size)
        g = np.concatenate([vjp(gk).reshape(-1) for vjp, gk in zip(vjps, grads)])
        if not np.all(np.isfinite(g)):
            return math.inf, np.zeros(vec.size)
        return f, g

    def _torch_pullback(self, problem: Problem, split: Callable, vec: np.ndarray) -> tuple[float, np.ndarray]:
        t = torch.from_numpy(np.array(vec, dtype=np.float64)).requires_grad_(True)
        zeros = np.zeros(t.numel())
        try:
            x = problem.project(split(t))
        except RuntimeError:  # no derivative of the projection here
            return math.inf, zeros
        keys = problem.variables
        x_np = {k: x[k].detach().numpy() for k in keys}
        f, grads = self.closed_form(problem, x_np)
        if not self.checked:
            self._check(problem, x, f, grads)
        if not (math.isfinite(f) and all(np.all(np.isfinite(g)) for g in grads)):
            return math.inf, zeros
        outputs = [x[k] for k in keys if x[k].requires_grad]
        weights = [torch.from_numpy(g) for k, g in zip(keys, grads) if x[k].requires_grad]
        if not outputs:
            return f, zeros
        try:
            (g,) = torch.autograd.grad(outputs, [t], grad_outputs=weights, allow_unused=True)
        except RuntimeError:
            return math.inf, zeros
        g_np = zeros if g is None else g.numpy().copy()
        if not np.all(np.isfinite(g_np)):
            return math.inf, zeros
        return f, g_np

    def _check(self, problem: Problem, x: Mapping[str, torch.Tensor], f: float, grads: list) -> None:
        """The closed form against torch autograd of the evaluator at ``x`` (once)."""
        leaf = {k: x[k].detach().clone().requires_grad_(True) for k in problem.variables}
        val = problem.raw_value(leaf)
        auto = torch.autograd.grad(val, [leaf[k] for k in problem.variables], allow_unused=True)
        ref = float(val.detach())
        if not (math.isfinite(ref) and math.isfinite(f)):
            return  # judged where both are finite; the optimiser backs off from this point anyway
        ref_g = [np.zeros_like(g) if a is None else a.detach().numpy() for a, g in zip(auto, grads)]
        g_err = math.sqrt(sum(float(((g - r) ** 2).sum()) for g, r in zip(grads, ref_g)))
        g_norm = math.sqrt(sum(float((r ** 2).sum()) for r in ref_g))
        if abs(f - ref) > VALUE_RTOL * max(1.0, abs(ref)) or g_err > GRAD_RTOL * max(1.0, g_norm):
            raise ClaimError(self.claim_id, f"its gradient disagrees with its evaluator at {describe(x)}: "
                                            f"value {f!r} against {ref!r}, gradient error {g_err:.3g} "
                                            f"(gradient norm {g_norm:.3g})")
        self.checked = True


def with_closed_form(objective: Callable, claim: Any, params: Any) -> Callable:
    """``objective``, wrapped in a :class:`ClosedFormObjective` when the claim gives a ``gradient``."""
    gradient = getattr(claim, "gradient", None)
    if gradient is None:
        return objective
    return ClosedFormObjective(objective, gradient, params, getattr(claim, "id", "claim"))
