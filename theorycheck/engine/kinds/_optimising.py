"""What the kinds judged by optimisation share (optimum, characterization, landscape, statistical).

The decision rules (the tolerance ``tau`` around a claimed optimum, the high-precision
confirmation of a value below it with the constraint noise of the float point, the
simplification of a confirmed input) are stated in :mod:`theorycheck.engine.optim`'s
docstring and implemented here once; the number of starts, steps or draws comes from the
budget or from the claim's ``search=`` settings (see :func:`budget_count`), never from a
claim parameter.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Mapping, Sequence

import mpmath
import numpy as np
import torch

from ... import backend as xp
from ..._validation import InvalidArgumentError, describe, fail, fail_type
from ..calling import invoke
from ..confirm import confirm_relation
from ..domain import example_points
from ..errors import ClaimError
from ..evaluation import call_evaluator, float_statistic, torch_objective
from ..results import Counterexample, KindOutcome, Verdict
from .base import Kind
from ..optim.problem import (
    EPS,
    Run,
    as_constant,
    as_numpy_input,
    deadline_passed,
    downsample,
    is_continuous,
    torch_scalar,
)
from ..optim.local import draw_input, run_starts
from ..exhaustive import enumerate_inputs


#: Digits used to re-evaluate a candidate counterexample (issue 3 asks for >= 50).
CONFIRM_DPS = 60


#: Relative error allowed for a claimed optimum's own float evaluation.
OPTIMUM_FLOAT_RTOL = 1e-12


#: At most this many traces (each downsampled to TRACE_POINTS values) go into evidence.
MAX_TRACES = 16


#: At most this many candidates below a claimed optimum are re-evaluated in mpmath (lowest first).
MAX_CONFIRMATIONS = 3


def optimum_tolerance(claimed: float, *, rtol: float = 1e-9, atol: float = 1e-12) -> float:
    r"""Tolerance ``tau`` around a claimed optimum ``c``: reached within it, refuted beyond it.

    .. math:: \tau = \max(\mathrm{atol} + \mathrm{rtol}\,|c|,\; 10^{-12} |c|)

    The floor is the relative error a claimed optimum computed in float64 is allowed
    to carry (closed forms with logs and sums of a few thousand terms stay below it).

    >>> optimum_tolerance(-2.0)
    2.001e-09
    """
    return max(atol + rtol * abs(claimed), OPTIMUM_FLOAT_RTOL * abs(claimed))


def claim_tolerances(claim: Any) -> tuple[float, float]:
    rtol = getattr(claim, "rtol", None)
    atol = getattr(claim, "atol", None)
    return (1e-9 if rtol is None else float(rtol)), (1e-12 if atol is None else float(atol))


def search_setting(ctx: Any, name: str) -> int | None:
    """An explicit engine setting (``starts``, ``steps``, ``draws``): the budget's, else the
    claim's ``search=``, else None. Claim parameters are never read: a parameter called
    ``starts`` is part of the claim's statement, not an instruction to the engine."""
    value = getattr(getattr(ctx, "budget", None), name, None)
    if value is None:
        value = (getattr(ctx.claim, "search", None) or {}).get(name)
    return None if value is None else int(value)


def budget_count(ctx: Any, name: str, per_second: float, low: int, high: int) -> int:
    """How many starts/draws: the explicit setting (:func:`search_setting`), else
    budget.examples, else scaled from seconds.

    A deterministic function of the budget and claim, so the same seed and budget give the same plan.
    """
    value = search_setting(ctx, name)
    if value is not None:
        return value
    budget = getattr(ctx, "budget", None)
    examples = getattr(budget, "examples", None)
    if examples is not None:
        return max(1, int(examples))
    seconds = getattr(budget, "seconds", None)
    if seconds is None:
        return high
    return int(min(high, max(low, round(per_second * float(seconds)))))


def steps_for(ctx: Any, default: int) -> int:
    """Optimiser iterations per start: the explicit setting, else the kind's default."""
    value = search_setting(ctx, "steps")
    return default if value is None else value


def claim_objective(ctx: Any) -> Callable:
    """The claim's evaluator on torch inputs (the engine's one evaluation path)."""
    return torch_objective(ctx.claim, ctx.params)


def divergence_floor(claimed: float) -> float:
    """Runs stop once this far below the claimed optimum: the objective is unbounded below
    there (or the claim is off by orders of magnitude) and going on only costs time."""
    return claimed - 1e6 * max(1.0, abs(claimed))


