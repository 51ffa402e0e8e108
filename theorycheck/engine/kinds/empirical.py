"""Empirical claims: the claim runs itself (``run(p, budget, seed)``), e.g. a training experiment.

The engine gives it the budget and the seed and reads back a verdict and evidence; it
has no input spaces and no evaluator.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import ClaimError
from ..results import ClaimResult, JudgeContext, KindOutcome, Verdict
from .base import Kind

__all__ = ["Empirical"]


def _as_outcome(claim: Any, out: Any) -> KindOutcome:
    """The run's result as a KindOutcome: a KindOutcome, a ClaimResult, a dict with a verdict, or duck-typed."""
    if isinstance(out, KindOutcome):
        return out
    if isinstance(out, ClaimResult):
        return KindOutcome(Verdict(out.verdict), dict(out.evidence), out.counterexample)
    if isinstance(out, Mapping) and "verdict" in out:
        evidence = dict(out.get("evidence", {k: v for k, v in out.items() if k != "verdict"}))
        return KindOutcome(Verdict(out["verdict"]), evidence, out.get("counterexample"))
    if hasattr(out, "verdict"):
        return KindOutcome(Verdict(out.verdict), dict(getattr(out, "evidence", {}) or {}),
                           getattr(out, "counterexample", None))
    raise ClaimError(claim.id, f"run(p, budget, seed) must return a KindOutcome (verdict, evidence); got {out!r}")


class Empirical(Kind):
    """A measured experiment: ``run(p, budget, seed)`` returns the verdict and evidence."""

    name = "empirical"
    summary_keys = ()
    required = (("run", "a callable (p, budget, seed)"),)
    uses_inputs = False

    def judge(self, ctx: JudgeContext) -> KindOutcome:
        claim = ctx.claim
        try:
            out = claim.run(ctx.params, ctx.budget, ctx.seed)
        except ClaimError:
            raise
        except Exception as exc:
            raise ClaimError(claim.id, f"run(p, budget, seed) raised {type(exc).__name__}: {exc}") from exc
        return _as_outcome(claim, out)
