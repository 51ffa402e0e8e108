"""The claim model, the registry, budgets, and the public surface of the engine."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import theorycheck
from theorycheck import backend as xp
from theorycheck import strategies as st
from theorycheck._validation import InvalidArgumentError, InvalidArgumentTypeError
from theorycheck.engine import Assumption, Budget, Claim, Param, Params, claim, registry
from theorycheck.engine.results import Counterexample, to_jsonable


def _inputs(p, active):
    return {"u": st.real_matrix(1, p.h)}


def _evaluate(u, *, p):
    return xp.sum(u * u), 0.0


def _make(**overrides):
    kwargs = dict(id="test.claim", cite=("wang2020",), kind="inequality", statement="||u||^2 >= 0",
                  params=(Param("h", 3, "dimension", min=1, max=10),), inputs=_inputs, relation=">=",
                  register=False)
    kwargs.update(overrides)
    return claim(**kwargs)(_evaluate)


# --------------------------------------------------------------------------- Param / Params


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="1h", default=1), r"`name` of `Param` must be a Python identifier"),
    (dict(name="p", default=1), r"`name` of `Param` must be a Python identifier other than 'p'"),
    (dict(name="h", default=1, type=list), r"`type` of `Param` must be one of int, float, str, bool"),
    (dict(name="h", default=0, min=1), r"`default` of `Param\('h'\)` must be an integer >= 1; got 0"),
    (dict(name="h", default=2.5), r"`default` of `Param\('h'\)` must be an integer; got 2.5"),
    (dict(name="h", default=True), r"`default` of `Param\('h'\)` must be an integer; got True"),
    (dict(name="rho", default=-1.0, type=float, min=0.0), r"`default` of `Param\('rho'\)` must be >= 0"),
    (dict(name="mode", default="x", type=str, choices=("a", "b")), r"must be one of 'a', 'b'; got 'x'"),
])
def test_param_rejects_bad_definitions(kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        Param(**kwargs)


def test_param_repr_rebuilds_it():
    q = Param("rho", 1.0, "radius", type=float, min=0.0)
    assert eval(repr(q), {"Param": Param}) == q


def test_params_is_a_read_only_mapping_with_attribute_access():
    p = Params(K=3, h=2)
    assert p.K == 3 and p["h"] == 2 and dict(p) == {"K": 3, "h": 2} and len(p) == 2
    assert p.replace(K=4) == {"K": 4, "h": 2} and p == {"K": 3, "h": 2}
    with pytest.raises(AttributeError, match="known parameters: K, h"):
        p.N
    with pytest.raises(AttributeError, match="read-only"):
        p.K = 5
    assert repr(p) == "Params(K=3, h=2)" and hash(p) == hash(Params(K=3, h=2))


# --------------------------------------------------------------------------- Claim


def test_claim_decorator_builds_a_callable_claim():
    c = _make()
    assert isinstance(c, Claim) and c.evaluate is _evaluate and c.source == "test"
    assert c.origin.endswith(":_evaluate") and c.summary_keys == ("inputs_tried", "worst_slack")
    assert c(np.ones((1, 3)), p=c.resolve_params()) == (3.0, 0.0)
    assert c.cite == ("wang2020",) and _make(cite="wang2020").cite == ("wang2020",)


@pytest.mark.parametrize("overrides, match", [
    (dict(id="nodot"), r"`id` of `claim` must be of the form '<source>.<name>'"),
    (dict(id="bad id.x"), r"`id` of `claim` must be of the form"),
    (dict(kind="theorem"), r"`kind` of `claim 'test.claim'` must be one of 'identity', 'inequality'"),
    (dict(relation="=="), r"`relation` of `claim 'test.claim'` must be one of '<=', '>=', '<', '>' for an "
                          r"inequality"),
    (dict(relation="=<"), r"`relation` of `claim 'test.claim'` must be one of '==', '<=', '>=', '<', '>'"),
    (dict(kind="identity", relation="<="), r"must be '==' for an identity"),
    (dict(statement=""), r"`statement` of `claim 'test.claim'` must be a non-empty string"),
    (dict(params=(Param("h", 1), Param("h", 2))), r"must be params with distinct names"),
    (dict(params=("h",)), r"`params` of `claim 'test.claim'` must be a tuple of Param"),
    (dict(assumptions=("a", "a")), r"must be assumptions with distinct names"),
    (dict(inputs=None), r"`inputs` of `claim 'test.claim'` must be a callable"),
    (dict(inputs=3), r"`inputs` of `claim 'test.claim'` must be a callable"),
    (dict(kind="optimum", relation="=="), r"`optimum` of `claim 'test.claim'` must be a callable"),
    (dict(kind="characterization", relation="==", optimum=lambda p: 0.0), r"`distance` of .* must be a callable"),
    (dict(kind="statistical", relation="=="), r"`expected` of .* must be a callable"),
    (dict(kind="identity", relation="==", trivial=lambda u, p: 0.0), r"`trivial` of .* must be given only for an "
                                                                      r"inequality"),
    (dict(rtol=-1.0), r"`rtol` of `claim 'test.claim'` must be >= 0"),
    (dict(confidence=1.0), r"`confidence` of `claim 'test.claim'` must be < 1"),
])
def test_claim_rejects_bad_definitions(overrides, match):
    with pytest.raises(InvalidArgumentError, match=match):
        _make(**overrides)


def test_inequality_without_relation_is_an_error():
    with pytest.raises(InvalidArgumentError, match=r"`relation` of `claim 'x.y'` must be one of '<=', '>='"):
        claim(id="x.y", cite=(), kind="inequality", statement="s", inputs=_inputs)


def test_resolve_params_validates_against_each_param():
    c = _make()
    assert c.resolve_params() == {"h": 3} and c.resolve_params({"h": 4.0}) == {"h": 4}
    with pytest.raises(InvalidArgumentError, match=r"must be names among the claim's parameters: h; got 'K'"):
        c.resolve_params({"K": 2})
    with pytest.raises(InvalidArgumentError, match=r"`params\['h'\]` .* must be an integer <= 10; got 11"):
        c.resolve_params({"h": 11})
    with pytest.raises(InvalidArgumentTypeError, match=r"`params\['h'\]` .* must be an integer; got '3'"):
        c.resolve_params({"h": "3"})
    with pytest.raises(InvalidArgumentTypeError, match=r"`params` of `claim 'test.claim'` must be a mapping"):
        c.resolve_params([("h", 3)])


def test_active_assumptions_default_to_all_and_are_validated():
    c = _make(assumptions=(Assumption("sphere", "rows on the sphere"), "balanced"))
    assert c.active_assumptions() == {"sphere", "balanced"} and c.active_assumptions([]) == frozenset()
    assert c.assumptions[1] == Assumption("balanced")
    with pytest.raises(InvalidArgumentError, match=r"must be names among 'sphere', 'balanced'; got 'ball'"):
        c.active_assumptions(["ball"])


def test_inputs_and_requires_may_take_p_only():
    c = _make(inputs=lambda p: {"u": st.real_matrix(1, p.h)}, requires=lambda p: None if p.h > 1 else "h<=1")
    p = c.resolve_params({"h": 1})
    assert set(c.spaces(p, frozenset())) == {"u"} and c.why_vacuous(p, frozenset()) == "h<=1"
    assert c.why_vacuous(c.resolve_params({"h": 2}), frozenset()) is None


def test_empirical_claim_uses_the_decorated_function_as_run():
    @claim(id="test.emp", cite=(), kind="empirical", statement="trains", register=False)
    def run(p, budget, seed):
        return None

    assert run.run is not None and run.evaluate is None and run.summary_keys == ()


# --------------------------------------------------------------------------- registry


def test_registry_rejects_duplicates_and_temporary_restores():
    before = registry.ids()
    with registry.temporary():
        first = claim(id="test.dup", cite=(), kind="inequality", statement="s", inputs=_inputs,
                      relation=">=")(_evaluate)
        assert registry.get("test.dup") is first and "test.dup" in registry.ids()

        def other(u, *, p):
            return 0.0, 0.0

        with pytest.raises(InvalidArgumentError, match=r"`id` of `register` must be an id not registered yet "
                                                       r"\(already defined by .*_evaluate\); got 'test.dup'"):
            claim(id="test.dup", cite=(), kind="inequality", statement="s", inputs=_inputs, relation=">=")(other)
        registry.register(first)  # the same object again is fine
        assert [c.id for c in registry.all_claims()] == sorted(c.id for c in registry.all_claims())
    assert registry.ids() == before


def test_registry_get_unknown_lists_close_matches():
    with registry.temporary():
        registry.register(_make(id="mypaper.cauchy-schwarz"))
        with pytest.raises(InvalidArgumentError, match=r"close matches: mypaper.cauchy-schwarz[,)].*; got "
                                                       r"'mypaper.cauchy-shwarz'"):
            registry.get("mypaper.cauchy-shwarz")
        with pytest.raises(InvalidArgumentTypeError, match=r"`claim_id` of `get` must be a claim id string"):
            registry.get(3)
        with pytest.raises(InvalidArgumentTypeError, match=r"`claim` of `register` must be a Claim"):
            registry.register("mypaper.x")


def test_claims_defined_with_register_false_do_not_leak():
    _make(id="test.no-leak")
    assert "test.no-leak" not in registry.ids()


# --------------------------------------------------------------------------- budget and JSON helpers


def test_budget_plan_is_a_function_of_the_budget():
    assert Budget().plan() == Budget(seconds=5.0).plan()
    plan = Budget(seconds=None, examples=10).plan()
    assert plan.hypothesis_examples + plan.random_examples == 10
    assert Budget(seconds=60).plan().hypothesis_examples > Budget(seconds=1).plan().hypothesis_examples
    assert Budget.coerce(3) == Budget(seconds=3.0) and Budget.coerce(None) == Budget()
    with pytest.raises(InvalidArgumentError, match=r"`seconds` of `Budget` must be > 0; got -1.0"):
        Budget(seconds=-1)
    with pytest.raises(InvalidArgumentError, match=r"`examples` of `Budget` must be an integer >= 1; got 0"):
        Budget(examples=0)


def test_to_jsonable_gives_plain_json_types():
    import mpmath
    import torch

    doc = to_jsonable({"a": np.float64(np.inf), "b": [np.int64(2), float("nan")], "c": np.array([[1, 2]]),
                       "d": mpmath.mpf("0.5"), "e": torch.tensor([1.5]), "f": (np.bool_(True), None),
                       "g": frozenset({"y", "x"}), "h": -np.inf})
    assert doc == {"a": "inf", "b": [2, "nan"], "c": [[1, 2]], "d": 0.5, "e": [1.5], "f": [True, None],
                   "g": ["x", "y"], "h": "-inf"}


def test_counterexample_round_trip_is_bit_exact():
    cx = Counterexample(inputs={"Z": np.array([[0.1, 1 / 3]]), "y": np.array([0, 1]), "rho": 0.7},
                        lhs=1.0, rhs=float("inf"), margin=0.25, precision_digits=60, params={"K": 2})
    back = Counterexample.from_dict(cx.to_dict())
    assert back.inputs["Z"].tolist() == [[0.1, 1 / 3]] and back.inputs["y"].dtype == np.int64
    assert back.inputs["rho"] == 0.7 and back.rhs == float("inf") and back.params == {"K": 2}


# --------------------------------------------------------------------------- public surface


def test_public_surface_matches_all_and_docs():
    for name in ["Claim", "Param", "Assumption", "claim", "judge", "Verdict", "Budget", "strategies"]:
        assert name in theorycheck.__all__ and getattr(theorycheck, name) is not None
    import theorycheck.engine as engine

    for name in engine.__all__:
        assert getattr(engine, name) is not None
    assert callable(engine.judge) and engine.judge.__module__ == "theorycheck.engine.judge"
    # every function in strategies.__all__ is documented in docs/claims-api.md and vice versa
    doc = (Path(__file__).resolve().parents[1] / "docs" / "claims-api.md").read_text()
    documented = set(re.findall(r"`st\.(\w+)\(", doc))
    spaces = {n for n in st.__all__ if n not in ("Space", "Unsatisfiable")}
    assert documented == spaces
