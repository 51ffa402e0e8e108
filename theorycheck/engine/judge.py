"""``judge``: the one entry point that turns a claim into a verdict.

``judge`` resolves the claim and its parameters, says VACUOUS when the active
assumptions cannot be met (``requires`` or an :class:`~theorycheck.strategies.Unsatisfiable`
space), asks the claim's kind object (``claim.kind_spec``, :mod:`theorycheck.engine.kinds`)
to judge it, re-judges a refutation at smaller sizes when the kind says so, then, with
``ablate=True``, re-judges the claim with each assumption dropped in turn.
Errors of the user's claim (an evaluator that raises, returns NaN, has the wrong
arity) come out as :class:`~theorycheck.engine.claim.ClaimError`, never as a crash
from deep inside the engine.

Examples
--------
>>> from theorycheck import backend as xp, strategies as st
>>> from theorycheck.engine import claim, judge, Budget, Param
>>> @claim(id="demo.square-nonneg", cite=(), kind="inequality", statement="sum(u^2) >= 0",
...        params=(Param("h", 3, "dimension", min=1),),
...        inputs=lambda p, active: {"u": st.real_matrix(1, p.h)}, relation=">=", register=False)
... def square(u, *, p):
...     return xp.sum(u * u), 0.0
>>> judge(square, budget=Budget(examples=40)).verdict.value
'HOLDS'
"""

from __future__ import annotations

import time
from typing import Any, Iterable, Mapping

import numpy as np

from .._validation import InvalidArgumentError, check_bool, check_int, fail_type
from . import registry
from .calling import signature_problem
from .claim import Claim, Params
from .errors import ClaimError, Inconclusive
from .evaluation import EvaluationTimeout, deadline_alarm
from .results import AblationResult, Budget, ClaimResult, Counterexample, JudgeContext, KindOutcome, Verdict
from .shrink import shrink_refutation_sizes
from .strength import strength_of

__all__ = ["judge", "judge_with", "check_runnable"]

#: Share of the budget's seconds the main judgement may use when ablating (the rest is split
#: between the ablations).
MAIN_SHARE_WHEN_ABLATING = 0.5
#: An evaluation still running this long after the deadline is interrupted (seconds:
#: max of the two numbers, the second a share of the budget): room for the bookkeeping
#: and confirmation that follow a search, not for an evaluation that never returns.
DEADLINE_GRACE = (4.0, 1.0)
_MAX_VIOLATING_SIZES = 4


class _Vacuous(Exception):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def _resolve(claim_or_id: Any) -> Claim:
    if isinstance(claim_or_id, Claim):
        return claim_or_id
    if isinstance(claim_or_id, str):
        return registry.get(claim_or_id)
    raise fail_type("claim", "judge", "a Claim or a registered claim id", claim_or_id)


def _spaces_or_vacuous(claim: Claim, p: Params, active: frozenset) -> dict:
    """The input spaces, or _Vacuous(reason) when the active assumptions cannot be met."""
    from ..strategies import Space, Unsatisfiable

    try:
        reason = claim.why_vacuous(p, active)
    except ClaimError:
        raise
    except Exception as exc:
        raise ClaimError(claim.id, f"requires(p, active) raised {type(exc).__name__}: {exc}") from exc
    if reason is not None:
        raise _Vacuous(reason)
    if not claim.kind_spec.uses_inputs:
        return {}
    try:
        spaces = claim.spaces(p, active)
    except Unsatisfiable as exc:
        raise _Vacuous(exc.reason) from None
    except ClaimError:
        raise
    except InvalidArgumentError as exc:
        raise ClaimError(claim.id, f"builds an invalid input space at {dict(p)}: {exc}") from exc
    except Exception as exc:
        raise ClaimError(claim.id, f"inputs(p, active) raised {type(exc).__name__}: {exc}") from exc
    for name, space in spaces.items():
        if not isinstance(space, Space):
            raise ClaimError(claim.id, f"input {name!r} must be a theorycheck.strategies space; got {space!r}")
    problem = signature_problem(claim.evaluate, list(spaces))
    if problem:
        raise ClaimError(claim.id, problem)
    return spaces


