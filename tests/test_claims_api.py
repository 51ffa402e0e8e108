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


def test_without_assume_the_degenerate_input_is_a_hole_not_a_counterexample():
    # issue 13: 0/0 at u = 0 is undefined there, counted and shown, never a counterexample
    result = judge(_cosine_claim(False, 1.0), budget=SMALL, seed=0)
    assert result.verdict is Verdict.HOLDS
    assert result.evidence["undefined_inputs"] >= 1
    assert result.evidence.get("discarded", 0) == 0


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
    # the optimiser may come within rounding of C, where the strict ">" cannot be decided
    # (INCONCLUSIVE, issue 13), but only the explicit example refutes it
    result = judge(_avoids_c(False), budget=SMALL, seed=0)
    assert result.verdict in (Verdict.HOLDS, Verdict.INCONCLUSIVE)
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


# --------------------------------------------------------------------------- box and dtype


def _box_claim(low: float):
    @claim(id=f"t.box-{low}", cite=(), kind="inequality", register=False,
           statement="sum x_i^2 <= sum x_i for x in [low, 1]^n (true iff low >= 0)",
           params=(Param("n", 3, min=1),), inputs=lambda p, a: {"x": st.box(p.n, low, 1.0)}, relation="<=")
    def squares(x, *, p):
        return xp.sum(x * x), xp.sum(x)

    return squares


def test_box_space_true_and_false_variants():
    assert judge(_box_claim(0.0), budget=SMALL, seed=0).verdict is Verdict.HOLDS
    refuted = judge(_box_claim(-1.0), budget=SMALL, seed=0)
    assert refuted.verdict is Verdict.REFUTED
    assert np.all(np.abs(refuted.counterexample.inputs["x"]) <= 1.0)


def test_box_space_contract():
    s = st.box((2, 3), [[0.0], [1.0]], 2.0)
    rng = np.random.default_rng(0)
    x = s.sample(rng)
    assert x.shape == (2, 3) and s.contains(x) and np.all(x[1] >= 1.0)
    assert all(s.contains(c) for c in s.special())
    assert s.contains(s.project(np.full((2, 3), 5.0))) and not s.contains(np.full((2, 3), 5.0))
    assert repr(st.box(3, 0.0, 1.0)) == "box(shape=(3,), low=0.0, high=1.0)"
    with pytest.raises(st.Unsatisfiable, match="low > high"):
        st.box(2, 1.0, 0.0)
    with pytest.raises(ValueError, match="`shape` of `box`"):
        st.box(0, 0.0, 1.0)
    with pytest.raises(ValueError, match="`high` of `box`"):
        st.box(2, 0.0, [1.0, 2.0, 3.0])


def _half_grid_claim(dtype: str):
    # float16 numbers in [0.5, 1] are multiples of 2^-11: 2048 x is an integer. Not so in float32.
    @claim(id=f"t.grid-{dtype}", cite=(), kind="identity", register=False,
           statement=f"2048 x is an integer for {dtype} x in [0.5, 1]",
           params=(), inputs=lambda p, a: {"x": st.real(0.5, 1.0, dtype=dtype)})
    def grid(x):
        scaled = x * 2048
        return scaled - int(scaled), xp.scalar(0.0, x)

    return grid


def test_dtype_values_are_representable_true_and_false_variants():
    assert judge(_half_grid_claim("float16"), budget=SMALL, seed=0).verdict is Verdict.HOLDS
    refuted = judge(_half_grid_claim("float32"), budget=SMALL, seed=0)
    assert refuted.verdict is Verdict.REFUTED
    x = refuted.counterexample.inputs["x"]
    assert np.float32(x) == x


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_dtype_spaces_round_and_project_differentiably(dtype):
    import torch

    s = st.sphere(3, 2, dtype=dtype)
    assert repr(s) == f"sphere(N=3, h=2, radius=1.0, dtype='{dtype}')"
    rng = np.random.default_rng(0)
    for x in [s.sample(rng)] + s.special():
        assert s.contains(x) and np.array_equal(x.astype(dtype).astype(np.float64), x)
    leaf = torch.tensor(rng.standard_normal((3, 2)), dtype=torch.float64, requires_grad=True)
    projected = s.project(leaf)
    assert np.array_equal(projected.detach().numpy().astype(dtype).astype(np.float64), projected.detach().numpy())
    (projected ** 2).sum().backward()
    assert leaf.grad is not None and torch.all(torch.isfinite(leaf.grad))
    with pytest.raises(ValueError, match="`dtype` of `real_matrix`"):
        st.real_matrix(2, 2, dtype="int8")


