"""Descent strategies for one start of the local optimiser: L-BFGS, Adam, projected descent.

A strategy moves a :class:`Descent` (the flat float64 vector of the optimised inputs, the
best point so far, the trace, the steps taken and why it stopped) on the pull-back
``f(project(u))``, with a retraction ``u <- project(u)`` onto the spaces between steps.
``torch.optim`` is avoided on purpose: constructing any torch optimizer imports
``torch._dynamo``, seconds of start-up.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import torch

from .problem import EPS, Problem, deadline_passed

__all__ = ["AdamMoments", "Descent", "LBFGS", "Adam", "projected_descent", "LBFGS_CHUNK"]

#: L-BFGS iterations between two retractions onto the spaces.
LBFGS_CHUNK = 100


class AdamMoments:
    """Adam's bias-corrected moment estimates for one array (Kingma & Ba 2015), numpy or torch.

    The one Adam update of the package: the local optimiser (numpy vectors) and the
    adversarial phase of the relation search (torch leaves) both use it.
    """

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-12):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m: Any = None
        self.v: Any = None
        self.t = 0

    def step(self, grad: Any, lr: Any) -> Any:
        """``lr * m_hat / (sqrt(v_hat) + eps)`` after taking ``grad`` into the moments."""
        torch_grad = isinstance(grad, torch.Tensor)
        zeros = torch.zeros_like(grad) if torch_grad else np.zeros_like(grad)
        self.t += 1
        m = (zeros if self.m is None else self.m) * self.beta1 + (1 - self.beta1) * grad
        v = (zeros if self.v is None else self.v) * self.beta2 + (1 - self.beta2) * grad * grad
        self.m, self.v = m, v
        m_hat = m / (1 - self.beta1 ** self.t)
        v_hat = v / (1 - self.beta2 ** self.t)
        return lr * m_hat / ((torch.sqrt(v_hat) if torch_grad else np.sqrt(v_hat)) + self.eps)


class Descent:
    """One start's state: the flat vector of the optimised inputs, the best point, the trace."""

    def __init__(self, problem: Problem, x0: Mapping[str, torch.Tensor], f0: float, g0: float):
        self.problem = problem
        self.keys = problem.variables
        self.shapes = [tuple(x0[k].shape) for k in self.keys]
        self.sizes = [int(np.prod(sh)) for sh in self.shapes]
        self.n_vars = int(sum(self.sizes))
        self.best_x, self.best_f, self.best_g = x0, f0, g0
        self.trace = [f0]
        self.taken = 0
        self.stop = "steps" if math.isfinite(g0) else "non-finite"

    def split(self, vec: torch.Tensor) -> dict:
        out, at = {}, 0
        for k, sh, sz in zip(self.keys, self.shapes, self.sizes):
            out[k] = vec[at:at + sz].reshape(sh)
            at += sz
        return out

    def flatten(self, x: Mapping[str, torch.Tensor]) -> np.ndarray:
        return np.concatenate([x[k].detach().reshape(-1).numpy() for k in self.keys]).astype(np.float64)

    def retract(self, vec: np.ndarray) -> dict:
        with torch.no_grad():
            return self.problem.project(self.split(torch.from_numpy(np.array(vec, dtype=np.float64))))

    def value_and_grad(self, vec: np.ndarray) -> tuple[float, np.ndarray]:
        """Pull-back value and gradient; (inf, 0) where either is undefined, so line searches back off."""
        closed = getattr(self.problem.objective, "pullback_value_and_grad", None)
        if closed is not None:  # a closed-form gradient (.closed_form): no autograd graph of the objective
            return closed(self.problem, self.split, vec)
        t = torch.from_numpy(np.array(vec, dtype=np.float64)).requires_grad_(True)
        try:
            val = self.problem.value(self.split(t))
            (g,) = torch.autograd.grad(val, [t], allow_unused=True)
        except RuntimeError:  # no derivative of the projection here
            return math.inf, np.zeros(self.n_vars)
        f = float(val.detach())
        g_np = np.zeros(self.n_vars) if g is None else g.detach().numpy().copy()
        if not (math.isfinite(f) and np.all(np.isfinite(g_np))):
            return math.inf, np.zeros(self.n_vars)
        return f, g_np

    def consider(self, x: dict) -> tuple[float, float]:
        """(value, tangent gradient norm) at ``x``, kept as the best point when it is no worse."""
        f, g = self.problem.tangent_grad_norm(x)
        if math.isfinite(f) and math.isfinite(g) and f <= self.best_f:
            self.best_x, self.best_f, self.best_g = x, f, g
        return f, g


