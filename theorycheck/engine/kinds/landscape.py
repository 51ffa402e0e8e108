"""Landscape claims: every local minimum has the global value ``optimum(p)`` (no spurious minima)."""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..._validation import check_choice, fail
from ..optim.problem import (
    NonDifferentiableProjection,
    Problem,
    Run,
    deadline_passed,
    is_continuous,
    single_threaded_blas,
)
from ..optim.local import run_one, run_starts
from ..optim.closed_form import with_closed_form
from ..results import KindOutcome
from ..optim.manifold import DENSE_HESSIAN_LIMIT, Flat, tangent_extremes
from ._optimising import (
    below_counterexample,
    budget_count,
    claim_objective,
    claim_tolerances,
    claimed_optimum_of,
    confirm_below,
    decide,
    divergence_floor,
    finite_or_none,
    make_outcome,
    optimum_counterexample,
    optimum_tolerance,
    starts_for,
    steps_for,
    traces_of,
)
from ._optimising import OptimisingKind

__all__ = ["Landscape", "judge_landscape"]


#: The landscape judge examines (Hessian, escape test) at most this many candidate minima.
MAX_CANDIDATES = 8


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
    from ...geometry import procrustes

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
        r = run_one(problem, start, index=run.index, origin="perturbed", steps=steps, method="lbfgs",
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
    with single_threaded_blas():
        return _judge_landscape(ctx)


class _Landscape:
    """One landscape judgement: the runs, their continuation, the examination of candidates."""

    def __init__(self, ctx: Any):
        self.ctx = ctx
        self.claimed = claimed_optimum_of(ctx)
        rtol, atol = claim_tolerances(ctx.claim)
        self.tau = optimum_tolerance(self.claimed, rtol=rtol, atol=atol)
        self.steps = steps_for(ctx, 500)
        self.deadline = getattr(ctx, "deadline", None)
        self.where = getattr(ctx.claim, "id", "judge")
        # the claim's closed-form gradient, where it gives one, on the optimiser's hot path
        self.objective = with_closed_form(claim_objective(ctx), ctx.claim, ctx.params)
        self.spaces = ctx.spaces
        self.variables = [k for k, s in self.spaces.items() if is_continuous(s)]
        self.grad_tol = 1e-5 * max(1.0, abs(self.claimed))
        self.plan = starts_for(ctx, budget_count(ctx, "starts", per_second=4.0, low=8, high=64), use_special=False)

    def problem_for(self, inputs: Mapping[str, Any]) -> Problem:
        return Problem(self.objective, self.spaces, self.variables,
                       {k: v for k, v in inputs.items() if k not in self.variables}, self.where)

    def runs(self) -> list[Run]:
        """Every start optimised; one continuation for runs that ran out of steps above the
        optimum without a small gradient."""
        runs = run_starts(self.objective, self.spaces, {}, self.plan, steps=self.steps, method="lbfgs",
                          tol=1e-10, lr=0.05, deadline=self.deadline, rng=self.ctx.rng, where=self.where,
                          claim_id=self.where, stop_below=divergence_floor(self.claimed))
        finished = []
        for r in runs:
            if (r.value > self.claimed + self.tau and r.grad_norm > self.grad_tol and r.stop == "steps"
                    and not deadline_passed(self.deadline)):
                more = run_one(self.problem_for(r.inputs), r.inputs, index=r.index, origin="continued",
                               steps=self.steps, method="lbfgs", tol=1e-10, lr=0.05, deadline=self.deadline)
                r = Run(r.index, r.origin, r.start, more.inputs, more.value, more.grad_norm,
                        r.steps + more.steps, r.trace + more.trace[1:], more.stop)
            finished.append(r)
        return finished

    def examine(self, r: Run, info: dict, rng_escape: np.random.Generator) -> dict | None:
        """Classify one stalled run (``info["status"]``); the mp check if it is a confirmed spurious minimum."""
        try:
            flat = Flat(self.objective, r.inputs, self.spaces, self.variables, self.where)
            lam_min, lam_abs, _ = tangent_extremes(flat, DENSE_HESSIAN_LIMIT, 1e-10)
        except NonDifferentiableProjection as exc:
            info["undecided_reason"] = str(exc)
            return None
        info["min_tangent_eig"], info["max_abs_eig"] = float(lam_min), float(lam_abs)
        if lam_min < -1e-6 * max(1.0, lam_abs):
            info["status"] = "saddle"  # a certified descent direction
            return None
        escaped, _ = _escape_test(self.problem_for, r, self.spaces, self.variables, self.tau, rng_escape,
                                  self.steps, self.deadline)
        info["escaped"] = bool(escaped)
        if escaped:
            info["status"] = "escaped"
            return None
        check = decide(self.ctx, r.inputs, self.claimed, "<=", r.value)
        info["value_digits"] = check["value_digits"]
        if check["confirmed"]:
            info["status"] = "spurious"
            return check  # check["margin"] = mp value - claimed optimum
        if check["status"] == "holds":
            info["status"] = "at optimum"
        else:
            info["undecided_reason"] = check["reason"]
        return None

    def candidates(self, stalled: Sequence[Run]) -> tuple[list[dict], tuple | None]:
        """``(candidate records, (run, info, check) of the first confirmed spurious minimum or None)``."""
        candidates: list[dict] = []
        spurious = None
        rng_escape = np.random.default_rng([int(getattr(self.ctx, "seed", 0) or 0), 7])
        for r in stalled:
            info = {"start": r.index, "value": float(r.value), "gap": float(r.value - self.claimed),
                    "grad_norm": float(r.grad_norm), "min_tangent_eig": None, "max_abs_eig": None,
                    "escaped": None, "status": "undecided"}
            candidates.append(info)
            if spurious is not None:
                info["status"] = "not examined"  # the verdict is already REFUTED
                continue
            if len(candidates) > MAX_CANDIDATES or deadline_passed(self.deadline):
                continue
            check = self.examine(r, info, rng_escape)
            if check is not None:
                spurious = (r, info, check)
        return candidates, spurious


def _landscape_evidence(j: _Landscape, runs: Sequence[Run], value: Callable, reached: Sequence[Run],
                        candidates: list[dict], counts: dict) -> dict:
    claimed = j.claimed
    gaps = [value(r) - claimed for r in runs]
    evidence = {
        "claimed_optimum": claimed,
        "tolerance": j.tau,
        "n_starts": len(runs),
        "starts": len(runs),
        "reached": len(reached),
        "fraction_reached": len(reached) / len(runs) if runs else 0.0,
        "global_fraction": len(reached) / len(runs) if runs else 0.0,
        "worst_gap": finite_or_none(max(gaps)) if gaps else None,
        "median_gap": finite_or_none(float(np.median(gaps))) if gaps else None,
        "final_gaps": [float(g) for g in gaps],
        "grad_norms": [float(r.grad_norm) for r in runs],
        "gradient_tolerance": j.grad_tol,
        "unconverged": int(counts["unconverged"]),
        "saddles": sum(c["status"] in ("saddle", "escaped") for c in candidates),
        "candidates": candidates,
        "n_candidates": len(candidates),
        "n_spurious": int(counts["spurious"]),
        "undecided": int(counts["undecided"]),
        "undecided_below": counts["undecided_below"],
        "max_steps": j.steps,
        "traces": traces_of(runs),
        "stopped_by_deadline": any(r.stop == "deadline" for r in runs) or len(runs) < len(j.plan),
    }
    evidence["median_steps"] = int(np.median([r.steps for r in runs])) if runs else 0
    finals = [value(r) for r in runs]
    if runs and not reached and min(finals) > claimed + j.tau and max(finals) - min(finals) <= j.tau:
        evidence["note"] = ("every start ended at the same value, above the claimed global optimum: the "
                            "claimed optimum may not be attainable at these sizes (e.g. a convex "
                            "relaxation that is not tight), rather than the landscape having a spurious "
                            "minimum")
    evidence.update(_uniqueness(reached, j.spaces))
    return evidence


def _spurious_outcome(ctx: Any, claimed: float, spurious: tuple, evidence: dict) -> KindOutcome:
    r, info, check = spurious
    note = (f"a local minimum above the claimed global optimum {claimed!r}: objective "
            f"{info['value_digits']} ({check['digits']} digits, mpmath), tangent gradient norm "
            f"{info['grad_norm']:.3g}, smallest tangent Hessian eigenvalue {info['min_tangent_eig']:.6g}, "
            f"no descent from 4 perturbations; margin = value - claimed optimum")
    evidence["counterexample_value"] = info["value_digits"]
    return make_outcome("REFUTED", evidence, optimum_counterexample(ctx, r.inputs, check["value_float"], claimed,
                                                                    check["margin"], note, "<="))


def _judge_landscape(ctx: Any) -> KindOutcome:
    j = _Landscape(ctx)
    claimed, tau = j.claimed, j.tau
    runs = j.runs()
    # anything below the claimed global optimum refutes the certificate itself
    below, checks = confirm_below(ctx, [("run", r.index, r.inputs, r.value) for r in runs], claimed, tau)
    mp_value_of = {idx: check["value_float"] for (_, idx), check in checks.items()}
    undecided_below = [check for check in checks.values() if check["status"] == "undecided"]

    def value(r):
        return mp_value_of.get(r.index, r.value)

    reached = [r for r in runs if abs(value(r) - claimed) <= tau]
    above = [r for r in runs if value(r) > claimed + tau]
    unconverged = sum(r.grad_norm > j.grad_tol for r in above)
    # stalled above the optimum with a small gradient: candidate spurious minima, worst first
    stalled = sorted((r for r in above if r.grad_norm <= j.grad_tol), key=lambda r: -r.value)
    candidates, spurious = j.candidates(stalled)
    undecided = sum(c["status"] == "undecided" for c in candidates)
    counts = {"unconverged": unconverged, "spurious": spurious is not None, "undecided": undecided,
              "undecided_below": len(undecided_below)}
    evidence = _landscape_evidence(j, runs, value, reached, candidates, counts)
    if undecided_below:
        evidence["undecided_reason"] = undecided_below[0]["reason"]
    if below is not None:
        evidence["counterexample_value"] = below[3]["value_digits"]
        return make_outcome("REFUTED", evidence, below_counterexample(
            ctx, claimed, below, "; the claimed global optimum is not a lower bound"))
    if spurious is not None:
        return _spurious_outcome(ctx, claimed, spurious, evidence)
    if reached and unconverged == 0 and undecided == 0 and not undecided_below:
        return make_outcome("HOLDS", evidence, None)
    return make_outcome("INCONCLUSIVE", evidence, None)


def _uniqueness(reached: Sequence[Run], spaces: Mapping[str, Any]) -> dict:
    """Procrustes and Gram distances between the solutions that reached the optimum."""
    out: dict[str, Any] = {"uniqueness": {}}
    if len(reached) < 2:
        out.update({"procrustes_max": None, "procrustes_median": None,
                    "gram_distance_max": None, "gram_distance_median": None})
        return out
    keys = [k for k, s in spaces.items() if is_continuous(s) and np.ndim(reached[0].inputs[k]) == 2]
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


class Landscape(OptimisingKind):
    """Many starts; a stalled start above the optimum is examined (Hessian, escape test, mp value)."""

    name = "landscape"
    summary_keys = ("starts", "global_fraction")
    required = (("optimum", "a callable (p) -> float"),)
    shrinks_sizes = True
    judge_fn = staticmethod(judge_landscape)
