"""One tiny toy claim per kind, judged through ``judge``: the kind object gives the right verdict.

Each claim is small enough to know its truth by hand; each kind is tried with a true
claim and, where the kind can refute, a false one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorycheck import backend as xp
from theorycheck import strategies as st
from theorycheck.engine import Budget, Verdict, judge, kinds
from theorycheck.engine.claim import Param, claim
from theorycheck.engine.kinds.base import Kind

FAST = Budget(seconds=30.0, examples=30)


def _vec(p, active):
    return {"u": st.real_matrix(1, 3, 1.0)}


def _circle(p, active):
    return {"x": st.sphere(1, 2, 1.0)}


def identity(rhs_shift: float):
    @claim(id="toy.kinds.distributive", cite=(), kind="identity", statement="a(b+c) == ab + ac",
           inputs=lambda p, active: {"a": st.real_matrix(1, 3, 1.0), "b": st.real_matrix(1, 3, 1.0)},
           register=False)
    def distributive(a, b, *, p):
        return xp.sum(a * (b + 1.0)), xp.sum(a * b) + xp.sum(a) + rhs_shift

    return distributive


def inequality(bound: float):
    @claim(id="toy.kinds.square", cite=(), kind="inequality", statement="sum(u^2) >= bound",
           inputs=_vec, relation=">=", register=False)
    def square(u, *, p):
        return xp.sum(u * u), bound

    return square


def optimum(value: float, kind: str = "optimum", **kw):
    # min over the unit circle of x0 is -1, reached only at (-1, 0)
    @claim(id=f"toy.kinds.{kind}", cite=(), kind=kind, statement="min x0 on the circle",
           inputs=_circle, optimum=lambda p: value, register=False, **kw)
    def first(x, *, p):
        return x[..., 0].sum()

    return first


def two_minima():
    # on the circle x = (cos t, sin t): cos 2t + 0.3 sin t, minima -1.3 at t = -pi/2 and -0.7 at t = pi/2
    @claim(id="toy.kinds.two-minima", cite=(), kind="landscape", statement="every local minimum is global",
           inputs=_circle, optimum=lambda p: -1.3, register=False)
    def f(x, *, p):
        return (x[..., 0] ** 2 - x[..., 1] ** 2 + 0.3 * x[..., 1]).sum()

    return f


def statistical(expected: float):
    @claim(id="toy.kinds.stat", cite=(), kind="statistical", statement="E[1 + 0 * u] == expected",
           inputs=_vec, expected=lambda p: {"mean": expected}, register=False)
    def constant(u, *, p):
        return 1.0 + 0.0 * float(np.sum(u))

    return constant


def empirical(holds: bool):
    @claim(id="toy.kinds.run", cite=(), kind="empirical", statement="an experiment that reports",
           params=(Param("n", 3, "runs", min=1),), register=False)
    def experiment(p, budget, seed):
        return {"verdict": "HOLDS" if holds else "REFUTED", "evidence": {"n": p.n, "seed": seed}}

    return experiment


def test_every_kind_is_an_object_with_its_name():
    assert set(kinds.KINDS) == {"identity", "inequality", "optimum", "characterization", "landscape",
                                "statistical", "empirical"}
    for name, spec in kinds.KINDS.items():
        assert isinstance(spec, Kind) and spec.name == name
    assert inequality(0.0).kind_spec is kinds.KINDS["inequality"]


@pytest.mark.parametrize("make, verdict", [
    (lambda: identity(0.0), Verdict.HOLDS),
    (lambda: identity(0.5), Verdict.REFUTED),
    (lambda: inequality(0.0), Verdict.HOLDS),
    (lambda: inequality(0.25), Verdict.REFUTED),
    (lambda: optimum(-1.0), Verdict.HOLDS),
    (lambda: optimum(-0.5), Verdict.REFUTED),  # x0 = -1 goes below the claimed -0.5
    (lambda: optimum(-1.0, "characterization", distance=lambda x, *, p: abs(float(x[0, 0]) + 1.0)), Verdict.HOLDS),
    (lambda: optimum(-1.0, "characterization", distance=lambda x, *, p: abs(float(x[0, 1]) - 1.0)),
     Verdict.REFUTED),  # the minimiser (-1, 0) lacks the claimed property x1 = 1
    (lambda: optimum(-1.0, "landscape"), Verdict.HOLDS),
    (lambda: two_minima(), Verdict.REFUTED),  # a local minimum at (0, 1), value -0.7 > -1.3
    (lambda: statistical(1.0), Verdict.HOLDS),
    (lambda: statistical(2.0), Verdict.REFUTED),
    (lambda: empirical(True), Verdict.HOLDS),
    (lambda: empirical(False), Verdict.REFUTED),
])
def test_a_toy_claim_of_each_kind_gets_its_verdict_through_judge(make, verdict):
    toy = make()
    result = judge(toy, budget=FAST, seed=1)
    assert result.verdict is verdict, result.evidence
    if verdict is Verdict.REFUTED and toy.kind_spec.uses_inputs and toy.kind != "statistical":
        cx = result.counterexample
        assert cx is not None and cx.claim_id == toy.id
        assert (cx.relation == toy.relation) == toy.kind_spec.states_relation or toy.kind_spec.shrinks_sizes


def test_a_kind_checks_what_it_needs():
    with pytest.raises(Exception, match="optimum"):
        claim(id="toy.kinds.bad", cite=(), kind="landscape", statement="no optimum", inputs=_circle,
              register=False)(lambda x, *, p: x.sum())
    with pytest.raises(Exception, match="kind"):
        claim(id="toy.kinds.bad", cite=(), kind="no-such-kind", statement="?", inputs=_circle,
              register=False)(lambda x, *, p: x.sum())


def test_the_optimum_counterexample_lies_below_the_claim():
    result = judge(optimum(-0.5), budget=FAST, seed=1)
    cx = result.counterexample
    assert cx.lhs < cx.rhs == -0.5 and math.isclose(cx.lhs, -1.0, abs_tol=1e-6)