def numpy_evaluator(ctx: Any) -> Callable:
    """The claim's evaluator in float64, one number per draw (the engine's one evaluation path)."""
    return float_statistic(ctx.claim, ctx.params)


def claimed_optimum_of(ctx: Any) -> float:
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
    keys = [k for k in inputs if k in spaces and is_continuous(spaces[k])]
    if not keys:
        return 0.0
    objective = claim_objective(ctx)
    leaf = {k: torch.as_tensor(as_numpy_input(inputs[k])).requires_grad_(True) for k in keys}
    consts = {k: as_constant(v) for k, v in inputs.items() if k not in keys}
    val = torch_scalar(objective(**consts, **leaf), getattr(ctx.claim, "id", "claim"))
    grads = torch.autograd.grad(val, [leaf[k] for k in keys], allow_unused=True)
    gnorm = math.sqrt(sum(float((g ** 2).sum()) for g in grads if g is not None))
    off, size = 0.0, 0.0
    with torch.no_grad():
        for k in keys:
            x = leaf[k].detach()
            off += float((spaces[k].project(x.clone()) - x).norm()) ** 2
            size += float(x.norm()) ** 2
    return gnorm * (math.sqrt(off) + 4 * EPS * math.sqrt(size))


def decide(ctx: Any, inputs: Mapping[str, Any], claimed: float, relation: str, float_value: float) -> dict:
    """Decide ``objective(inputs) <relation> claimed`` in high precision (the engine's confirm rule).

    ``">="``: the claim says nothing goes below ``c``; violated = a confirmed input below.
    ``"<="``: a local minimum should be global; violated = a confirmed value above ``c``.
    The tolerance is the claim's ``atol + rtol * max(|f|, |c|)`` (rtol at least 1e-12) plus
    the constraint noise of the float point (:func:`_constraint_noise`); values within the
    float noise of the evaluation, or an evaluator that leaks floats in mpmath mode, are
    undecided (:func:`theorycheck.engine.confirm.confirm_relation`).
    """
    rtol, atol = claim_tolerances(ctx.claim)
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


def make_outcome(verdict_name: str, evidence: dict, counterexample: Any) -> KindOutcome:
    return KindOutcome(Verdict[verdict_name], evidence, counterexample)


def optimum_counterexample(ctx: Any, inputs: Mapping[str, Any], lhs: float, rhs: float, margin: float,
                    note: str, relation: str) -> Counterexample:
    """``lhs`` = objective (mp value, rounded), ``rhs`` = claimed optimum, and ``relation`` what the
    claim asserted between them: ``">="`` (nothing below the optimum) or ``"<="`` (a local
    minimum is no higher than the global optimum)."""
    return ctx.counterexample(inputs, lhs, rhs, margin, CONFIRM_DPS, note=note, relation=relation)