def check_runnable(claim_or_id: Any, params: Mapping[str, Any] | None = None,
                   assumptions: Iterable[str] | None = None) -> None:
    """Raise ``InvalidArgumentError`` if the claim cannot run at these parameters, without judging.

    Checks the parameters, ``requires`` and the input spaces (what :func:`judge` builds
    first). A size the claim's spaces refuse is an error naming the claim, its
    parameters and the space's own message (which says what works); VACUOUS sizes pass
    (judging them is cheap and says so). Other errors of a user's claim (a ``requires``
    that raises) pass too: the run records them as error entries.
    """
    claim = _resolve(claim_or_id)
    p = claim.resolve_params(params)
    active = claim.active_assumptions(assumptions)
    try:
        _spaces_or_vacuous(claim, p, active)
    except _Vacuous:
        return
    except ClaimError as exc:
        cause = exc.__cause__
        if isinstance(cause, InvalidArgumentError):
            sizes = ", ".join(f"{k}={v}" for k, v in dict(p).items())
            raise InvalidArgumentError(cause.param, f"claim '{claim.id}' at {sizes}", cause.constraint,
                                       cause.value) from None


def _dispatch(ctx: JudgeContext) -> KindOutcome:
    """The claim's kind judges; a kind whose counterexample comes out of a whole optimisation
    has its refutation re-judged at smaller sizes."""
    spec = ctx.claim.kind_spec
    outcome = spec.judge(ctx)
    if spec.shrinks_sizes and isinstance(outcome, KindOutcome):
        outcome = shrink_refutation_sizes(ctx, spec.judge, outcome)
    return outcome


def judge_with(claim: Claim, p: Params, active: frozenset, budget: Budget, seed: int,
               deadline: float | None, rng_key: tuple = ()) -> KindOutcome:
    """Judge once, at fixed params and active assumptions (no ablation, no timing)."""
    grace = max(DEADLINE_GRACE[0], DEADLINE_GRACE[1] * (budget.seconds or 0.0))
    try:
        spaces = _spaces_or_vacuous(claim, p, active)
        ctx = JudgeContext(claim=claim, params=p, active=active, spaces=spaces, budget=budget,
                           rng=np.random.default_rng([seed, *rng_key]), seed=seed, deadline=deadline)
        with deadline_alarm(deadline, grace):  # the budget is a deadline, even for one slow evaluation
            outcome = _dispatch(ctx)
    except _Vacuous as vac:
        return KindOutcome(Verdict.VACUOUS, {"reason": vac.reason, "sizes": dict(p)}, None)
    except Inconclusive as exc:
        return KindOutcome(Verdict.INCONCLUSIVE, {"reason": exc.reason, "sizes": dict(p)}, None)
    except EvaluationTimeout as exc:
        return KindOutcome(Verdict.INCONCLUSIVE, {"reason": str(exc), "stopped_by": "deadline",
                                                  "sizes": dict(p)}, None)
    if not isinstance(outcome, KindOutcome):
        raise ClaimError(claim.id, f"the {claim.kind} judge returned {outcome!r}, not a KindOutcome")
    outcome.verdict = Verdict(outcome.verdict)
    cx = outcome.counterexample
    if isinstance(cx, Counterexample):
        cx.claim_id = cx.claim_id or claim.id
        cx.relation = cx.relation or (claim.relation if claim.kind_spec.states_relation else "")
        cx.origin = cx.origin or claim.origin
        if not cx.params:
            cx.params = dict(p)
    return outcome


