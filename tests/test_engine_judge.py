"""The engine's verdicts on claims written in the tests (issue 3, "How it is checked").

True statements from THEORY.md come out HOLDS; broken variants (a constant changed, a
sign flipped, a factor dropped, an assumption removed) come out REFUTED with a
counterexample that an independent mpmath evaluation in this file confirms; an
unsatisfiable assumption set comes out VACUOUS; a float-noise-only "violation" is not
REFUTED; the same seed gives the same JSON; broken claims give clear errors.

Every claim here is built with ``register=False`` (or inside ``registry.temporary()``),
so nothing leaks into the global registry.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import time

import mpmath
import numpy as np
import pytest

from theorycheck import backend as xp
from theorycheck import strategies as st
from theorycheck._validation import InvalidArgumentError
from theorycheck.engine import (
    Assumption,
    Budget,
    ClaimError,
    ClaimResult,
    KindOutcome,
    Param,
    Verdict,
    claim,
    judge,
    registry,
)
from theorycheck.engine.confirm import violation

# Deterministic and deadline-free: the verdicts below must not depend on machine load.
FAST = Budget(seconds=None, examples=40)


# --------------------------------------------------------------------------- claims under test
# garrido2023.duality: L_nc + sum_j ||K_j.||^4 = L_c + sum_i ||K_.i||^4 (K is M x N).


def _duality_parts(K):
    gram = K.T @ K  # N x N, sample Gram
    cov = K @ K.T  # M x M, dimension Gram
    l_c = xp.sum(gram * gram) - xp.sum(xp.diag(gram) ** 2)
    l_nc = xp.sum(cov * cov) - xp.sum(xp.diag(cov) ** 2)
    rows4 = xp.sum(xp.sum(K * K, axis=1) ** 2)
    cols4 = xp.sum(xp.sum(K * K, axis=0) ** 2)
    return l_c, l_nc, rows4, cols4


_DUAL_PARAMS = (Param("M", 3, "embedding dimension", min=1), Param("N", 4, "batch size", min=1))


def _dual_inputs(p, active):
    return {"K": st.real_matrix(p.M, p.N, 1.0)}


def _make_duality(variant: str):
    def duality(K, *, p):
        l_c, l_nc, rows4, cols4 = _duality_parts(K)
        if variant == "true":
            return l_nc + rows4, l_c + cols4
        if variant == "constant":  # 1 -> 1.001 in front of the column term
            return l_nc + rows4, l_c + 1.001 * cols4
        if variant == "sign":  # + sum ||K_j.||^4 flipped to -
            return l_nc - rows4, l_c + cols4
        raise AssertionError(variant)

    return claim(id=f"test.duality-{variant}", cite=("garrido2023",), kind="identity",
                 statement="L_nc + sum_j ||K_j.||^4 = L_c + sum_i ||K_.i||^4", params=_DUAL_PARAMS,
                 inputs=_dual_inputs, register=False)(duality)


# Cauchy-Schwarz: |<u, v>| <= ||u|| ||v||.
_CS_PARAMS = (Param("h", 3, "dimension", min=1),)


def _cs_inputs(p, active):
    return {"u": st.real_matrix(1, p.h, 1.0), "v": st.real_matrix(1, p.h, 1.0)}


def _make_cs(variant: str):
    def cauchy_schwarz(u, v, *, p):
        inner = xp.abs(xp.sum(u * v))
        if variant == "true":
            return inner, xp.norm(u) * xp.norm(v)
        if variant == "constant":  # a constant 0.98 slipped in
            return inner, 0.98 * xp.norm(u) * xp.norm(v)
        raise AssertionError(variant)

    return claim(id=f"test.cs-{variant}", cite=("wang2020",), kind="inequality",
                 statement="|<u, v>| <= ||u|| ||v||", params=_CS_PARAMS, inputs=_cs_inputs, relation="<=",
                 register=False)(cauchy_schwarz)


# graf2021.ce.bound: ||z_n|| <= rho, Y balanced => L_CE >= log(1 + (K-1) exp(-rho sqrt(K)/(K-1) ||W||_F)).
_CE_PARAMS = (Param("N", 6, "samples", min=1), Param("K", 3, "classes", min=2), Param("h", 3, "dimension", min=1),
              Param("rho", 1.0, "radius", type=float, min=0.0))
_CE_ASSUMPTIONS = (Assumption("balanced", "every class has N/K samples"),
                   Assumption("bounded", "||z_n|| <= rho"))


def _ce_inputs(p, active):
    y = st.balanced_labels(p.N, p.K) if "balanced" in active else st.labels(p.N, p.K)
    Z = st.ball(p.N, p.h, p.rho) if "bounded" in active else st.real_matrix(p.N, p.h, p.rho)
    return {"Z": Z, "W": st.real_matrix(p.K, p.h, 1.0), "y": y}


def _make_ce(variant: str):
    def ce_bound(Z, W, y, *, p):
        logits = Z @ W.T
        n = logits.shape[0]
        loss = xp.mean(xp.logsumexp(logits, axis=1) - logits[np.arange(n), y])
        K = p.K
        if variant == "true":
            a = p.rho * math.sqrt(K) / (K - 1)
        elif variant == "factor":  # the 1/(K-1) factor dropped... and sqrt(K) kept: a smaller exponent
            a = p.rho / (K - 1)
        else:
            raise AssertionError(variant)
        return loss, xp.log(1 + (K - 1) * xp.exp(-a * xp.norm(W)))

    return claim(id=f"test.ce-{variant}", cite=("graf2021",), kind="inequality",
                 statement="L_CE >= log(1 + (K-1) exp(-rho sqrt(K)/(K-1) ||W||_F))", params=_CE_PARAMS,
                 assumptions=_CE_ASSUMPTIONS, inputs=_ce_inputs, relation=">=", register=False)(ce_bound)


# huang2023.gram-identity: ||sum_k p_k mu_k mu_k^T - I_d||^2 = ||U^T U - I_K||^2 + d - K.
def _make_gram(variant: str):
    def gram_identity(pk, mu, *, p):
        U = mu * xp.sqrt(pk)[None, :]
        S = U @ U.T
        lhs = xp.sum((S - xp.eye_like(U, p.d)) ** 2)
        G = U.T @ U
        rhs = xp.sum((G - xp.eye_like(U, p.K)) ** 2) + (p.d - p.K)
        if variant == "constant":
            rhs = rhs + 0.5  # d - K -> d - K + 1/2
        return lhs, rhs

    return claim(id=f"test.gram-{variant}", cite=("huang2023",), kind="identity",
                 statement="||sum_k p_k mu_k mu_k^T - I_d||_F^2 = ||U^T U - I_K||_F^2 + d - K",
                 params=(Param("d", 4, "dimension", min=1), Param("K", 3, "classes", min=1)),
                 inputs=lambda p, active: {"pk": st.probability_vector(p.K), "mu": st.real_matrix(p.d, p.K)},
                 register=False)(gram_identity)


def _independent_violation(c, cx) -> mpmath.mpf:
    """Re-evaluate a counterexample at 80 digits here, with this file's own call."""
    p = c.resolve_params(cx.params)
    with mpmath.workdps(80):
        mp_in = {}
        for name, value in cx.inputs.items():
            arr = np.asarray(value)
            mp_in[name] = arr if np.issubdtype(arr.dtype, np.integer) else xp.to_mp(arr)
        lhs, rhs = c.evaluate(**mp_in, p=p)
        lhs = lhs if isinstance(lhs, mpmath.mpf) else mpmath.mpf(lhs)
        rhs = rhs if isinstance(rhs, mpmath.mpf) else mpmath.mpf(rhs)
        return violation(c.relation, lhs, rhs), lhs, rhs


