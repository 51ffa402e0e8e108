"""The optimiser package: local optimisation and manifold diagnostics on input spaces.

The kinds judged by optimisation (:mod:`theorycheck.engine.kinds.optimum`,
``characterization``, ``landscape``, ``statistical``) use it; each kind's judge receives
a ``JudgeContext`` (``claim, params, active, spaces, budget, rng, seed, deadline``) and
returns a ``KindOutcome(verdict, evidence, counterexample)``. The building blocks are
public so that claim authors, reports and users can call them directly:

* :func:`minimize` -- multi-start local optimisation of an objective over input spaces
  (torch autograd, float64, L-BFGS or Adam), continuous inputs kept on their space by
  ``Space.project``; one :class:`Run` per start.
* :func:`riemannian_gradient`, :func:`tangent_hessian`, :func:`tangent_hessian_min_eig`
  -- first- and second-order information on the constraint manifold (for rows on a
  sphere: the radial components projected out, and the curvature term
  ``-<grad f(x_i), x_i> / r^2`` per row included in the Hessian).
* :func:`~theorycheck.engine.kinds.landscape.pairwise_alignment_distances`,
  :func:`~theorycheck.engine.kinds.landscape.pairwise_gram_distances` (with the landscape
  kind, which uses them) -- how far the solutions of different starts are from each
  other up to an orthogonal transformation (uniqueness "up to rotation").

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

from .local import minimize, run_one, run_starts
from .manifold import riemannian_gradient, tangent_hessian, tangent_hessian_min_eig
from .problem import NonDifferentiableProjection, NonFiniteObjective, Problem, Run

__all__ = ["Run", "Problem", "minimize", "run_one", "run_starts", "riemannian_gradient", "tangent_hessian",
           "tangent_hessian_min_eig", "NonFiniteObjective", "NonDifferentiableProjection"]
