"""The claim engine: claims, registry, kinds, search, optimisation, confirmation, shrinking, verdicts.

The engine knows no paper: it judges any :class:`Claim` from its declaration alone.
Names are imported on first use (PEP 562), so ``import theorycheck.engine.registry``
does not pay for torch.

>>> from theorycheck.engine import Budget, Verdict
>>> Budget(seconds=2.0).plan().hypothesis_examples, Verdict.HOLDS.value
(40, 'HOLDS')
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

#: Public name -> submodule that defines it.
_EXPORTS = {
    "Assumption": "claim", "Claim": "claim", "Param": "claim", "Params": "claim", "claim": "claim",
    "ClaimError": "errors", "Inconclusive": "errors",
    "AblationResult": "results", "Budget": "results", "ClaimResult": "results",
    "Counterexample": "results", "JudgeContext": "results", "KindOutcome": "results",
    "Plan": "results", "Verdict": "results",
    "judge": "judge",
}

__all__ = ["registry", "kinds", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    if name in ("registry", "kinds"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _EnginePackage(types.ModuleType):
    """The package object: ``theorycheck.engine.judge`` and ``.claim`` stay the functions.

    Importing the submodule ``theorycheck.engine.judge`` binds it as an attribute of the
    package; an eager package once re-bound the function over it afterwards. A lazy package
    cannot, so the binding itself is redirected to the function of that name the submodule
    defines.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if _EXPORTS.get(name) == name and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _EnginePackage