# --------------------------------------------------------------------------- HOLDS


@pytest.mark.parametrize("make, params", [
    (lambda: _make_duality("true"), {}),
    (lambda: _make_cs("true"), {}),
    (lambda: _make_ce("true"), {}),
    (lambda: _make_gram("true"), {"d": 3, "K": 4}),
], ids=["garrido2023.duality", "cauchy-schwarz", "graf2021.ce.bound", "huang2023.gram-identity"])
def test_true_statements_hold(make, params):
    c = make()
    result = judge(c, params, budget=FAST, seed=0)
    assert result.verdict is Verdict.HOLDS, result.to_dict()
    assert result.counterexample is None
    ev = result.evidence
    assert ev["inputs_tried"] == sum(ev["by_phase"].values()) > 40
    assert ev["by_phase"]["hypothesis"] > 0 and ev["by_phase"]["random"] > 0 and ev["by_phase"]["special"] > 0
    # the engine's L-BFGS ran (a true identity's slack is flat: a start may converge in 0 steps)
    assert ev["adversarial_starts"] >= 2 and ev["adversarial_method"] == "lbfgs+adam"
    assert ev["stopped_by"] in ("no-improvement", "max-starts", "deadline")
    # worst slack seen is at most float noise below zero, never a real violation
    assert ev["worst_relative_slack"] > -1e-9
    assert ev["sizes"] == dict(c.resolve_params(params))


