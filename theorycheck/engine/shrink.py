"""Shrinking: make a confirmed counterexample small enough for a person to read.

Two passes, each step re-confirmed in high precision (a shrunk input is kept only if
it is still a confirmed counterexample):

1. *sizes*: every integer parameter (N, K, h, b, ...) is walked down towards its
   ``Param.min`` -- smallest value first -- and a short seeded search looks for a
   counterexample at the smaller size (respecting ``requires`` and the spaces'
   satisfiability under the same active assumptions);
2. *numbers*: every input is replaced by the simpler values its space offers
   (``Space.simplify``: integers, then 1..4 significant digits, the plain simplex, sorted
   labels, small-denominator fractions), simplest first.

The work is a deterministic function of the seed; the deadline only cuts it short.

Optimum, characterization and landscape claims have no single input to re-search: their
counterexample comes out of a whole optimisation. :func:`shrink_refutation_sizes` walks
their sizes down the same way and re-runs the claim's own judge at each smaller size,
keeping the smallest size at which the judge still refutes (its counterexample is then
confirmed in high precision by that judge, as at the original size). The amount of
optimisation (``starts``, ``steps``, ``draws``) is an engine setting of the budget or the
claim's ``search=``, not a parameter, so every integer parameter is a size here; at most
:data:`MAX_REJUDGED_SIZES` sizes are judged.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np

from .confirm import confirm_relation, violation
from .errors import ClaimError, Discarded
from .evaluation import call_evaluator
from .results import Budget, Counterexample, JudgeContext, Verdict
from .search import search_relation

__all__ = ["shrink_counterexample", "shrink_refutation_sizes", "smaller_sizes"]

#: Fraction of the claim's budget shrinking may use (it never passes the deadline).
SHRINK_SHARE = 0.3
_SIZE_TRIES_PER_PARAM = 4


#: Most smaller sizes re-judged for an optimisation claim (each is a whole judgement).
MAX_REJUDGED_SIZES = 8


def smaller_sizes(ctx: JudgeContext, skip: tuple = ()) -> list[tuple[str, int]]:
    """(param name, value) pairs to try, per integer param smallest first (at most 4 each)."""
    out = []
    for q in ctx.claim.params:
        if q.type is not int or q.name in skip:
            continue
        cur = int(ctx.params[q.name])
        low, _high = q.bounds(ctx.params)
        lo = int(math.ceil(low)) if low is not None else min(cur, 1)
        # every param's range (some depend on this one) must hold at the smaller size
        values = sorted({v for v in (lo, lo + 1, lo + 2, cur // 2, cur - 1) if lo <= v < cur
                         and _in_ranges(ctx.claim, ctx.params.replace(**{q.name: v}))})
        out.extend((q.name, v) for v in values[:_SIZE_TRIES_PER_PARAM])
    return out


def _in_ranges(claim: Any, params: Any) -> bool:
    """Whether every param lies in its (possibly param-dependent) range at ``params``."""
    try:
        return all(q.in_range(params[q.name], params) for q in claim.params if q.type is not str)
    except Exception:  # a bound that cannot be evaluated there: not a size to try
        return False


def _shrink_deadline(ctx: JudgeContext) -> float | None:
    """The claim's deadline, or sooner: shrinking may use SHRINK_SHARE of the budget's seconds from now."""
    if ctx.budget.seconds is None:
        return ctx.deadline
    end = time.monotonic() + SHRINK_SHARE * ctx.budget.seconds
    return min(ctx.deadline, end) if ctx.deadline is not None else end


def _spaces_at(ctx: JudgeContext, params) -> dict | None:
    """The claim's spaces at ``params`` under the same active assumptions, or None where the
    claim's params, ``requires`` or spaces reject that size."""
    from ..strategies import Unsatisfiable

    claim = ctx.claim
    try:
        for name, value in params.items():
            claim.param(name).validate(value)
        if not _in_ranges(claim, params):
            return None
        if claim.why_vacuous(params, ctx.active) is not None:
            return None
        return claim.spaces(params, ctx.active)
    except Unsatisfiable:
        return None
    except Exception:  # a size the claim's own inputs/requires reject is simply skipped
        return None


def _sub_context(ctx: JudgeContext, params, spaces, seed_key: tuple, deadline: float | None) -> JudgeContext:
    return JudgeContext(claim=ctx.claim, params=params, active=ctx.active, spaces=spaces,
                        budget=Budget(seconds=None, examples=60), rng=np.random.default_rng([ctx.seed, *seed_key]),
                        seed=ctx.seed, deadline=deadline)


def _still_fails(ctx: JudgeContext, inputs: dict) -> Any:
    """The confirmation at ``inputs`` if it is still a confirmed violation, else None."""
    claim = ctx.claim
    try:
        lhs, rhs = call_evaluator(claim, inputs, ctx.params)
    except (ClaimError, Discarded):  # a simplified input assume() discards is no counterexample
        return None
    if not (math.isfinite(lhs) and math.isfinite(rhs)):
        return None
    tol = claim.atol + claim.rtol * max(abs(lhs), abs(rhs))
    v = violation(claim.relation, lhs, rhs)
    if v <= tol and not (claim.relation in ("<", ">") and v >= 0):
        return None  # cheap float pre-check
    conf = confirm_relation(claim.evaluate, inputs, ctx.params, claim.relation, rtol=claim.rtol,
                            atol=claim.atol, float_values=(lhs, rhs))
    return conf if conf.status == "violated" else None


def _counterexample(ctx: JudgeContext, conf: Any, inputs: dict) -> Counterexample:
    return ctx.counterexample(inputs, conf.lhs, conf.rhs, conf.margin, conf.precision_digits)