# --------------------------------------------------------------------------- backend ops


def _entropy_claim(slack: float):
    @claim(id=f"t.entropy-{slack}", cite=(), kind="inequality", register=False,
           statement="0 <= H(p) - slack for every probability vector p (true iff slack <= 0)",
           params=(Param("K", 3, min=2),), inputs=lambda p, a: {"q": st.probability_vector(p.K)},
           relation=">=")
    def entropy(q, *, p):
        return -xp.sum(xp.xlogy(q, q)), xp.scalar(slack, q)  # 0 log 0 = 0 at the vertices

    return entropy


def test_xlogy_entropy_true_and_false_variants():
    held = judge(_entropy_claim(0.0), budget=SMALL, seed=0)
    assert held.verdict is Verdict.HOLDS  # the vertex (0 log 0) is among the special inputs
    refuted = judge(_entropy_claim(0.05), budget=SMALL, seed=0)
    assert refuted.verdict is Verdict.REFUTED and refuted.counterexample.margin > 0


def _split_logsumexp_claim(offset: float):
    @claim(id=f"t.lse-{offset}", cite=(), kind="identity", register=False,
           statement="logsumexp([u, v]) = logaddexp(logsumexp(u), logsumexp(v)) + offset",
           params=(Param("n", 3, min=1),),
           inputs=lambda p, a: {"u": st.box(p.n, -30.0, 30.0), "v": st.box(p.n, -30.0, 30.0)})
    def split(u, v, *, p):
        joined = xp.logsumexp(xp.concatenate([u, v]))
        pair = xp.stack([xp.logsumexp(u), xp.logsumexp(v)])
        larger = xp.where(pair[0] > pair[1], pair[0], pair[1])
        assume(larger > -1e300)  # always: exercises assume on every number system
        return joined, xp.logaddexp(pair[0], pair[1]) + offset

    return split


def test_stack_concatenate_logaddexp_where_true_and_false_variants():
    assert judge(_split_logsumexp_claim(0.0), budget=SMALL, seed=0).verdict is Verdict.HOLDS
    assert judge(_split_logsumexp_claim(1e-6), budget=SMALL, seed=0).verdict is Verdict.REFUTED


@pytest.mark.parametrize("system", ["numpy", "torch", "mp"])
def test_backend_ops_agree_in_every_number_system(system):
    import mpmath
    import torch

    a = np.array([[0.0, 0.5], [-np.inf, 2.0]])
    b = np.array([[0.0, 0.25], [1.0, -3.0]])

    def conv(x):
        return {"numpy": lambda v: v, "torch": lambda v: torch.tensor(v, dtype=torch.float64),
                "mp": xp.to_mp}[system](x)

    with mpmath.workdps(30):
        A, B = conv(a), conv(b)
        checks = {
            "stack": (xp.stack([A, B], axis=1), np.stack([a, b], axis=1)),
            "concatenate": (xp.concatenate([A, B], axis=0), np.concatenate([a, b], axis=0)),
            "logaddexp": (xp.logaddexp(A, B), np.logaddexp(a, b)),
            "xlogy": (xp.xlogy(B * B, B * B), [[0.0, 0.0625 * np.log(0.0625)], [0.0, 9 * np.log(9)]]),
            "where": (xp.where(B > 0, B, 0.0), np.where(b > 0, b, 0.0)),
        }
        for name, (got, want) in checks.items():
            np.testing.assert_allclose(xp.to_numpy(got), want, rtol=1e-12, atol=0, err_msg=name)
    assert xp.kind(xp.logaddexp(A, B)) == xp.kind(A)


# --------------------------------------------------------------------------- distance_up_to