def _violating_sizes(claim: Claim, p: Params, full: frozenset, weaker: frozenset) -> list[Params]:
    """Nearby integer sizes where the full assumption set is vacuous but the weaker one is not.

    This is how dropping a parameter-only assumption (``h >= K-1``) lets the engine explore
    sizes that violate it.
    """
    out: list[Params] = []
    for q in claim.params:
        if q.type is not int:
            continue
        cur = int(p[q.name])
        low, _ = q.bounds(p)
        lo = int(low) if low is not None else min(cur, 1)
        # sizes outside any param's stated range (min/max, possibly functions of the others) are not explored
        values = [v for v in (cur - 1, cur - 2, cur - 3, cur + 1, cur + 2) if v >= lo
                  and all(r.in_range(p.replace(**{q.name: v})[r.name], p.replace(**{q.name: v}))
                          for r in claim.params if r.type is not str)]
        for v in values:
            candidate = p.replace(**{q.name: v})
            try:
                _spaces_or_vacuous(claim, candidate, full)
                continue  # still satisfiable with every assumption: not a violating size
            except _Vacuous:
                pass
            except ClaimError:
                continue
            try:
                _spaces_or_vacuous(claim, candidate, weaker)
            except (_Vacuous, ClaimError):
                continue
            out.append(candidate)
            if len(out) >= _MAX_VIOLATING_SIZES:
                return out
    return out


def _ablate(claim: Claim, p: Params, active: frozenset, budget: Budget, seed: int, start: float
            ) -> list[AblationResult]:
    dropped_names = [a.name for a in claim.assumptions if a.name in active]
    if not dropped_names:
        return []
    results = []
    total = budget.seconds
    share = (1.0 - MAIN_SHARE_WHEN_ABLATING) / len(dropped_names)
    sub_budget = budget.scaled(share)
    for index, name in enumerate(dropped_names):
        weaker = active - {name}
        slice_start = time.monotonic()
        deadline = None if total is None else max(slice_start, start + total * (MAIN_SHARE_WHEN_ABLATING
                                                                                + share * (index + 1)))
        outcome = judge_with(claim, p, weaker, sub_budget, seed, deadline, rng_key=(index + 1,))
        evidence = dict(outcome.evidence)
        if outcome.verdict is not Verdict.REFUTED and claim.kind_spec.uses_inputs:
            explored = []
            for variant in _violating_sizes(claim, p, active, weaker):
                if deadline is not None and time.monotonic() >= deadline:
                    break
                explored.append(dict(variant))
                out = judge_with(claim, variant, weaker, sub_budget.scaled(0.5), seed, deadline,
                                 rng_key=(index + 1, len(explored)))
                if out.verdict is Verdict.REFUTED or (out.verdict is Verdict.INCONCLUSIVE
                                                      and outcome.verdict is Verdict.HOLDS):
                    outcome = out
                    evidence = dict(out.evidence)
                    if out.verdict is Verdict.REFUTED:
                        break
            if explored:
                evidence["sizes_explored"] = explored
        results.append(AblationResult(dropped=name, verdict=outcome.verdict,
                                      counterexample=outcome.counterexample, evidence=evidence))
    return results


