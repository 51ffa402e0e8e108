"""Statistical claims: a per-draw statistic has the expected mean and/or variance."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ... import backend as xp
from ..._validation import check_real, describe, fail
from ..errors import ClaimError
from ..optim.problem import deadline_passed
from ._optimising import budget_count, claim_tolerances, finite_or_none, numpy_evaluator, make_outcome
from ._optimising import OptimisingKind

__all__ = ["Statistical", "judge_statistical"]


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

    The number of draws is ``budget.draws``, else the claim's ``search["draws"]``, else
    ``budget.examples``, else
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
    expected = _expected(ctx, where)
    confidence = getattr(ctx.claim, "confidence", None)
    confidence = 0.99 if confidence is None else check_real(confidence, "confidence", where, gt=0, lt=1)
    rtol, atol = claim_tolerances(ctx.claim)
    n_target = budget_count(ctx, "draws", per_second=2000.0, low=2000, high=100_000)
    values = _draw_values(ctx, where, n_target)
    n = len(values)
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
        return make_outcome("INCONCLUSIVE", evidence, None)
    mean = float(values.mean())
    var = float(values.var(ddof=1))
    inside = True
    if "mean" in expected:
        inside &= _mean_test(values, mean, var, expected["mean"], z, alpha, atol + rtol * abs(expected["mean"]),
                             evidence)
    if "var" in expected:
        inside &= _var_test(values, mean, var, expected["var"], z, atol + rtol * abs(expected["var"]), evidence)
    evidence["mean"] = mean
    evidence["expected"] = expected.get("mean", expected.get("var"))
    return make_outcome("HOLDS" if inside else "REFUTED", evidence, None)


def _expected(ctx: Any, where: str) -> dict:
    """``claim.expected(p)`` as ``{"mean": ..., "var": ...}`` (a bare number is the mean), validated."""
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
    return {k: check_real(xp.asfloat(v), f"expected()['{k}']", where) for k, v in expected.items()}


def _draw_values(ctx: Any, where: str, n_target: int) -> np.ndarray:
    """The statistic at up to ``n_target`` draws (at least 30 unless the claim fails); the deadline stops early."""
    statistic = numpy_evaluator(ctx)
    deadline = getattr(ctx, "deadline", None)
    values = np.empty(n_target)
    n = 0
    for n in range(n_target):
        if n % 256 == 0 and n >= 30 and deadline_passed(deadline):
            break
        inputs = {k: s.sample(ctx.rng) for k, s in ctx.spaces.items()}
        v = statistic(inputs)
        if not math.isfinite(v):
            raise ClaimError(where, f"returned {v} at draw {n} of the Monte-Carlo sample: {describe(inputs)}")
        values[n] = v
    else:
        n = n_target
    return values[:n]


def _mean_test(values: np.ndarray, mean: float, var: float, expected: float, z: float, alpha: float,
               slack: float, evidence: dict) -> bool:
    """Whether ``expected`` lies in the CLT interval of the mean (widened by ``slack``); records the numbers."""
    n = len(values)
    half = z * math.sqrt(var / n)
    ok = abs(mean - expected) <= half + slack
    evidence.update({
        "mean_estimate": mean, "mean_expected": expected,
        "mean_ci": [mean - half, mean + half], "mean_ci_width": 2 * half,
        "mean_z": finite_or_none((mean - expected) / math.sqrt(var / n)) if var > 0 else None,
        "mean_inside": bool(ok),
        "chebyshev_mean_ci_width": 2 * math.sqrt(var / (n * alpha)),
    })
    return ok


def _var_test(values: np.ndarray, mean: float, var: float, expected: float, z: float, slack: float,
              evidence: dict) -> bool:
    """Whether ``expected`` lies in the CLT interval of the variance (widened by ``slack``); records the numbers."""
    n = len(values)
    centred = values - mean
    m4 = float(np.mean(centred ** 4))
    se = math.sqrt(max(m4 - var ** 2 * (n - 3) / (n - 1), 0.0) / n)
    half = z * se
    ok = abs(var - expected) <= half + slack
    evidence.update({
        "var_estimate": var, "var_expected": expected,
        "var_ci": [var - half, var + half], "var_ci_width": 2 * half,
        "var_z": finite_or_none((var - expected) / se) if se > 0 else None,
        "var_inside": bool(ok),
    })
    return ok


class Statistical(OptimisingKind):
    """Monte-Carlo draws from the spaces; normal confidence intervals with Bonferroni correction."""

    name = "statistical"
    summary_keys = ("mean", "expected")
    required = (("expected", "a callable (p) -> float"),)
    judge_fn = staticmethod(judge_statistical)
