"""The certificate claims of graf2021's batch-summed SC loss: graf2021.sc.certified and
graf2021.sc.certified-imbalance, their ablations (imbalance, b = 2) and the supcon family."""

from __future__ import annotations

import math

import numpy as np
import pytest

import theorycheck.claims.graf2021 as g
from theorycheck.bounds import sc_minimum
from theorycheck.engine import Budget, Verdict, judge
from theorycheck.engine.families import resolve_family_options
from theorycheck.relax import batch_sc_simplex_value


def _ablation(result, name):
    return next(a for a in result.ablations if a.dropped == name)


@pytest.mark.parametrize("params", [
    {},
    {"K": 5, "n": 4, "b": 6, "batches": "subset", "rho": 1.5},
    {"K": 3, "n": 100, "b": 32, "batches": "ordered"},
])
def test_balanced_certificate_holds_and_records_its_numbers(params):
    res = judge("graf2021.sc.certified", params, budget=Budget(seconds=5.0))
    assert res.verdict == Verdict.HOLDS
    ev = res.evidence
    assert ev["strength"] == "certified"
    p = {"K": 10, "n": 10, "b": 3, "rho": 1.0, "batches": "multiset", **params}
    closed = sc_minimum(p["K"] * p["n"], p["K"], p["b"], p["rho"], p["batches"]).mean_per_batch
    assert ev["closed_form"] == closed
    # bound <= closed form <= bound + gap: the simplex value is certified optimal
    assert ev["certified_lower_bound"] <= closed <= ev["certified_lower_bound"] + ev["gap"] + 1e-12
    assert ev["rank"] == p["K"] - 1 and ev["minimiser_is_collapsed_simplex"]
    assert ev["cos_between"] == pytest.approx(-1.0 / (p["K"] - 1), abs=1e-9)


def test_balanced_certificate_ablations():
    res = judge("graf2021.sc.certified", {"K": 4, "n": 5}, budget=Budget(seconds=5.0), ablate=True)
    assert res.verdict == Verdict.HOLDS
    # imbalanced labels: the collapsed simplex is above the certified optimum
    imbalance = _ablation(res, "balanced")
    assert imbalance.verdict == Verdict.REFUTED
    cx = imbalance.counterexample
    assert len(set(np.asarray(cx.inputs["class_sizes"]).tolist())) == 2 and cx.lhs > cx.rhs
    # b = 2: every batch's loss is identically 0, so the simplex is (trivially, not uniquely) optimal
    assert _ablation(res, "b>=3").verdict == Verdict.HOLDS


def test_b2_is_vacuous_under_the_assumption():
    res = judge("graf2021.sc.certified", {"b": 2}, budget=Budget(seconds=2.0))
    assert res.verdict == Verdict.VACUOUS


def test_imbalance_claim_holds_with_the_sweep():
    res = judge("graf2021.sc.certified-imbalance", {}, budget=Budget(seconds=5.0))
    assert res.verdict == Verdict.HOLDS
    ev = res.evidence
    assert ev["strength"] == "certified"
    assert ev["certified_optimum"] < ev["simplex_value"]
    assert ev["simplex_value"] == pytest.approx(batch_sc_simplex_value([20, 20, 5, 5], 3, "multiset", 1.0), rel=1e-14)
    rows = ev["imbalance_angles"]
    assert [r["ratio"] for r in rows] == sorted(r["ratio"] for r in rows)
    assert rows[0]["ratio"] == 1.0 and abs(rows[0]["simplex_excess"]) <= 1e-9
    assert rows[0]["cos_minority_minority"] == pytest.approx(-1.0 / 3.0, abs=1e-9)
    for r in rows[1:]:
        assert r["simplex_excess"] > 1e-4  # certified: the simplex is not optimal
        assert r["gap"] <= 1e-7 * r["certified_optimum"]
    # minority classes are drawn together as R grows (to one mean, cosine 1, at R >= 4 here)
    cos = [r["cos_minority_minority"] for r in rows]
    assert all(b >= a - 1e-9 for a, b in zip(cos, cos[1:])) and cos[-1] == pytest.approx(1.0, abs=1e-6)


def test_imbalance_claim_ablations():
    res = judge("graf2021.sc.certified-imbalance", {"K": 3, "n": 3}, budget=Budget(seconds=5.0), ablate=True)
    assert res.verdict == Verdict.HOLDS
    # balanced: the simplex is optimal again (graf2021.sc.certified), so "<" fails
    assert _ablation(res, "imbalanced").verdict == Verdict.REFUTED
    # b = 2: the loss is identically 0, nothing beats the simplex
    assert _ablation(res, "b>=3").verdict == Verdict.REFUTED


def test_imbalance_figure_builds_from_the_evidence():
    from theorycheck.report.figures import figure_imbalance_angles

    res = judge("graf2021.sc.certified-imbalance", {}, budget=Budget(seconds=5.0))
    claim = {"id": "graf2021.sc.certified-imbalance",
             "params": {"K": 4, "n": 5, "imbalance": 4.0}, "evidence": res.evidence}
    fig = figure_imbalance_angles([claim])
    assert fig is not None
    lines = fig.axes[0].get_lines()
    assert len(lines) == 3 and all(len(line.get_xdata()) == len(g.IMBALANCE_RATIOS) for line in lines)


def test_supcon_family_runs_the_certificates():
    plain = resolve_family_options(g.SUPCON_FAMILY, {})
    ids = [cid for cid, _ in g.supcon_checks(plain)]
    assert "graf2021.sc.certified" in ids and "graf2021.sc.certified-imbalance" not in ids
    certify = resolve_family_options(g.SUPCON_FAMILY, {"certify": "true", "K": 4, "N": 20, "b": 5})
    checks = dict(g.supcon_checks(certify))
    assert checks["graf2021.sc.certified"] == {"K": 4, "n": 5, "b": 5, "rho": 1.0, "batches": "multiset"}
    assert checks["graf2021.sc.certified-imbalance"]["imbalance"] == 4.0


def test_cli_accepts_certify_as_a_bare_flag(capsys):
    from theorycheck import cli

    parser = cli.build_parser()
    args = parser.parse_args(["verify", "supcon", "--certify"])
    assert args.opt_certify == "true"
    args = parser.parse_args(["verify", "supcon", "--certify", "false"])
    assert args.opt_certify == "false"


def test_step_sizes_reject_all_majority():
    with pytest.raises(Exception, match="majority_classes"):
        g._step_sizes(3, 2, 4.0, 3)
    assert g._step_sizes(5, 4, 2.5, 0) == (10, 10, 4, 4, 4)
    assert math.isclose(g._step_sizes(4, 5, 1.5, 1)[0] / 5, 1.6)


def test_too_large_a_batch_is_inconclusive_not_an_error():
    res = judge("graf2021.sc.certified-imbalance", {"K": 4, "n": 50, "b": 200}, budget=Budget(seconds=2.0))
    assert res.verdict == Verdict.INCONCLUSIVE
    assert "configurations" in res.evidence["reason"]
