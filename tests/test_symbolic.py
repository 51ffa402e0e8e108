"""Tests of theorycheck.symbolic: exact proofs close, mutated identities do not.

Three kinds of evidence, each independent of the prover it checks:

* the symbolic statements encode the definitions (numpy evaluates L_c, L_nc, L_CC, ...
  straight from THEORY.md and must agree with the sympy expressions);
* every identity closes at small sizes and in general form, and every general-form step
  agrees with a brute-force expansion at random small sizes (hypothesis);
* deliberately mutated identities (a sign flipped, lambda replaced, a factor 2 dropped,
  d - K replaced by K - d, ...) do not close: the failing step is named and its exact
  rational counterexample is re-checked here, outside the prover, in exact arithmetic.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as hs

from theorycheck import InvalidArgumentError, InvalidArgumentTypeError
from theorycheck import symbolic as S

# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def _by_name(expr_or_matrix):
    """Symbols and Indexed entries of an expression, by their printed name."""
    objects = list(expr_or_matrix) if isinstance(expr_or_matrix, sp.MatrixBase) else [expr_or_matrix]
    out = {}
    for obj in objects:
        obj = sp.sympify(obj)
        for atom in obj.atoms(sp.Symbol, sp.Indexed):
            out[str(atom)] = atom
    return out


def _evaluate(obj, instance):
    """Exact value of an expression (or matrix) at a counterexample given by names."""
    names = _by_name(obj)
    subs = {names[k]: sp.Rational(v) if not isinstance(v, sp.Basic) else v for k, v in instance.items() if k in names}
    if isinstance(obj, sp.MatrixBase):
        return obj.xreplace(subs)
    return sp.sympify(obj).xreplace(subs)


def _assert_refuted_with_exact_counterexample(step, equation):
    """The step is refuted and its instance really separates lhs and rhs, exactly."""
    assert step.status == S.REFUTED, str(step)
    assert step.counterexample, "a refuted step must carry its counterexample"
    assert all(isinstance(v, (int, sp.Rational)) for v in step.counterexample.values())
    lhs, rhs = _evaluate(equation.lhs, step.counterexample), _evaluate(equation.rhs, step.counterexample)
    difference = sp.simplify(sp.expand_log(sp.sympify(lhs - rhs) if not isinstance(lhs, sp.MatrixBase)
                                            else sp.Matrix(lhs - rhs)))
    if isinstance(difference, sp.MatrixBase):
        assert any(entry != 0 for entry in difference), "counterexample does not separate the sides"
    else:
        assert abs(sp.N(difference, 40)) > 1e-30, "counterexample does not separate the sides"
    for hypothesis in equation.hypotheses:  # the counterexample must satisfy the hypotheses exactly
        assert sp.expand(_evaluate(hypothesis, step.counterexample)) == 0


def _last(equations, prefix):
    return next(eq for eq in equations if eq.name.startswith(prefix))


# ---------------------------------------------------------------------------------------
# the symbolic statements encode the definitions (numpy, from THEORY.md)
# ---------------------------------------------------------------------------------------


def _lambdify_matrix_symbols(matrix, values):
    return {matrix[i, j]: float(values[i, j]) for i in range(matrix.rows) for j in range(matrix.cols)}


def test_duality_expressions_match_numpy_definitions():
    rng = np.random.default_rng(1)
    M, N = 3, 4
    K_num = rng.normal(size=(M, N))
    eq = S.duality_equations(M, N)[-1]
    subs = _lambdify_matrix_symbols(eq.variables["K"], K_num)
    gram_c, gram_nc = K_num.T @ K_num, K_num @ K_num.T
    L_c = np.sum((gram_c - np.diag(np.diag(gram_c))) ** 2)
    L_nc = np.sum((gram_nc - np.diag(np.diag(gram_nc))) ** 2)
    row4 = np.sum(np.sum(K_num**2, axis=1) ** 2)
    col4 = np.sum(np.sum(K_num**2, axis=0) ** 2)
    assert float(eq.variables["L_c"].xreplace(subs)) == pytest.approx(L_c, rel=1e-12)
    assert float(eq.variables["L_nc"].xreplace(subs)) == pytest.approx(L_nc, rel=1e-12)
    assert float(eq.variables["row4"].xreplace(subs)) == pytest.approx(row4, rel=1e-12)
    assert float(eq.variables["col4"].xreplace(subs)) == pytest.approx(col4, rel=1e-12)
    # and the identity itself holds numerically on this input
    assert L_nc + row4 == pytest.approx(L_c + col4, rel=1e-10)


def test_barlow_expressions_match_numpy_definitions():
    rng = np.random.default_rng(2)
    d, lam = 4, 0.3
    F_num = rng.normal(size=(d, d))
    eq = S.barlow_equations(d)[-1]
    subs = _lambdify_matrix_symbols(eq.variables["F"], F_num)
    subs[eq.variables["lambda"]] = lam
    off = F_num - np.diag(np.diag(F_num))
    L_CC = np.sum((1 - np.diag(F_num)) ** 2) + lam * np.sum(off**2)
    L2 = np.sum((F_num - np.eye(d)) ** 2)
    assert float(eq.lhs.xreplace(subs)) == pytest.approx(L_CC, rel=1e-12)
    assert float(eq.variables["L2"].xreplace(subs)) == pytest.approx(L2, rel=1e-12)


def test_gram_expressions_match_numpy_definitions():
    rng = np.random.default_rng(3)
    d, K = 4, 3
    mu_num = rng.normal(size=(d, K))
    p = rng.dirichlet(np.ones(K))
    eq = S.gram_equations(d, K)[-1]
    v = eq.variables
    subs = _lambdify_matrix_symbols(v["mu"], mu_num)
    subs.update({s: float(np.sqrt(pk)) for s, pk in zip(v["s"], p)})
    lhs = np.sum((sum(p[k] * np.outer(mu_num[:, k], mu_num[:, k]) for k in range(K)) - np.eye(d)) ** 2)
    U = mu_num * np.sqrt(p)
    rhs = np.sum((U.T @ U - np.eye(K)) ** 2) + d - K
    assert float(eq.lhs.xreplace(subs)) == pytest.approx(lhs, rel=1e-12)
    assert float(eq.rhs.xreplace(subs)) == pytest.approx(rhs, rel=1e-12)


def test_infonce_expressions_match_numpy_definitions():
    rng = np.random.default_rng(4)
    d = 3
    f1, f2, fn = (x / np.linalg.norm(x) for x in rng.normal(size=(3, d)))
    eq = S.infonce_equations(d)[-1]
    v = eq.variables
    subs = {s: float(x) for vec, num in ((v["f1"], f1), (v["f2"], f2), (v["fneg"], fn)) for s, x in zip(vec, num)}
    s, t = f1 @ f2, f1 @ fn
    loss = -np.log(np.exp(s) / (np.exp(s) + np.exp(t)))
    assert float(v["loss"].xreplace(subs)) == pytest.approx(loss, rel=1e-12)
    assert float(v["L1"].xreplace(subs)) == pytest.approx(0.5 * np.sum((f1 - f2) ** 2) - 1, rel=1e-12)
    assert float((v["L1"] + v["L2"]).xreplace(subs)) == pytest.approx(loss, rel=1e-12)


# ---------------------------------------------------------------------------------------
# every identity closes, at small sizes and in general form
# ---------------------------------------------------------------------------------------

CLOSING_CALLS = [
    ("duality", S.prove_duality, (1, 1)),
    ("duality", S.prove_duality, (2, 3)),
    ("duality", S.prove_duality, (3, 2)),
    ("doubly", S.prove_doubly_normalized, (2, 2)),
    ("doubly", S.prove_doubly_normalized, (2, 3)),
    ("barlow", S.prove_barlow_decomposition, (1,)),
    ("barlow", S.prove_barlow_decomposition, (4,)),
    ("gram", S.prove_gram_identity, (1, 1)),
    ("gram", S.prove_gram_identity, (3, 2)),
    ("gram", S.prove_gram_identity, (2, 3)),
    ("infonce", S.prove_infonce_decomposition, (1,)),
    ("infonce", S.prove_infonce_decomposition, (3,)),
    ("ce_sum", S.prove_ce_sum_identity, (1, 1)),
    ("ce_sum", S.prove_ce_sum_identity, (4, 3)),
]


@pytest.mark.parametrize("family, prover, sizes", CLOSING_CALLS, ids=lambda x: str(x) if isinstance(x, tuple) else None)
def test_identity_closes_at_size_and_in_general(family, prover, sizes):
    result = prover(*sizes)
    assert result.closed, str(result)
    assert all(step.status == S.PROVED for step in result.steps)
    explicit = [s for s in result.steps if not s.scope.startswith("all")]
    general = [s for s in result.steps if s.scope.startswith("all")]
    assert explicit and general, "both the explicit-size and the general-form chain must be present"
    assert result.variant is None
    text = str(result)
    assert text.startswith("CLAIM ") and "CLOSED" in text and "[PROVED]" in text
    assert result.seconds >= 0


def test_doubly_normalized_computes_that_the_hypotheses_force_m_equals_n():
    square, rectangular = S.prove_doubly_normalized(3, 3), S.prove_doubly_normalized(2, 4)
    assert square.closed and rectangular.closed
    assert not square.vacuous and rectangular.vacuous
    assert any("N - M = 2" in note for note in rectangular.notes)
    assert any("K = I satisfies" in note for note in square.notes)
    forced = [s for s in rectangular.steps if s.name == "hypotheses force M = N"]
    assert len(forced) == 2 and all(s.proved for s in forced)  # explicit and general form
    assert "vacuously" in str(rectangular)


def test_doubly_stochastic_reading_is_decided_exactly():
    """The seed slide says 'doubly stochastic': true for n <= 3, refuted at n = 4."""
    assert S.prove_doubly_normalized(3, 3, normalization="stochastic").closed
    result = S.prove_doubly_normalized(4, 4, normalization="stochastic", general=False)
    assert result.variant is not None and not result.closed and result.decided
    (failed,) = result.failed_steps
    assert failed.name.startswith("statement")
    equation = _last(S.doubly_normalized_equations(4, 4, normalization="stochastic"), "statement")
    _assert_refuted_with_exact_counterexample(failed, equation)
    K = np.array([[Fraction(str(failed.counterexample[f"K[{j},{i}]"])) for i in range(4)] for j in range(4)])
    assert (K >= 0).all() and all(sum(r) == 1 for r in K) and all(sum(c) == 1 for c in K.T)
    assert str(result).startswith("VARIANT ")


def test_infonce_without_unit_norm_is_refuted_and_general_residual_is_exact():
    result = S.prove_infonce_decomposition(2, unit_norm=False)
    assert not result.closed and result.decided and result.variant is not None
    failed = {s.name for s in result.failed_steps}
    assert failed == {"alignment term", "theorem (huang2023.infonce-decomposition)"}
    equations = S.infonce_equations(2, unit_norm=False)
    for step in result.failed_steps:
        _assert_refuted_with_exact_counterexample(step, _last(equations, step.name))
    residual = [s for s in result.steps if s.name == "alignment term: exact residual"]
    assert residual and residual[0].proved and residual[0].scope == "all d >= 1"


def test_prove_all_covers_every_family_and_closes():
    results = S.prove_all({"duality": 2, "doubly_normalized": 2, "barlow": 2, "gram": 2, "infonce": 2, "ce_sum": 2})
    claims = {r.claim for r in results}
    assert claims == {
        "garrido2023.duality", "garrido2023.doubly-normalized", "huang2023.barlow-decomposition",
        "huang2023.gram-identity", "huang2023.infonce-decomposition", "graf2021.ce.sum-identity",
    }
    assert len(results) == 4 + 4 + 2 + 4 + 2 + 4
    assert all(r.closed for r in results)
    line, ok = S.summarize(results)
    assert ok and line.startswith("SUMMARY: 20/20")
    assert S.prove_all({"duality": 0, "doubly_normalized": 0, "barlow": 1, "gram": 0, "infonce": 0,
                        "ce_sum": 0}, general=False)[0].sizes == {"d": 1}


# ---------------------------------------------------------------------------------------
# general form agrees with brute force at random small sizes
# ---------------------------------------------------------------------------------------

_GENERAL_CHAINS = {
    "duality": S.duality_equations,
    "gram": S.gram_equations,
    "barlow": S.barlow_equations,
    "ce_sum": S.ce_sum_equations,
    "doubly": S.doubly_normalized_equations,
}


@settings(max_examples=6)
@given(family=hs.sampled_from(sorted(_GENERAL_CHAINS)), sizes=hs.tuples(hs.integers(1, 3), hs.integers(1, 3)),
       seed=hs.integers(0, 2**16))
def test_general_form_steps_agree_with_brute_force_expansion(family, sizes, seed):
    rng = np.random.default_rng(seed)
    for equation in _GENERAL_CHAINS[family]():
        size_values = {sym: sizes[n % 2] for n, sym in enumerate(equation.sizes.values())}
        subs = dict(size_values)
        for index, (low, high) in equation.index_ranges.items():
            top = int(sp.sympify(high).xreplace(size_values))
            subs[index] = int(rng.integers(0, top + 1))
        difference = (sp.sympify(equation.lhs) - sp.sympify(equation.rhs)).xreplace(subs).doit()
        entries = difference.atoms(sp.Indexed)
        labels = {a.base.label for a in entries}
        scalars = {a for a in difference.free_symbols if not isinstance(a, sp.Indexed) and a not in labels}
        values = {a: sp.Rational(int(rng.integers(-5, 6)), int(rng.integers(1, 4))) for a in entries | scalars}
        assert sp.expand(difference.xreplace(values)) == 0, equation.name


def test_index_calculus_respects_index_ranges():
    """sum_{i<M} sum_{j<N} delta_ij X_ij is not sum_{i<M} X_ii when M != N: no contraction."""
    M, N = sp.symbols("M N", integer=True, positive=True)
    X = sp.IndexedBase("X", real=True)
    i, j = sp.symbols("i j", integer=True)
    lhs = sp.Sum(sp.KroneckerDelta(i, j) * X[i, j], (i, 0, M - 1), (j, 0, N - 1))
    bad = S.Equation("wrong contraction", "sum delta X = sum_i<M X_ii", lhs, sp.Sum(X[i, i], (i, 0, M - 1)),
                     general=True, sizes={"M": M, "N": N})
    step = S.prove_equation(bad)
    assert step.status == S.REFUTED
    assert step.counterexample["M"] != step.counterexample["N"]
    good = replace(bad, lhs=sp.Sum(sp.KroneckerDelta(i, j) * X[i, j], (i, 0, M - 1), (j, 0, M - 1)))
    assert S.prove_equation(good).status == S.PROVED


# ---------------------------------------------------------------------------------------
# mutated identities do not close: the failing step is named, the counterexample exact
# ---------------------------------------------------------------------------------------


def _mutate_and_prove(equations, index, **changes):
    mutated = list(equations)
    mutated[index] = replace(mutated[index], **changes)
    return S.prove_chain("mutated", {}, mutated), mutated[index]


def test_duality_with_a_sign_flipped_is_refuted():
    equations = S.duality_equations(2, 3)
    v = equations[-1].variables
    result, mutated = _mutate_and_prove(equations, -1, rhs=v["L_c"] - v["col4"])
    assert not result.closed
    assert [s.name for s in result.failed_steps] == ["theorem (garrido2023.duality)"]
    _assert_refuted_with_exact_counterexample(result.failed_steps[0], mutated)
    assert "NOT CLOSED at step 'theorem (garrido2023.duality)'" in str(result)


def test_duality_chain_with_a_factor_2_dropped_names_the_step():
    equations = S.duality_equations(3, 3)
    step42 = equations[1]
    v = step42.variables
    A, DA = v["A"], sp.diag(*[v["A"][i, i] for i in range(3)])
    wrong = (A * A).trace() - (A * DA).trace() + (DA * DA).trace()  # "-2 tr(A D)" lost its 2
    result, mutated = _mutate_and_prove(equations, 1, rhs=wrong)
    assert [s.name for s in result.failed_steps] == ["(42) expand the trace"]
    _assert_refuted_with_exact_counterexample(result.failed_steps[0], mutated)


def test_general_duality_with_a_sign_flipped_is_refuted_at_a_small_size():
    equations = S.duality_equations()
    v = equations[-1].variables
    result, mutated = _mutate_and_prove(equations, -1, rhs=v["L_c"] - v["col4"])
    (failed,) = result.failed_steps
    assert failed.status == S.REFUTED and failed.scope == "all M, N >= 1"
    assert "residual after the index calculus" in failed.detail
    assert {"M", "N"} <= set(failed.counterexample)
    # re-check by brute force at the reported sizes
    sizes = {mutated.sizes[k]: failed.counterexample[k] for k in ("M", "N")}
    diff = (mutated.lhs - mutated.rhs).xreplace(sizes).doit()
    values = {a: sp.Rational(failed.counterexample.get(str(a), 0)) for a in diff.atoms(sp.Indexed)}
    assert sp.expand(diff.xreplace(values)) == failed.difference != 0


def test_barlow_with_lambda_replaced_is_refuted():
    equations = S.barlow_equations(2)
    v = equations[-1].variables
    lam = v["lambda"]
    result, mutated = _mutate_and_prove(equations, -1, rhs=lam * v["L1"] + (1 - lam) * v["L2"])
    (failed,) = result.failed_steps
    assert failed.name == "theorem (huang2023.barlow-decomposition)"
    _assert_refuted_with_exact_counterexample(failed, mutated)
    assert "lambda" in failed.counterexample


def test_gram_with_d_minus_k_replaced_by_k_minus_d():
    d, K = 3, 2
    equations = S.gram_equations(d, K)
    v = equations[-1].variables
    result, mutated = _mutate_and_prove(equations, -1, rhs=v["gram_K"] + K - d)
    (failed,) = result.failed_steps
    assert failed.name == "theorem (huang2023.gram-identity)"
    _assert_refuted_with_exact_counterexample(failed, mutated)
    assert failed.difference == 2 * (d - K)  # the constant is all that changed
    # at d = K the mutation is invisible (d - K = K - d = 0): the sweep needs d != K sizes
    square = S.gram_equations(2, 2)
    same, _ = _mutate_and_prove(square, -1, rhs=square[-1].variables["gram_K"] + 2 - 2)
    assert same.closed


def test_general_gram_with_d_minus_k_replaced_is_refuted():
    equations = S.gram_equations()
    v = equations[-1].variables
    result, _ = _mutate_and_prove(equations, -1, rhs=v["gram_K"] + v["K"] - v["d"])
    (failed,) = result.failed_steps
    assert failed.status == S.REFUTED
    assert failed.counterexample["d"] != failed.counterexample["K"]


def test_infonce_with_the_factor_half_dropped_is_refuted_on_the_sphere():
    equations = S.infonce_equations(3)
    v = equations[-1].variables
    L1_wrong = sum((a - b) ** 2 for a, b in zip(v["f1"], v["f2"])) - 1  # factor 1/2 dropped
    result, mutated = _mutate_and_prove(equations, -1, rhs=L1_wrong + v["L2"])
    (failed,) = result.failed_steps
    assert failed.name == "theorem (huang2023.infonce-decomposition)"
    _assert_refuted_with_exact_counterexample(failed, mutated)  # includes ||f1|| = ||f2|| = 1 exactly
    assert "not in the ideal" in failed.detail


def test_ce_sum_identity_with_wrong_count_is_refuted():
    equations = S.ce_sum_equations(3, 2)
    v = equations[-1].variables
    W, K = v["w"], v["K"]
    wrong = sp.Matrix(3, 2, lambda y, c: sum(W[k, c] for k in range(3)) - (K - 1) * W[y, c])
    result, mutated = _mutate_and_prove(equations, -1, rhs=wrong)
    (failed,) = result.failed_steps
    assert failed.name == "identity (graf2021 CE-bound step)"
    _assert_refuted_with_exact_counterexample(failed, mutated)


def test_doubly_normalized_mutations():
    # the sign of N - M cannot matter: the hypotheses force M = N (closes, computed)
    equations = S.doubly_normalized_equations(2, 2)
    statement = _last(equations, "statement")
    index = equations.index(statement)
    v = statement.variables
    flipped, _ = _mutate_and_prove(equations, index, rhs=v["L_c"] + 2 - 2, certificate=None)
    assert flipped.closed
    # a genuinely wrong constant is refuted by an exact orthogonal (doubly normalized) matrix
    wrong, mutated = _mutate_and_prove(equations, index, rhs=v["L_c"] + 1)
    (failed,) = wrong.failed_steps
    _assert_refuted_with_exact_counterexample(failed, mutated)


def test_undecided_step_says_not_closed():
    x = sp.Symbol("x", positive=True)
    # true but outside what the prover decides: hypotheses too large for Groebner, no instances
    hyps = tuple(sp.Symbol(f"y{i}", real=True) ** 2 - 1 for i in range(10)) + (
        sum(sp.Symbol(f"y{i}", real=True) for i in range(10)) ** 2 - x,)
    eq = S.Equation("undecidable here", "x = x + y0^2 - 1", x, x + sp.Symbol("y0", real=True) ** 2 - 1,
                    hypotheses=hyps)
    step = S.prove_equation(eq)
    assert step.status == S.NOT_CLOSED and "not attempted" in step.detail
    assert "[NOT CLOSED]" in str(step)


# ---------------------------------------------------------------------------------------
# vocabulary and validation
# ---------------------------------------------------------------------------------------


def test_proof_step_vocabulary_and_reprs():
    step = S.ProofStep("n", "a = a", "proved", "expands to 0", "d=1")
    assert step.proved and "[PROVED] n  (d=1)" in str(step)
    assert eval(repr(step), {"ProofStep": S.ProofStep}) == step  # repr is the call that rebuilds it
    with pytest.raises(InvalidArgumentError, match="`status` of `ProofStep`"):
        S.ProofStep("n", "a = b", "maybe")
    result = S.ProofResult("x.y", {"d": 1}, (step,), True, 0.0)
    assert eval(repr(result), {"ProofResult": S.ProofResult, "ProofStep": S.ProofStep}) == result
    assert str(result).startswith("CLAIM x.y [d=1]: CLOSED")


BAD_CALLS = [
    (S.prove_duality, (0, 2), {}, InvalidArgumentError, "`M` of `prove_duality` must be an integer >= 1"),
    (S.prove_duality, (2, S.LIMITS["duality"] + 1), {}, InvalidArgumentError, "`N` of `prove_duality`"),
    (S.prove_duality, (2.5, 2), {}, InvalidArgumentTypeError, "`M` of `prove_duality`"),
    (S.duality_equations, (0, 2), {}, InvalidArgumentError, "`M` of `duality_equations`"),
    (S.prove_duality, (2, 2), {"general": "yes"}, InvalidArgumentTypeError, "`general` of `prove_duality`"),
    (S.duality_equations, (2, None), {}, InvalidArgumentError, "`N` of `duality_equations`"),
    (S.prove_doubly_normalized, (2, 2), {"normalization": "l1"}, InvalidArgumentError, "`normalization`"),
    (S.prove_barlow_decomposition, (-1,), {}, InvalidArgumentError, "`d` of `prove_barlow_decomposition`"),
    (S.prove_gram_identity, (2, 0), {}, InvalidArgumentError, "`K` of `prove_gram_identity`"),
    (S.prove_infonce_decomposition, (2,), {"unit_norm": 1}, InvalidArgumentTypeError, "`unit_norm`"),
    (S.prove_ce_sum_identity, (True, 2), {}, InvalidArgumentTypeError, "`K` of `prove_ce_sum_identity`"),
    (S.prove_all, ({"nope": 1},), {}, InvalidArgumentError, "`limits` of `prove_all`"),
    (S.prove_all, ({"gram": 99},), {}, InvalidArgumentError, "`limits\\['gram'\\]` of `prove_all`"),
    (S.proof_sizes, ("gram", 0), {}, InvalidArgumentError, "`limit` of `proof_sizes`"),
    (S.prove_equation, ("x = x",), {}, InvalidArgumentError, "`equation` of `prove_equation`"),
]


@pytest.mark.parametrize("fn, args, kwargs, error, message", BAD_CALLS)
def test_bad_calls_raise_clear_errors(fn, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        fn(*args, **kwargs)


def test_limits_and_sizes_are_consistent():
    for family, limit in S.LIMITS.items():
        sizes = S.proof_sizes(family)
        assert max(max(s) for s in sizes) == limit and min(min(s) for s in sizes) == 1
    assert S.proof_sizes("gram", 2) == [(1, 1), (1, 2), (2, 1), (2, 2)]


def test_index_calculus_never_proves_what_it_cannot_read():
    """A summand depending on a bound index outside an entry is not proved, even when true."""
    n = sp.Symbol("n", integer=True, positive=True)
    i = sp.Symbol("i", integer=True)
    x = sp.IndexedBase("x", real=True)
    weighted = sp.Sum(i * x[i], (i, 0, n - 1))
    true_but_opaque = S.Equation("opaque", "sum i x_i = sum i x_i", weighted, sp.Sum(i * x[i], (i, 0, n - 1)),
                                 general=True, sizes={"n": n})
    step = S.prove_equation(true_but_opaque)
    assert step.status == S.NOT_CLOSED and "outside the index calculus" in step.detail
    false = replace(true_but_opaque, rhs=n * sp.Sum(x[i], (i, 0, n - 1)))
    refuted = S.prove_equation(false)
    assert refuted.status == S.REFUTED and refuted.counterexample["n"] >= 1