def finite_or_none(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(float(v)) else None


def starts_for(ctx: Any, n_starts: int, use_special: bool) -> list[tuple[str, dict]]:
    """Special starts (Space.special(), at most half the starts) then random draws, all from ctx.rng."""
    spaces = ctx.spaces
    variables = [k for k, s in spaces.items() if is_continuous(s)]
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
            start = {k: (specials[k][i % len(specials[k])] if k in specials else draw_input(spaces[k], ctx.rng))
                     for k in variables}
            plan.append(("special", start))
        else:
            plan.append(("random", {k: draw_input(spaces[k], ctx.rng) for k in variables}))
    return plan


def traces_of(runs: Sequence[Run]) -> list[list[float]]:
    return [downsample(r.trace) for r in runs[:MAX_TRACES]]


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
    return {k: as_numpy_input(v) for k, v in w.items()}


def _float_value(ctx: Any, inputs: Mapping[str, Any]) -> float:
    value = float(call_evaluator(ctx.claim, inputs, ctx.params, mode="numpy"))
    if not math.isfinite(value):
        raise ClaimError(getattr(ctx.claim, "id", "?"), f"returned {value} at its witness {describe(dict(inputs))}")
    return value


@dataclasses.dataclass
class Optimised:
    """What the optimum and characterization judges share: the runs, classified against ``c``.

    ``claimed`` is ``c``, ``tau`` its tolerance, ``reached`` the runs within ``tau`` of it,
    ``witness`` the claim's witness inputs (or None) and ``witness_reaches`` whether it
    reaches ``c``; ``confirmed`` is the first confirmed input below ``c`` (or None) and
    ``evidence`` the evidence so far.
    """

    claimed: float
    tau: float
    runs: list
    reached: list
    witness: dict | None
    witness_reaches: bool
    confirmed: Any
    evidence: dict


def optimise_and_classify(ctx: Any, *, use_special: bool, default_steps: int) -> Optimised:
    """Shared part of the optimum and characterization judges."""
    claimed = claimed_optimum_of(ctx)
    rtol, atol = claim_tolerances(ctx.claim)
    tau = optimum_tolerance(claimed, rtol=rtol, atol=atol)
    n_starts = budget_count(ctx, "starts", per_second=2.0, low=4, high=32)
    steps = steps_for(ctx, default_steps)
    witness = _witness(ctx)
    finite = enumerate_inputs(ctx.spaces)
    if finite is not None:
        # a finite space (the 0-sphere {-r, +r}, small labels): the optimiser cannot move on it,
        # so every point is checked instead
        plan = [("exhaustive", pt) for pt in finite]
        runs = _exhaustive_runs(ctx, finite)
    else:
        plan = starts_for(ctx, n_starts, use_special)
        runs = run_starts(claim_objective(ctx), ctx.spaces, {}, plan, steps=steps, method="lbfgs", tol=1e-10,
                         lr=0.05, deadline=getattr(ctx, "deadline", None), rng=ctx.rng,
                         where=getattr(ctx.claim, "id", "judge"), claim_id=getattr(ctx.claim, "id", "?"),
                         stop_below=divergence_floor(claimed))
    points = [("run", r.index, r.inputs, r.value) for r in runs]
    witness_value = None
    if witness is not None:
        witness_value = _float_value(ctx, witness)
        points.append(("witness", -1, witness, witness_value))
    examples = example_points(ctx)  # the claim's explicit @example inputs, checked like the witness
    points.extend(examples)
    confirmed, mp_checked = confirm_below(ctx, points, claimed, tau)
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
        "best_value": finite_or_none(best),
        "gap": finite_or_none(best - claimed) if best is not None else None,
        "relative_gap": finite_or_none((best - claimed) / max(abs(claimed), 1e-300)) if best is not None else None,
        "tolerance": tau,
        "n_starts": len(runs),
        "n_special_starts": sum(r.origin == "special" for r in runs),
        "reached": len(reached),
        "below_in_float": sum(v < claimed - tau for v in values),
        "witness_value": finite_or_none(witness_value),
        "witness_reaches": bool(witness_reaches) if witness is not None else None,
        "worst_value": finite_or_none(max(values)) if values else None,
        "median_value": finite_or_none(float(np.median(values))) if values else None,
        "final_values": [float(v) for v in values],
        "grad_norms": [float(r.grad_norm) for r in runs],
        "median_steps": int(np.median([r.steps for r in runs])) if runs else 0,
        "converged": sum(r.converged for r in runs),
        "method": "lbfgs",
        "max_steps": steps,
        "traces": traces_of(runs),
        "stopped_by_deadline": any(r.stop == "deadline" for r in runs) or len(runs) < len(plan),
        "confirm_digits": CONFIRM_DPS,
        "undecided": len(undecided),
    }
    if undecided:
        evidence["undecided_reason"] = undecided[0]["reason"]
    if examples:
        evidence["examples"] = [{"value": finite_or_none(value)} for _, _, _, value in examples]
    if finite is not None:
        evidence["exhaustive"] = len(runs) == len(finite)
        evidence["n_points"] = len(finite)
    if not reached and not confirmed:
        evidence.setdefault("reason", _unreached_reason(evidence, witness_reaches))
    return Optimised(claimed, tau, runs, reached, witness, witness_reaches, confirmed, evidence)


def _exhaustive_runs(ctx: Any, points: Sequence[Mapping[str, Any]]) -> list[Run]:
    """One finished 'run' per point of a finite input space (value in float64)."""
    runs = []
    for i, pt in enumerate(points):
        if runs and deadline_passed(getattr(ctx, "deadline", None)):
            break
        value = float(call_evaluator(ctx.claim, pt, ctx.params, mode="numpy"))
        inputs = {k: as_numpy_input(v) for k, v in pt.items()}
        runs.append(Run(i, "exhaustive", inputs, inputs, value, 0.0, 0, (value,), "converged"))
    return runs


