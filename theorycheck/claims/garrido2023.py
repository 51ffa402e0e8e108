"""Claims of garrido2023 (docs/theory.md section 6): duality of contrastive and non-contrastive SSL.

Q. Garrido, Y. Chen, A. Bardes, L. Najman, Y. LeCun. *On the Duality Between Contrastive
and Non-Contrastive Self-Supervised Learning.* ICLR 2023. ``K`` in R^{M x N}: M the
embedding dimension, N the batch size, columns are embeddings;
L_c = ||K^T K - diag(K^T K)||_F^2 and L_nc = ||K K^T - diag(K K^T)||_F^2.

* ``garrido2023.duality`` -- L_nc + sum_j ||K_j,.||^4 = L_c + sum_i ||K_.,i||^4 (identity,
  proved exactly by :mod:`theorycheck.symbolic` for M, N <= LIMITS["duality"]);
* ``garrido2023.doubly-normalized`` -- "if both rows and columns of K were L2 normalized,
  L_nc = L_c + N - M" (as the paper states it; unit rows and unit columns force M = N,
  which the engine finds: VACUOUS for M != N);
* ``garrido2023.doubly-stochastic`` -- the seed slide's wording of the same remark ("K as
  double stochastic matrix"), a different statement;
* ``garrido2023.lemma3.4`` -- (N^2/M) a^4 <= sum_j ||K_j,.||^4 <= N^2 a^4 for columns of
  norm a, with the remark that both bounds correspond to collapsed embeddings
  (``garrido2023.lemma3.4.remark-lower`` / ``-upper``) and the exact attainment
  identity that corrects it (``garrido2023.lemma3.4.attainment``);
* ``garrido2023.prop3.1`` -- E[x^T x^-] = 0 and Var[x^T x^-] = 1/M for negative pairs at
  the optimum of SimCLR/DCL with infinitely many negatives (statistical).

Family: ``theorycheck verify duality``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any


from .. import backend as xp
from .. import losses
from .. import strategies as st
from .._validation import check_int
from ..engine.claim import Assumption, Param, claim
from ..engine.families import Family, Option, register_family
from ..ssl import ProofNotAttempted, _maximum, doubly_stochastic, proof_within_limits, sign_columns

__all__ = [
    "duality",
    "doubly_normalized",
    "doubly_stochastic_reading",
    "lemma3_4",
    "lemma3_4_remark_lower",
    "lemma3_4_remark_upper",
    "lemma3_4_attainment",
    "prop3_1",
    "ATTAINMENT_PROOF_LIMIT",
]

_CITE = ("garrido2023",)
_IDENTITY_KEYS = ("proof", "inputs_tried", "worst_slack")
_SIZED_IDENTITY_KEYS = ("sizes",) + _IDENTITY_KEYS
_SIZES = (Param("M", 4, "embedding dimension (rows of K)", min=1),
          Param("N", 5, "batch size (columns of K)", min=1))

#: Largest M for which the attainment identity is proved symbolically (it is a polynomial
#: identity in the M squared row norms: cheap, but the sum over pairs grows like M^2).
ATTAINMENT_PROOF_LIMIT = 12


def _norms4(K: Any) -> tuple[Any, Any]:
    """(sum_j ||K_j,.||^4, sum_i ||K_.,i||^4)."""
    rows = xp.sum(K * K, axis=1)
    cols = xp.sum(K * K, axis=0)
    return xp.sum(rows * rows), xp.sum(cols * cols)


# --------------------------------------------------------------------------------------
# the duality and its normalized special cases
# --------------------------------------------------------------------------------------


@claim(
    id="garrido2023.duality",
    statement_latex=r"\mathcal{L}_{\mathrm{nc}} + \sum_j \|K_{j,\cdot}\|^4 = \mathcal{L}_{\mathrm{c}} + \sum_i \|K_{\cdot,i}\|^4 \qquad \forall K \in \mathbb{R}^{M\times N}",
    cite=_CITE,
    kind="identity",
    statement="L_nc + sum_j ||K_j,.||^4 = L_c + sum_i ||K_.,i||^4 for every K in R^{M x N}",
    params=_SIZES,
    inputs=lambda p, active: {"K": st.real_matrix(p.M, p.N, 1.0)},
    proof=lambda p: proof_within_limits("prove_duality", "duality", M=p.M, N=p.N),
    family="duality",
    summary_keys=_IDENTITY_KEYS,
)
def duality(K, *, p):
    """(L_nc + sum of row norms^4, L_c + sum of column norms^4)."""
    rows4, cols4 = _norms4(K)
    return losses.dimension_contrastive(K) + rows4, losses.sample_contrastive(K) + cols4


def _normalized_inputs(p, active):
    rows, cols = "unit rows" in active, "unit columns" in active
    if rows and cols:
        return {"K": st.doubly_normalized(p.M, p.N)}
    if rows:
        return {"K": st.unit_rows(p.M, p.N)}
    if cols:
        return {"K": st.unit_columns(p.M, p.N)}
    return {"K": st.real_matrix(p.M, p.N, 1.0)}


def _normalized_requires(p, active):
    """Why no K has unit rows and unit columns at these sizes, computed by the symbolic proof.

    The proof shows sum_j (||K_j,.||^2 - 1) - sum_i (||K_.,i||^2 - 1) = N - M identically, so
    the hypotheses put a nonzero constant into their ideal when M != N. Above the proof's
    size limit the input space itself says so (strategies.doubly_normalized raises
    Unsatisfiable from the Frobenius-norm count).
    """
    if not ("unit rows" in active and "unit columns" in active) or p.M == p.N:
        return None
    try:
        result = proof_within_limits("prove_doubly_normalized", "doubly_normalized", M=p.M, N=p.N)
    except ProofNotAttempted:
        return None
    if result.vacuous:
        return "; ".join(result.notes)
    return None


@claim(
    id="garrido2023.doubly-normalized",
    statement_latex=r"\|K_{j,\cdot}\| = \|K_{\cdot,i}\| = 1\ \forall i,j \implies \mathcal{L}_{\mathrm{nc}} = \mathcal{L}_{\mathrm{c}} + N - M",
    cite=_CITE,
    kind="identity",
    statement="if both rows and columns of K were L2 normalized, we would have L_nc = L_c + N - M",
    params=(Param("M", 4, "embedding dimension (rows of K)", min=1),
            Param("N", 4, "batch size (columns of K)", min=1)),
    assumptions=(Assumption("unit rows", "||K_j,.|| = 1 for every row j"),
                 Assumption("unit columns", "||K_.,i|| = 1 for every column i")),
    inputs=_normalized_inputs,
    requires=_normalized_requires,
    proof=lambda p: proof_within_limits("prove_doubly_normalized", "doubly_normalized", M=p.M, N=p.N),
    family="duality",
    summary_keys=_SIZED_IDENTITY_KEYS,
)
def doubly_normalized(K, *, p):
    """(L_nc, L_c + N - M)."""
    return losses.dimension_contrastive(K), losses.sample_contrastive(K) + xp.scalar(float(p.N - p.M), K)


@claim(
    id="garrido2023.doubly-stochastic",
    statement_latex=r"K \ge 0,\ K\mathbf{1} = \mathbf{1},\ K^\top\mathbf{1} = \mathbf{1} \implies \mathcal{L}_{\mathrm{nc}} = \mathcal{L}_{\mathrm{c}} + N - M",
    cite=_CITE,
    kind="identity",
    statement=("seed slide: 'in the specific case of K as double stochastic matrix, then L_nc = L_c + N - M' "
               "(rows and columns of K non-negative and summing to 1)"),
    params=(Param("M", 4, "embedding dimension (rows of K)", min=1),
            Param("N", 4, "batch size (columns of K)", min=1)),
    inputs=lambda p, active: {"K": doubly_stochastic(p.M, p.N)},
    proof=lambda p: proof_within_limits("prove_doubly_normalized", "doubly_normalized", M=p.M, N=p.N,
                                        normalization="stochastic"),
    family="duality",
    summary_keys=_SIZED_IDENTITY_KEYS,
)
def doubly_stochastic_reading(K, *, p):
    """(L_nc, L_c + N - M)."""
    return losses.dimension_contrastive(K), losses.sample_contrastive(K) + xp.scalar(float(p.N - p.M), K)


# --------------------------------------------------------------------------------------
# Lemma 3.4 and its remark
# --------------------------------------------------------------------------------------


def _lemma_parts(K: Any, a: Any, p) -> dict:
    """S = sum_j ||K_j,.||^4 of aK and the bounds, with a^2 the mean squared column norm of aK.

    Under the lemma's hypothesis every column has norm a, so a^2 = ||aK||_F^2 / N exactly; taking
    the mean keeps the bounds exact for the float input (whose columns have norm 1 only to
    rounding): lower = (sum_j r_j)^2 / M and upper = (sum_j r_j)^2, r_j the squared row norms.
    """
    Ka = K * a
    rows = xp.sum(Ka * Ka, axis=1)
    S = xp.sum(rows * rows)
    a2 = xp.sum(rows) / xp.scalar(float(p.N), Ka)
    N2a4 = xp.scalar(float(p.N * p.N), Ka) * a2 * a2
    lower = N2a4 / xp.scalar(float(p.M), Ka)
    return {"S": S, "lower": lower, "upper": N2a4, "rows": rows}


def _lemma_inputs(p, active):
    K = sign_columns(p.M, p.N) if "equal column norms" in active else st.real_matrix(p.M, p.N, 1.0)
    return {"K": K, "a": st.real(0.1, 3.0)}


_EQUAL_NORMS = Assumption("equal column norms", "||K_.,i|| = a for every column i")


@claim(
    id="garrido2023.lemma3.4",
    statement_latex=r"\|K_{\cdot,i}\| = a\ \forall i \implies \frac{N^2}{M} a^4 \le \sum_j \|K_{j,\cdot}\|^4 \le N^2 a^4",
    cite=_CITE,
    kind="inequality",
    statement=("Lemma 3.4: if ||K_.,i|| = a for every column, (N^2/M) a^4 <= sum_j ||K_j,.||^4 <= N^2 a^4 "
               "(both bounds at once: lhs = max(lower - S, S - upper) <= 0; a^2 = mean squared column norm)"),
    params=_SIZES,
    assumptions=(_EQUAL_NORMS,),
    inputs=_lemma_inputs,
    relation="<=",
    family="duality",
)
def lemma3_4(K, a, *, p):
    """(max(lower - S, S - upper), 0): both bounds hold iff lhs <= 0."""
    parts = _lemma_parts(K, a, p)
    below, above = parts["lower"] - parts["S"], parts["S"] - parts["upper"]
    return _maximum(below, above), 0.0


def _exact_matrix(K: Any) -> list:
    """The entries of K as exact rationals (float64, torch and mpmath inputs all hold binary64
    numbers here: the engine converts floats to mpmath exactly)."""
    arr = K.detach().cpu().numpy() if xp.kind(K) == "torch" else xp.to_numpy(K)
    return [[Fraction(float(v)) for v in row] for row in arr]


def _collapsed(rows: list) -> bool:
    """rank(K) <= 1 (all embeddings on one line through 0), exactly: pick a nonzero entry
    K[j0][i0]; K has rank <= 1 iff K[j][i] K[j0][i0] = K[j0][i] K[j][i0] for every j, i."""
    pivot = next(((j, i) for j, row in enumerate(rows) for i, v in enumerate(row) if v != 0), None)
    if pivot is None:
        return True
    j0, i0 = pivot
    return all(rows[j][i] * rows[j0][i0] == rows[j0][i] * rows[j][i0]
               for j in range(len(rows)) for i in range(len(rows[0])))


def _remark(K, a, p, side: str):
    """(1 if the bound is not attained else 0, 0) for non-collapsed K; (1, 0) for collapsed K.

    Attainment is decided exactly, in rational arithmetic on the input: the attainment
    identities give S - lower = (1/M) sum_{j<k} (r_j - r_k)^2 (zero iff all squared row norms
    r_j are equal) and upper - S = 2 sum_{j<k} r_j r_k (zero iff at most one row is nonzero).
    A numerical gap would not do: it can be positive but far below any working precision
    (a row of entries 1e-226 next to one of order 1), which a strict comparison in floating
    point cannot tell from equality.
    """
    rows = _exact_matrix(K)
    one, zero = _ratio_like(1, a), _ratio_like(0, a)
    if _collapsed(rows):  # the remark allows attaining the bound at collapsed embeddings
        return one, 0.0
    a2 = Fraction(float(xp.to_numpy(a) if xp.kind(a) != "torch" else a.detach()))
    a2 = a2 * a2
    r = [a2 * sum(v * v for v in row) for row in rows]
    if side == "lower":
        attained = all(x == r[0] for x in r)
    else:
        attained = sum(1 for x in r if x != 0) <= 1
    return (zero if attained else one), 0.0


def _ratio_like(value: int, like: Any) -> Any:
    if xp.kind(like) == "mp":
        import mpmath

        return mpmath.mpf(value)
    return xp.scalar(float(value), like)


@claim(
    id="garrido2023.lemma3.4.remark-lower",
    statement_latex=r"\operatorname{rank} K \ge 2 \implies \sum_j \|K_{j,\cdot}\|^4 > \frac{N^2}{M} a^4",
    cite=_CITE,
    kind="inequality",
    statement=("Remark to Lemma 3.4: the lower bound (N^2/M) a^4 corresponds to collapsed embeddings and is not "
               "attained in practice -- checked as: every K whose embeddings are not collapsed (rank(K) >= 2) "
               "has sum_j ||K_j,.||^4 > (N^2/M) a^4, decided exactly (lhs = 1 if not attained, 0 if attained)"),
    params=_SIZES,
    assumptions=(_EQUAL_NORMS,),
    inputs=_lemma_inputs,
    relation=">",
    family="duality",
)
def lemma3_4_remark_lower(K, a, *, p):
    """(1 if S > lower else 0, 0) for non-collapsed K, exactly; (1, 0) for collapsed K (exempt)."""
    return _remark(K, a, p, "lower")


@claim(
    id="garrido2023.lemma3.4.remark-upper",
    statement_latex=r"\operatorname{rank} K \ge 2 \implies \sum_j \|K_{j,\cdot}\|^4 < N^2 a^4",
    cite=_CITE,
    kind="inequality",
    statement=("Remark to Lemma 3.4: the upper bound N^2 a^4 corresponds to collapsed embeddings and is not "
               "attained in practice -- checked as: every K whose embeddings are not collapsed (rank(K) >= 2) "
               "has sum_j ||K_j,.||^4 < N^2 a^4, decided exactly (lhs = 1 if not attained, 0 if attained)"),
    params=_SIZES,
    assumptions=(_EQUAL_NORMS,),
    inputs=_lemma_inputs,
    relation=">",
    family="duality",
)
def lemma3_4_remark_upper(K, a, *, p):
    """(1 if S < upper else 0, 0) for non-collapsed K, exactly; (1, 0) for collapsed K (exempt)."""
    return _remark(K, a, p, "upper")


def _attainment_proof(p):
    """Exact proof (sympy) of both attainment identities in the squared row norms r_1..r_M."""
    M = check_int(p.M, "M", "garrido2023.lemma3.4.attainment proof", min_value=1)
    if M > ATTAINMENT_PROOF_LIMIT:
        raise ProofNotAttempted(f"M={M} > {ATTAINMENT_PROOF_LIMIT}, tested numerically")
    import sympy as sp

    from .. import symbolic

    r = sp.symbols(f"r0:{M}", real=True)
    total = sum(r)
    pairs = [(j, k) for j in range(M) for k in range(j + 1, M)]
    equations = [
        symbolic.Equation(
            "lower gap", "sum_j r_j^2 - (sum_j r_j)^2 / M = (1/M) sum_{j<k} (r_j - r_k)^2",
            sum(x * x for x in r) - total ** 2 / M, sum(((r[j] - r[k]) ** 2 for j, k in pairs), sp.Integer(0)) / M,
            scope=f"M={M}"),
        symbolic.Equation(
            "upper gap", "(sum_j r_j)^2 - sum_j r_j^2 = 2 sum_{j<k} r_j r_k",
            total ** 2 - sum(x * x for x in r), 2 * sum((r[j] * r[k] for j, k in pairs), sp.Integer(0)),
            scope=f"M={M}"),
    ]
    return symbolic.prove_chain("garrido2023.lemma3.4.attainment", {"M": M}, equations)


@claim(
    id="garrido2023.lemma3.4.attainment",
    statement_latex=r"\sum_j \|K_{j,\cdot}\|^4 - \frac{N^2}{M} a^4 = \frac{1}{M} \sum_{j<k} (r_j - r_k)^2, \qquad N^2 a^4 - \sum_j \|K_{j,\cdot}\|^4 = 2 \sum_{j<k} r_j r_k, \qquad r_j = \|K_{j,\cdot}\|^2",
    cite=_CITE,
    kind="identity",
    statement=("Corrected remark to Lemma 3.4, with r_j = ||K_j,.||^2 and a^2 the (common) squared column norm: "
               "sum_j ||K_j,.||^4 - (N^2/M) a^4 = (1/M) sum_{j<k} (r_j - r_k)^2 -- the lower bound is attained "
               "exactly when all rows have the same norm, collapsed or not (e.g. K = aI, tight frames); and "
               "N^2 a^4 - sum_j ||K_j,.||^4 = 2 sum_{j<k} r_j r_k -- the upper bound exactly when one row carries "
               "all the mass (dimensional collapse)"),
    params=_SIZES,
    assumptions=(_EQUAL_NORMS,),
    inputs=_lemma_inputs,
    proof=_attainment_proof,
    corrects="garrido2023.lemma3.4.remark-lower",
    family="duality",
    summary_keys=_IDENTITY_KEYS,
)
def lemma3_4_attainment(K, a, *, p):
    """(S - lower, (1/M) sum_{j<k} (r_j - r_k)^2)."""
    parts = _lemma_parts(K, a, p)
    r = parts["rows"]
    diff = r[:, None] - r[None, :]  # the full sum counts every pair twice
    return parts["S"] - parts["lower"], xp.sum(diff * diff) / xp.scalar(float(2 * p.M), r)


# --------------------------------------------------------------------------------------
# Proposition 3.1 (statistical)
# --------------------------------------------------------------------------------------


@claim(
    id="garrido2023.prop3.1",
    statement_latex=r"x, x^- \sim \mathrm{Unif}(S^{M-1}) \text{ independent}: \quad \mathbb{E}[x^\top x^-] = 0, \qquad \operatorname{Var}[x^\top x^-] = \frac{1}{M}",
    cite=_CITE,
    kind="statistical",
    statement=("Prop. 3.1: with infinitely many negatives SimCLR/DCL lead to embeddings (uniform on the unit sphere "
               "of R^M) with E[x^T x^-] = 0 and Var[x^T x^-] = 1/M for negative pairs; Monte-Carlo over independent "
               "uniform x, x^-"),
    params=(Param("M", 8, "embedding dimension", min=1),),
    inputs=lambda p, active: {"x": st.sphere(1, p.M, 1.0), "x_neg": st.sphere(1, p.M, 1.0)},
    expected=lambda p: {"mean": 0.0, "var": 1.0 / p.M},
    confidence=0.99,
    family="duality",
    summary_keys=("mean_estimate", "var_estimate", "var_expected", "var_ci_width", "confidence"),
)
def prop3_1(x, x_neg, *, p):
    """One draw of x^T x^-."""
    return xp.sum(x * x_neg)


# --------------------------------------------------------------------------------------
# family
# --------------------------------------------------------------------------------------


def _duality_checks(p) -> list:
    n = min(p.M, p.N)
    checks = [("garrido2023.duality", {"M": p.M, "N": p.N}),
              ("garrido2023.doubly-normalized", {"M": p.M, "N": p.N})]
    if p.M != p.N:  # the literal statement is vacuous here; show it where it has inputs too
        checks.append(("garrido2023.doubly-normalized", {"M": n, "N": n}))
    checks.append(("garrido2023.doubly-stochastic", {"M": p.M, "N": p.N}))
    if p.M != p.N:
        checks.append(("garrido2023.doubly-stochastic", {"M": n, "N": n}))
    checks += [
        ("garrido2023.lemma3.4", {"M": p.M, "N": p.N}),
        ("garrido2023.lemma3.4.remark-lower", {"M": p.M, "N": p.N}),
        ("garrido2023.lemma3.4.remark-upper", {"M": p.M, "N": p.N}),
        ("garrido2023.lemma3.4.attainment", {"M": p.M, "N": p.N}),
        ("garrido2023.prop3.1", {"M": p.M}),
    ]
    return checks


register_family(Family(
    "duality",
    "contrastive / non-contrastive duality (garrido2023): L_c, L_nc, Lemma 3.4, Prop. 3.1",
    (Option("M", 4, "embedding dimension M (rows of K)", min=1),
     Option("N", 5, "batch size N (columns of K)", min=1)),
    _duality_checks,
), replace=True)
