"""Graf et al. 2021, *Dissecting Supervised Contrastive Learning* (graf2021): every claim.

docs/theory.md sections 1-3, encoded as the source states them; the engine decides.

* Regular simplex (section 1): ``graf2021.simplex.inner-product``, ``graf2021.simplex.gram``,
  ``graf2021.simplex.existence``.
* Cross-entropy (section 2): ``graf2021.ce.bound``, its five proof steps
  ``graf2021.ce.step1-jensen`` ... ``graf2021.ce.step5-combine``, ``graf2021.ce.equality``,
  the L2-regularised corollary exactly as the seed slide prints it (``graf2021.ce.l2``: r_W is
  the norm of every row of W, as the slide's "inscribed in the sphere of radius r_W" says), the
  same equation in the two other readings a reader may take (``graf2021.ce.l2-frobenius``:
  r_W = ||W||_F; ``graf2021.ce.l2-half-lambda``: penalty (lambda/2)||W||_F^2), the algebraic
  link between the slide's equation and the derivation from the bound
  (``graf2021.ce.l2-equation``) and the derived statement (``graf2021.ce.l2-corrected``,
  ``corrects="graf2021.ce.l2"``). Which reading holds is decided by the engine.
* Supervised contrastive loss (section 3): ``graf2021.sc.minimum`` (the closed form is the
  minimum, exact batch enumeration), ``graf2021.sc.simplex`` (every minimiser is a collapsed
  regular simplex), ``graf2021.sc.minimum-sampled`` (the closed form at sizes too large to
  enumerate: the mean loss per random batch at the simplex), ``graf2021.sc.certified`` (the
  closed form is at most the certified lower bound of the symmetry-reduced convex Gram
  relaxation, any N) and, beyond the paper, ``graf2021.sc.certified-imbalance`` (under STEP
  imbalance the simplex is not optimal; certified optimum and class-mean cosines against R).

Two families drive them from the command line: ``theorycheck verify supcon [--K 10 ...]``
and ``theorycheck verify ce [...]`` (see :func:`supcon_checks`, :func:`ce_checks`).

The modelling choices the source leaves open are documented in ``docs/graf2021.md``.
Claim functions here only evaluate; the engine searches, optimises and judges.

Examples
--------
>>> from theorycheck.engine import registry
>>> registry.get("graf2021.sc.simplex").kind
'characterization'
>>> sorted(a.name for a in registry.get("graf2021.ce.bound").assumptions)
['balanced', 'norm<=rho']
"""

from __future__ import annotations

import functools
import itertools
import math
import shlex
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

from .. import backend as xp
from .. import strategies as st
from .._validation import InvalidArgumentError, check_int, check_real, fail, is_torch
from ..bounds import (
    BATCH_SETS,
    ce_l2_lower_bound,
    ce_l2_minimiser,
    ce_lower_bound,
    r_w_literal,
    sc_minimum,
)
from ..engine.claim import Assumption, Inconclusive, Param, claim
from ..engine.families import Family, Option, register_family
from ..geometry import class_means, distance_to_collapsed_simplex, regular_simplex
from ..losses import cross_entropy, supcon
from ..relax import RelaxationError, batch_sc_relaxation, batch_sc_simplex_value, check_batch_sc_certificate

try:
    import torch
except ImportError:  # pragma: no cover - torch is a runtime dependency
    torch = None  # type: ignore[assignment]

__all__ = [
    "simplex_inner_product",
    "simplex_gram",
    "simplex_existence",
    "ce_bound",
    "ce_step1_jensen",
    "ce_step2_sum_identity",
    "ce_step3_cauchy_schwarz",
    "ce_step4_balance",
    "ce_step5_combine",
    "ce_equality",
    "ce_l2",
    "ce_l2_frobenius",
    "ce_l2_half_lambda",
    "L2_READINGS",
    "ce_l2_equation",
    "ce_l2_corrected",
    "sc_minimum_claim",
    "sc_simplex",
    "sc_minimum_sampled",
    "sc_certified",
    "sc_certified_imbalance",
    "sc_imbalance_sweep",
    "sc_batch_set_loss",
    "batch_plan",
    "CE_STEPS",
    "EXACT_BATCH_LIMIT",
    "SUBSAMPLE_STRIDE",
    "supcon_checks",
    "ce_checks",
    "SUPCON_FAMILY",
    "CE_FAMILY",
]

CITE = ("graf2021",)

#: The CE bound's proof chain, in order (``proofs/graf2021_ce_bound.py`` runs it).
CE_STEPS = (
    "graf2021.ce.step1-jensen",
    "graf2021.ce.step2-sum-identity",
    "graf2021.ce.step3-cauchy-schwarz",
    "graf2021.ce.step4-balance",
    "graf2021.ce.step5-combine",
)

#: Largest number of distinct batches the exact-enumeration claims accept (the objective is
#: evaluated thousands of times during an optimisation; beyond this, use the sampled claim).
EXACT_BATCH_LIMIT = 200_000

# --------------------------------------------------------------------------- parameters

_K = Param("K", 3, "number of classes", min=2)
_H = Param("h", 2, "embedding dimension", min=1)
_RHO = Param("rho", 1.0, "radius of the sphere / ball holding the embeddings (> 0)", type=float, min=0.0)
_N_CE = Param("N", 6, "number of samples", min=1)
_N_SC = Param("N", 6, "number of samples", min=2)
_B = Param("b", 3, "batch size", min=2)
_BATCHES = Param("batches", "multiset", "batch set: multiset | subset | ordered", type=str, choices=BATCH_SETS)
_LAM = Param("lam", 0.1, "L2 regularisation strength lambda (> 0)", type=float, min=0.0)


def _search(starts: int, steps: int) -> dict:
    """The engine's amount of optimisation for a claim (random starts, L-BFGS iterations
    per start): engine settings, not parameters of the statement; a Budget overrides them."""
    return {"starts": starts, "steps": steps}


# --------------------------------------------------------------------------- assumptions

BALANCED = Assumption("balanced", "every class has exactly N/K samples")
BALL = Assumption("norm<=rho", "every embedding has norm at most rho (the ball)")
SPHERE = Assumption("sphere", "every embedding has norm exactly rho (the sphere)")
DIM = Assumption("h>=K-1", "the embedding dimension admits a regular simplex of K points")
BATCH_SIZE = Assumption("b>=3", "batch size b >= 3 (at b = 2 every batch's loss is identically 0)")
BATCH_SET = Assumption("all batches", "the loss sums over every batch of the batch set, each once "
                                      "(dropped: every 7th batch of the enumeration, rescaled)")

#: Stride of the systematic sub-sample of batches used when "all batches" is dropped.
SUBSAMPLE_STRIDE = 7


def _positive_rho(p, claim_id: str) -> float:
    return check_real(p.rho, "rho", f"claim {claim_id!r}", gt=0.0)


def _dim_reason(p) -> str | None:
    if p.h < p.K - 1:
        return (f"h >= K-1 fails: h={p.h}, K={p.K} (a regular simplex of K points spans K-1 "
                f"dimensions, so none exists in R^{p.h})")
    return None


def _requires(*checks):
    """``requires(p, active)`` from (assumption name, reason function) pairs."""

    def requires(p, active):
        for name, reason in checks:
            if name in active:
                why = reason(p)
                if why:
                    return why
        return None

    return requires


def _balanced_reason(p) -> str | None:
    if p.N % p.K:
        return f"balanced labels need K to divide N; got N={p.N}, K={p.K}"
    return None


def _batch_size_reason(p) -> str | None:
    if p.b < 3:
        return f"b >= 3 fails: b={p.b}"
    return None


