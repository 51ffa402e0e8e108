"""graf2021 end to end at the claim layer: the claims, their verdicts, the two families, the CLI.

The closed forms themselves are tested against brute force in tests/test_bounds.py; here the
claims' own evaluators are checked against them and against theorycheck.losses (an
independent implementation), and every verdict is checked to come from computation.
"""

from __future__ import annotations

import json
import math
import types
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as hst

from theorycheck import InvalidArgumentError
from theorycheck.bounds import (
    BATCH_SETS,
    ce_l2_minimiser,
    r_w_literal,
    sc_minimum,
    sc_minimum_exact_counts,
)
from theorycheck.claims import graf2021
from theorycheck.cli import main
from theorycheck.engine import Budget, Verdict, judge, registry
from theorycheck.engine.confirm import mp_evaluate
from theorycheck.engine.optimize import minimize
from theorycheck.geometry import distance_to_collapsed_simplex, regular_simplex
from theorycheck.losses import sc_loss

THEORY_IDS = {
    "graf2021.simplex.inner-product": "identity",
    "graf2021.simplex.gram": "identity",
    "graf2021.simplex.existence": "optimum",
    "graf2021.ce.bound": "inequality",
    "graf2021.ce.step1-jensen": "inequality",
    "graf2021.ce.step2-sum-identity": "identity",
    "graf2021.ce.step3-cauchy-schwarz": "inequality",
    "graf2021.ce.step4-balance": "inequality",
    "graf2021.ce.step5-combine": "inequality",
    "graf2021.ce.equality": "characterization",
    "graf2021.ce.l2": "characterization",
    "graf2021.ce.l2-frobenius": "characterization",
    "graf2021.ce.l2-half-lambda": "characterization",
    "graf2021.ce.l2-equation": "identity",
    "graf2021.ce.l2-corrected": "characterization",
    "graf2021.sc.minimum": "optimum",
    "graf2021.sc.simplex": "characterization",
    "graf2021.sc.minimum-sampled": "statistical",
    "graf2021.sc.certified": "inequality",
    "graf2021.sc.certified-imbalance": "inequality",
}


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def simplex_inputs(N, K, h, rho=1.0):
    y = np.repeat(np.arange(K), N // K)
    return regular_simplex(K, h, rho)[y], y


# --------------------------------------------------------------------------- the registry


def test_every_claim_is_registered_with_kind_citation_and_family():
    # the claims this module defines (the empirical ones of section 7 live in graf2021_empirical)
    ours = {c.id: c for c in registry.all_claims() if c.origin.startswith("theorycheck.claims.graf2021:")}
    assert set(ours) == set(THEORY_IDS)
    for cid, kind in THEORY_IDS.items():
        c = ours[cid]
        assert c.kind == kind and c.cite == ("graf2021",) and c.family in ("ce", "supcon"), cid
    assert ours["graf2021.ce.l2-corrected"].corrects == "graf2021.ce.l2"
    assert set(ours["graf2021.sc.simplex"].assumption_names) == {"balanced", "sphere", "h>=K-1", "b>=3",
                                                                 "all batches"}
    assert set(ours["graf2021.ce.bound"].assumption_names) == {"balanced", "norm<=rho"}
    assert ours["graf2021.ce.step1-jensen"].assumption_names == ()
    assert [registry.get(s).id for s in graf2021.CE_STEPS] == list(graf2021.CE_STEPS)
    for name in graf2021.__all__:
        assert hasattr(graf2021, name), name


# --------------------------------------------------------------------------- evaluators


@pytest.mark.parametrize("batches", BATCH_SETS)
@pytest.mark.parametrize("N, K, b, h", [(4, 2, 2, 1), (6, 3, 3, 2), (6, 2, 5, 1), (9, 3, 4, 2), (8, 4, 3, 3)])
def test_claim_objective_at_the_simplex_is_the_closed_form(N, K, b, h, batches):
    """The claims' own L_SC (cached batch plan) at the collapsed simplex = the closed form."""
    Z, y = simplex_inputs(N, K, h)
    p = graf2021.sc_minimum_claim.resolve_params({"N": N, "K": K, "h": h, "b": b, "batches": batches})
    value = graf2021.sc_minimum_claim(Z, y, np.array(1), p=p)
    closed = sc_minimum(N, K, b, 1.0, batches).total
    assert value == pytest.approx(closed, rel=1e-12, abs=1e-12)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(N=hst.integers(2, 7), K=hst.integers(2, 3), b=hst.integers(2, 4), h=hst.integers(1, 3),
       batches=hst.sampled_from(BATCH_SETS), seed=hst.integers(0, 2**16))
def test_claim_objective_equals_losses_sc_loss_at_any_input(N, K, b, h, batches, seed):
    """The cached-plan evaluator is the same function as theorycheck.losses.sc_loss (independent)."""
    if batches == "subset" and b > N:
        b = N
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((N, h))
    y = rng.integers(0, K, N)
    plan = graf2021.batch_plan(N, b, batches)
    ours = float(graf2021._sc_sum(Z, y, plan))
    ref = float(sc_loss(Z, y, b, batches, method="exact").value)
    assert ours == pytest.approx(ref, rel=1e-12, abs=1e-12)


def test_multiset_reference_value_and_its_last_digit():
    """THEORY.md's reference 25205.688636803963 (multiset, N=6, K=3, b=9, rho=1) from the claim's
    evaluator; the exact value (big-integer counts, 50 digits) shows that the printed float is one
    ulp above the correctly rounded one."""
    ref = 25205.688636803963
    Z, y = simplex_inputs(6, 3, 2)
    p = graf2021.sc_minimum_claim.resolve_params({"N": 6, "K": 3, "h": 2, "b": 9, "batches": "multiset"})
    value = float(graf2021.sc_minimum_claim(Z, y, np.array(1), p=p))
    assert abs(value - ref) <= 2 * math.ulp(ref)
    exact = sc_minimum_exact_counts(6, 3, 9, 1.0).total
    rounded = float(exact)  # mpmath rounds to nearest
    assert ref == math.nextafter(rounded, math.inf)
    assert 0 < mpmath.mpf(ref) - exact < math.ulp(ref)
    assert sc_minimum(6, 3, 9, 1.0).total in (rounded, ref)


def _draw(claim, params, seed=0):
    p = claim.resolve_params(params)
    spaces = claim.spaces(p, claim.active_assumptions())
    rng = np.random.default_rng(seed)
    return p, {k: s.sample(rng) for k, s in spaces.items()}


def _as_float(value):
    return tuple(_as_float(v) for v in value) if isinstance(value, tuple) else float(
        value.detach() if isinstance(value, torch.Tensor) else value)


@pytest.mark.parametrize("cid, params", [
    ("graf2021.simplex.inner-product", {"K": 4, "h": 4}),
    ("graf2021.simplex.gram", {"K": 4, "h": 3}),
    ("graf2021.simplex.existence", {"K": 4, "h": 2}),
    ("graf2021.ce.bound", {}),
    ("graf2021.ce.step1-jensen", {}),
    ("graf2021.ce.step2-sum-identity", {}),
    ("graf2021.ce.step3-cauchy-schwarz", {}),
    ("graf2021.ce.step4-balance", {}),
    ("graf2021.ce.step5-combine", {}),
    ("graf2021.ce.equality", {}),
    ("graf2021.ce.l2", {}),
    ("graf2021.ce.l2-equation", {}),
    ("graf2021.sc.simplex", {"b": 4, "batches": "ordered"}),
])
def test_evaluators_agree_in_numpy_torch_and_mpmath(cid, params):
    """The same evaluator in float64, in torch (autograd) and at 40 digits."""
    c = registry.get(cid)
    p, inputs = _draw(c, params, seed=3)
    flt = _as_float(c.evaluate(**inputs, p=p))
    tor = {k: (torch.tensor(v) if np.asarray(v).dtype.kind == "f" else v) for k, v in inputs.items()}
    tch = _as_float(c.evaluate(**tor, p=p))
    mp = _as_float(mp_evaluate(c.evaluate, inputs, p, dps=40))
    assert np.allclose(flt, tch, rtol=1e-12, atol=1e-12) and np.allclose(flt, mp, rtol=1e-10, atol=1e-12)


def test_sc_objective_outside_the_hypotheses_is_referenced_to_the_simplex():
    """Imbalanced labels / a sub-sample of batches: the collapsed simplex sits at the closed form."""
    c = graf2021.sc_simplex
    p = c.resolve_params({})
    closed = sc_minimum(6, 3, 3, 1.0).total
    y = np.array([0, 0, 0, 0, 1, 2])
    Z = regular_simplex(3, 2)[y]
    assert float(c(Z, y, np.array(1), p=p)) == pytest.approx(closed, rel=1e-12)
    y = np.repeat(np.arange(3), 2)
    assert float(c(regular_simplex(3, 2)[y], y, np.array(graf2021.SUBSAMPLE_STRIDE), p=p)) == pytest.approx(
        closed, rel=1e-12)


# --------------------------------------------------------------------------- optimisation


@pytest.mark.parametrize("batches", BATCH_SETS)
def test_random_starts_reach_the_closed_form_and_never_go_below(batches):
    c = graf2021.sc_simplex
    p = c.resolve_params({"N": 6, "K": 3, "h": 2, "b": 3, "batches": batches})
    spaces = c.spaces(p, c.active_assumptions())
    closed = sc_minimum(6, 3, 3, 1.0, batches).total
    runs = minimize(lambda Z, y, batch_stride: c.evaluate(Z, y, batch_stride, p=p), spaces, starts=4,
                    steps=300, rng=np.random.default_rng(1))
    values = np.array([r.value for r in runs])
    assert np.all(values >= closed * (1 - 1e-12))
    assert np.all(values <= closed * (1 + 1e-6)), values / closed - 1
    for r in runs:
        assert distance_to_collapsed_simplex(r.inputs["Z"], r.inputs["y"], radius=1.0) < 1e-4


def test_sc_simplex_verdict_numbers_and_ablations():
    r = judge("graf2021.sc.simplex", {"N": 6, "K": 3, "h": 2, "b": 3}, budget=Budget(seconds=None, examples=100),
              ablate=True)
    assert r.verdict is Verdict.HOLDS
    ev = r.evidence
    assert abs(ev["best_value"] - ev["claimed_optimum"]) <= 1e-6 * ev["claimed_optimum"]
    assert ev["reached"] >= 1 and ev["max_distance"] < 1e-4
    by = {a.dropped: a for a in r.ablations}
    # imbalanced labels and a sub-sample of batches beat the collapsed simplex: confirmed
    for name in ("balanced", "all batches"):
        assert by[name].verdict is Verdict.REFUTED, (name, by[name].evidence)
        cx = by[name].counterexample
        assert cx.precision_digits >= 50 and cx.margin > 1e-6
    # no simplex in R^1 for K = 3: the closed form is not attained, nothing goes below it
    assert by["h>=K-1"].verdict is Verdict.INCONCLUSIVE
    assert any(s["h"] < 2 for s in by["h>=K-1"].evidence["sizes_explored"])
    # b = 2: every configuration has loss 0, so an exact minimiser far from the simplex refutes
    b2 = by["b>=3"]
    assert b2.verdict is Verdict.REFUTED and b2.evidence["far_from_property"] > 0
    cx = b2.counterexample
    assert cx.params["b"] == 2 and cx.margin == 0.0 and cx.relation == ">"
    Z = np.asarray(cx.inputs["Z"])
    assert all(sum(Fraction(float(v)) ** 2 for v in row) == Fraction(cx.params["rho"]) ** 2 for row in Z)
    assert distance_to_collapsed_simplex(Z, np.asarray(cx.inputs["y"]), radius=cx.params["rho"], K=3) > 0.1
    p = registry.get("graf2021.sc.simplex").resolve_params(cx.params)
    assert graf2021.sc_batch_set_loss(Z, np.asarray(cx.inputs["y"]), 1, p=p) == 0.0


# --------------------------------------------------------------------------- CE claims


def test_ce_bound_needs_both_assumptions():
    # a budget of examples, no deadline: the search is the same on a slow or busy machine
    r = judge("graf2021.ce.bound", {"N": 6, "K": 3, "h": 3}, budget=Budget(seconds=None, examples=160),
              ablate=True)
    assert r.verdict is Verdict.HOLDS
    for a in r.ablations:
        assert a.verdict is Verdict.REFUTED, a.dropped
        cx = a.counterexample
        lhs, rhs = registry.get("graf2021.ce.bound").evaluate(**cx.inputs, p=registry.get(
            "graf2021.ce.bound").resolve_params(cx.params))
        assert lhs < rhs  # the counterexample really violates the bound


def test_slide_equation_is_the_row_norm_of_the_bound_minimiser():
    """The colleague's finding, computed: r_W (slide) = r*/sqrt(K) to float precision, never r*."""
    for K in (2, 3, 4, 10):
        for lam in (1e-3, 0.1, 5.0):
            for rho in (0.5, 1.0, 3.0):
                best = ce_l2_minimiser(K, rho, lam)
                r = r_w_literal(K, rho, lam)
                assert r == pytest.approx(best.row_norm, rel=1e-13)
                assert abs(r - best.frobenius_norm) > 0.1 * r


# --------------------------------------------------------------------------- verdicts come from computation


def _fake_sc_minimum(factor):
    real = sc_minimum

    def fake(N, K, b, rho, batches="multiset"):
        m = real(N, K, b, rho, batches)
        return types.SimpleNamespace(total=m.total * factor, mean_per_batch=m.mean_per_batch * factor)

    return fake


@pytest.mark.parametrize("factor, expected", [(1.0, Verdict.HOLDS), (1.01, Verdict.REFUTED),
                                              (0.99, Verdict.INCONCLUSIVE)])
def test_a_wrong_closed_form_changes_the_verdicts(monkeypatch, factor, expected):
    monkeypatch.setattr(graf2021, "sc_minimum", _fake_sc_minimum(factor))
    for cid in ("graf2021.sc.minimum", "graf2021.sc.simplex"):
        r = judge(cid, {"N": 6, "K": 3, "h": 2, "b": 3}, budget=Budget(seconds=None, examples=100))
        assert r.verdict is expected, (cid, r.evidence.get("best_value"), r.evidence["claimed_optimum"])


def test_a_wrong_r_w_changes_the_l2_verdict(monkeypatch):
    budget = Budget(seconds=None, examples=100)
    assert judge("graf2021.ce.l2", budget=budget).verdict is Verdict.HOLDS
    monkeypatch.setattr(graf2021, "r_w_literal", lambda K, rho, lam: 1.05 * r_w_literal(K, rho, lam))
    r = judge("graf2021.ce.l2", budget=budget)
    assert r.verdict is Verdict.REFUTED and r.counterexample.margin > 0


# --------------------------------------------------------------------------- families and CLI


def test_supcon_defaults_are_derived_from_K():
    fam = graf2021.SUPCON_FAMILY
    from theorycheck.engine.families import resolve_family_options

    checks = graf2021.supcon_checks(resolve_family_options(fam, {"K": 10}))
    params = {}
    for cid, prm in checks:
        params.setdefault(cid, []).append(prm)
    assert params["graf2021.sc.simplex"] == [{"N": 20, "K": 10, "h": 9, "rho": 1.0, "b": 3, "batches": "multiset"}]
    assert params["graf2021.sc.minimum-sampled"][0]["N"] == 100 and params["graf2021.sc.minimum-sampled"][0]["b"] == 20
    assert [p["h"] for p in params["graf2021.simplex.existence"]] == [9, 8]
    # small user sizes are enumerated as given
    checks = graf2021.supcon_checks(resolve_family_options(fam, {"K": 3, "N": 6, "b": 4}))
    assert dict(checks)["graf2021.sc.simplex"]["N"] == 6 and dict(checks)["graf2021.sc.simplex"]["b"] == 4


@pytest.fixture(scope="module")
def supcon_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("supcon") / "supcon.json"
    code = main(["verify", "supcon", "--K", "3", "--N", "6", "--b", "3", "--budget", "3", "--json", str(path)])
    return code, json.loads(path.read_text())


def test_verify_supcon_in_process(supcon_run, capsys):
    code, doc = supcon_run
    assert code == 0
    verdicts = {(c["id"], c["params"].get("h")): c["verdict"] for c in doc["claims"]}
    assert set(verdicts.values()) == {"HOLDS"}
    sim = next(c for c in doc["claims"] if c["id"] == "graf2021.sc.simplex")
    ev = sim["evidence"]
    assert ev["claimed_optimum"] == pytest.approx(sc_minimum(6, 3, 3, 1.0).total, rel=1e-15)
    assert abs(ev["best_value"] / ev["claimed_optimum"] - 1) < 1e-6 and ev["max_distance"] < 1e-4
    assert sim["summary_keys"] == ["claimed_optimum", "best_value", "max_distance"]
    assert doc["command"].startswith("theorycheck verify supcon --K 3")


def test_verify_supcon_prints_the_table(capsys, monkeypatch):
    # the closed form 1 % too high: the table shows REFUTED and the exit code says so
    monkeypatch.setattr(graf2021, "sc_minimum", _fake_sc_minimum(1.01))
    code, out, _ = run_cli(capsys, "verify", "supcon", "--K", "3", "--N", "6", "--b", "3", "--budget", "1")
    assert code == 1
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()
            if line.startswith("graf2021.") and line.split()[1] in ("HOLDS", "REFUTED", "VACUOUS", "INCONCLUSIVE")}
    assert rows["graf2021.sc.minimum"] == "REFUTED" and rows["graf2021.sc.simplex"] == "REFUTED"
    assert rows["graf2021.simplex.gram"] == "HOLDS"
    assert "claimed_optimum=" in out and "max_distance=" in out