def _unreached_reason(evidence: Mapping[str, Any], witness_reaches: bool) -> str:
    """Why no HOLDS: no start reached the claimed optimum (a verdict must not rest on the witness alone)."""
    if evidence.get("stopped_by_deadline") and not evidence.get("n_starts"):
        return "budget too small: the deadline stopped the optimiser before any start finished (raise --budget)"
    best = evidence.get("best_value")
    text = (f"no start reached the claimed optimum {evidence.get('claimed_optimum')!r} "
            f"(best {best!r} after {evidence.get('n_starts')} starts")
    text += ", cut by the deadline)" if evidence.get("stopped_by_deadline") else ")"
    if witness_reaches:
        text += "; the witness attains it, but no search shows that nothing is lower"
    return text


def largest_entry(inputs: Mapping[str, Any], spaces: Mapping[str, Any]) -> float:
    mags = [float(np.max(np.abs(np.asarray(v, dtype=np.float64)))) for k, v in inputs.items()
            if k in spaces and is_continuous(spaces[k]) and np.size(v)]
    return max(mags, default=0.0)


def simplify_while(ctx: Any, inputs: Mapping[str, Any], accept: Callable[[dict, float], bool]) -> dict | None:
    """Simpler numbers (``Space.simplify``, simplest first) for which ``accept(inputs, float value)``
    still holds.

    Greedy, one input at a time, at most three passes; ``None`` if nothing simpler works.
    """
    spaces = ctx.spaces
    current, changed = dict(inputs), False
    for _ in range(3):
        progress = False
        for k, space in spaces.items():
            if not is_continuous(space) or deadline_passed(getattr(ctx, "deadline", None)):
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
    """Simpler numbers that stay below ``c - tau`` in float (:func:`simplify_while`)."""
    return simplify_while(ctx, inputs, lambda trial, value: value < claimed - tau)


def confirm_below(ctx: Any, points: Sequence[tuple], claimed: float, tau: float) -> tuple:
    """Decide the float candidates below ``c - tau`` in mpmath; return (confirmed or None, checks).

    ``points`` are ``(source, index, inputs, float value)``. Candidates are tried most
    readable first (smallest entries, to within a factor 10^0.1), then lowest value; at
    most :data:`MAX_CONFIRMATIONS`. A confirmed one is then simplified (rounded numbers)
    and kept simplified only if that is confirmed too.
    """
    below = [pt for pt in points if pt[3] < claimed - tau]
    below.sort(key=lambda t: (round(math.log10(max(largest_entry(t[2], ctx.spaces), 1e-300)), 1), t[3]))
    checks: dict = {}
    for source, idx, inputs, value in below[:MAX_CONFIRMATIONS]:
        check = decide(ctx, inputs, claimed, ">=", value)
        checks[(source, idx)] = check
        if not check["confirmed"]:
            continue
        simpler = _simplify_below(ctx, inputs, claimed, tau)
        if simpler is not None:
            simple_value = float(call_evaluator(ctx.claim, simpler, ctx.params, mode="numpy"))
            simple_check = decide(ctx, simpler, claimed, ">=", simple_value)
            if simple_check["confirmed"]:
                simple_check["simplified"] = True
                return (source, idx, simpler, simple_check), checks
        return (source, idx, inputs, check), checks
    return None, checks


def below_counterexample(ctx, claimed, confirmed, note_extra=""):
    source, idx, inputs, check = confirmed
    where = ("the claim's witness" if source == "witness"
             else f"the claim's example {-idx - 1}" if source == "example" else f"start {idx}")
    if check.get("simplified"):
        where += ", numbers simplified"
    note = (f"objective {check['value_digits']} ({check['digits']} digits, mpmath) at this input, "
            f"found from {where}, is below the claimed optimum {claimed!r} by {check['margin']:.6g} "
            f"(more than the claim's tolerance plus the constraint noise {check['noise']:.3g})"
            f"{note_extra}; margin = claimed optimum - value")
    return optimum_counterexample(ctx, inputs, check["value_float"], claimed, check["margin"], note, ">=")


class OptimisingKind(Kind):
    """A kind judged by running an optimisation (or a Monte-Carlo loop) over the input spaces."""

    #: The kind's judge proper, ``(ctx) -> KindOutcome``; set by each subclass.
    judge_fn: Callable[[Any], KindOutcome]

    def judge(self, ctx: Any) -> KindOutcome:
        try:
            return type(self).judge_fn(ctx)
        except (ClaimError, InvalidArgumentError):
            raise
        except Exception as exc:
            raise ClaimError(ctx.claim.id, f"could not be judged as {self.name}: {type(exc).__name__}: {exc}"
                             ) from exc
