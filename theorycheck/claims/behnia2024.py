"""Behnia & Thrampoulidis 2024 (behnia2024): the SC loss under unconstrained features.

docs/theory.md section 4. Features ``h_i`` on the unit sphere (rows of ``H``, N x d),
temperature ``tau``, full-batch SC loss ``L(H)`` (:func:`theorycheck.relax.ufm_sc_loss`).
``L`` is convex in the Gram matrix; the convex relaxation over ``{G PSD, diag G = 1}``
gives a *certified* lower bound on ``L`` in every dimension
(:func:`theorycheck.ufm.sc_certificate`), which every claim below uses as the global
optimum it is judged against:

* ``behnia2024.ufm.benign`` (landscape) -- every local minimum of ``L`` on the product
  of spheres is global: multi-start optimisation must end at the certified optimum;
  a start that stalls above it with a small gradient is examined (tangent Hessian,
  escape test) as a candidate spurious minimum.
* ``behnia2024.ufm.unique`` (characterization) -- the global minimiser is unique up to
  rotation: every start that reaches the optimum has the Gram matrix of the certified
  ``G*`` and, after orthogonal Procrustes alignment, the features recovered from it.
* ``behnia2024.ufm.tight`` (optimum) -- the relaxation is tight in dimension ``d``: its
  optimum has rank ``<= d``, so features recovered from ``G*`` (the witness) attain the
  certified value.
* ``behnia2024.ufm.imbalance`` (characterization) -- under STEP imbalance the global
  solution is the one of the convex program and has its block structure (one value per
  orbit of index pairs).

behnia2024 states the landscape results for ``d > K`` and under a sufficient condition
on the temperature. Both are ablatable assumptions here: ``"d>K"`` and
``"tau-condition"``. The exact form of the temperature condition is in the paper, not in
the sources this project ships (docs/theory.md defers to the paper); it is encoded as
``tau <= tau_max`` with the parameter ``tau_max`` (0, the default, leaves it unencoded),
and the engine reports which temperatures and dimensions the claims actually need
(``docs/ufm.md``, the engine's sweep over d (:func:`theorycheck.ufm.landscape_row`)).

The family ``theorycheck verify ufm`` (registered here) runs these claims and the
zhu2021 cross-entropy ones (:mod:`theorycheck.claims.zhu2021`).

Examples
--------
>>> from theorycheck.engine import registry
>>> registry.get("behnia2024.ufm.benign").kind
'landscape'
>>> [a.name for a in registry.get("behnia2024.ufm.unique").assumptions]
['d>K', 'tau-condition']
"""

from __future__ import annotations

import dataclasses
import functools

from .. import strategies as st
from .. import ufm
from ..engine.claim import Assumption, Inconclusive, Param, claim
from ..engine.sweep import Sweep
from ..engine.families import Family, Option, register_family
from ..relax import RelaxationError, ufm_sc_loss

__all__ = ["ufm_benign", "ufm_unique", "ufm_tight", "ufm_imbalance", "ufm_checks", "UFM_FAMILY"]

CITE = ("behnia2024",)
SOLVERS = ("clarabel", "scs")

#: Tolerances of the comparisons with the certified optimum. The certificate's own gap
#: (upper minus certified lower bound) is 1e-13 .. 1e-8 relative on the sizes the family
#: uses; rtol leaves room for it, so a start at the true optimum counts as reaching it.
RTOL = 1e-8
ATOL = 1e-10

D_GT_K = Assumption("d>K", "the embedding dimension exceeds the number of classes, d > K (behnia2024's "
                           "dimension condition)")
TAU_CONDITION = Assumption(
    "tau-condition",
    "behnia2024's sufficient condition on the temperature (exact form in the paper; encoded as "
    "tau <= tau_max when the parameter tau_max > 0, not encoded when tau_max = 0)")
ASSUMPTIONS = (D_GT_K, TAU_CONDITION)


#: The engine's amount of optimisation for these claims (random starts, L-BFGS iterations
#: per start): engine settings, not parameters of the statement; a Budget overrides them.
_SEARCH = {"starts": 16, "steps": 500}