# --------------------------------------------------------------------------- REFUTED


@pytest.mark.parametrize("make, params", [
    (lambda: _make_duality("constant"), {}),
    (lambda: _make_duality("sign"), {}),
    (lambda: _make_cs("constant"), {}),
    (lambda: _make_ce("factor"), {}),
    (lambda: _make_gram("constant"), {}),
], ids=["duality-constant-changed", "duality-sign-flipped", "cs-constant-changed", "ce-factor-dropped",
        "gram-constant-changed"])
def test_broken_variants_are_refuted_with_a_confirmed_counterexample(make, params):
    c = make()
    result = judge(c, params, budget=FAST, seed=0)
    assert result.verdict is Verdict.REFUTED, result.to_dict()
    cx = result.counterexample
    assert cx is not None and cx.precision_digits >= 50 and cx.margin > 0
    # the counterexample is an input of the claim at its (possibly shrunk) sizes
    spaces = c.spaces(c.resolve_params(cx.params), c.active_assumptions())
    assert set(cx.inputs) == set(spaces)
    for name, space in spaces.items():
        assert space.contains(np.asarray(cx.inputs[name])), (name, cx.inputs[name])
    # independent 80-digit re-evaluation agrees: it fails, by the reported margin
    v, lhs, rhs = _independent_violation(c, cx)
    tol = c.atol + c.rtol * max(abs(lhs), abs(rhs))
    assert v > tol
    assert float(v) == pytest.approx(cx.margin, rel=1e-12)
    assert cx.lhs == pytest.approx(float(lhs), rel=1e-15) and cx.rhs == pytest.approx(float(rhs), rel=1e-15)


def test_assumption_removed_is_refuted_and_ablation_names_it():
    c = _make_ce("true")
    weakened = judge(c, budget=FAST, seed=0, assumptions=["bounded"])  # "balanced" removed
    assert weakened.verdict is Verdict.REFUTED
    y = np.asarray(weakened.counterexample.inputs["y"])
    assert np.ptp(np.bincount(y, minlength=weakened.counterexample.params["K"])) > 0  # really imbalanced
    assert _independent_violation(c, weakened.counterexample)[0] > 0

    result = judge(c, budget=Budget(seconds=None, examples=40), seed=0, ablate=True)
    assert result.verdict is Verdict.HOLDS
    by_name = {a.dropped: a for a in result.ablations}
    assert set(by_name) == {"balanced", "bounded"}
    for name, ab in by_name.items():
        assert ab.verdict is Verdict.REFUTED, (name, ab.evidence)
        assert _independent_violation(c, ab.counterexample)[0] > 0
    # with "bounded" dropped the counterexample leaves the ball of radius rho
    z = np.asarray(by_name["bounded"].counterexample.inputs["Z"])
    assert np.max(np.linalg.norm(z, axis=1)) > by_name["bounded"].counterexample.params["rho"]