def _sorted_labels(N: int, K: int) -> np.ndarray:
    """Balanced labels in contiguous blocks (sample n has class n // (N/K)); when K does not
    divide N (an ablation of "balanced"), the most balanced such labels."""
    counts = np.full(K, N // K)
    counts[: N % K] += 1
    return np.repeat(np.arange(K, dtype=np.int64), counts)


def _simplex_points(K: int, h: int, rho: float) -> np.ndarray:
    """The regular simplex of radius rho in R^h; when h < K-1 (an ablation of "h>=K-1"), where
    none exists, its first h Helmert coordinates with every row put back on the sphere."""
    if h >= K - 1:
        return regular_simplex(K, h, rho)
    Z = regular_simplex(K, K - 1, rho)[:, :h].copy()
    norms = np.linalg.norm(Z, axis=1)
    small = norms < 1e-12 * rho
    Z[small] = 0.0
    Z[small, 0] = rho
    norms[small] = rho
    return Z * (rho / norms)[:, None]


# --------------------------------------------------------------------------- number systems


def _like(arr: np.ndarray, like: Any) -> Any:
    """An integer (or boolean) numpy array, exactly, in the number system of ``like``.

    torch: float64 tensor; mpmath: object array of Python ints (exact in mpf arithmetic);
    numpy: float64.
    """
    if is_torch(like):
        return torch.as_tensor(np.asarray(arr, dtype=np.float64), dtype=like.dtype, device=like.device)
    if xp.kind(like) == "mp":
        return np.asarray(arr).astype(np.int64).astype(object)
    return np.asarray(arr, dtype=np.float64)



def _sqrt_int(n: int, like: Any) -> Any:
    return mpmath.sqrt(n) if xp.kind(like) == "mp" else math.sqrt(n)


def _log1p_exp_shifted(s: Any, K: int) -> Any:
    r"""``log(1 + (K-1) e^s)`` for a scalar s, without overflow, in s's number system."""
    kind = xp.kind(s)
    if kind == "mp":
        return mpmath.log1p((K - 1) * mpmath.exp(s))
    if kind == "torch":
        return torch.logaddexp(torch.zeros_like(s), s + math.log(K - 1))
    return np.logaddexp(0.0, float(s) + math.log(K - 1))


def _onehot(y: np.ndarray, K: int) -> np.ndarray:
    return np.eye(K, dtype=np.int64)[np.asarray(y, dtype=np.int64)]


# --------------------------------------------------------------------------- section 1: simplex


def _simplex_inputs(p, active):
    _positive_rho(p, "graf2021.simplex")
    return {"zeta": st.simplex_configuration(p.K, p.h, p.rho)}


@claim(
    id="graf2021.simplex.inner-product",
    statement_latex=r"\langle \zeta_y, \zeta_{y'} \rangle = -\frac{\rho^2}{K-1} \qquad \forall\, y \ne y'",
    cite=CITE,
    kind="identity",
    statement="If zeta_1..zeta_K form an origin-centred regular simplex inscribed in the sphere of "
              "radius rho (S1-S3), then <zeta_y, zeta_y'> = -rho^2/(K-1) for every y != y' "
              "(checked as max_{y != y'} |<zeta_y, zeta_y'> + rho^2/(K-1)| / rho^2 == 0)",
    params=(_K, _H, _RHO),
    # no simplex when h < K-1: the input space is then empty and the verdict VACUOUS
    inputs=_simplex_inputs,
    family="supcon",
)
def simplex_inner_product(zeta, *, p):
    r"""Largest deviation of an off-diagonal inner product from :math:`-\rho^2/(K-1)`, over rho^2.

    graf2021, docs/theory.md section 1: the regular simplex has
    :math:`\langle\zeta_y, \zeta_{y'}\rangle = -\rho^2/(K-1)` for :math:`y \ne y'`.

    Returns ``(max_{y != y'} |<zeta_y, zeta_y'> + rho^2/(K-1)| / rho^2, 0)``.
    """
    K = p.K
    rho2 = xp.scalar(p.rho, zeta) ** 2
    G = zeta @ zeta.T
    off = ~np.eye(K, dtype=bool)
    target = -rho2 / (K - 1)
    dev = xp.abs(G[off] - target) / rho2
    return xp.max(dev), 0.0


@claim(
    id="graf2021.simplex.gram",
    statement_latex=r"Z Z^\top = \frac{\rho^2 K}{K-1}\Bigl(I_K - \frac{1}{K}\mathbf{1}\mathbf{1}^\top\Bigr), \qquad \operatorname{rank}(Z Z^\top) = K-1",
    cite=CITE,
    kind="identity",
    statement="The Gram matrix of a rho-inscribed regular simplex is rho^2 K/(K-1) (I - 11^T/K), "
              "rho^2 K/(K-1) times the projector onto 1^perp, hence of rank K-1 "
              "(checked as ||Zeta Zeta^T - rho^2 K/(K-1)(I - 11^T/K)||_F / rho^2 == 0)",
    params=(_K, _H, _RHO),
    inputs=_simplex_inputs,
    family="supcon",
)
def simplex_gram(zeta, *, p):
    r"""Relative Frobenius distance of the Gram matrix from :math:`\rho^2\frac{K}{K-1}(I - \frac1K 11^T)`.

    graf2021, docs/theory.md section 1. Returns ``(||G - G_rho||_F / rho^2, 0)``; the target is
    built from integers (``K I - 11^T``) so that it is exact in every number system.
    """
    K = p.K
    rho2 = xp.scalar(p.rho, zeta) ** 2
    centred = _like(K * np.eye(K, dtype=np.int64) - np.ones((K, K), dtype=np.int64), zeta)
    target = centred * (rho2 / (K - 1))
    diff = zeta @ zeta.T - target
    return xp.sqrt(xp.sum(diff * diff)) / rho2, 0.0


def _existence_optimum(p) -> float:
    return max(0, p.K - 1 - p.h) / (p.K - 1)


def _existence_witness(p):
    rho = _positive_rho(p, "graf2021.simplex.existence")
    if p.h >= p.K - 1:
        return {"Z": regular_simplex(p.K, p.h, rho)}
    # Eckart-Young: the best rank-h approximation keeps h of the K-1 equal eigenvalues; the
    # first h Helmert coordinates of the simplex are sqrt(lambda) times h orthonormal
    # eigenvectors of G_rho.
    return {"Z": np.ascontiguousarray(regular_simplex(p.K, p.K - 1, rho)[:, : p.h])}


@claim(
    id="graf2021.simplex.existence",
    statement_latex=r"\min_{Z \in \mathbb{R}^{K\times h}} \frac{\|Z Z^\top - G_\rho\|_F^2}{\|G_\rho\|_F^2} = \frac{\max(0, K-1-h)}{K-1}, \qquad G_\rho = \frac{\rho^2 K}{K-1}\Bigl(I_K - \frac{1}{K}\mathbf{1}\mathbf{1}^\top\Bigr)",
    cite=CITE,
    kind="optimum",
    statement="A regular simplex of K points exists in R^h iff h >= K-1: the Gram matrix of K points "
              "in R^h has rank <= h while rho^2 K/(K-1)(I - 11^T/K) has rank K-1; precisely, "
              "min over Z in R^{K x h} of ||Z Z^T - G_rho||_F^2 / ||G_rho||_F^2 = max(0, K-1-h)/(K-1) "
              "(Eckart-Young), which is 0 iff h >= K-1",
    params=(_K, _H, _RHO),
    search=_search(3, 400),
    inputs=lambda p, active: {"Z": st.real_matrix(p.K, p.h, _positive_rho(p, "graf2021.simplex.existence")
                                                  / math.sqrt(p.h))},
    optimum=_existence_optimum,
    witness=_existence_witness,
    summary_keys=("claimed_optimum", "best_value", "witness_value"),
    family="supcon",
)
def simplex_existence(Z, *, p):
    r"""Squared relative Gram distance :math:`\|ZZ^T - G_\rho\|_F^2 / \|G_\rho\|_F^2` of K points in R^h.

    :math:`G_\rho = \rho^2\frac{K}{K-1}(I - \frac1K 11^T)`, :math:`\|G_\rho\|_F^2 = (K-1)\rho^4 K^2/(K-1)^2`
    (graf2021, docs/theory.md section 1). Squared, so that the objective is smooth at 0.
    """
    K = p.K
    rho2 = xp.scalar(p.rho, Z) ** 2
    lam = rho2 * K / (K - 1)
    centred = _like(K * np.eye(K, dtype=np.int64) - np.ones((K, K), dtype=np.int64), Z)
    diff = Z @ Z.T - centred * (rho2 / (K - 1))
    return xp.sum(diff * diff) / ((K - 1) * lam * lam)


# --------------------------------------------------------------------------- section 2: cross-entropy


def _ce_inputs(p, active, *, need_z=True, need_w=True, need_y=True, every_class=False):
    rho = _positive_rho(p, "graf2021.ce")
    out = {}
    if need_z:
        out["Z"] = st.ball(p.N, p.h, rho) if "norm<=rho" in active else st.real_matrix(p.N, p.h, rho)
    if need_w:
        out["W"] = st.real_matrix(p.K, p.h, 1.0)
    if need_y:
        if "balanced" in active:
            out["y"] = st.balanced_labels(p.N, p.K)
        elif every_class:
            out["y"] = st.imbalanced_labels(p.N, p.K, min_count=1)
        else:
            out["y"] = st.labels(p.N, p.K)
    return out


def _ce_requires(p, active):
    if "balanced" in active:
        return _balanced_reason(p)
    return None


def _jensen_exponent(Z, W, y, K: int):
    r""":math:`s = \frac{1}{N(K-1)}\sum_n \sum_{k \ne y_n} \langle z_n, w_k - w_{y_n}\rangle`, literally."""
    N = Z.shape[0]
    logits = Z @ W.T
    target = logits[np.arange(N), y]
    others = _like(1 - _onehot(y, K), logits)  # the k != y_n mask
    return xp.sum((logits - target[:, None]) * others) / (N * (K - 1))


def _class_vectors(W, y, K: int):
    r"""Rows :math:`v_n = \bar w - K w_{y_n}` with :math:`\bar w = \sum_k w_k` (graf2021's notation)."""
    wbar = xp.sum(W, axis=0)
    return wbar[None, :] - K * W[y]


@claim(
    id="graf2021.ce.bound",
    statement_latex=r"\|z_n\| \le \rho,\ Y \text{ balanced} \implies \mathcal{L}_{\mathrm{CE}}(Z, W; Y) \ge \log\Bigl(1 + (K-1)\exp\Bigl(-\frac{\rho\sqrt{K}}{K-1}\|W\|_F\Bigr)\Bigr)",
    cite=CITE,
    kind="inequality",
    statement="If ||z_n|| <= rho for all n and Y is balanced, then "
              "L_CE(Z, W; Y) >= log(1 + (K-1) exp(-rho sqrt(K)/(K-1) ||W||_F))",
    params=(_N_CE, _K, _H, _RHO),
    assumptions=(BALANCED, BALL),
    inputs=_ce_inputs,
    relation=">=",
    requires=_ce_requires,
    family="ce",
)
def ce_bound(Z, W, y, *, p):
    r"""``(L_CE(Z, W; Y), log(1 + (K-1) exp(-rho sqrt(K)/(K-1) ||W||_F)))`` (graf2021, section 2).

    .. math:: L_{CE}(Z, W; Y) \ge \log\Big(1 + (K-1)\exp\big(-\rho\tfrac{\sqrt K}{K-1}\|W\|_F\big)\Big)
    """
    return cross_entropy(Z, W, y), ce_lower_bound(p.K, p.rho, xp.norm(W))


@claim(
    id="graf2021.ce.step1-jensen",
    statement_latex=r"\mathcal{L}_{\mathrm{CE}}(Z, W; Y) \ge \log\bigl(1 + (K-1)e^{s}\bigr), \qquad s = \frac{1}{N(K-1)} \sum_n \sum_{k \ne y_n} \langle z_n, w_k - w_{y_n} \rangle",
    cite=CITE,
    kind="inequality",
    statement="Step 1 (Jensen on the convex t -> log(1 + sum_k e^{t_k}), over samples and over the "
              "K-1 wrong classes): L_CE(Z, W; Y) >= log(1 + (K-1) exp(s)) with "
              "s = 1/(N(K-1)) sum_n sum_{k != y_n} <z_n, w_k - w_{y_n}>; for every Z, W, Y",
    params=(_N_CE, _K, _H, _RHO),
    inputs=lambda p, active: _ce_inputs(p, set()),
    relation=">=",
    family="ce",
)
def ce_step1_jensen(Z, W, y, *, p):
    """``(L_CE, log(1 + (K-1) e^s))``; no assumption needed (graf2021, CE proof, step 1)."""
    return cross_entropy(Z, W, y), _log1p_exp_shifted(_jensen_exponent(Z, W, y, p.K), p.K)


def _sum_identity_proof(p):
    """Exact sympy proof: every (K, h) up to the symbolic module's limit, else the general form."""
    from .. import symbolic

    limit = symbolic.LIMITS["ce_sum"]
    if p.K <= limit and p.h <= limit:
        return symbolic.prove_ce_sum_identity(p.K, p.h)
    # beyond the explicit limit the general-form chain (symbolic K, h) covers every size
    return symbolic.prove_chain("graf2021.ce.sum-identity", {"K": p.K, "h": p.h}, symbolic.ce_sum_equations())


@claim(
    id="graf2021.ce.step2-sum-identity",
    statement_latex=r"\sum_{k \ne y} (w_k - w_y) = \bar{w} - K w_y, \qquad \bar{w} = \sum_k w_k",
    cite=CITE,
    kind="identity",
    statement="Step 2: sum_{k != y}(w_k - w_y) = wbar - K w_y with wbar = sum_k w_k; checked as "
              "sum_n <z_n, sum_{k != y_n}(w_k - w_{y_n})> = sum_n <z_n, wbar - K w_{y_n}> and proved "
              "exactly with sympy",
    params=(_N_CE, _K, _H, _RHO),
    inputs=lambda p, active: _ce_inputs(p, set()),
    proof=_sum_identity_proof,
    summary_keys=("proof", "inputs_tried", "worst_slack"),
    family="ce",
)
def ce_step2_sum_identity(Z, W, y, *, p):
    """Both sides of the step-2 identity, paired with the embeddings (graf2021, CE proof)."""
    K = p.K
    # left: the sum over k != y_n written out, the (K-1) differences w_k - w_{y_n}
    mask = _like(1 - _onehot(y, K), W)
    lhs_vectors = mask @ W - (K - 1) * W[y]
    return xp.sum(Z * lhs_vectors), xp.sum(Z * _class_vectors(W, y, K))


@claim(
    id="graf2021.ce.step3-cauchy-schwarz",
    statement_latex=r"\sum_n \langle z_n, \bar{w} - K w_{y_n} \rangle \ge -\rho \sum_n \|\bar{w} - K w_{y_n}\| \qquad (\|z_n\| \le \rho)",
    cite=CITE,
    kind="inequality",
    statement="Step 3 (Cauchy-Schwarz with ||z_n|| <= rho): "
              "sum_n <z_n, wbar - K w_{y_n}> >= -rho sum_n ||wbar - K w_{y_n}||",
    params=(_N_CE, _K, _H, _RHO),
    assumptions=(BALL,),
    inputs=lambda p, active: _ce_inputs(p, set(active)),
    relation=">=",
    family="ce",
)
def ce_step3_cauchy_schwarz(Z, W, y, *, p):
    """``(sum_n <z_n, v_n>, -rho sum_n ||v_n||)`` with v_n = wbar - K w_{y_n} (graf2021, step 3)."""
    V = _class_vectors(W, y, p.K)
    return xp.sum(Z * V), -xp.scalar(p.rho, V) * xp.sum(xp.norm(V, axis=1))


@claim(
    id="graf2021.ce.step4-balance",
    statement_latex=r"\sum_n \|\bar{w} - K w_{y_n}\| = \frac{N}{K} \sum_y \|\bar{w} - K w_y\| \le N \sqrt{K}\, \|W\|_F \qquad (Y \text{ balanced})",
    cite=CITE,
    kind="inequality",
    statement="Step 4 (balance, then Cauchy-Schwarz over the K classes and "
              "sum_y ||wbar - K w_y||^2 = K^2 ||W||_F^2 - K ||wbar||^2): for balanced Y, "
              "sum_n ||wbar - K w_{y_n}|| = (N/K) sum_y ||wbar - K w_y|| <= N sqrt(K) ||W||_F",
    params=(_N_CE, _K, _H, _RHO),
    assumptions=(BALANCED,),
    inputs=lambda p, active: _ce_inputs(p, set(active), need_z=False),
    relation="<=",
    requires=_ce_requires,
    family="ce",
)
def ce_step4_balance(W, y, *, p):
    """``(sum_n ||wbar - K w_{y_n}||, N sqrt(K) ||W||_F)`` (graf2021, CE proof, step 4)."""
    V = _class_vectors(W, y, p.K)
    N = V.shape[0]
    return xp.sum(xp.norm(V, axis=1)), N * _sqrt_int(p.K, V) * xp.norm(W)


@claim(
    id="graf2021.ce.step5-combine",
    statement_latex=r"s \ge -\frac{\rho\sqrt{K}}{K-1}\|W\|_F \implies \log\bigl(1 + (K-1)e^{s}\bigr) \ge \log\Bigl(1 + (K-1)\exp\Bigl(-\frac{\rho\sqrt{K}}{K-1}\|W\|_F\Bigr)\Bigr)",
    cite=CITE,
    kind="inequality",
    statement="Step 5 (combine steps 2-4 with the monotonicity of s -> log(1 + (K-1) e^s)): for "
              "balanced Y and ||z_n|| <= rho, s >= -rho sqrt(K)/(K-1) ||W||_F, hence "
              "log(1 + (K-1) e^s) >= log(1 + (K-1) exp(-rho sqrt(K)/(K-1) ||W||_F)); with step 1 this is "
              "graf2021.ce.bound",
    params=(_N_CE, _K, _H, _RHO),
    assumptions=(BALANCED, BALL),
    inputs=_ce_inputs,
    relation=">=",
    requires=_ce_requires,
    family="ce",
)
def ce_step5_combine(Z, W, y, *, p):
    """``(log(1 + (K-1) e^s), the bound)`` (graf2021, CE proof, step 5)."""
    return (_log1p_exp_shifted(_jensen_exponent(Z, W, y, p.K), p.K),
            ce_lower_bound(p.K, p.rho, xp.norm(W)))


# -- equality and the L2 corollary: characterizations judged by optimisation


def _w_norm(p) -> float:
    return check_real(p.w_norm, "w_norm", "claim 'graf2021.ce.equality'", gt=0.0)


def _lifted_ball(p, active):
    r"""The embeddings of the CE characterizations: rows of ``Z_lifted`` in R^{h+1}, Z = Z_lifted[:, :h].

    With ``norm<=rho`` the rows lie on the sphere of radius rho in R^{h+1}, whose projections onto
    the first h coordinates are exactly the closed ball of radius rho in R^h: a smooth
    parametrisation of the ball. Projecting onto the ball itself puts a kink in the objective
    where the minimisers are (on its boundary), and L-BFGS stalls there at K = 10 (gradient norm
    ~0.04 after 100 iterations); on the lifted sphere it converges to 1e-9. Without
    ``norm<=rho``: unconstrained (the last column is unused).
    """
    rho = _positive_rho(p, "graf2021.ce")
    return st.sphere(p.N, p.h + 1, rho) if "norm<=rho" in active else st.real_matrix(p.N, p.h + 1, rho)


def _aligned_witness(p, row_norm: float, *, flat: bool) -> dict:
    """Collapsed simplex (classes in blocks, lifted with a 0 last coordinate) and the aligned simplex
    W with the given row norm."""
    rho = _positive_rho(p, "graf2021.ce")
    y = _sorted_labels(p.N, p.K)
    zeta = _simplex_points(p.K, p.h, rho)
    W = zeta * (row_norm / rho)
    lifted = np.concatenate([zeta[y], np.zeros((p.N, 1))], axis=1)
    return {"Z_lifted": lifted, "W": W.reshape(1, -1) if flat else W, "y": y}


def _lifted_distance(Z_lifted, W, y, p, row_norm: float) -> float:
    return _collapse_and_alignment(np.asarray(Z_lifted, dtype=np.float64)[:, : p.h], W, y, p, row_norm)


def _collapse_and_alignment(Z, W, y, p, row_norm: float) -> float:
    r"""max(d_collapse, d_align): 0 iff (i)-(iii) hold with ||w_y|| = row_norm.

    d_collapse = :func:`~theorycheck.geometry.distance_to_collapsed_simplex` (radius rho), and
    :math:`d_{align} = \|W - \frac{s}{\rho} M\|_F / (s\sqrt K)` with M the class means and s the
    row norm: 0 iff every w_y = (s/rho) zeta_y.
    """
    Z = np.asarray(Z, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64).reshape(p.K, p.h)
    d_collapse = distance_to_collapsed_simplex(Z, y, radius=p.rho, K=p.K)
    M = class_means(Z, y, p.K)
    d_align = float(np.linalg.norm(W - (row_norm / p.rho) * M)) / (row_norm * math.sqrt(p.K))
    return max(d_collapse, d_align)


def _equality_inputs(p, active):
    out = _ce_inputs(p, active, need_z=False, every_class=True)
    # W on the Frobenius sphere of radius w_norm, stored flattened as one row of length K h
    return {"Z_lifted": _lifted_ball(p, active), "W": st.sphere(1, p.K * p.h, _w_norm(p)), "y": out["y"]}


def _equality_requires(p, active):
    return _requires(("balanced", _balanced_reason), ("h>=K-1", _dim_reason))(p, active)


@claim(
    id="graf2021.ce.equality",
    statement_latex=r"\mathcal{L}_{\mathrm{CE}}(Z, W; Y) = \log\Bigl(1 + (K-1)\exp\Bigl(-\frac{\rho\sqrt{K}}{K-1}\|W\|_F\Bigr)\Bigr) \iff z_n = \zeta_{y_n},\ \zeta \text{ a regular simplex},\ w_y \propto \zeta_y",
    cite=CITE,
    kind="characterization",
    statement="Equality in graf2021.ce.bound holds iff (i) the classes collapse, z_n = zeta_{y_n}; "
              "(ii) the zeta form a rho-inscribed regular simplex; (iii) the rows of W form a regular "
              "simplex aligned with it (w_y proportional to zeta_y). Requires h >= K-1. Checked at "
              "fixed ||W||_F = w_norm: min over Z in the ball of L_CE equals the bound, and every "
              "minimiser satisfies (i)-(iii) (Z = Z_lifted[:, :h], Z_lifted on the sphere in R^{h+1}: "
              "exactly the ball)",
    params=(_N_CE, _K, Param("h", 2, "embedding dimension", min=1), _RHO,
            Param("w_norm", 2.0, "Frobenius norm of W (> 0)", type=float, min=0.0)),
    search=_search(4, 500),
    assumptions=(BALANCED, BALL, DIM),
    inputs=_equality_inputs,
    optimum=lambda p: ce_lower_bound(p.K, p.rho, _w_norm(p)),
    witness=lambda p: _aligned_witness(p, _w_norm(p) / math.sqrt(p.K), flat=True),
    distance=lambda Z_lifted, W, y, p: _lifted_distance(Z_lifted, W, y, p, p.w_norm / math.sqrt(p.K)),
    requires=_equality_requires,
    summary_keys=("claimed_optimum", "best_value", "max_distance"),
    family="ce",
)
def ce_equality(Z_lifted, W, y, *, p):
    """L_CE(Z, W; Y), Z = Z_lifted[:, :h], W given flattened on the Frobenius sphere (graf2021)."""
    return cross_entropy(Z_lifted[:, : p.h], W.reshape(p.K, p.h), y)


#: Readings of the slide's r_W equation: what r_W measures and which penalty lambda multiplies.
#: ``row`` is the slide's own wording (the weights are "inscribed in the sphere of radius r_W":
#: every row has norm r_W) with the penalty lambda ||W||_F^2 of the corollary; ``frobenius``
#: reads r_W as ||W||_F; ``half-lambda`` keeps the row reading with the other common penalty
#: convention, (lambda/2) ||W||_F^2.
L2_READINGS = {
    "row": ("graf2021.ce.l2", 1.0, False),
    "frobenius": ("graf2021.ce.l2-frobenius", 1.0, True),
    "half-lambda": ("graf2021.ce.l2-half-lambda", 0.5, False),
}


def _lam(p, claim_id: str) -> float:
    return check_real(p.lam, "lam", f"claim {claim_id!r}", gt=0.0)


def _literal_row_norm(p, reading: str) -> float:
    """The row norm the slide's r_W stands for in ``reading``."""
    claim_id, _, frobenius = L2_READINGS[reading]
    r = r_w_literal(p.K, _positive_rho(p, claim_id), _lam(p, claim_id))
    return r / math.sqrt(p.K) if frobenius else r


def _l2_inputs(p, active):
    out = _ce_inputs(p, active, need_z=False, every_class=True)
    _lam(p, "graf2021.ce.l2")
    return {"Z_lifted": _lifted_ball(p, active), "W": out["W"], "y": out["y"]}


def _l2_value_at(p, row_norm: float, penalty: float = 1.0) -> float:
    """L_CE + penalty lam ||W||_F^2 at the collapsed simplex with the aligned W of this row norm.

    There L_CE equals the bound (graf2021.ce.equality), so the value is the bound at
    ||W||_F = sqrt(K) row_norm plus the penalty.
    """
    return float(ce_l2_lower_bound(p.K, p.rho, penalty * p.lam, math.sqrt(p.K) * row_norm))


_L2_PARAMS = (_N_CE, _K, Param("h", 2, "embedding dimension", min=1), _RHO, _LAM)

_L2_STATEMENTS = {
    "row": "(as printed on the seed slide) L_CE(Z, W; Y) + lambda ||W||_F^2 is minimal iff (i)-(iii) hold "
           "and the weights form a regular simplex inscribed in the sphere of radius r_W (||w_y|| = r_W for "
           "all y), r_W the solution of 2 lambda r_W (exp(K/(K-1) rho r_W) + K - 1) - rho = 0",
    "frobenius": "(the slide's corollary with r_W read as ||W||_F) L_CE(Z, W; Y) + lambda ||W||_F^2 is minimal "
                 "iff (i)-(iii) hold with ||W||_F = r_W, r_W the solution of "
                 "2 lambda r_W (exp(K/(K-1) rho r_W) + K - 1) - rho = 0",
    "half-lambda": "(the slide's corollary with the penalty convention (lambda/2) ||W||_F^2) "
                   "L_CE(Z, W; Y) + (lambda/2) ||W||_F^2 is minimal iff (i)-(iii) hold with ||w_y|| = r_W, "
                   "r_W the solution of 2 lambda r_W (exp(K/(K-1) rho r_W) + K - 1) - rho = 0",
}

#: The same readings as LaTeX (rendered as MathML in the HTML report, verbatim in LaTeX).
_L2_LATEX = {
    "row": r"\min\, \mathcal{L}_{\mathrm{CE}}(Z, W; Y) + \lambda\|W\|_F^2 \text{ at } \|w_y\| = r_W, \qquad 2\lambda r_W\Bigl(e^{\frac{K}{K-1}\rho r_W} + K - 1\Bigr) - \rho = 0",
    "frobenius": r"\min\, \mathcal{L}_{\mathrm{CE}}(Z, W; Y) + \lambda\|W\|_F^2 \text{ at } \|W\|_F = r_W, \qquad 2\lambda r_W\Bigl(e^{\frac{K}{K-1}\rho r_W} + K - 1\Bigr) - \rho = 0",
    "half-lambda": r"\min\, \mathcal{L}_{\mathrm{CE}}(Z, W; Y) + \tfrac{\lambda}{2}\|W\|_F^2 \text{ at } \|w_y\| = r_W, \qquad 2\lambda r_W\Bigl(e^{\frac{K}{K-1}\rho r_W} + K - 1\Bigr) - \rho = 0",
}


def _l2_reading(reading: str):
    """Register the slide's L2 corollary in one reading (see :data:`L2_READINGS`)."""
    claim_id, penalty, _ = L2_READINGS[reading]

    def evaluate(Z_lifted, W, y, *, p):
        """L_CE(Z, W; Y) + penalty lam ||W||_F^2, Z = Z_lifted[:, :h] (graf2021, L2 corollary)."""
        return cross_entropy(Z_lifted[:, : p.h], W, y, l2=penalty * p.lam)

    evaluate.__name__ = evaluate.__qualname__ = "ce_l2" if reading == "row" else "ce_l2_" + reading.replace("-", "_")
    return claim(
        id=claim_id,
        cite=CITE,
        kind="characterization",
        statement=_L2_STATEMENTS[reading],
        statement_latex=_L2_LATEX[reading],
        params=_L2_PARAMS,
        search=_search(4, 500),
        assumptions=(BALANCED, BALL, DIM),
        inputs=_l2_inputs,
        optimum=lambda p: _l2_value_at(p, _literal_row_norm(p, reading), penalty),
        witness=lambda p: _aligned_witness(p, _literal_row_norm(p, reading), flat=False),
        distance=lambda Z_lifted, W, y, p: _lifted_distance(Z_lifted, W, y, p, _literal_row_norm(p, reading)),
        requires=_equality_requires,
        summary_keys=("claimed_optimum", "best_value", "max_distance"),
        family="ce",
    )(evaluate)


ce_l2 = _l2_reading("row")
ce_l2_frobenius = _l2_reading("frobenius")
ce_l2_half_lambda = _l2_reading("half-lambda")


def _l2_equation_inputs(p, active):
    rho = _positive_rho(p, "graf2021.ce.l2-equation")
    a = rho * math.sqrt(p.K) / (p.K - 1)
    # r up to where a r = 30: both sides stay far from overflow, and the roots (a r of order 1)
    # lie well inside
    return {"r": st.real(0.0, 30.0 / a), "lam": st.real(1e-3, 10.0)}


def _l2_equation_proof(p):
    """Exact: the difference of the two sides simplifies to 0 for symbolic K, rho, lam, r > 0."""
    import sympy as sp

    K, rho, lam, r = sp.symbols("K rho lam r", positive=True)
    s = r / sp.sqrt(K)
    a = rho * sp.sqrt(K) / (K - 1)
    slide = 2 * lam * s * (sp.exp(K / (K - 1) * rho * s) + K - 1) - rho
    g_prime = 2 * lam * r - a * (K - 1) / (sp.exp(a * r) + K - 1)
    return sp.simplify(slide - g_prime * (sp.exp(a * r) + K - 1) / sp.sqrt(K)) == 0


@claim(
    id="graf2021.ce.l2-equation",
    statement_latex=r"2\lambda s\Bigl(e^{\frac{K}{K-1}\rho s} + K - 1\Bigr) - \rho = \frac{g'(r)\,(e^{a r} + K - 1)}{\sqrt{K}}, \qquad g(r) = \log\bigl(1 + (K-1)e^{-a r}\bigr) + \lambda r^2,\ a = \frac{\rho\sqrt{K}}{K-1},\ s = \frac{r}{\sqrt{K}}",
    cite=CITE,
    kind="identity",
    statement="With a = rho sqrt(K)/(K-1), g(r) = log(1 + (K-1) e^{-a r}) + lambda r^2 (the bound plus the "
              "penalty at ||W||_F = r) and s = r/sqrt(K) (the row norm of a regular simplex of "
              "Frobenius norm r): 2 lambda s (e^{K/(K-1) rho s} + K - 1) - rho = "
              "g'(r) (e^{a r} + K - 1)/sqrt(K); so the slide's equation is g'(r) = 0 with r_W the row norm",
    params=(_K, _RHO),
    inputs=_l2_equation_inputs,
    proof=_l2_equation_proof,
    summary_keys=("proof", "inputs_tried", "worst_slack"),
    family="ce",
)
def ce_l2_equation(r, lam, *, p):
    """Both sides of the rescaling identity between the slide's equation and g'(r) (graf2021)."""
    K = p.K
    rho = xp.scalar(p.rho, r)
    sqrt_k = _sqrt_int(K, r)
    s = r / sqrt_k
    a = rho * sqrt_k / (K - 1)
    slide = 2 * lam * s * (xp.exp(K * rho * s / (K - 1)) + (K - 1)) - rho
    e = xp.exp(a * r) + (K - 1)
    g_prime = 2 * lam * r - a * (K - 1) / e
    return slide, g_prime * e / sqrt_k


def _corrected_row_norm(p) -> float:
    return ce_l2_minimiser(p.K, _positive_rho(p, "graf2021.ce.l2-corrected"),
                           _lam(p, "graf2021.ce.l2-corrected")).row_norm


@claim(
    id="graf2021.ce.l2-corrected",
    statement_latex=r"\min\, \mathcal{L}_{\mathrm{CE}}(Z, W; Y) + \lambda\|W\|_F^2 = g(r^\star) \text{ at } \|W\|_F = r^\star, \qquad g'(r^\star) = 2\lambda r^\star - \frac{a(K-1)}{e^{a r^\star} + K - 1} = 0",
    cite=CITE,
    kind="characterization",
    statement="L_CE(Z, W; Y) + lambda ||W||_F^2 (balanced Y, ||z_n|| <= rho, h >= K-1) is minimal iff "
              "(i)-(iii) hold with ||W||_F = r*, the unique root of g'(r) = 2 lambda r - "
              "a (K-1)/(e^{a r} + K - 1), a = rho sqrt(K)/(K-1); every row then has norm r*/sqrt(K), and "
              "the minimum is g(r*) = log(1 + (K-1) e^{-a r*}) + lambda r*^2",
    params=_L2_PARAMS,
    search=_search(4, 500),
    assumptions=(BALANCED, BALL, DIM),
    inputs=_l2_inputs,
    optimum=lambda p: ce_l2_minimiser(p.K, _positive_rho(p, "graf2021.ce.l2-corrected"),
                                      _lam(p, "graf2021.ce.l2-corrected")).objective,
    witness=lambda p: _aligned_witness(p, _corrected_row_norm(p), flat=False),
    distance=lambda Z_lifted, W, y, p: _lifted_distance(Z_lifted, W, y, p, _corrected_row_norm(p)),
    requires=_equality_requires,
    corrects="graf2021.ce.l2",
    summary_keys=("claimed_optimum", "best_value", "max_distance"),
    family="ce",
)
def ce_l2_corrected(Z_lifted, W, y, *, p):
    """L_CE(Z, W; Y) + lam ||W||_F^2, Z = Z_lifted[:, :h] (graf2021, L2 corollary, derived statement)."""
    return cross_entropy(Z_lifted[:, : p.h], W, y, l2=p.lam)


# --------------------------------------------------------------------------- section 3: SC loss


def _n_distinct_batches(N: int, b: int, batches: str) -> int:
    return math.comb(N, b) if batches == "subset" else math.comb(N + b - 1, b)


@functools.lru_cache(maxsize=32)
def batch_plan(N: int, b: int, batches: str, stride: int = 1):
    """Index arrays of a batch set, computed once per size (every optimisation step reuses them).

    Parameters
    ----------
    N, b : int
        Number of samples and batch size.
    batches : {"multiset", "subset", "ordered"}
        ``multiset``/``ordered``: every multiset of size b (ordered tuples are grouped by their
        multiset and weighted by their number of orderings b!/prod m!); ``subset``: every
        b-subset. Positions in a batch are distinct even when indices repeat.
    stride : int
        1 for the whole batch set; s > 1 keeps every s-th batch of the enumeration
        (a systematic sub-sample, weighted up to the size of the whole set).

    Returns
    -------
    dict
        ``idx`` (M, b) int64 batch indices; ``weight`` (M,) int64 multiplicities; ``others``
        (b, b-1) the positions k != i of every position i; ``scale`` (Fraction) the factor
        that turns the sub-sample's sum into an estimate of the whole set's (1 if stride = 1);
        ``n_batches`` the number of batches in the whole set.

    Raises
    ------
    InvalidArgumentError
        More than :data:`EXACT_BATCH_LIMIT` distinct batches, or ``b > N`` for subsets.
    """
    caller = "batch_plan"
    N = check_int(N, "N", caller, min_value=1)
    b = check_int(b, "b", caller, min_value=2)
    stride = check_int(stride, "stride", caller, min_value=1)
    if batches not in BATCH_SETS:
        raise fail("batches", caller, f"one of {', '.join(map(repr, BATCH_SETS))}", batches)
    if batches == "subset" and b > N:
        raise fail("b", caller, f"<= N = {N} for batches='subset'", b)
    distinct = _n_distinct_batches(N, b, batches)
    if distinct > EXACT_BATCH_LIMIT:
        raise fail("b", caller, f"small enough that the batch set has at most {EXACT_BATCH_LIMIT} distinct "
                                f"batches to enumerate ({distinct} at N={N}, b={b}, {batches}); use "
                                f"graf2021.sc.minimum-sampled at these sizes", b)
    source = (itertools.combinations(range(N), b) if batches == "subset"
              else itertools.combinations_with_replacement(range(N), b))
    idx = np.fromiter(itertools.chain.from_iterable(source), dtype=np.int64, count=distinct * b).reshape(distinct, b)
    if batches == "ordered":
        fact = [math.factorial(k) for k in range(b + 1)]
        weight = np.array([fact[b] // math.prod(fact[m] for m in np.bincount(row).tolist()) for row in idx],
                          dtype=np.int64)
        n_batches = N ** b
    else:
        weight = np.ones(distinct, dtype=np.int64)
        n_batches = distinct
    scale = Fraction(1)
    if stride > 1:
        keep = np.arange(0, distinct, stride)
        scale = Fraction(int(weight.sum()), int(weight[keep].sum()))
        idx, weight = idx[keep], weight[keep]
    others = np.array([[k for k in range(b) if k != i] for i in range(b)], dtype=np.int64).reshape(b, b - 1)
    return {"idx": idx, "weight": weight, "others": others, "scale": scale, "n_batches": n_batches}


def _scale_like(scale: Fraction, like: Any):
    if xp.kind(like) == "mp":
        return mpmath.mpf(scale.numerator) / scale.denominator
    return float(scale)


def _sc_sum(Z, y: np.ndarray, plan: dict):
    r"""Sum of l(Z; B) over the plan's batches (weighted, scaled): the L_SC of docs/theory.md section 3.

    .. math:: l(Z; B) = \sum_{i \in B, |B_{y_i}| \ge 2} \frac{-1}{|B_{y_i}|-1}\sum_{j \in B_{y_i}\setminus\{i\}}
              \log\frac{e^{\langle z_i, z_j\rangle}}{\sum_{k \in B\setminus\{i\}} e^{\langle z_i, z_k\rangle}}

    The same value as :func:`theorycheck.losses.sc_loss` with ``method="exact"`` (tested), with
    the batch index arrays built once instead of at every call.
    """
    idx, others = plan["idx"], plan["others"]
    b = idx.shape[1]
    G = Z @ Z.T
    S = G[idx[:, :, None], idx[:, None, :]]          # (M, b, b) logits of every batch
    S_others = G[idx[:, :, None], idx[:, others]]     # (M, b, b-1): the k != i entries
    lse = xp.logsumexp(S_others, axis=-1)
    labels = y[idx]
    positives = (labels[:, :, None] == labels[:, None, :]) & ~np.eye(b, dtype=bool)
    count = positives.sum(axis=-1)
    attract = xp.sum(S * _like(positives, S), axis=-1) / _like(np.maximum(count, 1), S)
    terms = lse * _like(count > 0, S) - attract       # anchors without a positive contribute 0
    per_batch = xp.sum(terms, axis=-1)
    return xp.sum(per_batch * _like(plan["weight"], per_batch)) * _scale_like(plan["scale"], per_batch)


def _simplex_value(y: np.ndarray, plan: dict, K: int, rho: float, like: Any):
    r"""L over the plan's batches at the collapsed regular simplex, from the per-anchor formula.

    At the simplex an anchor whose batch holds l samples of its class contributes
    :math:`\log(l - 1 + (b-l)e^{-\rho^2 K/(K-1)})` (docs/theory.md section 3), for any labels.
    """
    idx = plan["idx"]
    b = idx.shape[1]
    labels = y[idx]
    same = (labels[:, :, None] == labels[:, None, :]).sum(axis=-1)       # l of every anchor
    per_l = np.zeros(b + 1, dtype=object)
    for l in range(2, b + 1):
        per_l[l] = int(((same == l) * plan["weight"][:, None]).sum())
    if xp.kind(like) == "mp":
        decay = mpmath.exp(-mpmath.mpf(rho) ** 2 * K / (K - 1))
        total = mpmath.fsum(per_l[l] * (mpmath.log(l - 1) + mpmath.log1p((b - l) * decay / (l - 1)))
                            for l in range(2, b + 1))
        return total * _scale_like(plan["scale"], like)
    decay = math.exp(-rho * rho * K / (K - 1))
    total = math.fsum(float(per_l[l]) * (math.log(l - 1) + math.log1p((b - l) * decay / (l - 1)))
                      for l in range(2, b + 1))
    return total * float(plan["scale"])


def _sc_closed_form(p) -> float:
    """The closed-form minimum (graf2021.sc.minimum) at p, or 0.0 when K does not divide N."""
    if p.N % p.K:
        return 0.0
    return sc_minimum(p.N, p.K, p.b, _positive_rho(p, "graf2021.sc"), p.batches).total


def sc_batch_set_loss(Z, y, batch_stride, *, p):
    r"""L_SC over the batch set, referenced to the collapsed simplex of the same labels and batches.

    With the theorem's hypotheses on the inputs (balanced y, the whole batch set) this is
    :math:`L_{SC}(Z; Y)` itself. Otherwise (an ablation: imbalanced labels, or every
    ``batch_stride``-th batch only) it is :math:`L(Z) - L(Z^\ast) + c`, with
    :math:`L(Z^\ast)` the value at the collapsed regular simplex for these labels and batches
    (per-anchor formula) and c the closed form of the balanced problem: below c exactly when
    Z beats the collapsed simplex, so the claimed optimum c keeps its meaning.
    """
    stride = int(batch_stride)
    plan = batch_plan(p.N, p.b, p.batches, stride)
    y = np.asarray(y, dtype=np.int64)
    loss = _sc_sum(Z, y, plan)
    counts = np.bincount(y, minlength=p.K)
    if stride == 1 and p.N % p.K == 0 and counts.size == p.K and np.all(counts == p.N // p.K):
        return loss
    reference = _simplex_value(y, plan, p.K, p.rho, loss)
    return loss - reference + xp.scalar(_sc_closed_form(p), reference)


def _sc_inputs(p, active, *, every_class: bool):
    rho = _positive_rho(p, "graf2021.sc")
    if p.batches == "subset" and p.b > p.N:
        raise fail("b", "claim 'graf2021.sc'", f"<= N = {p.N} for batches='subset'", p.b)
    try:
        batch_plan(p.N, p.b, p.batches, 1)  # too many batches: a clear error before any search
    except InvalidArgumentError as exc:
        if exc.param != "b":
            raise
        # the Monte-Carlo claim runs at these sizes; a command that works, N made divisible by K
        N = -(-p.N // p.K) * p.K
        cmd = shlex.join(["theorycheck", "check", "graf2021.sc.minimum-sampled"] + [
            a for k, v in (("N", N), ("K", p.K), ("h", max(p.h, p.K - 1)), ("rho", p.rho), ("b", min(p.b, N)),
                           ("batches", p.batches)) for a in ("--param", f"{k}={v}")])
        raise fail("b", "claim 'graf2021.sc'",
                   f"small enough that the batch set has at most {EXACT_BATCH_LIMIT} distinct batches to "
                   f"enumerate ({_n_distinct_batches(p.N, p.b, p.batches)} at N={p.N}, b={p.b}, {p.batches}); "
                   f"at these sizes run the Monte-Carlo claim: {cmd}", p.b) from None
    if "balanced" in active:
        y = st.balanced_labels(p.N, p.K)
    else:
        y = st.imbalanced_labels(p.N, p.K, min_count=1) if every_class else st.labels(p.N, p.K)
    Z = st.sphere(p.N, p.h, rho) if "sphere" in active else st.ball(p.N, p.h, rho)
    stride = 1 if BATCH_SET.name in active else SUBSAMPLE_STRIDE
    return {"Z": Z, "y": y, "batch_stride": st.fixed(np.array(stride, dtype=np.int64))}


def _sc_witness(p):
    rho = _positive_rho(p, "graf2021.sc")
    y = _sorted_labels(p.N, p.K)
    return {"Z": _simplex_points(p.K, p.h, rho)[y], "y": y, "batch_stride": np.array(1, dtype=np.int64)}


def _sc_requires(p, active):
    return _requires(("balanced", _balanced_reason), ("h>=K-1", _dim_reason),
                     ("b>=3", _batch_size_reason))(p, active)


_SC_PARAMS = (_N_SC, _K, _H, _RHO, _B, _BATCHES)


@claim(
    id="graf2021.sc.minimum",
    statement_latex=r"\min_{\|z_n\| = \rho} \mathcal{L}_{\mathrm{SC}}(Z; Y) = \sum_{l=2}^{b} l\, M_l \log\Bigl(l - 1 + (b - l)\exp\Bigl(-\frac{\rho^2 K}{K-1}\Bigr)\Bigr)",
    cite=CITE,
    kind="optimum",
    statement="For balanced Y (N/K samples per class) and ||z_n|| = rho, the minimum of L_SC over the batch set is "
              "sum_{l=2..b} l M_l log(l - 1 + (b-l) exp(-rho^2 K/(K-1))), attained at the collapsed "
              "regular simplex (M_l per batch set as in docs/theory.md section 3); checked by exact "
              "enumeration of the batches: L_SC at the simplex equals it and no configuration goes below",
    params=_SC_PARAMS,
    search=_search(2, 300),
    assumptions=(SPHERE, DIM),
    # balanced labels are part of the statement (the closed form is defined for them)
    inputs=lambda p, active: _sc_inputs(p, set(active) | {"balanced", "all batches"}, every_class=False),
    optimum=_sc_closed_form,
    witness=_sc_witness,
    requires=_requires(("h>=K-1", _dim_reason)),
    summary_keys=("claimed_optimum", "witness_value", "best_value"),
    family="supcon",
)
def sc_minimum_claim(Z, y, batch_stride, *, p):
    """L_SC(Z; Y) over the whole batch set, by exact enumeration (graf2021, section 3)."""
    plan = batch_plan(p.N, p.b, p.batches, int(batch_stride))
    return _sc_sum(Z, np.asarray(y, dtype=np.int64), plan)


@claim(
    id="graf2021.sc.simplex",
    statement_latex=r"\mathcal{L}_{\mathrm{SC}}(Z; Y) \text{ minimal on } \|z_n\| = \rho \iff z_n = \zeta_{y_n},\ \zeta \text{ a } \rho\text{-inscribed regular simplex}",
    cite=CITE,
    kind="characterization",
    statement="If ||z_n|| = rho for all n and Y is balanced, L_SC(Z; Y) (summed over the whole batch set) "
              "is minimal iff the classes collapse onto a rho-inscribed regular simplex, "
              "z_n = zeta_{y_n}; judged by multi-start optimisation on the sphere with exact batch "
              "enumeration: never below the closed form, reaching it, at distance -> 0 from the nearest "
              "collapsed regular simplex",
    params=_SC_PARAMS,
    search=_search(4, 300),
    assumptions=(BALANCED, SPHERE, DIM, BATCH_SIZE, BATCH_SET),
    inputs=lambda p, active: _sc_inputs(p, set(active), every_class=True),
    optimum=_sc_closed_form,
    witness=_sc_witness,
    distance=lambda Z, y, batch_stride, p: distance_to_collapsed_simplex(Z, y, radius=p.rho, K=p.K),
    requires=_sc_requires,
    summary_keys=("claimed_optimum", "best_value", "max_distance"),
    family="supcon",
)
def sc_simplex(Z, y, batch_stride, *, p):
    """L_SC over the batch set (see :func:`sc_batch_set_loss`) (graf2021, section 3)."""
    return sc_batch_set_loss(Z, y, batch_stride, p=p)


def _sampled_inputs(p, active):
    rho = _positive_rho(p, "graf2021.sc.minimum-sampled")
    if p.N % p.K:
        raise fail("N", "claim 'graf2021.sc.minimum-sampled'",
                   f"divisible by K = {p.K} (the closed form is for balanced labels)", p.N)
    if p.batches == "subset" and p.b > p.N:
        raise fail("b", "claim 'graf2021.sc.minimum-sampled'", f"<= N = {p.N} for batches='subset'", p.b)
    if p.batches == "ordered":
        draw = st.labels(p.b, p.N)                      # b i.i.d. uniform indices
    elif p.batches == "subset":
        draw = st.balanced_labels(p.N, p.N)             # a uniform permutation of [N]
    else:
        draw = st.balanced_labels(p.N + p.b - 1, p.N + p.b - 1)  # of [N + b - 1] (stars and bars)
    if p.h < p.K - 1:
        return {"zeta": st.simplex_configuration(p.K, p.h, rho), "draw": draw}  # empty: VACUOUS
    # one fixed simplex, not a random rotation per draw: l(Z; B) is rotation invariant, and a
    # (K, K) QR per draw made K = 1000 (the size the exact claims send users here for) take minutes
    return {"zeta": st.fixed(regular_simplex(p.K, p.h, rho)), "draw": draw}


def _batch_from_draw(draw: np.ndarray, p) -> np.ndarray:
    """A uniform batch of the batch set from the drawn permutation / index vector."""
    if p.batches == "ordered":
        return np.asarray(draw, dtype=np.int64)
    first = np.asarray(draw[: p.b], dtype=np.int64)
    if p.batches == "subset":
        return first
    # a uniform b-subset c_1 < ... < c_b of [N + b - 1] maps one-to-one onto the multiset {c_j - j}
    return np.sort(first) - np.arange(p.b)


@claim(
    id="graf2021.sc.minimum-sampled",
    statement_latex=r"\mathbb{E}_{B}\,\ell(Z; B) = K\, \mathbb{E}\Bigl[l \log\Bigl(l - 1 + (b - l)\exp\Bigl(-\frac{\rho^2 K}{K-1}\Bigr)\Bigr)\Bigr] \quad \text{at } z_n = \zeta_{y_n}",
    cite=CITE,
    kind="statistical",
    statement="At the collapsed regular simplex (balanced Y), the mean of l(Z; B) over a uniformly random "
              "batch B of the batch set equals the closed form divided by the number of batches, "
              "K E[l log(l - 1 + (b-l) exp(-rho^2 K/(K-1)))] (graf2021.sc.minimum at sizes too large to "
              "enumerate; Monte-Carlo, not a proof)",
    params=(Param("N", 100, "number of samples", min=2), Param("K", 10, "number of classes", min=2),
            Param("h", 9, "embedding dimension", min=1), _RHO, Param("b", 20, "batch size", min=2), _BATCHES),
    search={"draws": 2000},  # Monte-Carlo draws: an engine setting (Budget(draws=...) overrides it)
    inputs=_sampled_inputs,  # no simplex when h < K-1: an empty input space, VACUOUS
    expected=lambda p: sc_minimum(p.N, p.K, p.b, p.rho, p.batches).mean_per_batch,
    summary_keys=("mean", "expected", "n_draws"),
    family="supcon",
)
def sc_minimum_sampled(zeta, draw, *, p):
    """l(Z*; B) for the batch B drawn, Z* the collapsed simplex with labels in blocks (graf2021)."""
    B = _batch_from_draw(draw, p)
    labels = B // (p.N // p.K)
    return supcon(zeta[labels], labels, temperature=1.0, variant="out", reduction="sum")


# --------------------------------------------------------------------------- families


def _family_error(option: str, family: str, constraint: str, value: Any):
    return fail(f"--{option}", f"theorycheck verify {family}", constraint, value)


def _common_sizes(p, family: str) -> tuple[int, int, float]:
    K = p.K
    h = K - 1 if p.h is None else p.h
    rho = float(p.rho)
    if not rho > 0:
        raise _family_error("rho", family, "a real number > 0", p.rho)
    return K, h, rho


def supcon_checks(p) -> list:
    """The sub-checks of ``theorycheck verify supcon`` (defaults derived from K).

    * the regular-simplex facts at (K, h), h = K-1 by default, and the non-existence case
      h = K-2 (K >= 3);
    * ``sc.minimum`` and ``sc.simplex`` by exact enumeration: at the user's N and b when the
      batch set has at most 5000 distinct batches, else at N = 2K, b = 3;
    * ``sc.minimum-sampled`` at the user's sizes (default N = 10 K, b = 2 K);
    * ``sc.certified`` at the user's sizes (the convex-relaxation certificate; any N);
      with ``--certify`` also ``sc.certified-imbalance`` (STEP ratio 4, same minority size,
      with the sweep over imbalance ratios of its evidence).

    Raises
    ------
    InvalidArgumentError
        rho <= 0, N not divisible by K (the claims assume balanced labels), b > N for
        ``--batches subset``.
    """
    fam = "supcon"
    K, h, rho = _common_sizes(p, fam)
    N = 10 * K if p.N is None else p.N
    b = max(3, 2 * K) if p.b is None else p.b
    if N % K:
        raise _family_error("N", fam, f"divisible by K = {K} (the theorem assumes balanced labels: N/K "
                                      f"samples per class)", N)
    if p.batches == "subset" and b > N:
        raise _family_error("b", fam, f"<= N = {N} for --batches subset", b)
    simplex = {"K": K, "h": h, "rho": rho}
    checks = [("graf2021.simplex.inner-product", simplex), ("graf2021.simplex.gram", simplex),
              ("graf2021.simplex.existence", simplex)]
    if K >= 3 and h >= K - 1:
        checks.append(("graf2021.simplex.existence", {**simplex, "h": K - 2}))
    if _n_distinct_batches(N, b, p.batches) <= 5000:
        N_e, b_e = N, b
    else:
        N_e, b_e = 2 * K, 3
        if p.batches == "subset" and b_e > N_e:
            b_e = N_e
    exact = {"N": N_e, "K": K, "h": h, "rho": rho, "b": b_e, "batches": p.batches}
    checks += [("graf2021.sc.minimum", exact), ("graf2021.sc.simplex", exact),
               ("graf2021.sc.minimum-sampled", {"N": N, "K": K, "h": h, "rho": rho, "b": b,
                                                "batches": p.batches})]
    # the certificate at the user's sizes (any N: the reduced program's size depends on b only)
    certified = {"K": K, "n": N // K, "b": b, "rho": rho, "batches": p.batches}
    checks.append(("graf2021.sc.certified", certified))
    if p.certify:
        checks.append(("graf2021.sc.certified-imbalance", {**certified, "imbalance": 4.0}))
    return checks


def ce_checks(p) -> list:
    """The sub-checks of ``theorycheck verify ce``: the bound, its five proof steps, the equality
    conditions, the L2 corollary in both readings of r_W, the equation linking them, and the
    derived statement (defaults: N = 2K, h = K-1)."""
    fam = "ce"
    K, h, rho = _common_sizes(p, fam)
    N = 2 * K if p.N is None else p.N
    lam = float(p.lam)
    if not lam > 0:
        raise _family_error("lam", fam, "a real number > 0", p.lam)
    if N % K:
        raise _family_error("N", fam, f"divisible by K = {K} (the theorem assumes balanced labels)", N)
    sizes = {"N": N, "K": K, "h": h, "rho": rho}
    checks = [("graf2021.ce.bound", sizes)]
    checks += [(step, sizes) for step in CE_STEPS]
    checks.append(("graf2021.ce.equality", {**sizes, "w_norm": math.sqrt(K)}))
    checks.append(("graf2021.ce.l2-equation", {"K": K, "rho": rho}))
    for reading in L2_READINGS if p.readings == "all" else ("row",):
        checks.append((L2_READINGS[reading][0], {**sizes, "lam": lam}))
    checks.append(("graf2021.ce.l2-corrected", {**sizes, "lam": lam}))
    return checks


SUPCON_FAMILY = register_family(Family(
    "supcon",
    "graf2021: the supervised contrastive loss is minimal exactly at the collapsed regular simplex "
    "(closed-form minimum, exact enumeration, sampled check and convex-relaxation certificate at your sizes)",
    (Option("K", 10, "number of classes", min=2),
     Option("N", None, "number of samples for the closed form (default 10 K; must be a multiple of K)", min=2),
     Option("b", None, "batch size (default 2 K)", min=2),
     Option("rho", 1.0, "sphere radius (rho^2 = 1/temperature)", type=float),
     Option("h", None, "embedding dimension (default K-1)", min=1),
     Option("batches", "multiset", "batch set", type=str, choices=BATCH_SETS),
     Option("certify", False, "also certify the optimum under class imbalance (convex relaxation, "
                              "graf2021.sc.certified-imbalance)", type=bool)),
    supcon_checks,
), replace=True)

CE_FAMILY = register_family(Family(
    "ce",
    "graf2021: the cross-entropy lower bound, its proof chain, its equality conditions and the "
    "L2-regularised corollary",
    (Option("K", 4, "number of classes", min=2),
     Option("N", None, "number of samples (default 2 K; must be a multiple of K)", min=1),
     Option("h", None, "embedding dimension (default K-1)", min=1),
     Option("rho", 1.0, "radius of the ball holding the embeddings", type=float),
     Option("lam", 0.1, "L2 regularisation strength lambda", type=float),
     Option("readings", "all", "readings of the slide's r_W: 'literal' (as printed) or 'all' (also "
                               "r_W = ||W||_F and the penalty (lambda/2)||W||_F^2)", type=str,
            choices=("literal", "all"))),
    ce_checks,
), replace=True)


# --------------------------------------------------------------------------- section 3: certificates
#
# graf2021's batch-summed SC loss is convex in the Gram matrix; its relaxation over
# {G PSD, diag G = rho^2}, reduced by the class symmetry (theorycheck.relax.batch_sc_relaxation,
# docs/relax.md), gives a certified lower bound at any sizes, re-checked here without a solver.

#: Imbalance ratios of the sweep recorded with graf2021.sc.certified-imbalance (and its figure).
IMBALANCE_RATIOS = (1.0, 1.5, 2.0, 4.0, 8.0, 16.0)

IMBALANCED = Assumption("imbalanced", "STEP label imbalance: the majority classes have R > 1 times the "
                                      "samples of the minority classes (dropped: R = 1, balanced)")

_N_PER_CLASS = Param("n", 10, "samples per class (per minority class under imbalance)", min=2)
_K_CERT = Param("K", 10, "number of classes", min=2)
_B_CERT = Param("b", 3, "batch size", min=2)


def _step_sizes(K: int, n_minor: int, ratio: float, majority_classes: int) -> tuple:
    """Class sizes of a STEP profile: ``majority_classes`` (0: K // 2, at least 1) classes of
    round(R n) samples, the others of n."""
    k_major = majority_classes if majority_classes > 0 else max(1, K // 2)
    if k_major >= K:
        raise fail("majority_classes", "graf2021.sc.certified-imbalance", f"< K = {K}", majority_classes)
    n_major = max(n_minor, int(round(ratio * n_minor)))
    return (n_major,) * k_major + (n_minor,) * (K - k_major)


@functools.lru_cache(maxsize=64)
def _certificate(class_sizes: tuple, b: int, batches: str, rho: float):
    """The relaxation and its solver-free re-check, once per problem (claims and sweeps share it).

    A solver failure or a certificate the re-check rejects leaves no certified number to
    judge: INCONCLUSIVE, with the reason.
    """
    try:
        res = batch_sc_relaxation(list(class_sizes), b, batches, rho)
    except RelaxationError as exc:
        raise Inconclusive(f"the batch-summed SC relaxation could not be solved ({exc})") from exc
    except InvalidArgumentError as exc:  # too many anchor configurations (large b): no certificate
        raise Inconclusive(f"no certificate at these sizes ({exc})") from exc
    check = check_batch_sc_certificate(res.certificate)
    if not check["valid"]:
        raise Inconclusive(f"the certificate failed its solver-free re-check: {check}")
    return res, check


def _cert_requires(p, active):
    if "b>=3" in active and p.b < 3:
        return f"b >= 3 fails: b={p.b} (at b = 2 every batch's loss is identically 0)"
    if p.batches == "subset" and p.b > p.K * p.n:
        return f"b={p.b} exceeds N={p.K * p.n} for batches='subset'"
    return None


def _certified_inputs(p, active):
    _positive_rho(p, "graf2021.sc.certified")
    # balanced: K classes of n; dropped (ablation): STEP imbalance R = 4 with the same minority size
    sizes = (p.n,) * p.K if "balanced" in active else _step_sizes(p.K, p.n, 4.0, 0)
    return {"class_sizes": st.fixed(np.array(sizes, dtype=np.int64))}


def _certified_evidence(p) -> dict:
    res, check = _certificate((p.n,) * p.K, p.b, p.batches, float(p.rho))
    closed = sc_minimum(p.K * p.n, p.K, p.b, float(p.rho), p.batches)
    geo = res.geometry()
    return {
        # the engine has no strength field yet: the verdict rests on a certificate, not a search
        "strength": "certified",
        "certified_lower_bound": check["bound"],
        "upper_bound": res.upper_bound,
        "gap": res.gap,
        "closed_form": closed.mean_per_batch,
        "log_n_batches": res.log_n_batches,
        "rank": res.rank,
        "within": geo["within"],
        "cos_between": geo["cos_between"],
        "simplex_cos": -1.0 / (p.K - 1),
        "minimiser_is_collapsed_simplex": bool(abs(geo["within"] - 1.0) < 1e-6
                                               and abs(geo["cos_between"] + 1.0 / (p.K - 1)) < 1e-6),
        "recheck_min_eigenvalue": check["min_eigenvalue"],
        "solver_status": res.status,
        "configurations": res.n_rows,
        "values": "mean loss per batch",
    }


@claim(
    id="graf2021.sc.certified",
    statement_latex=r"\frac{1}{|\mathcal{B}|}\sum_{l=2}^{b} l\, M_l \log\Bigl(l - 1 + (b - l) e^{-\rho^2 K/(K-1)}\Bigr) \le \min\{\mathcal{L}(G) : G \succeq 0,\ \operatorname{diag} G = \rho^2\mathbf{1}\}",
    cite=CITE,
    kind="inequality",
    relation="<=",
    statement="For balanced Y (K classes of n samples) and ||z_n|| = rho, L_SC summed over the whole batch set "
              "(multiset | subset | ordered) is at least the closed form of graf2021.sc.minimum in every "
              "embedding dimension, so the collapsed regular simplex (h >= K-1) is globally optimal: "
              "closed form (mean per batch) <= the certified lower bound of the symmetry-reduced convex Gram "
              "relaxation, its dual certificate re-checked without a solver",
    params=(_K_CERT, _N_PER_CLASS, _B_CERT, _RHO, _BATCHES),
    assumptions=(BALANCED, BATCH_SIZE),
    inputs=_certified_inputs,
    requires=_cert_requires,
    # values are O(1..100) per batch; the certificate's rounding margin is ~1e-12 absolute
    rtol=1e-9,
    atol=1e-9,
    family="supcon",
    summary_keys=("strength", "closed_form", "certified_lower_bound", "gap", "rank"),
    extra_evidence=_certified_evidence,
)
def sc_certified(class_sizes, *, p):
    """(value at the collapsed simplex, certified lower bound), mean per batch (graf2021, section 3).

    With balanced sizes the left side is graf2021's closed form (:func:`~theorycheck.bounds.sc_minimum`);
    with the sizes of the "balanced" ablation it is the simplex's value for those sizes.
    """
    sizes = tuple(int(v) for v in np.asarray(class_sizes).ravel())
    res, check = _certificate(sizes, p.b, p.batches, float(p.rho))
    if len(set(sizes)) == 1:
        lhs = sc_minimum(sum(sizes), len(sizes), p.b, float(p.rho), p.batches).mean_per_batch
    else:
        lhs = batch_sc_simplex_value(sizes, p.b, p.batches, float(p.rho))
    return lhs, check["bound"]


def sc_imbalance_sweep(K: int, n_minor: int, b: int, batches: str, rho: float, *, majority_classes: int = 0,
                       ratios=IMBALANCE_RATIOS) -> list[dict]:
    """Certified optimum and class-mean geometry of the batch-summed SC loss against the STEP ratio R.

    One row per R: ``ratio``, ``class_sizes``, ``certified_optimum`` (lower bound, mean per
    batch), ``gap``, ``simplex_value`` (the collapsed simplex for the same sizes),
    ``simplex_excess`` (``simplex_value - upper_bound``: > 0 certifies that the simplex is
    not optimal), ``within_majority``/``within_minority`` (collapse = 1) and the class-mean
    cosines ``cos_majority_majority``, ``cos_minority_minority``, ``cos_majority_minority``
    (the keys the report's imbalance figure reads; the simplex has -1/(K-1)).
    """
    rows = []
    for ratio in ratios:
        sizes = _step_sizes(K, n_minor, float(ratio), majority_classes)
        res, check = _certificate(sizes, b, batches, float(rho))
        simplex = batch_sc_simplex_value(sizes, b, batches, float(rho))
        row = {"ratio": sizes[0] / sizes[-1], "class_sizes": list(sizes), "certified_optimum": check["bound"],
               "gap": res.gap, "simplex_value": simplex, "simplex_excess": simplex - res.upper_bound,
               "rank": res.rank}
        if len(set(sizes)) == 1:
            geo = res.geometry()
            row.update(within_majority=geo["within"], within_minority=geo["within"],
                       cos_majority_majority=geo["cos_between"], cos_minority_minority=geo["cos_between"],
                       cos_majority_minority=geo["cos_between"])
        else:
            row.update(res.geometry())
            row["ratio"] = sizes[0] / sizes[-1]
        rows.append(row)
    return rows


def _imbalance_params_sizes(p) -> tuple:
    return _step_sizes(p.K, p.n, float(p.imbalance), p.majority_classes)


def _imbalance_requires(p, active):
    why = _cert_requires(p, active)
    if why:
        return why
    if "imbalanced" in active and len(set(_imbalance_params_sizes(p))) == 1:
        return f"no imbalance: R={p.imbalance:g} gives equal class sizes"
    if p.batches == "subset" and p.b > sum(_imbalance_params_sizes(p)):
        return f"b={p.b} exceeds N for batches='subset'"
    return None


def _imbalance_inputs(p, active):
    _positive_rho(p, "graf2021.sc.certified-imbalance")
    sizes = _imbalance_params_sizes(p) if "imbalanced" in active else (p.n,) * p.K
    return {"class_sizes": st.fixed(np.array(sizes, dtype=np.int64))}


def _imbalance_evidence(p) -> dict:
    sizes = _imbalance_params_sizes(p)
    res, check = _certificate(sizes, p.b, p.batches, float(p.rho))
    rows = sc_imbalance_sweep(p.K, p.n, p.b, p.batches, float(p.rho), majority_classes=p.majority_classes,
                              ratios=tuple(sorted(set(IMBALANCE_RATIOS) | {float(p.imbalance)})))
    return {
        "strength": "certified",
        "certified_optimum": check["bound"],
        "upper_bound": res.upper_bound,
        "gap": res.gap,
        "simplex_value": batch_sc_simplex_value(sizes, p.b, p.batches, float(p.rho)),
        "class_sizes": list(sizes),
        "rank": res.rank,
        **{key: value for key, value in res.geometry().items() if key != "ratio"},
        "simplex_cos": -1.0 / (p.K - 1),
        "imbalance_angles": rows,
        "values": "mean loss per batch",
    }


@claim(
    id="graf2021.sc.certified-imbalance",
    statement_latex=r"\min\{\mathcal{L}(G) : G \succeq 0,\ \operatorname{diag} G = \rho^2\mathbf{1}\} < \mathcal{L}_{\mathrm{SC}}(Z_{\mathrm{simplex}}) \quad \text{(STEP imbalance, } R > 1)",
    cite=CITE,
    kind="inequality",
    relation="<",
    statement="Beyond graf2021 (balanced only): under STEP imbalance (majority classes of R n samples, "
              "minority classes of n, R > 1), the collapsed regular simplex is NOT a global minimiser of "
              "L_SC over the batch set: a feasible Gram matrix of the symmetry-reduced convex relaxation "
              "(certified optimal within its gap) has a lower mean loss per batch than the simplex, by more "
              "than the rounding of the two evaluations; the evidence reports the certified optimum and the "
              "minority/majority class-mean cosines against R",
    params=(Param("K", 4, "number of classes", min=2), Param("n", 5, "samples per minority class", min=2),
            Param("imbalance", 4.0, "STEP imbalance ratio R = n_major / n_minor", type=float, min=1.0),
            Param("majority_classes", 0, "number of majority classes (0: K // 2)", min=0),
            _B_CERT, _RHO, _BATCHES),
    assumptions=(IMBALANCED, BATCH_SIZE),
    inputs=_imbalance_inputs,
    requires=_imbalance_requires,
    rtol=0.0,
    atol=0.0,
    family="supcon",
    summary_keys=("strength", "certified_optimum", "simplex_value", "cos_minority_minority",
                  "cos_majority_majority"),
    extra_evidence=_imbalance_evidence,
)
def sc_certified_imbalance(class_sizes, *, p):
    """(attained optimum, simplex value minus its rounding), mean per batch (graf2021, section 3).

    The left side is the loss at an exactly feasible invariant G (the relaxation's, rank
    <= K - 1 here, so attained by features in R^{K-1}); ``<`` holds iff the simplex is
    certainly not optimal.
    """
    sizes = tuple(int(v) for v in np.asarray(class_sizes).ravel())
    res, _ = _certificate(sizes, p.b, p.batches, float(p.rho))
    simplex = batch_sc_simplex_value(sizes, p.b, p.batches, float(p.rho))
    # both sides are sums of O(b) terms in float64: differences below this are rounding
    rounding = 1e-12 * max(1.0, abs(simplex))
    return res.upper_bound, simplex - rounding
