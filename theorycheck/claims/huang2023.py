"""Claims of huang2023 (docs/theory.md section 5): generalization of contrastive SSL.

W. Huang, M. Yi, X. Zhao, Z. Jiang. *Towards the Generalization of Contrastive
Self-Supervised Learning.* ICLR 2023. Each claim is encoded as the source states it; the
engine decides whether it holds. Where a literal statement is refuted, the corrected
statement is a separate claim (``corrects=``).

Identities (proved exactly by :mod:`theorycheck.symbolic` up to ``symbolic.LIMITS``,
tested numerically above):

* ``huang2023.barlow-decomposition`` -- L_CC = (1 - lambda) L1 + lambda L2;
* ``huang2023.gram-identity`` -- ||sum_k p_k mu_k mu_k^T - I_d||^2 = ||U^T U - I_K||^2 + d - K;
* ``huang2023.infonce-decomposition`` -- InfoNCE (one negative) = L1 + L2 on the unit sphere.

Bounds (each with its informativeness against a trivial bound):

* ``huang2023.barlow-alignment`` -- E||f(x1) - f(x2)||^2 <= 2 sqrt(d L1);
* ``huang2023.thm1`` -- R_eps^2 <= eta(eps)^2 L_align, on a finite model with m discrete
  and n continuous augmentations; ``huang2023.thm1.eta-order`` -- its asymptotic
  statement eta(eps) = O(1/eps) (fitted exponent), and the corrected
  ``huang2023.thm1.eta-order-corrected``;
* ``huang2023.thm2`` -- Err(G_f) <= (1 - sigma) + R_eps under the divergence condition,
  end to end on a small data set (exact sigma by maximum clique, nearest-class-mean
  classifier);
* ``huang2023.thm3`` (SimCLR) and ``huang2023.thm4`` (Barlow Twins) -- divergence bounds
  on mu_k^T mu_l with tau = 0;
* ``huang2023.sigma-delta`` -- enlarging the augmentation set can only raise sigma(delta).

Families: ``theorycheck verify barlow`` and ``theorycheck verify infonce``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend as xp
from .. import losses
from .. import strategies as st
from ..engine.claim import Assumption, Param, claim
from ..engine.families import Family, Option, register_family
from ..ssl import (
    _pick_pair,
    _ratio,
    _sigma_core,
    _thm1_core,
    _thm2_core,
    _thm3_core,
    _thm4_core,
    _eta_exponent_core,
    proof_within_limits,
    view_pairs,
    weighted_class_means,
)

__all__ = [
    "barlow_decomposition",
    "barlow_alignment",
    "gram_identity",
    "infonce_decomposition",
    "thm1",
    "thm1_eta_order",
    "thm1_eta_order_corrected",
    "thm2",
    "thm3",
    "thm4",
    "sigma_delta",
]

_CITE = ("huang2023",)
_IDENTITY_KEYS = ("proof", "inputs_tried", "worst_slack")
_BOUND_KEYS = ("informative_fraction", "inputs_tried", "worst_slack")
_SIZED_BOUND_KEYS = ("sizes",) + _BOUND_KEYS


def _is_torch(x: Any) -> bool:
    return xp.kind(x) == "torch"


def _cat(parts: list, axis: int) -> Any:
    if _is_torch(parts[0]):
        import torch

        return torch.cat(parts, dim=axis)
    return np.concatenate(parts, axis=axis)


def _rows(x: Any, index: np.ndarray) -> Any:
    if _is_torch(x):
        import torch

        return x[torch.as_tensor(index, device=x.device)]
    return x[index]


def _two_views(views: Any, N: int) -> tuple[Any, Any]:
    return views[:N], views[N:]


# --------------------------------------------------------------------------------------
# Barlow Twins: decomposition and alignment
# --------------------------------------------------------------------------------------


def _cross_correlation(views: Any, N: int) -> Any:
    """F = E f(x1) f(x2)^T over the N positive pairs (views already batch-standardized)."""
    z1, z2 = _two_views(views, N)
    return z1.T @ z2 / xp.scalar(float(N), views)


@claim(
    id="huang2023.barlow-decomposition",
    statement_latex=r"\mathcal{L}_{\mathrm{CC}} = \sum_i (1 - F_{ii})^2 + \lambda\sum_{i \ne j} F_{ij}^2 = (1 - \lambda) L_1 + \lambda L_2, \qquad L_1 = \sum_i (1 - F_{ii})^2,\ L_2 = \|F - I_d\|_F^2",
    cite=_CITE,
    kind="identity",
    statement=("L_CC = sum_i (1 - F_ii)^2 + lambda sum_{i != j} F_ij^2 = (1 - lambda) L1 + lambda L2, "
               "L1 = sum_i (1 - F_ii)^2, L2 = ||F - I_d||_F^2, F = E[f(x1) f(x2)^T] over positive pairs "
               "with per-dimension normalization E f_i = 0, E f_i^2 = 1"),
    params=(Param("d", 4, "embedding dimension", min=1),
            Param("N", 8, "positive pairs in the batch", min=2)),
    inputs=lambda p, active: {"views": view_pairs(p.N, p.d, "standardized"), "lam": st.real(0.0, 1.0)},
    proof=lambda p: proof_within_limits("prove_barlow_decomposition", "barlow", d=p.d),
    family="barlow",
    summary_keys=_IDENTITY_KEYS,
)
def barlow_decomposition(views, lam, *, p):
    """(L_CC, (1 - lambda) L1 + lambda L2) at the batch cross-correlation F of two standardized views."""
    F = _cross_correlation(views, p.N)
    diag = xp.diag(F)
    L1 = xp.sum((1 - diag) ** 2)
    off = xp.sum(F * F) - xp.sum(diag * diag)
    E = F - xp.eye_like(F, p.d)
    L2 = xp.sum(E * E)
    return L1 + lam * off, (1 - lam) * L1 + lam * L2


def _alignment_parts(views, p):
    z1, z2 = _two_views(views, p.N)
    diff = z1 - z2
    align = xp.sum(diff * diff) / xp.scalar(float(p.N), views)
    F_diag = xp.sum(z1 * z2, axis=0) / xp.scalar(float(p.N), views)
    L1 = xp.sum((1 - F_diag) ** 2)
    return align, L1


@claim(
    id="huang2023.barlow-alignment",
    statement_latex=r"\mathcal{L}_{\mathrm{align}} = \mathbb{E}\|f(x_1) - f(x_2)\|^2 \le 2\sqrt{d\, L_1}, \qquad L_1 = \sum_i (1 - F_{ii})^2",
    cite=_CITE,
    kind="inequality",
    statement=("Lemma 2: with E f_i = 0 and E f_i^2 = 1 for every dimension, "
               "L_align = E||f(x1) - f(x2)||^2 <= 2 sqrt(d L1), L1 = sum_i (1 - F_ii)^2"),
    params=(Param("d", 4, "embedding dimension", min=1),
            Param("N", 8, "positive pairs in the batch", min=2)),
    assumptions=(Assumption("normalized", "per-dimension normalization E f_i = 0, E f_i^2 = 1 "
                                          "(each view batch-standardized)"),),
    inputs=lambda p, active: {"views": view_pairs(p.N, p.d, "standardized" if "normalized" in active else "free")},
    relation="<=",
    trivial=lambda views, p: 4.0 * p.d,  # E||f1 - f2||^2 <= 2 E||f1||^2 + 2 E||f2||^2 = 4d
    family="barlow",
    summary_keys=_BOUND_KEYS,
)
def barlow_alignment(views, *, p):
    """(E||f(x1) - f(x2)||^2, 2 sqrt(d L1)) over the N pairs."""
    align, L1 = _alignment_parts(views, p)
    return align, 2 * xp.sqrt(xp.scalar(float(p.d), views) * L1)


# --------------------------------------------------------------------------------------
# Gram identity and InfoNCE decomposition
# --------------------------------------------------------------------------------------


@claim(
    id="huang2023.gram-identity",
    statement_latex=r"\left\|\sum_k p_k \mu_k \mu_k^\top - I_d\right\|_F^2 = \|U^\top U - I_K\|_F^2 + d - K, \qquad U = [\sqrt{p_1}\mu_1, \dots, \sqrt{p_K}\mu_K]",
    cite=_CITE,
    kind="identity",
    statement=("||sum_k p_k mu_k mu_k^T - I_d||_F^2 = ||U^T U - I_K||_F^2 + d - K, "
               "U = [sqrt(p_1) mu_1, ..., sqrt(p_K) mu_K] in R^{d x K}"),
    params=(Param("d", 4, "embedding dimension", min=1),
            Param("K", 3, "number of classes", min=1)),
    inputs=lambda p, active: {"mu": st.real_matrix(p.K, p.d, 1.0), "probs": st.probability_vector(p.K)},
    proof=lambda p: proof_within_limits("prove_gram_identity", "gram", d=p.d, K=p.K),
    family="barlow",
    summary_keys=_IDENTITY_KEYS,
)
def gram_identity(mu, probs, *, p):
    """Both sides for class means ``mu`` (rows) and class probabilities ``probs``."""
    S = mu.T @ (probs[:, None] * mu)  # sum_k p_k mu_k mu_k^T
    E = S - xp.eye_like(S, p.d)
    root = xp.sqrt(probs)
    UtU = root[:, None] * (mu @ mu.T) * root[None, :]
    G = UtU - xp.eye_like(UtU, p.K)
    return xp.sum(E * E), xp.sum(G * G) + xp.scalar(float(p.d - p.K), S)


@claim(
    id="huang2023.infonce-decomposition",
    statement_latex=r"-\mathbb{E}\log\frac{e^{f_1^\top f_2}}{e^{f_1^\top f_2} + e^{f_1^\top f^-}} = L_1 + L_2, \qquad L_1 = \tfrac{1}{2}\mathbb{E}\|f_1 - f_2\|^2 - 1,\ L_2 = \mathbb{E}\log\bigl(e^{f_1^\top f_2} + e^{f_1^\top f^-}\bigr)",
    cite=_CITE,
    kind="identity",
    statement=("with ||f|| = 1: -E log(e^{f1.f2} / (e^{f1.f2} + e^{f1.f-})) = L1 + L2, "
               "L1 = (1/2) E||f1 - f2||^2 - 1, L2 = E log(e^{f1.f2} + e^{f1.f-})"),
    params=(Param("d", 3, "embedding dimension", min=1),
            Param("N", 8, "triples (anchor, positive, negative)", min=1)),
    assumptions=(Assumption("unit norm", "||f(x)|| = 1 for every embedding"),),
    inputs=lambda p, active: {
        name: (st.sphere(p.N, p.d, 1.0) if "unit norm" in active else st.real_matrix(p.N, p.d, 1.0))
        for name in ("f1", "f2", "fneg")},
    proof=lambda p: proof_within_limits("prove_infonce_decomposition", "infonce", d=p.d),
    family="infonce",
    summary_keys=_IDENTITY_KEYS,
)
def infonce_decomposition(f1, f2, fneg, *, p):
    """(InfoNCE with one negative, L1 + L2), expectations as means over the N triples."""
    lhs = losses.infonce_one_negative(f1, f2, fneg)
    diff = f1 - f2
    L1 = xp.mean(xp.sum(diff * diff, axis=1)) / 2 - 1
    s, t = xp.sum(f1 * f2, axis=1), xp.sum(f1 * fneg, axis=1)
    top = xp.where(s > t, s, t)
    L2 = xp.mean(top + xp.log(xp.exp(s - top) + xp.exp(t - top)))
    return lhs, L1 + L2


# --------------------------------------------------------------------------------------
# Theorem 1 and its asymptotic statement
# --------------------------------------------------------------------------------------


def _thm1_inputs(p, active):
    spaces = {"L": st.real(0.1, 3.0), "C": st.real_matrix(p.m, p.d, 0.3), "eps": st.real(0.01, 2.0)}
    if p.n > 0:
        spaces["V"] = st.real_matrix(p.N, p.d * p.n, 0.3)
    return spaces


@claim(
    id="huang2023.thm1",
    statement_latex=r"R_\varepsilon^2 \le \eta(\varepsilon)^2\, \mathcal{L}_{\mathrm{align}}(f), \qquad \eta(\varepsilon) = \inf_{0 < t < \frac{\varepsilon}{2\sqrt{n} L M}} \frac{4\max\{1, m^2 t^{2n}\}}{t^{2n}(\varepsilon - 2\sqrt{n} L M t)}",
    cite=_CITE,
    kind="inequality",
    statement=("Theorem 1: f L-Lipschitz => R_eps^2 <= eta(eps)^2 L_align(f), with (ICLR form, m discrete "
               "augmentations, continuous ones A_theta, theta in [0,1]^n, M-Lipschitz in theta) "
               "eta(eps) = inf_{0 < t < eps/(2 sqrt(n) L M)} 4 max{1, m^2 t^{2n}} / (t^{2n} (eps - 2 sqrt(n) L M t)). "
               "Evaluated on N samples x_i, augmentations x_i + c_j + V_i theta, encoder f(x) = L x"),
    params=(Param("N", 6, "samples", min=1),
            Param("d", 2, "input dimension", min=1),
            Param("m", 2, "discrete augmentations", min=1),
            Param("n", 1, "continuous augmentation parameters (theta in [0,1]^n)", min=0, max=2)),
    inputs=_thm1_inputs,
    relation="<=",
    trivial=lambda L, C, eps, V=None, p=None: 1.0,  # R_eps is a probability
    family="infonce",
    summary_keys=_BOUND_KEYS,
)
def thm1(L, C, eps, V=None, *, p):
    """(R_eps^2, eta(eps)^2 L_align) of the finite augmentation model (see ssl._thm1_core)."""
    lhs, rhs, _ = _thm1_core(L, C, V, eps, p.n, p.m)
    return lhs, rhs


_ETA_PARAMS = (Param("n", 1, "continuous augmentation parameters (theta in [0,1]^n)", min=0, max=20),
               Param("m", 2, "discrete augmentations", min=1))


def _eta_inputs(p, active):
    return {"L": st.real(0.1, 10.0), "M": st.real(0.1, 10.0)}


def _exponent(L, M, p):
    """Fitted exponent alpha of eta(eps) ~ eps^-alpha; floats when handed torch tensors.

    alpha does not depend on L and M once eps is below their scale (eta is exactly
    proportional to eps^-(2n+1) there), so its gradient is 0 and carries nothing for a local
    search: on torch inputs the value is computed on plain floats, and the engine falls back
    to derivative-free search. float64 and mpmath inputs are used as they are.
    """
    if _is_torch(L) or _is_torch(M):
        L, M = np.float64(float(L.detach()) if _is_torch(L) else L), np.float64(float(M.detach()) if _is_torch(M) else M)
    return _eta_exponent_core(L, M, p.n, p.m)


def _eta_table(p) -> dict:
    """For reports: eta(eps) at L = M = 1 from eps = c down to 10^-7 c, and the fitted exponent there."""
    from ..ssl import ETA_DECADES, eta

    c = 2 * np.sqrt(p.n) if p.n else 1.0
    grid = [c * 10.0 ** -k for k in range(0, max(ETA_DECADES) + 1)]
    return {"fitted_exponent_at_L_M_1": float(_eta_exponent_core(np.float64(1.0), np.float64(1.0), p.n, p.m)),
            "eta_at_L_M_1": [[e, eta(e, n=p.n, m=p.m, L=1.0, M=1.0)] for e in grid]}


@claim(
    id="huang2023.thm1.eta-order",
    statement_latex=r"\eta(\varepsilon) = O(\varepsilon^{-1}) \quad (\varepsilon \to 0)",
    cite=_CITE,
    kind="inequality",
    statement=("Theorem 1: eta(eps) = O(1/eps) as eps -> 0, for the ICLR formula of eta. Checked as: the "
               "exponent alpha fitted to eta(eps) ~ eps^-alpha on eps = 10^-k 2 sqrt(n) L M, k = 4..7 "
               "(eta minimised numerically over t) satisfies alpha <= 1"),
    params=_ETA_PARAMS,
    inputs=_eta_inputs,
    relation="<=",
    family="infonce",
    summary_keys=("sizes", "fitted_exponent_at_L_M_1", "inputs_tried", "worst_slack"),
    extra_evidence=_eta_table,
)
def thm1_eta_order(L, M, *, p):
    """(fitted exponent alpha, 1)."""
    return _exponent(L, M, p), 1.0


@claim(
    id="huang2023.thm1.eta-order-corrected",
    statement_latex=r"\eta(\varepsilon) = O\bigl(\varepsilon^{-(2n+1)}\bigr) \quad (\varepsilon \to 0)",
    cite=_CITE,
    kind="inequality",
    statement=("Corrected asymptotics of Theorem 1's eta (ICLR formula): eta(eps) = O(eps^-(2n+1)) as "
               "eps -> 0 (O(1/eps) only without continuous augmentations, n = 0); checked as fitted "
               "exponent alpha <= 2n + 1"),
    params=_ETA_PARAMS,
    inputs=_eta_inputs,
    relation="<=",
    rtol=1e-7,
    corrects="huang2023.thm1.eta-order",
    family="infonce",
    summary_keys=("sizes", "fitted_exponent_at_L_M_1", "inputs_tried", "worst_slack"),
    extra_evidence=_eta_table,
)
def thm1_eta_order_corrected(L, M, *, p):
    """(fitted exponent alpha, 2n + 1)."""
    return _exponent(L, M, p), float(2 * p.n + 1)


# --------------------------------------------------------------------------------------
# Theorem 2, end to end
# --------------------------------------------------------------------------------------


def _thm2_inputs(p, active):
    N = p.K * p.n_per_class
    return {
        "centers": st.sphere(p.K, p.d, 1.0),
        "y": st.imbalanced_labels(N, p.K, 1),
        "offsets": st.real_matrix(N, p.d, 0.1),
        "aug": st.real_matrix(N, p.m * p.d, 0.03),
        "eps": st.real(0.001, 0.5),
        "delta": st.real(0.0, 0.5),
    }


def _thm2_views(centers, y, offsets, aug, p):
    N = p.K * p.n_per_class
    x = _rows(centers, y) + offsets
    copies = x[:, None, :] + aug.reshape(N, p.m, p.d)
    return _cat([x[:, None, :], copies], axis=1)


@claim(
    id="huang2023.thm2",
    statement_latex=r"\mu_l^\top \mu_k < r^2\Bigl(1 - \rho_{\max} - \sqrt{2\rho_{\max}} - \frac{\Delta_\mu}{2}\Bigr)\ \forall l \ne k \implies \mathrm{Err}(G_f) \le (1 - \sigma) + R_\varepsilon",
    cite=_CITE,
    kind="inequality",
    statement=("Theorem 2: ||f|| = r, f L-Lipschitz, (sigma, delta)-augmentation; if mu_l^T mu_k < r^2 (1 - "
               "rho_max - sqrt(2 rho_max) - Delta_mu/2) for all l != k, then Err(G_f) <= (1 - sigma) + R_eps, "
               "rho_max = 2(1 - sigma) + R_eps/min_l p_l + sigma (L delta/r + 2 eps/r), Delta_mu = 1 - "
               "min_k ||mu_k||^2/r^2, G_f the nearest-class-mean classifier. Evaluated end to end on K classes "
               "of n_per_class samples with m augmented copies each, f(x) = r x/||x|| (L computed on the data), "
               "sigma exact (maximum cliques); where the hypothesis fails the theorem says nothing and the "
               "trivial bound 1 is used"),
    params=(Param("K", 3, "classes", min=2),
            Param("n_per_class", 4, "samples per class (N = K n_per_class)", min=1),
            Param("d", 2, "input dimension", min=1),
            Param("m", 2, "augmented copies per sample (besides the sample itself)", min=1),
            Param("r", 1.0, "norm of the encoder's outputs", type=float, min=1e-6)),
    inputs=_thm2_inputs,
    relation="<=",
    trivial=lambda centers, y, offsets, aug, eps, delta, p: 1.0,  # an error rate is at most 1
    family="infonce",
    summary_keys=_BOUND_KEYS,
)
def thm2(centers, y, offsets, aug, eps, delta, *, p):
    """(Err(G_f), (1 - sigma) + R_eps if the divergence condition holds, else 1)."""
    views = _thm2_views(centers, y, offsets, aug, p)
    norms = xp.to_numpy(xp.sum(views * views, axis=2)) if not _is_torch(views) else \
        (views * views).sum(dim=2).detach().numpy()
    if np.any(norms == 0):  # f(x) = r x / ||x|| is undefined at 0: the theorem says nothing here
        return _ratio(0, 1, eps), _ratio(1, 1, eps)
    out = _thm2_core(views, np.asarray(y, dtype=np.int64), p.K, xp.scalar(p.r, eps), eps, delta)
    bound = out["bound"] if out["condition"] else _ratio(1, 1, eps)
    return out["error"], bound


# --------------------------------------------------------------------------------------
# Theorems 3 and 4 (tau = 0)
# --------------------------------------------------------------------------------------

_ALIGNED = Assumption("perfect alignment", "sigma = 1, delta = 0, eps = 0, R_eps = 0 (so tau = 0 exactly): every "
                                           "sample of class k and its augmentations are embedded at mu_k")


def _thm3_inputs(p, active):
    if "perfect alignment" in active:
        return {"mu": st.sphere(p.K, p.d, 1.0), "probs": st.probability_vector(p.K, p.p_min)}
    return {"views": view_pairs(p.N, p.d, "sphere"), "y": st.imbalanced_labels(p.N, p.K, 1)}


def _thm3_pair(mu=None, probs=None, views=None, y=None, *, p):
    if mu is not None:
        labels = np.arange(p.K)
        out = _thm3_core(mu, mu, probs, labels, p.K, xp.scalar(0.0, mu))
    else:
        z1, z2 = _two_views(views, p.N)
        w = _ratio(1, p.N, views) + 0 * z1[:, 0]
        out = _thm3_core(z1, z2, w, np.asarray(y, dtype=np.int64), p.K, xp.scalar(0.0, views))
    k, l = _pick_pair(out["inner"], out["bound"])
    return out, k, l


_THM34_PARAMS = (Param("d", 4, "embedding dimension", min=1),
                 Param("K", 3, "classes", min=2),
                 Param("N", 6, "samples (when alignment is not assumed)", min=2),
                 Param("p_min", 0.01, "smallest class probability drawn", type=float, min=1e-6, max=0.5))


@claim(
    id="huang2023.thm3",
    statement_latex=r"\mu_k^\top \mu_l \le \log\Bigl(\exp\Bigl(\frac{L_2 + \tau}{p_k p_l}\Bigr) - \exp(1 - \varepsilon)\Bigr) \qquad \forall\, k \ne l",
    cite=_CITE,
    kind="inequality",
    statement=("Theorem 3 (SimCLR), ||f|| = 1, tau = 0 (its most favourable form, exact under perfect alignment, "
               "eps = 0): mu_k^T mu_l <= log(exp{(L2 + tau)/(p_k p_l)} - exp(1 - eps)) for all k != l, "
               "L2 = E log(e^{f1.f2} + e^{f1.f-}); checked at the pair with the least slack"),
    params=_THM34_PARAMS,
    assumptions=(_ALIGNED,),
    inputs=_thm3_inputs,
    relation="<=",
    trivial=lambda mu=None, probs=None, views=None, y=None, p=None: 1.0,  # mu_k^T mu_l <= r^2 = 1
    family="infonce",
    summary_keys=_BOUND_KEYS,
)
def thm3(mu=None, probs=None, views=None, y=None, *, p):
    """(mu_k^T mu_l, bound_kl) at the pair (k, l) with the smallest slack."""
    out, k, l = _thm3_pair(mu, probs, views, y, p=p)
    return out["inner"][k, l], out["bound"][k, l]


def _thm4_inputs(p, active):
    normalized = "normalized" in active
    if "perfect alignment" in active:
        return {"config": weighted_class_means(p.K, p.d, p.p_min, standardized=normalized)}
    return {"views": view_pairs(p.N, p.d, "standardized" if normalized else "free"),
            "y": st.imbalanced_labels(p.N, p.K, 1)}


def _thm4_pair(config=None, views=None, y=None, *, p):
    if config is not None:
        probs, mu = config[:, 0], config[:, 1:]
        out = _thm4_core(mu, mu, probs, np.arange(p.K), p.K)
    else:
        z1, z2 = _two_views(views, p.N)
        w = _ratio(1, p.N, views) + 0 * z1[:, 0]
        out = _thm4_core(z1, z2, w, np.asarray(y, dtype=np.int64), p.K)
    k, l = _pick_pair(out["inner"], out["bound"])
    return out, k, l


def _thm4_trivial(config=None, views=None, y=None, p=None):
    """What the normalization alone gives, the analogue of r^2 for SimCLR: E f_i^2 = 1 for every i
    makes sum_k p_k ||mu_k||^2 <= E||f||^2 = d (Jensen), so mu_k^T mu_l <= d / sqrt(p_k p_l)."""
    out, k, l = _thm4_pair(config, views, y, p=p)
    return p.d / np.sqrt(float(out["p"][k]) * float(out["p"][l]))


@claim(
    id="huang2023.thm4",
    statement_latex=r"\mu_k^\top \mu_l \le \sqrt{\frac{2}{p_k p_l}\Bigl(L_2 + \tau - \frac{d - K}{2}\Bigr)} \qquad \forall\, k \ne l",
    cite=_CITE,
    kind="inequality",
    statement=("Theorem 4 (Barlow Twins), tau = 0 (its most favourable form, exact under perfect alignment): "
               "mu_k^T mu_l <= sqrt(2/(p_k p_l) (L2 + tau - (d - K)/2)) for all k != l, L2 = ||E f(x1) f(x2)^T - "
               "I_d||_F^2 with E f_i = 0, E f_i^2 = 1; checked at the pair with the least slack"),
    params=_THM34_PARAMS,
    assumptions=(Assumption("normalized", "per-dimension normalization E f_i = 0, E f_i^2 = 1"), _ALIGNED),
    inputs=_thm4_inputs,
    relation="<=",
    trivial=_thm4_trivial,
    family="barlow",
    summary_keys=_SIZED_BOUND_KEYS,
)
def thm4(config=None, views=None, y=None, *, p):
    """(mu_k^T mu_l, bound_kl) at the pair (k, l) with the smallest slack."""
    out, k, l = _thm4_pair(config, views, y, p=p)
    return out["inner"][k, l], out["bound"][k, l]


# --------------------------------------------------------------------------------------
# (sigma, delta)-augmentation
# --------------------------------------------------------------------------------------


def _sigma_inputs(p, active):
    spaces = {
        "x": st.real_matrix(p.N, p.d, 1.0),
        "extra": st.real_matrix(p.N, p.m_extra * p.d, 0.3),
        "y": st.imbalanced_labels(p.N, p.K, 1),
        "delta": st.real(0.0, 2.0),
    }
    if p.m > 0:
        spaces["aug"] = st.real_matrix(p.N, p.m * p.d, 0.3)
    return spaces


@claim(
    id="huang2023.sigma-delta",
    statement_latex=r"A \subseteq A' \implies d_{A'} \le d_A \implies \sigma_{A'}(\delta) \ge \sigma_A(\delta), \qquad \sigma(\delta) = \min_k \frac{|C_k^0|}{|C_k|}",
    cite=_CITE,
    kind="inequality",
    statement=("(sigma, delta)-augmentation of a finite data set: with d_A(x1, x2) = min distance between augmented "
               "copies, the main part C_k^0 is a maximum clique of 'd_A <= delta' in class k and sigma(delta) = "
               "min_k |C_k^0|/|C_k| (computed exactly); for A' containing A, d_A' <= d_A, so more augmentations "
               "can only raise sigma(delta): sigma_A'(delta) >= sigma_A(delta)"),
    params=(Param("N", 6, "samples", min=1),
            Param("K", 2, "classes", min=1),
            Param("d", 2, "input dimension", min=1),
            Param("m", 1, "augmented copies in A (besides the sample)", min=0),
            Param("m_extra", 1, "further copies in A' = A + extra", min=1)),
    inputs=_sigma_inputs,
    relation=">=",
    family="infonce",
)
def sigma_delta(x, extra, y, delta, aug=None, *, p):
    """(sigma_{A'}(delta), sigma_A(delta))."""
    labels = np.asarray(y, dtype=np.int64)
    base = [x[:, None, :]]
    if aug is not None:
        base.append(x[:, None, :] + aug.reshape(p.N, p.m, p.d))
    views_A = _cat(base, axis=1)
    views_B = _cat([views_A, x[:, None, :] + extra.reshape(p.N, p.m_extra, p.d)], axis=1)
    return _sigma_core(views_B, labels, p.K, delta), _sigma_core(views_A, labels, p.K, delta)


# --------------------------------------------------------------------------------------
# families
# --------------------------------------------------------------------------------------


def _barlow_checks(p) -> list:
    checks = [
        ("huang2023.barlow-decomposition", {"d": p.d, "N": p.N}),
        ("huang2023.barlow-alignment", {"d": p.d, "N": p.N}),
        ("huang2023.gram-identity", {"d": p.d, "K": p.K}),
        ("huang2023.thm4", {"d": p.d, "K": p.K, "N": p.N}),
    ]
    # where is Theorem 4 informative? the same claim at a smaller and a larger dimension
    for d in sorted({max(1, p.K - 1), 2 * p.d} - {p.d}):
        checks.append(("huang2023.thm4", {"d": d, "K": p.K, "N": p.N}))
    return checks


def _infonce_checks(p) -> list:
    checks = [
        ("huang2023.infonce-decomposition", {"d": p.d, "N": p.N}),
        ("huang2023.thm1", {"N": p.N, "d": p.d, "m": p.m, "n": min(p.n, 2)}),
        ("huang2023.thm1.eta-order", {"n": p.n, "m": p.m}),
        ("huang2023.thm1.eta-order-corrected", {"n": p.n, "m": p.m}),
        ("huang2023.thm2", {"K": p.K, "d": p.d, "m": p.m}),
        ("huang2023.thm3", {"d": p.d, "K": p.K, "N": max(p.N, p.K)}),
        ("huang2023.sigma-delta", {"N": max(p.N, p.K), "K": p.K, "d": p.d}),
    ]
    if p.n != 0:  # the asymptotic statement does hold without continuous augmentations
        checks.insert(3, ("huang2023.thm1.eta-order", {"n": 0, "m": p.m}))
    return checks


register_family(Family(
    "barlow",
    "Barlow Twins (huang2023): decomposition, alignment lemma, Gram identity, Theorem 4",
    (Option("d", 4, "embedding dimension d", min=1),
     Option("N", 8, "positive pairs N", min=2),
     Option("K", 3, "classes K", min=2)),
    _barlow_checks,
), replace=True)

register_family(Family(
    "infonce",
    "InfoNCE / SimCLR (huang2023): decomposition, Theorems 1-3, (sigma, delta)-augmentation",
    (Option("d", 3, "embedding (and input) dimension d", min=1),
     Option("N", 6, "samples N", min=1),
     Option("K", 3, "classes K", min=2),
     Option("n", 1, "continuous augmentation parameters n (Theorem 1)", min=0, max=20),
     Option("m", 2, "discrete augmentations / augmented copies m", min=1)),
    _infonce_checks,
), replace=True)