def test_dropping_a_parameter_only_assumption_explores_sizes_that_violate_it():
    # (h - K + 1) ||u||^2 >= 0 holds exactly when h >= K-1; the assumption lives in `requires`.
    def requires(p, active):
        if "h>=K-1" in active and p.h < p.K - 1:
            return f"h >= K-1 fails: h={p.h}, K={p.K}"
        return None

    @claim(id="test.needs-h", cite=(), kind="inequality", statement="(h-K+1)||u||^2 >= 0",
           params=(Param("K", 3, min=2), Param("h", 2, min=1)), assumptions=(Assumption("h>=K-1"),),
           inputs=lambda p, active: {"u": st.real_matrix(1, p.h)}, requires=requires, relation=">=",
           register=False)
    def needs_h(u, *, p):
        return (p.h - p.K + 1) * xp.sum(u * u), 0.0

    vacuous = judge(needs_h, {"K": 4, "h": 2}, budget=FAST)
    assert vacuous.verdict is Verdict.VACUOUS and "h >= K-1 fails" in vacuous.evidence["reason"]
    result = judge(needs_h, {"K": 3, "h": 2}, budget=FAST, ablate=True)
    assert result.verdict is Verdict.HOLDS
    (ab,) = result.ablations
    assert ab.dropped == "h>=K-1" and ab.verdict is Verdict.REFUTED
    assert ab.counterexample.params["h"] < ab.counterexample.params["K"] - 1
    assert ab.evidence["sizes_explored"]


def test_shrinking_gives_small_sizes_and_short_numbers():
    result = judge(_make_cs("constant"), {"h": 6}, budget=FAST, seed=1)
    cx = result.counterexample
    assert result.verdict is Verdict.REFUTED
    assert cx.params["h"] == 1  # walked down to Param.min
    for value in cx.inputs.values():
        for entry in np.ravel(value):
            assert entry == float(f"{entry:.2g}"), entry  # at most two significant digits
    assert result.evidence["shrink"]["params_from"] == {"h": 6}


def test_strict_inequality_fails_at_equality_with_margin_zero():
    @claim(id="test.strict", cite=(), kind="inequality", statement="x^2 > 0",
           inputs=lambda p, active: {"x": st.real(-1.0, 1.0)}, relation=">", register=False)
    def strict(x, *, p):
        return x * x, 0.0

    result = judge(strict, budget=FAST)
    assert result.verdict is Verdict.REFUTED
    assert result.counterexample.inputs["x"] == 0.0 and result.counterexample.margin == 0.0


# --------------------------------------------------------------------------- VACUOUS


def test_unsatisfiable_space_is_vacuous():
    # garrido2023.doubly-normalized: unit rows and unit columns exist only when M == N.
    @claim(id="test.doubly", cite=("garrido2023",), kind="identity", statement="L_nc = L_c + N - M",
           params=_DUAL_PARAMS, inputs=lambda p, active: {"K": st.doubly_normalized(p.M, p.N)}, register=False)
    def doubly(K, *, p):
        l_c, l_nc, _, _ = _duality_parts(K)
        return l_nc, l_c + (p.N - p.M)

    result = judge(doubly, {"M": 3, "N": 5}, budget=FAST)
    assert result.verdict is Verdict.VACUOUS
    assert "M == N" in result.evidence["reason"]
    assert result.counterexample is None
    # at M == N the statement is the duality with equal norms: it holds
    assert judge(doubly, {"M": 3, "N": 3}, budget=FAST).verdict is Verdict.HOLDS


def test_bound_never_tighter_than_the_trivial_one_is_vacuous():
    def inputs(p, active):
        return {"u": st.sphere(1, 3, 1.0), "v": st.sphere(1, 3, 1.0)}

    @claim(id="test.loose", cite=(), kind="inequality", statement="<u, v> <= 2 on the unit sphere",
           inputs=inputs, relation="<=", trivial=lambda u, v, p: 1.0, register=False)
    def loose(u, v, *, p):
        return xp.sum(u * v), 2.0

    @claim(id="test.tight", cite=(), kind="inequality", statement="<u, v> <= ||u|| ||v|| on the sphere",
           inputs=inputs, relation="<=", trivial=lambda u, v, p: 1.0, register=False)
    def tight(u, v, *, p):
        return xp.sum(u * v), xp.norm(u) * xp.norm(v)

    result = judge(loose, budget=FAST)
    assert result.verdict is Verdict.VACUOUS and result.evidence["informative_fraction"] == 0.0
    # a bound equal to the trivial one is not "tighter" either, but a held, informative bound is HOLDS
    @claim(id="test.informative", cite=(), kind="inequality", statement="<u, v> <= (1 + <u, v>)/2 + 1/2",
           inputs=inputs, relation="<=", trivial=lambda u, v, p: 1.0, register=False)
    def informative(u, v, *, p):
        return xp.sum(u * v), (1 + xp.sum(u * v)) / 2 + 0.5 * (1 - xp.sum(u * v)) ** 2

    held = judge(informative, budget=FAST)
    assert held.verdict is Verdict.HOLDS and 0 < held.evidence["informative_fraction"] <= 1
    assert judge(tight, budget=FAST).evidence["informative_fraction"] == 0.0