def _params(*, d: int, K: int, n_per_class: int, imbalance: float) -> tuple:
    # d first: when "d>K" is dropped the engine explores d-1, d-2, d-3 before changing K
    return (
        Param("d", d, "embedding dimension", min=1),
        Param("K", K, "number of classes", min=2),
        Param("n_per_class", n_per_class, "samples per class (per minority class under STEP imbalance)", min=2),
        Param("tau", 0.5, "temperature", type=float, min=1e-3),
        Param("imbalance", imbalance, "STEP imbalance ratio R = n_major / n_minor (1: balanced labels)",
              type=float, min=1.0),
        Param("majority_classes", 0, "number of majority classes under imbalance (0: K // 2)", min=0),
        Param("solver", "clarabel", "convex solver of the relaxation", type=str, choices=SOLVERS),
        Param("tau_max", 0.0, "upper end of behnia2024's temperature condition (0: not encoded)", type=float,
              min=0.0),
    )


@functools.lru_cache(maxsize=64)
def _class_types(K: int, n_per_class: int, imbalance: float, majority_classes: int) -> ufm.ClassTypes:
    classes = ufm.sc_ufm_labels(K, n_per_class, imbalance, majority_classes)
    classes.labels.setflags(write=False)  # shared by every call through the cache
    return classes


def _classes(p) -> ufm.ClassTypes:
    # cached: the landscape judge evaluates the loss thousands of times at the same p
    return _class_types(p.K, p.n_per_class, p.imbalance, p.majority_classes)


def _certificate(p) -> ufm.SCCertificate:
    """The (cached) relaxation certificate for the claim parameters ``p``.

    Without an optimal solver status there is no certified number to judge against: that
    makes the check INCONCLUSIVE (with the solver's message), not an error.
    """
    try:
        return ufm.sc_certificate(p.K, p.n_per_class, p.tau, imbalance=p.imbalance,
                                  majority_classes=p.majority_classes, solver=p.solver)
    except RelaxationError as exc:
        raise Inconclusive("the convex relaxation that certifies the global optimum could not be "
                           f"solved ({exc})") from exc


def _certified_optimum(p) -> float:
    return _certificate(p).lower_bound


def _requires(p, active) -> str | None:
    if "d>K" in active and not p.d > p.K:
        return (f"d > K fails: d={p.d}, K={p.K} (behnia2024 states the landscape results for d > K; "
                f"ablate the assumption to judge d <= K)")
    if "tau-condition" in active and p.tau_max > 0 and p.tau > p.tau_max:
        return f"the temperature condition fails: tau={p.tau:g} > tau_max={p.tau_max:g}"
    return None


def _sphere_inputs(p, active) -> dict:
    return {"H": st.sphere(_classes(p).N, p.d, 1.0)}


def _loss(H, p):
    return ufm_sc_loss(H, _classes(p).labels, p.tau)


@functools.lru_cache(maxsize=64)
def _positive_weights(K: int, n_per_class: int, imbalance: float, majority_classes: int):
    return ufm._sc_positive_weights(tuple(_class_types(K, n_per_class, imbalance, majority_classes).labels.tolist()))


def _loss_and_grad(H, *, p):
    """The SC UFM loss and its gradient in closed form (:func:`theorycheck.ufm.sc_ufm_value_and_grad`),
    for the landscape judge's optimiser; the trusted core, since the engine's spaces give
    float64 arrays of the right shape."""
    C = _positive_weights(p.K, p.n_per_class, p.imbalance, p.majority_classes)
    value, grad = ufm._sc_ufm_value_and_grad(H, C, p.tau)
    return value, {"H": grad}


# --------------------------------------------------------------------------------------
# claims


@claim(
    id="behnia2024.ufm.benign",
    statement_latex=r"\text{every local minimum of } \mathcal{L}_{\mathrm{SC}}(H),\ H \in \mathbb{R}^{N\times d},\ \|h_i\|=1, \text{ is global: } \min_H \mathcal{L}_{\mathrm{SC}}(H) = \min\{\mathcal{L}(G) : G \succeq 0,\ \operatorname{diag} G = \mathbf{1}\} \quad (d > K)",
    cite=CITE,
    kind="landscape",
    statement=("SC loss of the unconstrained-features model (||h_i|| = 1, temperature tau): every local "
               "minimum of L(H) over H in R^{N x d} is global, i.e. attains the optimum of the convex Gram "
               "relaxation min {L(G) : G PSD, diag G = 1} (certified lower bound), for d > K and tau "
               "satisfying behnia2024's condition"),
    params=_params(d=5, K=4, n_per_class=3, imbalance=1.0),
    search=_SEARCH,
    assumptions=ASSUMPTIONS,
    inputs=_sphere_inputs,
    optimum=_certified_optimum,
    requires=_requires,
    rtol=RTOL,
    atol=ATOL,
    family="ufm",
    summary_keys=("starts", "global_fraction", "worst_gap", "n_candidates"),
    # the per-dimension report (d = K-2 .. K+1, every assumption dropped), run by the engine
    sweep=Sweep(param="d", values=ufm.dimensions_around_k, key="success_by_dimension", row=ufm.landscape_row),
    gradient=_loss_and_grad,
)
def ufm_benign(H, *, p):
    """L(H) = sum_i [LSE_{l != i}(<h_i, h_l>/tau) - mean_{j in P(i)} <h_i, h_j>/tau] (behnia2024)."""
    return _loss(H, p)