def test_verify_ce_in_process(capsys, tmp_path):
    path = tmp_path / "ce.json"
    code, out, err = run_cli(capsys, "verify", "ce", "--K", "3", "--budget", "1", "--json", path)
    doc = json.loads(path.read_text())
    verdicts = {c["id"]: c["verdict"] for c in doc["claims"]}
    refuted = {cid for cid, v in verdicts.items() if v == "REFUTED"}
    # the slide's equation holds with r_W the row norm; the other two readings are refuted
    assert refuted == {"graf2021.ce.l2-frobenius", "graf2021.ce.l2-half-lambda"}
    assert all(v == "HOLDS" for cid, v in verdicts.items() if cid not in refuted)
    assert code == 1 and "graf2021.ce.l2-frobenius is refuted" in out
    step2 = next(c for c in doc["claims"] if c["id"] == "graf2021.ce.step2-sum-identity")
    assert step2["evidence"]["proof"] == "closed"
    code, out, _ = run_cli(capsys, "verify", "ce", "--K", "3", "--budget", "1", "--readings", "literal")
    assert code == 0 and "frobenius" not in out


@pytest.mark.parametrize("argv, message", [
    (["supcon", "--K", "1"], "`--K` of `theorycheck verify supcon` must be an integer >= 2; got 1"),
    (["supcon", "--K", "3", "--N", "7"], "`--N` of `theorycheck verify supcon` must be divisible by K = 3"),
    (["supcon", "--K", "3", "--h", "0"], "`--h` of `theorycheck verify supcon` must be an integer >= 1; got 0"),
    (["supcon", "--K", "3", "--b", "1"], "`--b` of `theorycheck verify supcon` must be an integer >= 2; got 1"),
    (["supcon", "--rho", "0"], "`--rho` of `theorycheck verify supcon` must be a real number > 0; got 0.0"),
    (["supcon", "--rho", "-1"], "`--rho` of `theorycheck verify supcon` must be a real number > 0"),
    (["supcon", "--batches", "pairs"], "`--batches` of `theorycheck verify supcon` must be one of 'multiset'"),
    (["supcon", "--K", "3", "--N", "6", "--b", "7", "--batches", "subset"], "`--b` .* must be <= N = 6"),
    (["ce", "--K", "1"], "`--K` of `theorycheck verify ce` must be an integer >= 2; got 1"),
    (["ce", "--K", "3", "--N", "4"], "`--N` of `theorycheck verify ce` must be divisible by K = 3"),
    (["ce", "--lam", "0"], "`--lam` of `theorycheck verify ce` must be a real number > 0"),
    (["ce", "--rho", "-2"], "`--rho` of `theorycheck verify ce` must be a real number > 0"),
])
def test_bad_parameters_exit_2_with_one_line(capsys, argv, message):
    import re

    code, out, err = run_cli(capsys, "verify", *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err


def test_unsatisfiable_assumptions_are_vacuous_not_a_crash(capsys, tmp_path):
    path = tmp_path / "vac.json"
    code, out, err = run_cli(capsys, "verify", "supcon", "--K", "4", "--h", "2", "--N", "8", "--b", "3",
                             "--budget", "1", "--json", path)
    assert code == 0, err
    verdicts = {(c["id"], c["params"].get("h")): c["verdict"] for c in json.loads(path.read_text())["claims"]}
    for cid in ("graf2021.simplex.inner-product", "graf2021.simplex.gram", "graf2021.sc.minimum",
                "graf2021.sc.simplex", "graf2021.sc.minimum-sampled"):
        assert verdicts[(cid, 2)] == "VACUOUS", cid
    # no simplex of 4 points in R^2, and the engine computes how far the best Gram matrix is
    assert verdicts[("graf2021.simplex.existence", 2)] == "HOLDS"
    r = judge("graf2021.sc.simplex", {"N": 7, "K": 3})
    assert r.verdict is Verdict.VACUOUS and "divide" in r.evidence["reason"]


def test_claim_level_errors_are_clear():
    with pytest.raises(InvalidArgumentError, match="`b` of `batch_plan` must be small enough"):
        graf2021.batch_plan(60, 12, "multiset")
    with pytest.raises(InvalidArgumentError, match="`params` of `claim 'graf2021.sc.simplex'`"):
        judge("graf2021.sc.simplex", {"M": 3})
    with pytest.raises(Exception, match="rho"):
        judge("graf2021.sc.simplex", {"rho": 0.0})
