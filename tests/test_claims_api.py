"""The claim-writing API of issue 17, each piece used as a user writes a claim with it,
with a true and a false variant judged to the right verdict (small, examples-based budgets).
"""

from __future__ import annotations

import numpy as np
import pytest

from theorycheck import Budget, Param, Verdict, assume, claim, example, judge
from theorycheck import backend as xp
from theorycheck import strategies as st
from theorycheck.engine.errors import ClaimError

SMALL = Budget(seconds=None, examples=40)


def _pair(p, active):
    return {"u": st.real_matrix(1, p.h, 1.0), "v": st.real_matrix(1, p.h, 1.0)}


# --------------------------------------------------------------------------- assume


def _cosine_claim(use_assume: bool, constant: float):
    @claim(id=f"t.cos-self-{int(use_assume)}-{constant}", cite=(), kind="identity", register=False,
           statement="cos(u, u) = constant for u != 0", params=(Param("h", 3, min=1),), inputs=_pair)
    def cos_self(u, v, *, p):
        n2 = xp.sum(u * u)
        if use_assume:
            assume(n2 > 0)
        return n2 / n2, xp.scalar(constant, u)

    return cos_self


def test_assume_discards_degenerate_inputs_and_counts_them():
    result = judge(_cosine_claim(True, 1.0), budget=SMALL, seed=0)
    assert result.verdict is Verdict.HOLDS
    # the zero matrix is among the special inputs: it was discarded, not judged
    assert result.evidence["discarded"] >= 1
    assert result.evidence["inputs_tried"] > 0


def test_assume_keeps_false_claims_false():
    result = judge(_cosine_claim(True, 0.5), budget=SMALL, seed=0)
    assert result.verdict is Verdict.REFUTED
    assert np.any(result.counterexample.inputs["u"] != 0)


def test_without_assume_the_degenerate_input_is_an_error_naming_it():
    with pytest.raises(ClaimError, match="returned NaN at inputs"):
        judge(_cosine_claim(False, 1.0), budget=SMALL, seed=0)


def test_a_claim_that_discards_every_input_is_vacuous():
    @claim(id="t.never", cite=(), kind="inequality", statement="||u|| <= 0 for u with ||u|| < 0",
           register=False, params=(Param("h", 2, min=1),), inputs=_pair, relation="<=")
    def never(u, v, *, p):
        assume(xp.norm(u) < 0)  # no such u: the statement is empty
        return xp.norm(u), xp.scalar(0.0, u)

    result = judge(never, budget=SMALL, seed=0)
    assert result.verdict is Verdict.VACUOUS
    assert "assume() in the evaluator discarded every one" in result.evidence["reason"]
    assert result.evidence["inputs_tried"] == 0 and result.evidence["discarded"] > 0


# --------------------------------------------------------------------------- example

C = np.array([[0.3, -0.7]])


def _avoids_c(with_example: bool):
    # "u never equals C": false only at one point, which random search does not hit
    def evaluator(u, v, *, p):
        return xp.norm(u - xp.scalar(C, u)), xp.scalar(0.0, u)

    made = claim(id=f"t.avoids-c-{int(with_example)}", cite=(), kind="inequality", register=False,
                 statement="||u - C|| > 0", params=(Param("h", 2, min=2, max=2),), inputs=_pair,
                 relation=">")(evaluator)
    if with_example:
        made = example(u=C, v=np.zeros((1, 2)))(made)
    return made


def test_example_is_judged_first_and_shown_in_the_evidence():
    result = judge(_avoids_c(True), budget=SMALL, seed=0)
    assert result.verdict is Verdict.REFUTED
    assert result.evidence["found_in_phase"] == "example"
    assert result.evidence["examples"] == [{"relative_slack": 0.0, "discarded": False}]
    np.testing.assert_array_equal(result.counterexample.inputs["u"], C)


def test_without_the_example_the_search_misses_the_single_point():
    result = judge(_avoids_c(False), budget=SMALL, seed=0)
    assert result.verdict is Verdict.HOLDS
    assert "examples" not in result.evidence


def test_example_below_claim_and_sized_by_params():
    @example(lambda p: {"u": np.ones((1, p.h)), "v": np.ones((1, p.h))})
    @claim(id="t.cs", cite=(), kind="inequality", statement="|<u, v>| <= ||u|| ||v||", register=False,
           params=(Param("h", 3, min=1),), inputs=_pair, relation="<=")
    @example(u=np.zeros((1, 3)), v=np.zeros((1, 3)))
    def cs(u, v, *, p):
        return xp.abs(xp.sum(u * v)), xp.norm(u) * xp.norm(v)

    assert len(cs.examples) == 2
    result = judge(cs, budget=SMALL, seed=0)
    assert result.verdict is Verdict.HOLDS
    assert len(result.evidence["examples"]) == 2
    # at h=2 the fixed-shape example does not fit and is skipped; the sized one still runs
    result = judge(cs, params={"h": 2}, budget=SMALL, seed=0)
    assert result.evidence["examples_skipped"] == 1 and len(result.evidence["examples"]) == 1