class LBFGS:
    """scipy's L-BFGS-B without bounds (memory 20, Wolfe line search), in chunks of
    :data:`LBFGS_CHUNK` iterations with a retraction between chunks."""

    name = "lbfgs"

    def descend(self, d: Descent, *, steps: int, tol: float, deadline: float | None, floor: float) -> None:
        from scipy.optimize import minimize as scipy_minimize

        u = d.flatten(d.best_x)

        def callback(intermediate_result):
            d.trace.append(float(intermediate_result.fun))
            if deadline_passed(deadline) or intermediate_result.fun < floor:
                raise StopIteration  # scipy ends the run and returns the current iterate

        while d.taken < steps:
            if deadline_passed(deadline):
                d.stop = "deadline"
                return
            chunk = min(LBFGS_CHUNK, steps - d.taken)
            prev_f = d.best_f
            # gtol bounds the max-abs gradient entry: <= tol/sqrt(n) implies norm <= tol.
            res = scipy_minimize(d.value_and_grad, u, jac=True, method="L-BFGS-B", callback=callback,
                                 options={"maxiter": chunk, "gtol": tol / math.sqrt(d.n_vars),
                                          "ftol": 1e-16, "maxcor": 20, "maxls": 50})
            d.taken += int(res.nit)
            if not np.all(np.isfinite(res.x)):
                d.stop = "non-finite"
                return
            x = d.retract(res.x)  # back onto the space (the variables drift radially, e.g.)
            stop = self._stop_after_chunk(d, x, res, chunk, prev_f, tol, deadline, floor)
            if stop is not None:
                d.stop = stop
                return
            u = d.flatten(x)

    @staticmethod
    def _stop_after_chunk(d: Descent, x: dict, res: Any, chunk: int, prev_f: float, tol: float,
                          deadline: float | None, floor: float) -> str | None:
        """Why the run ends after this chunk, or None to go on."""
        f, g = d.consider(x)
        if not (math.isfinite(f) and math.isfinite(g)):
            return "non-finite"
        if g <= tol:
            return "converged"
        if f < floor:
            return "below"
        if deadline_passed(deadline):
            return "deadline"
        if int(res.nit) < chunk and (int(res.nit) == 0 or prev_f - f <= 4 * EPS * max(1.0, abs(f))):
            # L-BFGS stopped early for good (line search or f tolerance); if the pull-back
            # gradient became undefined on the way, projected descent takes over
            return "non-finite" if not math.isfinite(d.value_and_grad(res.x)[0]) else "no-progress"
        return None


class Adam:
    """Adam with step size ``lr`` times each space's ``scale``, a retraction after every step."""

    name = "adam"

    def __init__(self, lr: float):
        self.lr = lr

    def descend(self, d: Descent, *, steps: int, tol: float, deadline: float | None, floor: float) -> None:
        u = d.flatten(d.best_x)
        scale = np.concatenate([np.full(sz, float(getattr(d.problem.spaces[k], "scale", 1.0)) or 1.0)
                                for k, sz in zip(d.keys, d.sizes)])
        lr = self.lr * scale
        moments = AdamMoments()
        every = max(1, steps // 100)
        for t in range(1, steps + 1):
            f, grad = d.value_and_grad(u)  # u is on the space: the tangent gradient
            if not math.isfinite(f):
                d.stop = "non-finite"
                return
            gnorm = float(np.linalg.norm(grad))
            if gnorm <= tol:
                d.best_x, d.best_f, d.best_g = d.retract(u), f, gnorm  # the converged point is the answer
                d.stop = "converged"
                return
            if f <= d.best_f:
                d.best_x, d.best_f, d.best_g = d.retract(u), f, gnorm
            if f < floor:
                d.stop = "below"
                break
            if t % every == 0:
                d.trace.append(f)
                if deadline_passed(deadline):
                    d.stop = "deadline"
                    break
            u = d.flatten(d.retract(u - moments.step(grad, lr)))
            d.taken = t
        f, _ = d.consider(d.retract(u))
        d.trace.append(f)


def _euclidean_gradient(problem: Problem, x: dict) -> tuple[float, dict]:
    leaf = {k: v.detach().clone().requires_grad_(True) for k, v in x.items()}
    val = problem.raw_value(leaf)
    grads = torch.autograd.grad(val, [leaf[k] for k in problem.variables], allow_unused=True)
    return float(val.detach()), {k: (torch.zeros_like(leaf[k]) if g is None else g.detach())
                                 for k, g in zip(problem.variables, grads)}


def _norm(d: dict) -> float:
    return math.sqrt(sum(float((v ** 2).sum()) for v in d.values()))


def _armijo(problem: Problem, x: dict, f: float, g: dict, step: float) -> tuple[dict, float, float]:
    """``(trial point, its value, step)`` of the Armijo backtracking; the value is NaN if none was accepted."""
    for _ in range(60):  # Armijo: f(x+) <= f(x) + 1e-4 <g, x+ - x>
        with torch.no_grad():
            trial = problem.project({k: x[k] - step * g[k] for k in problem.variables})
            f_trial = float(problem.raw_value(trial))
        d = {k: trial[k] - x[k] for k in problem.variables}
        slope = sum(float((g[k] * d[k]).sum()) for k in problem.variables)
        if math.isfinite(f_trial) and f_trial <= f + 1e-4 * slope:
            return trial, f_trial, step
        step *= 0.5
    return trial, math.nan, step


def projected_descent(d: Descent, *, steps: int, tol: float, deadline: float | None, floor: float) -> None:
    """Projected gradient descent with Armijo backtracking, where the projection has no derivative.

    Moves ``d`` from its best point ``x <- project(x - t grad f(x))`` with the Euclidean
    gradient; the stationarity measure is the gradient mapping ``(x - project(x - t grad)) / t``.
    """
    problem, x, f = d.problem, d.best_x, d.best_f
    step, mapping, taken, stop = 1.0, math.nan, 0, "steps"
    for taken in range(1, steps + 1):
        if deadline_passed(deadline):
            stop = "deadline"
            break
        f, g = _euclidean_gradient(problem, x)
        if not (math.isfinite(f) and all(bool(torch.isfinite(v).all()) for v in g.values())):
            stop = "non-finite"
            break
        trial, f_trial, step = _armijo(problem, x, f, g, step)
        moved = _norm({k: trial[k] - x[k] for k in problem.variables})
        mapping = moved / step
        if math.isnan(f_trial) or moved == 0.0:
            stop = "converged" if mapping <= tol or moved == 0.0 else "no-progress"
            break
        x, f = trial, f_trial
        d.trace.append(f)
        if mapping <= tol:
            stop = "converged"
            break
        if f < floor:
            stop = "below"
            break
        step *= 2.0
    d.best_x, d.best_f, d.best_g, d.stop = x, f, mapping, stop
    d.taken += taken