# --------------------------------------------------------------------------- float noise


def test_float32_identity_is_not_refuted():
    # The duality evaluated in float32: float differences ~1e-7 relative, equality in mpmath.
    @claim(id="test.duality-f32", cite=("garrido2023",), kind="identity", statement="duality in float32",
           params=_DUAL_PARAMS, inputs=_dual_inputs, register=False)
    def duality32(K, *, p):
        if xp.kind(K) == "numpy":
            K = K.astype(np.float32)
        l_c, l_nc, rows4, cols4 = _duality_parts(K)
        return l_nc + rows4, l_c + cols4

    result = judge(duality32, budget=FAST)
    assert result.verdict is Verdict.HOLDS
    assert result.evidence["float_candidates"] > 0  # float32 did disagree ...
    assert result.evidence["dismissed_as_float_noise"] > 0  # ... and mpmath showed equality


def test_evaluator_stuck_in_float_is_inconclusive_not_refuted():
    @claim(id="test.duality-leak", cite=(), kind="identity", statement="duality through float32",
           params=_DUAL_PARAMS, inputs=_dual_inputs, register=False)
    def leak(K, *, p):
        K = np.asarray(K, dtype=np.float32)  # even the mpmath inputs are cast down
        l_c, l_nc, rows4, cols4 = _duality_parts(K)
        return float(l_nc + rows4), float(l_c + cols4)

    result = judge(leak, budget=FAST)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "float" in result.evidence["undecided_reason"]


# --------------------------------------------------------------------------- determinism and JSON


def _without_seconds(doc):
    doc = dict(doc)
    doc.pop("seconds")
    return doc


@pytest.mark.parametrize("make", [lambda: _make_cs("constant"), lambda: _make_duality("true")],
                         ids=["refuted", "holds"])
def test_same_seed_gives_identical_json(make):
    c = make()
    first = judge(c, budget=FAST, seed=7, ablate=True).to_dict()
    second = judge(c, budget=FAST, seed=7, ablate=True).to_dict()
    assert json.dumps(_without_seconds(first), sort_keys=True) == json.dumps(_without_seconds(second),
                                                                             sort_keys=True)


def test_result_json_round_trip_and_schema():
    result = judge(_make_ce("true"), budget=FAST, seed=0, ablate=True)
    doc = result.to_dict()
    text = json.dumps(doc, allow_nan=False)  # plain JSON, no NaN/inf literals
    assert {"id", "verdict", "seconds", "params", "evidence", "counterexample", "ablations"} <= set(doc)
    for ab in doc["ablations"]:
        assert {"dropped", "verdict", "counterexample"} <= set(ab)
        cx = ab["counterexample"]
        assert {"inputs", "lhs", "rhs", "margin", "precision_digits"} <= set(cx)
        assert isinstance(cx["inputs"]["y"][0], int) and isinstance(cx["inputs"]["Z"][0][0], float)
    back = ClaimResult.from_dict(json.loads(text))
    assert back.to_dict() == doc
    restored = back.ablations[0].counterexample
    assert restored.inputs["y"].dtype == np.int64 and restored.inputs["Z"].dtype == np.float64


def test_counterexample_python_snippet_reproduces_the_failure():
    with registry.temporary():
        c = registry.register(_make_duality("sign"))
        result = judge("test.duality-sign", budget=FAST)
        code = result.counterexample.to_python()
        namespace: dict = {}
        with contextlib.redirect_stdout(io.StringIO()) as out:
            exec(compile(code, "<counterexample>", "exec"), namespace)
    printed = out.getvalue().splitlines()
    assert len(printed) == 2  # float64 and high-precision evaluations
    lhs, rhs = c.evaluate(**namespace["inputs"], p=namespace["p"])
    assert float(lhs) == pytest.approx(result.counterexample.lhs) and float(rhs) == pytest.approx(
        result.counterexample.rhs)
    assert abs(float(lhs) - float(rhs)) > 0
    assert "test.duality-sign" not in registry.ids()