def test_an_example_outside_its_space_is_an_error_naming_it():
    @example(Z=np.array([[2.0, 0.0], [0.0, 1.0]]))
    @claim(id="t.sphere", cite=(), kind="inequality", statement="rows have norm <= 1", register=False,
           params=(), inputs=lambda p, a: {"Z": st.sphere(2, 2, 1.0)}, relation="<=")
    def rows(Z):
        return xp.max(xp.norm(Z, axis=1)), xp.scalar(1.0, Z)

    with pytest.raises(ClaimError, match=r"example 1: input 'Z' is not in its space sphere"):
        judge(rows, budget=SMALL, seed=0)


def test_example_rejects_bad_arguments():
    with pytest.raises(TypeError, match="inputs"):
        example()
    with pytest.raises(TypeError, match="inputs_fn"):
        example(1)


# --------------------------------------------------------------------------- Param ranges


def _spread_claim(bound_factor: float):
    # "N unit vectors in R^h can all have pairwise inner product -1/(N-1)... for every N <= h + 1":
    # stated as the simplex-bound min over pairs <= -1/(N-1) + slack; true for N <= h + 1
    @claim(id=f"t.range-{bound_factor}", cite=(), kind="inequality", register=False,
           statement="mean pairwise inner product of N unit vectors in R^h >= -c/(N-1), for N <= h + 1",
           params=(Param("h", 3, min=1, max=6), Param("N", 4, min=2, max=lambda p: p.h + 1)),
           inputs=lambda p, a: {"Z": st.sphere(p.N, p.h, 1.0)}, relation=">=")
    def spread(Z, *, p):
        g = Z @ Z.T
        return (xp.sum(g) - xp.sum(xp.diag(g))) / (p.N * (p.N - 1)), xp.scalar(-bound_factor, Z) / (p.N - 1)

    return spread


def test_param_range_depending_on_another_param():
    from theorycheck import InvalidArgumentError

    true_claim, false_claim = _spread_claim(1.0), _spread_claim(0.25)
    assert judge(true_claim, params={"h": 2, "N": 3}, budget=SMALL, seed=0).verdict is Verdict.HOLDS
    refuted = judge(false_claim, params={"h": 4, "N": 5}, budget=SMALL, seed=0)
    assert refuted.verdict is Verdict.REFUTED
    # shrinking walked N and h down but stayed inside N <= h + 1
    shrunk = refuted.counterexample.params
    assert shrunk["N"] <= shrunk["h"] + 1 and (shrunk["N"], shrunk["h"]) != (5, 4)
    with pytest.raises(InvalidArgumentError, match=r"params\[.N.\].*must be >= 2 and <= 3 .*h=2.*got 4"):
        true_claim.resolve_params({"h": 2, "N": 4})
    with pytest.raises(InvalidArgumentError, match=r"the default of 'N'"):
        true_claim.resolve_params({"h": 1})  # N=4 by default, above h + 1 = 2


def test_a_default_outside_its_stated_range_is_caught_when_the_claim_is_defined():
    from theorycheck import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="the default of 'N'"):
        claim(id="t.bad-range", cite=(), kind="inequality", statement="x", register=False, relation="<=",
              params=(Param("h", 2), Param("N", 5, max=lambda p: p.h + 1)),
              inputs=lambda p, a: {"Z": st.sphere(p.N, p.h)})(lambda Z: (0.0, 1.0))


RANGED_CLAIM_FILE = '''
from theorycheck import Param, claim
from theorycheck import backend as xp
from theorycheck import strategies as st

@claim(id="mine.ranged", cite=(), kind="inequality", statement="mean pairwise <z_i, z_j> >= -1/(N-1), N <= h + 1",
       params=(Param("h", 2, min=1), Param("N", 3, min=2, max=lambda p: p.h + 1)),
       inputs=lambda p, a: {"Z": st.sphere(p.N, p.h, 1.0)}, relation=">=")
def ranged(Z, *, p):
    g = Z @ Z.T
    return (xp.sum(g) - xp.sum(xp.diag(g))) / (p.N * (p.N - 1)), xp.scalar(-1.0, Z) / (p.N - 1)

@claim(id="mine.false", cite=(), kind="inequality", statement="mean pairwise <z_i, z_j> >= 0 (false)",
       params=(Param("N", 3, min=2),), inputs=lambda p, a: {"Z": st.sphere(p.N, 2, 1.0)}, relation=">=")
def false(Z, *, p):
    g = Z @ Z.T
    return (xp.sum(g) - xp.sum(xp.diag(g))) / (p.N * (p.N - 1)), xp.scalar(0.0, Z)
'''


def test_cli_check_param_outside_the_stated_range_is_exit_2_and_no_files_are_written(tmp_path, monkeypatch,
                                                                                      capsys):
    from theorycheck.cli import main

    (tmp_path / "ranged_claims.py").write_text(RANGED_CLAIM_FILE)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "ranged_claims.py::ranged", "--param", "N=4"]) == 2
    err = capsys.readouterr().err
    assert "params['N']" in err and "<= 3" in err and "got 4" in err
    # judging (hypothesis phase included, a refutation too) writes nothing into the cwd
    assert main(["check", "ranged_claims.py", "--examples", "30", "--budget", "20"]) == 1
    assert "REFUTED" in capsys.readouterr().out
    assert not (tmp_path / ".hypothesis").exists()
    assert {p.name for p in tmp_path.iterdir()} <= {"ranged_claims.py", "__pycache__"}