def test_distance_up_to_rotation_reflection_relabelling():
    from scipy.stats import ortho_group

    from theorycheck.geometry import distance_up_to, regular_simplex

    rng = np.random.default_rng(0)
    for K, h in ((4, 3), (9, 8)):  # exact search over permutations, and the heuristic above 7
        A = regular_simplex(K, h) + 0.1 * rng.standard_normal((K, h))
        Q = ortho_group.rvs(h, random_state=1)
        moved = A[rng.permutation(K)] @ Q
        assert distance_up_to(moved, A, relabel=True) < 1e-10
        assert distance_up_to(moved, A) > 1e-3  # rows relabelled: not a rotation alone
    A = rng.standard_normal((5, 3))
    mirror = A @ np.diag([1.0, 1.0, -1.0])
    assert distance_up_to(mirror, A) < 1e-10
    assert distance_up_to(mirror, A, reflection=False) > 1e-3
    assert distance_up_to(mirror, A, rotation=False, reflection=False) == pytest.approx(
        np.linalg.norm(mirror - A) / np.linalg.norm(A))
    with pytest.raises(ValueError, match="`reflection` of `distance_up_to`"):
        distance_up_to(A, A, rotation=False)


def _unique_simplex_claim(up_to_symmetries: bool):
    from theorycheck.geometry import distance_up_to, regular_simplex

    # the K x h matrices whose Gram matrix is the simplex Gram: regular simplices, unique up to
    # rotation/reflection/relabelling, and never unique as plain matrices
    def gram_gap(W, *, p):
        target = xp.scalar(regular_simplex(p.K, p.h) @ regular_simplex(p.K, p.h).T, W)
        d = W @ W.T - target
        return xp.sum(d * d)

    def distance(W, *, p):
        if up_to_symmetries:
            return distance_up_to(W, regular_simplex(p.K, p.h), relabel=True)
        return distance_up_to(W, regular_simplex(p.K, p.h), rotation=False, reflection=False)

    return claim(id=f"t.unique-{int(up_to_symmetries)}", cite=(), kind="characterization", register=False,
                 statement="minimisers of ||W W^T - G_simplex||^2 are the simplex (up to symmetries)",
                 params=(Param("K", 3, min=2), Param("h", 2, min=1)),
                 inputs=lambda p, a: {"W": st.real_matrix(p.K, p.h, 1.0)},
                 optimum=lambda p: 0.0, distance=distance, search=dict(starts=4, steps=200))(gram_gap)


def test_distance_up_to_in_a_characterization_claim():
    budget = Budget(seconds=None, examples=40)
    assert judge(_unique_simplex_claim(True), budget=budget, seed=0).verdict is Verdict.HOLDS
    # as plain matrices the minimisers are not unique: the optimiser's (float) minimisers lie
    # far from the one simplex, which the characterization judge reports as INCONCLUSIVE
    # (only an exact minimiser without the property refutes)
    assert judge(_unique_simplex_claim(False), budget=budget, seed=0).verdict is Verdict.INCONCLUSIVE


def test_assume_in_an_optimum_claim_is_an_error_naming_the_kind():
    @claim(id="t.opt-assume", cite=(), kind="optimum", statement="min ||u||^2 = 0", register=False,
           params=(Param("h", 2, min=1),), inputs=_pair, optimum=lambda p: 0.0)
    def energy(u, v, *, p):
        assume(xp.sum(u * u) > 0)
        return xp.sum(u * u)

    with pytest.raises(ClaimError, match="of kind 'optimum' must be defined on its whole input space"):
        judge(energy, budget=SMALL, seed=0)


def _min_energy_claim(with_example: bool):
    # a claimed minimum 1 of a function that dips below it only in a very narrow well at
    # (0.3, -0.7), which the optimiser's starts never fall into; an example there refutes it
    def well(x, *, p):
        d = x - xp.scalar(np.array([0.3, -0.7]), x)
        return 1.0 - 2.0 * xp.exp(-xp.sum(d * d) * 1e8) + 1e-9 * xp.sum(x * x)

    made = claim(id=f"t.well-{int(with_example)}", cite=(), kind="optimum", register=False,
                 statement="min of the well function over [-1, 1]^2 is 1", params=(),
                 inputs=lambda p, a: {"x": st.box(2, -1.0, 1.0)}, optimum=lambda p: 1.0,
                 search=dict(starts=4, steps=30))(well)
    return example(x=np.array([0.3, -0.7]))(made) if with_example else made


def test_example_in_an_optimum_claim():
    refuted = judge(_min_energy_claim(True), budget=SMALL, seed=0)
    assert refuted.verdict is Verdict.REFUTED
    assert refuted.evidence["examples"][0]["value"] < 0
    assert "found from the claim's example 1" in refuted.counterexample.note
    missed = judge(_min_energy_claim(False), budget=SMALL, seed=0)
    assert missed.verdict is not Verdict.REFUTED and "examples" not in missed.evidence