# --------------------------------------------------------------------------- proofs, other kinds


def test_identity_with_a_closing_proof_is_proved_exactly():
    class Proof:
        closed = True

    base = _make_duality("true")
    proved = claim(id="test.duality-proved", cite=("garrido2023",), kind="identity", statement=base.statement,
                   params=_DUAL_PARAMS, inputs=_dual_inputs, proof=lambda p: Proof(),
                   register=False)(base.evaluate)
    result = judge(proved, budget=FAST)
    assert result.verdict is Verdict.HOLDS and result.proved_exactly
    assert result.evidence["proof"] == "closed" and result.to_dict()["proved_exactly"] is True

    # a "proof" of a false identity is contradicted by the numeric sanity search
    wrong = claim(id="test.duality-wrong-proof", cite=(), kind="identity", statement="wrong",
                  params=_DUAL_PARAMS, inputs=_dual_inputs, proof=lambda p: True,
                  register=False)(_make_duality("sign").evaluate)
    refuted = judge(wrong, budget=FAST)
    assert refuted.verdict is Verdict.REFUTED and not refuted.proved_exactly
    assert "contradicted" in refuted.evidence["proof"]


def test_optimisation_kinds_are_dispatched_with_a_judge_context(monkeypatch):
    from theorycheck.engine import kinds

    seen = {}

    def fake_judge_optimum(ctx):
        seen.update(params=dict(ctx.params), spaces=set(ctx.spaces), active=ctx.active, seed=ctx.seed,
                    draw=ctx.rng.random(), value=ctx.evaluate(ctx.sample()))
        return KindOutcome(Verdict.HOLDS, {"best_value": 1.0}, None)

    # the claim's kind object is asked to judge (no lookup of a function by the kind's name)
    monkeypatch.setattr(kinds.KINDS["optimum"], "judge", fake_judge_optimum)

    @claim(id="test.opt", cite=(), kind="optimum", statement="min ||u||^2 on the sphere is 1",
           params=(Param("h", 3, min=1),), assumptions=(Assumption("sphere"),),
           inputs=lambda p, active: {"u": st.sphere(1, p.h, 1.0)}, optimum=lambda p: 1.0, register=False)
    def opt(u, *, p):
        return xp.sum(u * u)

    result = judge(opt, {"h": 2}, seed=5)
    assert result.verdict is Verdict.HOLDS
    # the kind's evidence, plus the strength every verdict states
    assert result.evidence == {"best_value": 1.0, "strength": "searched", "strength_detail": "optimum judge"}
    assert seen["params"] == {"h": 2} and seen["spaces"] == {"u"} and seen["active"] == {"sphere"}
    assert seen["seed"] == 5 and seen["value"] == pytest.approx(1.0)
    assert seen["draw"] == np.random.default_rng([5]).random()


def test_empirical_claims_run_their_own_judge():
    calls = []

    @claim(id="test.empirical", cite=(), kind="empirical", statement="trains", register=False,
           params=(Param("steps", 3, min=1),))
    def run(p, budget, seed):
        calls.append((dict(p), budget.seconds, seed))
        return KindOutcome(Verdict.HOLDS, {"final_gap": 0.0})

    result = judge(run, {"steps": 5}, budget=Budget(seconds=2.0), seed=3)
    assert result.verdict is Verdict.HOLDS
    assert result.evidence == {"final_gap": 0.0, "strength": "searched",
                               "strength_detail": "empirical: measured on the claim's own runs"}
    assert calls == [({"steps": 5}, 2.0, 3)]


# --------------------------------------------------------------------------- budgets