def shrink_counterexample(ctx: JudgeContext, cx: Counterexample) -> tuple[Counterexample, dict]:
    """Smaller sizes first, then simpler numbers; returns the shrunk counterexample and what was done."""
    deadline = _shrink_deadline(ctx)
    evidence: dict[str, Any] = {"params_from": dict(ctx.params), "size_tries": 0, "simplified_inputs": []}
    current_ctx = ctx
    current_cx = cx

    def expired() -> bool:
        return deadline is not None and time.monotonic() >= deadline

    # 1. sizes
    for _pass in range(2):
        changed = False
        for name, value in smaller_sizes(current_ctx):
            if expired():
                break
            if value >= current_ctx.params[name]:
                continue  # a smaller value of this param was adopted earlier in the pass
            params = current_ctx.params.replace(**{name: value})
            spaces = _spaces_at(ctx, params)
            if spaces is None:
                continue
            evidence["size_tries"] += 1
            sub = _sub_context(current_ctx, params, spaces, (evidence["size_tries"], value), deadline)
            try:
                state = search_relation(sub, quick=True)
            except ClaimError:
                continue  # the evaluator fails at this smaller size: keep the larger counterexample
            if state.confirmed is not None:
                conf, cand = state.confirmed
                current_ctx = sub
                current_cx = _counterexample(sub, conf, cand.inputs)
                changed = True
        if not changed or expired():
            break

    # 2. numbers
    inputs = dict(current_cx.inputs)
    conf_best = None
    for _pass in range(2):
        changed = False
        for name, space in current_ctx.spaces.items():
            if expired():
                break
            for candidate in space.simplify(np.asarray(inputs[name])):
                if expired():
                    break
                trial = dict(inputs)
                trial[name] = candidate if np.ndim(candidate) else float(candidate)
                conf = _still_fails(current_ctx, trial)
                if conf is not None:
                    inputs, conf_best, changed = trial, conf, True
                    if name not in evidence["simplified_inputs"]:
                        evidence["simplified_inputs"].append(name)
                    break
        if not changed:
            break
    if conf_best is not None:
        current_cx = _counterexample(current_ctx, conf_best, inputs)

    evidence["params_to"] = dict(current_ctx.params)
    notes = [cx.note] if cx.note else []
    if evidence["params_to"] != evidence["params_from"]:
        shrunk = ", ".join(f"{k}={evidence['params_from'][k]}->{v}" for k, v in evidence["params_to"].items()
                           if evidence["params_from"][k] != v)
        notes.append(f"shrunk to smaller sizes ({shrunk})")
    if evidence["simplified_inputs"]:
        notes.append("simplified " + ", ".join(evidence["simplified_inputs"]))
    current_cx.note = "; ".join(notes)
    evidence["stopped_by_deadline"] = bool(expired())
    return current_cx, evidence


def shrink_refutation_sizes(ctx: JudgeContext, rejudge: Callable[[JudgeContext], Any], outcome: Any) -> Any:
    """Re-judge a refuted optimisation claim at smaller sizes; keep the smallest refutation.

    ``rejudge(sub_context)`` is the claim's kind judge (``judge_optimum``, ...). The
    original evidence (measured at the original sizes) is kept; its
    ``counterexample_*`` entries and the counterexample come from the smallest size that
    still refutes, and ``evidence["size_shrink"]`` records what was tried.
    """
    import dataclasses

    if outcome.verdict is not Verdict.REFUTED or outcome.counterexample is None:
        return outcome
    deadline = _shrink_deadline(ctx)
    record: dict[str, Any] = {"params_from": dict(ctx.params), "size_tries": 0, "size_errors": 0}

    def expired() -> bool:
        return deadline is not None and time.monotonic() >= deadline

    current_ctx, current = ctx, outcome
    for _pass in range(2):
        changed = False
        for name, value in smaller_sizes(current_ctx):
            if expired() or record["size_tries"] >= MAX_REJUDGED_SIZES:
                break
            if value >= current_ctx.params[name]:
                continue  # a smaller value of this param was adopted earlier in the pass
            params = current_ctx.params.replace(**{name: value})
            spaces = _spaces_at(ctx, params)
            if spaces is None:
                continue
            record["size_tries"] += 1
            sub = JudgeContext(claim=ctx.claim, params=params, active=ctx.active, spaces=spaces,
                               budget=ctx.budget, rng=np.random.default_rng([ctx.seed, 7919, record["size_tries"]]),
                               seed=ctx.seed, deadline=deadline)
            try:
                sub_outcome = rejudge(sub)
            except Exception:  # noqa: BLE001 - a size the claim cannot be judged at never undoes
                # the refutation already confirmed at the larger size; the count is reported
                record["size_errors"] += 1
                continue
            if Verdict(sub_outcome.verdict) is Verdict.REFUTED and sub_outcome.counterexample is not None:
                current_ctx, current, changed = sub, sub_outcome, True
        if not changed or expired() or record["size_tries"] >= MAX_REJUDGED_SIZES:
            break
    record["params_to"] = dict(current_ctx.params)
    record["stopped_by_deadline"] = bool(expired())
    evidence = dict(outcome.evidence)
    evidence["size_shrink"] = record
    if current is outcome:
        return dataclasses.replace(outcome, evidence=evidence)
    for key, value in current.evidence.items():
        if key.startswith("counterexample_"):
            evidence[key] = value
    cx = current.counterexample
    shrunk = ", ".join(f"{k}={record['params_from'][k]}->{v}" for k, v in record["params_to"].items()
                       if record["params_from"][k] != v)
    cx.note = "; ".join(x for x in (cx.note, f"shrunk to smaller sizes ({shrunk})") if x)
    return dataclasses.replace(outcome, evidence=evidence, counterexample=cx)
