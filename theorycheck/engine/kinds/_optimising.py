"""What the kinds judged by optimisation share: the claimed optimum they need, and how a
failure deep inside an optimisation reaches the user (a ClaimError naming the kind)."""

from __future__ import annotations

from typing import Callable

from ..._validation import InvalidArgumentError
from ..errors import ClaimError
from ..results import JudgeContext, KindOutcome
from .base import Kind

__all__ = ["OptimisingKind"]


class OptimisingKind(Kind):
    """A kind judged by running an optimisation (or a Monte-Carlo loop) over the input spaces."""

    #: The kind's judge proper, ``(ctx) -> KindOutcome``; set by each subclass.
    judge_fn: Callable[[JudgeContext], KindOutcome]

    def judge(self, ctx: JudgeContext) -> KindOutcome:
        try:
            return type(self).judge_fn(ctx)
        except (ClaimError, InvalidArgumentError):
            raise
        except Exception as exc:
            raise ClaimError(ctx.claim.id, f"could not be judged as {self.name}: {type(exc).__name__}: {exc}"
                             ) from exc