def test_deadline_is_respected():
    @claim(id="test.slow", cite=(), kind="inequality", statement="slow but true",
           inputs=lambda p, active: {"x": st.real(-1.0, 1.0)}, relation=">=", register=False)
    def slow(x, *, p):
        time.sleep(0.01)
        return x * x, 0.0

    start = time.monotonic()
    result = judge(slow, budget=Budget(seconds=0.6), seed=0)
    # 0.6 s budget plus one evaluation and bookkeeping; generous, so that a loaded machine passes
    assert time.monotonic() - start < 30.0
    assert result.verdict is Verdict.HOLDS
    assert result.evidence["stopped_by"] == "deadline"


def test_examples_budget_sets_the_amount_of_search():
    small = judge(_make_cs("true"), budget=Budget(seconds=None, examples=10))
    large = judge(_make_cs("true"), budget=Budget(seconds=None, examples=60))
    assert small.evidence["by_phase"]["hypothesis"] + small.evidence["by_phase"]["random"] == 10
    assert large.evidence["by_phase"]["hypothesis"] + large.evidence["by_phase"]["random"] == 60


def test_judge_inside_a_hypothesis_test_uses_numpy_sampling_instead():
    from hypothesis import given, settings
    from hypothesis import strategies as hst

    verdicts = []

    @settings(max_examples=2, deadline=None, database=None)
    @given(hst.sampled_from(["true", "constant"]))
    def property_suite(variant):
        result = judge(_make_cs(variant), budget=Budget(seconds=None, examples=20))
        assert result.evidence["by_phase"]["hypothesis"] == 0
        if variant == "true":  # the search went through every phase
            assert result.evidence["hypothesis_skipped"] and result.evidence["by_phase"]["random"] == 20
        verdicts.append((variant, result.verdict))

    property_suite()
    assert verdicts and all((v is Verdict.HOLDS) == (name == "true") for name, v in verdicts)


# --------------------------------------------------------------------------- bad user claims


def _bad_claim(evaluate, inputs=None, kind="identity", **extra):
    return claim(id="test.bad", cite=(), kind=kind, statement="a broken claim",
                 inputs=inputs or (lambda p, active: {"x": st.real(-1.0, 1.0)}),
                 relation=extra.pop("relation", "==" if kind == "identity" else "<="), register=False,
                 **extra)(evaluate)


def _raises(x, *, p):
    raise ValueError("boom")


def _returns_nan(x, *, p):
    return x * np.nan, x


def _wrong_arity(x, y, *, p):
    return x, y


def _not_a_pair(x, *, p):
    return x


def _array_sides(x, *, p):
    return np.array([x, x]), np.array([x, x])


@pytest.mark.parametrize("evaluate, inputs, match", [
    (_raises, None, r"claim 'test.bad' raised ValueError at inputs \{x=.*\}: boom"),
    # NaN at every input: undefined everywhere (NaN at some inputs is a hole, not an error)
    (_returns_nan, None, r"claim 'test.bad' is undefined at every input tried"),
    (_wrong_arity, None, r"claim 'test.bad' has an evaluator _wrong_arity\(x, y, \*, p\) .*missing .*'y'"),
    (_not_a_pair, None, r"claim 'test.bad' must return a pair \(lhs, rhs\)"),
    (_array_sides, None, r"claim 'test.bad' must return scalars; lhs has shape \(2,\)"),
    (lambda x, *, p: (x, x), lambda p, active: {"x": 3.0},
     r"input 'x' must be a theorycheck.strategies space"),
    (lambda x, *, p: (x, x), lambda p, active: {"x": st.real(0.0, "a")},
     r"claim 'test.bad' builds an invalid input space"),
    (lambda x, *, p: (x, x), lambda p, active: 1 / 0, r"inputs\(p, active\) raised ZeroDivisionError"),
], ids=["raises", "nan", "wrong-arity", "not-a-pair", "array-sides", "not-a-space", "bad-space-arg",
        "inputs-raise"])
def test_broken_claims_give_a_clear_claim_error(evaluate, inputs, match):
    with pytest.raises(ClaimError, match=match):
        judge(_bad_claim(evaluate, inputs), budget=FAST)


