"""pytest helpers: put theorycheck claims into your own property-test suite.

:func:`assert_holds` judges a claim and fails the test with the Markdown report of
the counterexample (pasteable Python included) when the claim does not hold;
:func:`assert_refuted` is the converse, for documenting statements known to be false;
:func:`claim_test` turns a claim into a test function pytest collects.

Budget and seed
---------------
When ``budget=`` / ``seed=`` are not passed, they come from the pytest plugin
(``--theorycheck-examples``, ``--theorycheck-budget``, ``--theorycheck-seed``, their ini
keys and environment variables, and ``@pytest.mark.theorycheck(...)``; see
``docs/pytest.md``), else from the environment variables ``THEORYCHECK_EXAMPLES``,
``THEORYCHECK_BUDGET``, ``THEORYCHECK_SEED``, else :data:`DEFAULT_TEST_EXAMPLES` examples
with no deadline and seed 0. A count of examples, not seconds: the verdict does not
depend on the machine's load.

Examples
--------
In a test file::

    from theorycheck.testing import assert_holds, claim_test

    def test_ce_bound():
        assert_holds("graf2021.ce.bound", K=3, N=6)

    test_spread = claim_test(spread_bound, N=4, h=3)
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from ._validation import check_bool, check_choice, check_int, fail_type

__all__ = ["assert_holds", "assert_refuted", "claim_test", "judge_for_test", "default_budget"]

#: Inputs per judged claim when neither the pytest plugin nor the environment says otherwise.
DEFAULT_TEST_EXAMPLES = 100


def _settings() -> dict:
    """The plugin's settings for the running test, else the environment's, else the defaults."""
    plugin = sys.modules.get("theorycheck.pytest_plugin")
    settings = plugin.current_settings() if plugin is not None else None
    if settings is not None:
        return settings
    from .pytest_plugin import DEFAULT_SEED, SettingError, _parse

    out = {}
    for name in ("budget", "examples", "seed"):
        env = f"THEORYCHECK_{name.upper()}"
        try:
            out[name] = _parse(name, os.environ.get(env), f"environment variable {env}")
        except SettingError as exc:
            from ._validation import InvalidArgumentError

            raise InvalidArgumentError(str(exc)) from None
    if out["budget"] is None and out["examples"] is None:
        out["examples"] = DEFAULT_TEST_EXAMPLES
    if out["seed"] is None:
        out["seed"] = DEFAULT_SEED
    return out


def default_budget() -> Any:
    """The :class:`~theorycheck.engine.results.Budget` a helper uses when given none (see the
    module docstring): examples-based with no deadline unless a deadline was asked for."""
    from .engine.results import Budget

    settings = _settings()
    if settings.get("examples") is None:
        return Budget(seconds=settings["budget"])
    return Budget(seconds=settings.get("budget"), examples=settings["examples"])


def judge_for_test(claim: Any, params: dict, *, budget: Any = None, seed: int | None = None,
                   ablate: bool = False, helper: str = "assert_holds") -> tuple[Any, dict]:
    """Judge ``claim`` and return ``(ClaimResult, results document)`` for reporting."""
    __tracebackhide__ = True
    from .engine.claim import Claim
    from .engine.families import Check, run_checks
    from .engine.registry import get
    from .engine.results import Budget

    if not isinstance(claim, (str, Claim)):
        raise fail_type("claim", helper, "a Claim object or a registered claim id", claim)
    claim_obj = get(claim) if isinstance(claim, str) else claim
    seed = _settings()["seed"] if seed is None else check_int(seed, "seed", helper, min_value=0)
    ablate = check_bool(ablate, "ablate", helper)
    budget = default_budget() if budget is None else Budget.coerce(budget)
    args = ", ".join([repr(claim_obj.id)] + [f"{k}={v!r}" for k, v in params.items()]
                     + [f"seed={seed}", f"budget={budget!r}"] + (["ablate=True"] if ablate else []))
    # Python, and labelled so by the report: run it where the claim's module is importable.
    reproduce = (f"from theorycheck import Budget\nfrom theorycheck.testing import {helper}\n"
                 f"{helper}({args})")
    run = run_checks([Check(claim=claim_obj, params=dict(params), reproduce=reproduce)],
                     budget=budget, seed=seed, ablate=ablate, progress=False,
                     command=f"{helper}({args})")
    return run.entries[0].result, run.to_dict()


def _report(doc: dict, headline: str) -> str:
    from .report.json_report import _encode_floats
    from .report.markdown import render_claim

    doc = _encode_floats(doc)
    return headline + "\n\n" + render_claim(doc["claims"][0], doc, level=3)


def assert_holds(claim: Any, /, *, budget: Any = None, seed: int | None = None, ablate: bool = False,
                 allow_vacuous: bool = False, **params: Any):
    """Judge ``claim`` with ``params`` and raise ``AssertionError`` unless it HOLDS.

    Parameters
    ----------
    claim : Claim or str
        A claim object (from ``@claim``) or a registered id (``"graf2021.ce.bound"``).
    budget : float or Budget, optional
        Seconds (a deadline; examples derived from it) or a Budget. Default: the pytest
        plugin's / environment's settings, else 100 examples with no deadline.
    seed : int, optional
        Seed of the search; the same seed gives the same verdict and counterexample.
        Default: ``--theorycheck-seed`` / ``THEORYCHECK_SEED``, else 0.
    ablate : bool
        Also judge each assumption dropped (reported in the message; does not fail the test).
    allow_vacuous : bool
        Accept VACUOUS (assumptions unsatisfiable at these sizes) as passing.
    **params
        The claim's parameters (``K=3, N=6``); unknown names raise ``InvalidArgumentError``.

    Returns
    -------
    ClaimResult
        The judgement, for further assertions on its evidence.

    Raises
    ------
    AssertionError
        With the Markdown report of the claim: verdict, evidence, and for REFUTED the
        confirmed counterexample as pasteable Python.
    """
    __tracebackhide__ = True  # pytest shows the report, not this helper's source
    result, doc = judge_for_test(claim, params, budget=budget, seed=seed, ablate=ablate)
    verdict = str(getattr(result.verdict, "value", result.verdict)).upper()
    if verdict == "HOLDS" or (allow_vacuous and verdict == "VACUOUS"):
        return result
    raise AssertionError(_report(doc, f"claim {result.claim_id} does not hold: {verdict}"))


def assert_refuted(claim: Any, /, *, budget: Any = None, seed: int | None = None, ablate: bool = False,
                   **params: Any):
    """Judge ``claim`` and raise ``AssertionError`` unless it is REFUTED with a confirmed counterexample.

    Parameters are those of :func:`assert_holds`. Returns the ``ClaimResult`` (its
    ``counterexample`` is the confirmed one).
    """
    __tracebackhide__ = True
    result, doc = judge_for_test(claim, params, budget=budget, seed=seed, ablate=ablate,
                                 helper="assert_refuted")
    verdict = str(getattr(result.verdict, "value", result.verdict)).upper()
    if verdict == "REFUTED" and result.counterexample is not None:
        return result
    raise AssertionError(_report(doc, f"claim {result.claim_id} was expected to be refuted but is {verdict}"))


_EXPECTATIONS = ("HOLDS", "REFUTED")


def claim_test(claim: Any, /, *, expect: str = "HOLDS", budget: Any = None, seed: int | None = None,
               ablate: bool = False, allow_vacuous: bool = False, **params: Any):
    """A test function judging ``claim`` at ``params``: assign it to a ``test_*`` name.

    Parameters
    ----------
    claim : Claim or str
        A claim object or a registered id.
    expect : {"HOLDS", "REFUTED"}
        ``"HOLDS"``: the test is :func:`assert_holds`; ``"REFUTED"``: :func:`assert_refuted`
        (a statement documented as false).
    budget, seed, ablate, allow_vacuous, **params
        As for :func:`assert_holds`; ``budget``/``seed`` default to the plugin's settings
        (and a ``@pytest.mark.theorycheck`` on the returned function applies).

    Returns
    -------
    function
        A zero-argument test function named after the claim, its docstring the statement.

    Examples
    --------
    >>> from theorycheck.testing import claim_test
    >>> test_ce_bound = claim_test("graf2021.ce.bound", K=3, N=6)
    >>> test_ce_bound.__name__
    'test_graf2021_ce_bound'
    """
    expect = check_choice(str(expect).upper() if isinstance(expect, str) else expect, "expect",
                          "claim_test", _EXPECTATIONS)
    check_bool(ablate, "ablate", "claim_test")
    check_bool(allow_vacuous, "allow_vacuous", "claim_test")
    from .engine.claim import Claim

    if not isinstance(claim, (str, Claim)):
        raise fail_type("claim", "claim_test", "a Claim object or a registered claim id", claim)
    claim_id = claim if isinstance(claim, str) else claim.id

    def test() -> None:
        __tracebackhide__ = True
        if expect == "HOLDS":
            assert_holds(claim, budget=budget, seed=seed, ablate=ablate, allow_vacuous=allow_vacuous,
                         **params)
        else:
            assert_refuted(claim, budget=budget, seed=seed, ablate=ablate, **params)

    test.__name__ = test.__qualname__ = "test_" + re.sub(r"\W", "_", claim_id)
    statement = claim if isinstance(claim, str) else claim.statement
    test.__doc__ = f"{claim_id} {'holds' if expect == 'HOLDS' else 'is refuted'}: {statement}"
    return test