def _extra_evidence(claim: Claim, p: Params, evidence: Mapping[str, Any]) -> dict:
    """The claim's ``extra_evidence(p)`` (tables for reports), never overriding the judge's keys."""
    try:
        extra = claim.extra_evidence(p)
    except Inconclusive as exc:
        return {"extra_evidence_unavailable": exc.reason}
    except ClaimError:
        raise
    except Exception as exc:
        raise ClaimError(claim.id, f"extra_evidence(p) raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(extra, Mapping):
        raise ClaimError(claim.id, f"extra_evidence(p) must return a dict; got {extra!r}")
    return {k: v for k, v in extra.items() if k not in evidence}


def _sweep_rows(claim: Claim, p: Params, budget: Budget, seed: int) -> list:
    """The claim's declared sweep: one row per value, each judged with the user's budget and seed."""
    sweep = claim.sweep
    try:
        values = list(sweep.values(p))
    except Exception as exc:
        raise ClaimError(claim.id, f"sweep values(p) raised {type(exc).__name__}: {exc}") from exc
    rows = []
    for value in values:
        at = p.replace(**{sweep.param: value})
        if not all(q.in_range(at[q.name], at) for q in claim.params if q.type is not str):
            continue  # outside the size range the claim is stated for (Param min/max)
        result = judge(claim, {**dict(p), sweep.param: value}, budget=budget, seed=seed,
                       assumptions=sweep.assumptions, extra_evidence=False)
        rows.append(dict(sweep.row(value, result)))
    return rows


def judge(claim_or_id: Any, params: Mapping[str, Any] | None = None, *, budget: Any = None, seed: int = 0,
          ablate: bool = False, assumptions: Iterable[str] | None = None,
          extra_evidence: bool = True) -> ClaimResult:
    """Judge a claim: HOLDS, REFUTED (with a confirmed, shrunk counterexample), VACUOUS or INCONCLUSIVE.

    Parameters
    ----------
    claim_or_id : Claim or str
        A claim object or a registered id (``"graf2021.ce.bound"``).
    params : dict, optional
        Overrides of the claim's parameter defaults (validated; unknown names are an error).
    budget : Budget, float or None
        Seconds (deadline) and/or number of random examples; a number means seconds.
        Default ``Budget(seconds=5.0)``.
    seed : int
        Seeds every random choice: the same seed gives the same verdict, evidence and
        counterexample (only ``seconds`` differs, unless the deadline cut the search short).
    ablate : bool
        Also judge the claim with each active assumption dropped in turn.
    assumptions : iterable of str, optional
        The assumptions to keep active (default: all of the claim's).
    extra_evidence : bool
        Also record the claim's ``extra_evidence(p)`` and run its declared sweep (default
        True); the sweep's own judgements pass False, so they do not recurse.

    Returns
    -------
    ClaimResult

    Raises
    ------
    InvalidArgumentError
        Unknown claim id, unknown parameter, bad budget/seed.
    ClaimError
        The claim itself is broken (evaluator raises or returns NaN, wrong arity, bad spaces).
    """
    claim = _resolve(claim_or_id)
    p = claim.resolve_params(params)
    budget = Budget.coerce(budget)
    seed = check_int(seed, "seed", "judge", min_value=0)
    ablate = check_bool(ablate, "ablate", "judge")
    active = claim.active_assumptions(assumptions)
    start = time.monotonic()
    main_share = MAIN_SHARE_WHEN_ABLATING if ablate and active else 1.0
    deadline = None if budget.seconds is None else start + budget.seconds * main_share
    outcome = judge_with(claim, p, active, budget, seed, deadline)
    ablations = _ablate(claim, p, active, budget, seed, start) if ablate else []
    evidence = dict(outcome.evidence)
    extra_evidence = check_bool(extra_evidence, "extra_evidence", "judge")
    if extra_evidence and claim.extra_evidence is not None and outcome.verdict is not Verdict.VACUOUS:
        evidence.update(_extra_evidence(claim, p, evidence))
    if extra_evidence and claim.sweep is not None and outcome.verdict is not Verdict.VACUOUS:
        evidence.setdefault(claim.sweep.key, _sweep_rows(claim, p, budget, seed))
    if assumptions is not None:
        evidence["active_assumptions"] = sorted(active)
    level, detail = strength_of(claim.kind, Verdict(outcome.verdict).value, evidence, bool(outcome.proved_exactly))
    evidence["strength"] = level
    evidence["strength_detail"] = detail
    return ClaimResult(claim_id=claim.id, params=dict(p), verdict=outcome.verdict,
                       seconds=time.monotonic() - start, evidence=evidence,
                       counterexample=outcome.counterexample, ablations=ablations,
                       proved_exactly=bool(outcome.proved_exactly))