def _unique_distance(H, *, p) -> float:
    cert = _certificate(p)
    return max(ufm.gram_distance(H, cert.gram), ufm.procrustes_distance(H, cert.recover(p.d)))


@claim(
    id="behnia2024.ufm.unique",
    statement_latex=r"\mathcal{L}_{\mathrm{SC}}(H) = \mathcal{L}^\star \implies H H^\top = G^\star, \quad H = Q\, H^\star \text{ for an orthogonal } Q \quad (d > K)",
    cite=CITE,
    kind="characterization",
    statement=("SC unconstrained-features model: the global minimiser is unique up to rotation -- every "
               "H attaining the certified optimum has H H^T = G* (the relaxation's solution) and equals the "
               "features recovered from G* after an orthogonal Procrustes alignment (d > K, behnia2024's "
               "temperature condition)"),
    params=_params(d=5, K=4, n_per_class=3, imbalance=1.0),
    search=_SEARCH,
    assumptions=ASSUMPTIONS,
    inputs=_sphere_inputs,
    optimum=_certified_optimum,
    distance=_unique_distance,
    requires=_requires,
    rtol=RTOL,
    atol=ATOL,
    family="ufm",
    summary_keys=("reached", "max_distance", "distance_tolerance"),
)
def ufm_unique(H, *, p):
    """The SC UFM loss; ``distance`` = max(||HH^T - G*||_F/||G*||_F, Procrustes distance to H*)."""
    return _loss(H, p)


def _tight_witness(p) -> dict:
    return {"H": _certificate(p).recover(p.d)}


@claim(
    id="behnia2024.ufm.tight",
    statement_latex=r"\operatorname{rank} G^\star \le d, \qquad \mathcal{L}_{\mathrm{SC}}(H_d) = \min\{\mathcal{L}(G) : G \succeq 0,\ \operatorname{diag} G = \mathbf{1}\},\ H_d \text{ from the top-}d\text{ eigenpairs of } G^\star",
    cite=CITE,
    kind="optimum",
    statement=("SC unconstrained-features model: the convex Gram relaxation is tight -- its optimum G* has "
               "rank <= d, so the features recovered from the top-d eigenpairs of G* attain the certified "
               "lower bound in dimension d (d > K)"),
    params=_params(d=5, K=4, n_per_class=3, imbalance=1.0),
    search=_SEARCH,
    assumptions=ASSUMPTIONS,
    inputs=_sphere_inputs,
    optimum=_certified_optimum,
    witness=_tight_witness,
    requires=_requires,
    rtol=RTOL,
    atol=ATOL,
    family="ufm",
    summary_keys=("claimed_optimum", "witness_value", "witness_reaches", "best_value"),
)
def ufm_tight(H, *, p):
    """The SC UFM loss; the witness is the recovered H* (theorycheck.relax.recover_features)."""
    return _loss(H, p)


def _imbalance_distance(H, *, p) -> float:
    cert = _certificate(p)
    G = H @ H.T
    return max(ufm.block_structure_residual(G, cert.labels), ufm.gram_distance(H, cert.gram))


def _imbalance_sweep(p) -> dict:
    """The class-mean geometry of the certified optimum over imbalance ratios R and temperatures
    (issue 5's table and figure): reduced programs, valid for any N, about 0.1 s per (R, tau)."""
    ratios = sorted({1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, float(p.imbalance)})
    taus = sorted({0.1, 0.5, 1.0, float(p.tau)})
    try:
        rows = ufm.imbalance_table(K=p.K, n_minor=p.n_per_class, ratios=ratios, taus=taus,
                                   majority_classes=p.majority_classes, solver=p.solver)
    except RelaxationError as exc:
        raise Inconclusive(f"the imbalance sweep could not be certified ({exc})") from exc
    return {"imbalance_angles": [dataclasses.asdict(row) for row in rows]}


