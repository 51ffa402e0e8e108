"""Characterization claims: every minimiser has a property (``distance(**inputs, p=p) == 0``)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping, Sequence

import numpy as np

from ... import backend as xp
from ..._validation import describe, fail
from ..calling import invoke
from ..errors import ClaimError
from ..evaluation import call_evaluator, describe_inputs
from ..optim.problem import Run, as_numpy_input
from ._optimising import (
    MAX_CONFIRMATIONS,
    below_counterexample,
    decide,
    finite_or_none,
    largest_entry,
    make_outcome,
    optimise_and_classify,
    optimum_counterexample,
    simplify_while,
)
from ._optimising import OptimisingKind

__all__ = ["Characterization", "judge_characterization"]


def _distance(ctx: Any, inputs: Mapping[str, Any]) -> float:
    fn = getattr(ctx.claim, "distance", None)
    if fn is None:
        raise fail("distance", getattr(ctx.claim, "id", "claim"),
                   "given for characterization claims (distance=lambda **inputs, p: "
                   "<distance to the property, 0 iff it holds>)", None)
    named = {k: as_numpy_input(v) for k, v in inputs.items()}
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
    o = optimise_and_classify(ctx, use_special=True, default_steps=300)
    claimed, tau, reached, confirmed, evidence = o.claimed, o.tau, o.reached, o.confirmed, o.evidence
    witness = o.witness
    dist_tol = max(math.sqrt(tau), 1e-6)
    distances = [_distance(ctx, r.inputs) for r in reached]
    witness_distance = _distance(ctx, witness) if witness is not None else None
    far = sum(d > dist_tol for d in distances)
    evidence.update({
        "distance_tolerance": dist_tol,
        "distance_at_optimum_max": finite_or_none(max(distances)) if distances else None,
        "max_distance": finite_or_none(max(distances)) if distances else None,
        "distance_at_optimum_median": finite_or_none(float(np.median(distances))) if distances else None,
        "distances": [float(d) for d in distances],
        "far_from_property": int(far),
        "witness_distance": finite_or_none(witness_distance),
    })
    if confirmed is not None:
        d = _distance(ctx, confirmed[2])
        evidence["counterexample_value"] = confirmed[3]["value_digits"]
        evidence["counterexample_distance"] = finite_or_none(d)
        extra = (f"; its distance to the property is {d:.6g}"
                 + (" (it also lacks the property)" if d > dist_tol else " (it has the property: the claimed optimum value is wrong)"))
        return make_outcome("REFUTED", evidence, below_counterexample(ctx, claimed, confirmed, extra))
    off_property = _confirm_minimiser_off_property(ctx, reached, distances, claimed, tau, dist_tol) if far else None
    if off_property is not None:
        idx, inputs, check, d = off_property.start, off_property.inputs, off_property.check, off_property.distance
        evidence["counterexample_value"] = check["value_digits"]
        evidence["counterexample_distance"] = finite_or_none(d)
        where = f"start {idx}" + (", numbers simplified" if check["simplified"] else "")
        note = (f"objective {check['value_digits']} ({check['digits']} digits, mpmath) at this input, found "
                f"from {where}, equals the claimed optimum {claimed!r} to {check['digits'] - 10} digits, but "
                f"its distance to the property is {d:.6g} (tolerance {dist_tol:.3g}): a minimiser without "
                f"the property, unless the true minimum is below the claimed one -- false either way; "
                f"claimed: objective > optimum off the property")
        return make_outcome("REFUTED", evidence, optimum_counterexample(ctx, inputs, check["value_float"], claimed, 0.0,
                                                             note, ">"))
    # HOLDS needs a start that reached c (or every point of a finite space): never the witness alone
    if reached and far == 0 and not evidence["undecided"]:
        return make_outcome("HOLDS", evidence, None)
    return make_outcome("INCONCLUSIVE", evidence, None)


@dataclasses.dataclass
class _OffProperty:
    """A confirmed minimiser without the property: where it came from and how far it is."""

    start: int
    inputs: dict
    check: dict
    distance: float


def _confirm_minimiser_off_property(ctx: Any, reached: Sequence[Run], distances: Sequence[float],
                                    claimed: float, tau: float, dist_tol: float) -> "_OffProperty | None":
    """A run that reached ``c``, lies far from the property, and has objective *equal* to ``c``
    in high precision (its start index, inputs, high-precision check and distance), or None.

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
    far.sort(key=lambda t: (round(math.log10(max(largest_entry(t[0].inputs, ctx.spaces), 1e-300)), 1), -t[1]))

    def at_optimum_and_far(trial: dict, value: float) -> bool:
        return abs(value - claimed) <= tau and _distance(ctx, trial) > dist_tol

    def exactly_admissible(inputs: Mapping[str, Any]) -> bool:
        # a tie at a point a few ulps off the constraint set says nothing about the set itself
        return all(getattr(space, "exactly_contains", lambda x: None)(inputs[k]) is True
                   for k, space in ctx.spaces.items())

    for run, _ in far[:MAX_CONFIRMATIONS]:
        simpler = simplify_while(ctx, run.inputs, at_optimum_and_far)
        for inputs in ([simpler] if simpler is not None else []) + [run.inputs]:
            if not exactly_admissible(inputs):
                continue
            value = float(call_evaluator(ctx.claim, inputs, ctx.params, mode="numpy"))
            check = decide(ctx, inputs, claimed, ">", value)
            if check["status"] == "violated" and check["margin"] == 0.0:
                check["simplified"] = inputs is simpler
                return _OffProperty(run.index, inputs, check, _distance(ctx, inputs))
    return None


class Characterization(OptimisingKind):
    """As optimum, and each run that reached the optimum is measured against the property."""

    name = "characterization"
    summary_keys = ("best_value", "claimed_optimum", "max_distance")
    required = (("optimum", "a callable (p) -> float"), ("distance", "a callable"))
    shrinks_sizes = True
    judge_fn = staticmethod(judge_characterization)