def test_bad_judge_arguments_name_the_argument():
    c = _make_cs("true")
    with pytest.raises(InvalidArgumentError, match=r"`params` of `claim 'test.cs-true'` must be names among "
                                                   r"the claim's parameters: h; got 'K'"):
        judge(c, {"K": 3})
    with pytest.raises(InvalidArgumentError, match=r"`params\['h'\]` of `claim 'test.cs-true'` must be an "
                                                   r"integer >= 1; got 0"):
        judge(c, {"h": 0})
    with pytest.raises(InvalidArgumentError, match=r"`seed` of `judge`"):
        judge(c, seed=-1)
    with pytest.raises(InvalidArgumentError, match=r"`budget` of `judge`"):
        judge(c, budget="fast")
    with pytest.raises(InvalidArgumentError, match=r"`assumptions` of `claim 'test.ce-true'` must be names "
                                                   r"among 'balanced', 'bounded'; got 'sphere'"):
        judge(_make_ce("true"), assumptions=["sphere"])
    with registry.temporary():
        registry.register(c)
        with pytest.raises(InvalidArgumentError, match=r"close matches: test.cs-true"):
            judge("test.cs-tru")


def test_inconclusive_raised_by_a_claim_function_is_a_verdict_not_an_error():
    """A claim whose own numerics cannot decide (here its claimed optimum) raises
    ``Inconclusive``; the engine reports INCONCLUSIVE with the reason, for every kind of
    function that raises it, and with ablation too."""
    from theorycheck import strategies as st
    from theorycheck.engine import Inconclusive, claim, judge, registry

    def no_certificate(p):
        raise Inconclusive("the solver stopped at its iteration limit")

    with registry.temporary():
        @claim(id="test.inconclusive-optimum", cite=(), kind="optimum", statement="min of x^2 is 0",
               params=(), assumptions=(), inputs=lambda p, active: {"x": st.real_matrix(1, 1, 1.0)},
               optimum=no_certificate)
        def square(x, *, p):
            return (x * x).sum()

        result = judge("test.inconclusive-optimum", budget=1.0)
    assert result.verdict.value == "INCONCLUSIVE"
    assert result.evidence["reason"] == "the solver stopped at its iteration limit"
    assert result.counterexample is None


def test_extra_evidence_is_recorded_but_never_changes_the_verdict_or_the_judges_numbers():
    from theorycheck import strategies as st
    from theorycheck.engine import claim, judge, registry

    with registry.temporary():
        @claim(id="test.extra-evidence", cite=(), kind="inequality", statement="x^2 >= 0",
               inputs=lambda p, active: {"x": st.real_matrix(2, 2, 1.0)}, relation=">=",
               extra_evidence=lambda p: {"sweep": [{"R": 1.0, "cos": -0.5}], "inputs_tried": -1})
        def square(x, *, p):
            return (x * x).sum(), 0.0

        result = judge("test.extra-evidence", budget=1.0)
    assert result.verdict.value == "HOLDS"
    assert result.evidence["sweep"] == [{"R": 1.0, "cos": -0.5}]
    assert result.evidence["inputs_tried"] > 0  # the judge's own key is not overridden


def test_an_identity_refuted_by_its_exact_proof_is_never_reported_holds():
    """The prover found an exact instance with a non-zero difference; when the float search
    confirms nothing within its budget the verdict is INCONCLUSIVE (not HOLDS), and the proof's
    refutation is in the evidence."""
    from types import SimpleNamespace

    from theorycheck import strategies as st
    from theorycheck.engine import claim, judge, registry

    refuted_step = SimpleNamespace(name="(2)", statement="x^2 = |x|", status="refuted", counterexample="x = 1/2")
    proof = SimpleNamespace(closed=False, steps=[refuted_step])

    with registry.temporary():
        # the float evaluator is (wrongly) an identity everywhere: only the proof knows better
        @claim(id="test.proof-refutes", cite=(), kind="identity", statement="x^2 = |x|",
               inputs=lambda p, active: {"x": st.real_matrix(1, 1, 1.0)}, proof=lambda p: proof)
        def squares(x, *, p):
            return x * 0.0, x * 0.0

        result = judge("test.proof-refutes", budget=1.0)
    assert result.verdict.value == "INCONCLUSIVE"
    assert result.evidence["proof"] == "refuted in exact arithmetic"
    assert "x = 1/2" in result.evidence["proof_refutation"]