@claim(
    id="behnia2024.ufm.imbalance",
    statement_latex=r"\mathcal{L}_{\mathrm{SC}}(H) = \mathcal{L}^\star \implies H H^\top = G^\star,\quad G^\star_{ij} \text{ constant on the orbits of the label symmetry (STEP imbalance, ratio } R)",
    cite=CITE,
    kind="characterization",
    statement=("SC unconstrained-features model under STEP imbalance (k_major classes of R n samples, "
               "K - k_major of n): the global solution is characterised by the convex program -- every H "
               "attaining the certified optimum has H H^T = G*, whose entries are constant on the orbits of "
               "the label symmetry (block structure: one within-class and one between-class value per "
               "class type, one cross-type value)"),
    params=_params(d=5, K=4, n_per_class=2, imbalance=4.0),
    search=_SEARCH,
    assumptions=ASSUMPTIONS,
    inputs=_sphere_inputs,
    optimum=_certified_optimum,
    distance=_imbalance_distance,
    requires=_requires,
    rtol=RTOL,
    atol=ATOL,
    family="ufm",
    summary_keys=("reached", "max_distance", "distance_tolerance"),
    extra_evidence=_imbalance_sweep,
)
def ufm_imbalance(H, *, p):
    """The SC UFM loss with STEP labels; ``distance`` = max(block residual, ||HH^T - G*||/||G*||)."""
    return _loss(H, p)


# --------------------------------------------------------------------------------------
# the family: theorycheck verify ufm


def ufm_checks(p) -> list:
    """The sub-checks of ``theorycheck verify ufm``: every claim at ``d = K + 1`` (or ``--d``).

    * ``behnia2024.ufm.benign``, ``.unique``, ``.tight`` with balanced labels (K classes of
      ``--n_per_class``), ``behnia2024.ufm.imbalance`` with STEP ratio ``--imbalance``;
    * ``zhu2021.ufm.etf``, ``.norms``, ``.benign`` (regularised CE UFM, default weight decay).

    ``--ablate`` drops the dimension and temperature conditions one at a time; the engine
    then also judges nearby dimensions d = K, K-1, K-2 (the per-d table of every start is
    the engine's sweep over d (:func:`theorycheck.ufm.landscape_row`), see ``docs/ufm.md``). A certificate whose
    solver fails turns its check into INCONCLUSIVE (the message says why).
    """
    K, n = p.K, p.n_per_class
    d = p.d if p.d is not None else K + 1
    sc = {"d": d, "K": K, "n_per_class": n, "tau": p.tau, "solver": p.solver}
    # --starts is the engine's number of local optimisations, passed as an engine setting
    # (not a claim parameter); --steps keeps each claim's own
    search = {"starts": p.starts}
    planned = [("behnia2024.ufm.benign", sc, search),
               ("behnia2024.ufm.unique", sc, search),
               ("behnia2024.ufm.tight", sc, search),
               ("behnia2024.ufm.imbalance", {**sc, "imbalance": p.imbalance}, search)]
    ce = {"d": d, "K": K, "n_per_class": n}
    return planned + [(cid, ce, search) for cid in ("zhu2021.ufm.etf", "zhu2021.ufm.norms", "zhu2021.ufm.benign")]


UFM_FAMILY = register_family(Family(
    "ufm",
    "behnia2024 / zhu2021: landscape of the unconstrained-features model -- certified convex-relaxation "
    "optimum, benign landscape (per dimension with --ablate), uniqueness, tightness, STEP imbalance, and the regularised "
    "cross-entropy UFM (simplex ETF, closed-form norms, no spurious minima)",
    (Option("K", 10, "number of classes", min=2),
     Option("n_per_class", 2, "samples per class (per minority class for the imbalance claim)", min=2),
     Option("d", None, "embedding dimension (default K+1)", min=1),
     Option("tau", 0.5, "SC temperature", type=float, min=1e-3),
     Option("imbalance", 4.0, "STEP imbalance ratio R = n_major / n_minor of behnia2024.ufm.imbalance",
            type=float, min=1.0),
     Option("starts", 16, "random starts per optimisation check", min=1),
     Option("solver", "clarabel", "convex solver of the relaxation", type=str, choices=SOLVERS)),
    ufm_checks,
), replace=True)
