"""pytest helpers: put theorycheck claims into your own property-test suite.

:func:`assert_holds` judges a claim and fails the test with the Markdown report of
the counterexample (pasteable Python included) when the claim does not hold;
:func:`assert_refuted` is the converse, for documenting statements known to be false.

Examples
--------
In a test file::

    from theorycheck.testing import assert_holds

    def test_ce_bound():
        assert_holds("graf2021.ce.bound", K=3, N=6, budget=2.0)
"""

from __future__ import annotations

from typing import Any

from ._validation import check_bool, check_int, fail_type

__all__ = ["assert_holds", "assert_refuted", "judge_for_test"]

#: Default time budget (seconds) of a claim judged inside a test: small, so a suite of
#: property tests stays fast; pass ``budget=`` for a harder search.
DEFAULT_TEST_BUDGET = 2.0


def judge_for_test(claim: Any, params: dict, *, budget: Any = None, seed: int = 0,
                   ablate: bool = False) -> tuple[Any, dict]:
    """Judge ``claim`` and return ``(ClaimResult, results document)`` for reporting."""
    from .engine.claim import Claim
    from .engine.families import Check, run_checks
    from .engine.registry import get
    from .engine.results import Budget

    if not isinstance(claim, (str, Claim)):
        raise fail_type("claim", "assert_holds", "a Claim object or a registered claim id", claim)
    claim_obj = get(claim) if isinstance(claim, str) else claim
    seed = check_int(seed, "seed", "assert_holds", min_value=0)
    ablate = check_bool(ablate, "ablate", "assert_holds")
    budget = Budget.coerce(DEFAULT_TEST_BUDGET if budget is None else budget)
    args = ", ".join([repr(claim_obj.id)] + [f"{k}={v!r}" for k, v in params.items()] + [f"seed={seed}"])
    run = run_checks([Check(claim=claim_obj, params=dict(params),
                            reproduce=f"theorycheck.testing.assert_holds({args})")],
                     budget=budget, seed=seed, ablate=ablate, progress=False,
                     command=f"assert_holds({args})")
    return run.entries[0].result, run.to_dict()


def _report(doc: dict, headline: str) -> str:
    from .report.json_report import _encode_floats
    from .report.markdown import render_claim

    doc = _encode_floats(doc)
    return headline + "\n\n" + render_claim(doc["claims"][0], doc, level=3)


def assert_holds(claim: Any, /, *, budget: Any = None, seed: int = 0, ablate: bool = False,
                 allow_vacuous: bool = False, **params: Any):
    """Judge ``claim`` with ``params`` and raise ``AssertionError`` unless it HOLDS.

    Parameters
    ----------
    claim : Claim or str
        A claim object (from ``@claim``) or a registered id (``"graf2021.ce.bound"``).
    budget : float or Budget, optional
        Seconds (or a Budget) for the search; default 2 s.
    seed : int
        Seed of the search; the same seed gives the same verdict and counterexample.
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
    result, doc = judge_for_test(claim, params, budget=budget, seed=seed, ablate=ablate)
    verdict = str(getattr(result.verdict, "value", result.verdict)).upper()
    if verdict == "HOLDS" or (allow_vacuous and verdict == "VACUOUS"):
        return result
    raise AssertionError(_report(doc, f"claim {result.claim_id} does not hold: {verdict}"))


def assert_refuted(claim: Any, /, *, budget: Any = None, seed: int = 0, ablate: bool = False,
                   **params: Any):
    """Judge ``claim`` and raise ``AssertionError`` unless it is REFUTED with a confirmed counterexample.

    Parameters are those of :func:`assert_holds`. Returns the ``ClaimResult`` (its
    ``counterexample`` is the confirmed one).
    """
    result, doc = judge_for_test(claim, params, budget=budget, seed=seed, ablate=ablate)
    verdict = str(getattr(result.verdict, "value", result.verdict)).upper()
    if verdict == "REFUTED" and result.counterexample is not None:
        return result
    raise AssertionError(_report(doc, f"claim {result.claim_id} was expected to be refuted but is {verdict}"))
