r"""Fused, row-blocked supervised contrastive loss for torch tensors (forward and backward).

:func:`theorycheck.losses.supcon` and :func:`theorycheck.losses.nt_xent` route torch
tensors here; numpy and mpmath inputs keep the composite implementation of
:mod:`theorycheck.losses` (the claims' float64 and high-precision paths).

Why a custom :class:`torch.autograd.Function`
----------------------------------------------
Written with ordinary torch operations, SupCon keeps several N x N buffers alive for
autograd (the logits, the masked copy, the softmax, the gradient), so memory grows as
N^2 and the time is dominated by passes over those buffers. Here anchors are processed
in blocks of ``block`` rows: only a (block, N) tile of logits exists at a time, so the
extra memory is O(N x block + N x d), and each tile is read a fixed, small number of
times.

Hand-derived gradient
---------------------
With :math:`s_{ik} = \langle z_i, z_k\rangle/\tau`, :math:`A(i) = \{k \ne i\}`,
:math:`P(i) = \{j \ne i: y_j = y_i\}`, :math:`c_i = |P(i)|`, the per-anchor terms are

.. math::

    t^{out}_i = \mathrm{LSE}_{k \in A(i)} s_{ik} - \frac{1}{c_i}\sum_{j \in P(i)} s_{ij},
    \qquad
    t^{in}_i = \mathrm{LSE}_{k \in A(i)} s_{ik} - \mathrm{LSE}_{j \in P(i)} s_{ij} + \log c_i,

and :math:`t_i = 0` when :math:`c_i = 0`. For an upstream gradient :math:`g_i` (zeroed on
anchors without positives), :math:`\partial \sum_i g_i t_i / \partial s_{ik} = g_i D_{ik}`
with :math:`D_{ik} = p_{ik} - q_{ik}`, :math:`p_{ik}` the softmax of row i over A(i)
(0 at k = i) and :math:`q_{ik}` the positive weights: :math:`1/c_i` on P(i) for L_out, the
softmax of row i over P(i) for L_in. Since :math:`s_{ik}` depends on :math:`z_i` and
:math:`z_k`,

.. math::

    \frac{\partial}{\partial z_m} \sum_i g_i t_i
      = \frac{1}{\tau}\Big( g_m \sum_k D_{mk} z_k + \sum_i g_i D_{im} z_i \Big)
      = \frac{1}{\tau}\big( \mathrm{diag}(g) D Z + D^\top \mathrm{diag}(g) Z \big)_m ,

computed tile by tile: rows ``R`` of D contribute ``diag(g_R) D_R Z`` to rows R and
``D_R^T (g_R Z_R)`` to every row. For L_out the q part needs no tile: with
:math:`S_c = \sum_{y_j = c} z_j` and :math:`v_i = g_i / c_i`,
:math:`\sum_k q_{mk} z_k = (S_{y_m} - z_m)/c_m` and
:math:`\sum_i g_i q_{im} z_i = T_{y_m} - v_m z_m` with :math:`T_c = \sum_{y_i = c} v_i z_i`
(an O(N d) computation).

When the caller reduces the terms with ``sum`` or ``mean`` the upstream gradient is the
same number for every anchor, so the forward pass computes the gradient for g = 1 while
its tiles are in cache (one tile of logits, two more matmuls) and the backward only
scales it: forward + backward cost one Gram matmul plus two gradient matmuls, the same
as autograd through a bare ``Z @ Z.T``. For ``reduction="none"`` the backward recomputes
the tiles with the actual g. When a second derivative is asked for (``create_graph=True``:
Hessians, ``gradgradcheck``), the backward instead differentiates the composite torch
expression (:func:`_composite_terms`, N x N buffers), so the result stays twice
differentiable; the fused path serves every first-order use.

Precision
---------
float64 and float32 compute in their own dtype. float16 and bfloat16 compute the logits
matmul and the gradient matmuls in their own dtype (tensor cores on GPU) but the
log-sum-exp, the softmax tiles, the class sums and the gradient accumulator in float32,
so no sum of N exponentials is accumulated in 8 or 11 bits; values and gradients are
returned in the input dtype.
"""

from __future__ import annotations

import torch

__all__ = ["supcon_terms", "auto_block_size", "accumulation_dtype"]

# Bytes a tile may occupy on the CPU: large enough that each matmul has many rows, small
# enough that a tile stays near the cache and the resident memory stays O(N) (measured
# on a 2-core box: 16-64 MiB are within a few percent of each other).
_CPU_TILE_BYTES = 32 << 20
# On a GPU, a share of the free memory (capped): tiles then hold thousands of rows.
_GPU_TILE_SHARE = 8
_GPU_TILE_CAP = 1 << 30
_MIN_BLOCK = 16

_HALF = (torch.float16, torch.bfloat16)


def accumulation_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32 for float16/bfloat16 (safe sums of exponentials), else the dtype itself."""
    return torch.float32 if dtype in _HALF else dtype


def _tile_bytes_per_row(n: int, dtype: torch.dtype, variant: str) -> int:
    acc = torch.finfo(accumulation_dtype(dtype)).bits // 8
    own = torch.finfo(dtype).bits // 8
    # the logits tile (plus its own-dtype copy for half inputs and the copy cast for the
    # gradient matmuls); L_in adds the positive logits tile and a boolean mask
    per_entry = acc + (2 * own if dtype in _HALF else 0)
    if variant == "in":
        per_entry += acc + 1
    return n * per_entry


def auto_block_size(n: int, device: torch.device, dtype: torch.dtype, variant: str = "out") -> int:
    """Rows per tile for N anchors, from N and the memory of ``device``.

    CPU: tiles of about 32 MiB. CUDA: 1/8 of the currently free device memory, at most 1 GiB
    per tile. At least 16 rows (or N if smaller), at most N.
    """
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        budget = min(free // _GPU_TILE_SHARE, _GPU_TILE_CAP)
    else:
        budget = _CPU_TILE_BYTES
    rows = budget // max(1, _tile_bytes_per_row(n, dtype, variant))
    return int(min(n, max(_MIN_BLOCK, rows)))


def _logit_tile(scaled, Z, r0: int, r1: int, acc: torch.dtype):
    """s_{ik} for i in [r0, r1), every k, in the accumulation dtype, -inf at k = i."""
    S = scaled[r0:r1] @ Z.T
    if S.dtype != acc:
        S = S.to(acc)
    S.diagonal(offset=r0).fill_(float("-inf"))
    return S


def _exp_rows_(S):
    """In place S <- exp(S - m) per row; returns (m, row sums). A row of -inf gives m = 0, sum 0."""
    m = S.amax(dim=1, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    S.sub_(m).exp_()
    return m, S.sum(dim=1, keepdim=True)


def _positive_tile(S, labels, r0: int, r1: int):
    pos = labels[r0:r1, None] == labels[None, :]
    pos.diagonal(offset=r0).fill_(False)
    return S.masked_fill(~pos, float("-inf"))


def _tiles(Z, scaled, labels, variant: str, block: int, acc: torch.dtype, weights, want_values: bool):
    """One pass over the tiles.

    Returns ``(lse, lse_pos, grad)``: the log-sum-exp over A(i) and (L_in) over P(i), when
    ``want_values``; and, when ``weights`` (g, zero on anchors without positives) is given,
    the softmax part of the gradient ``(diag(g) D Z + D^T diag(g) Z) / tau`` (for L_out D
    holds p only; its q part is added by the caller from class sums).
    """
    N, d = Z.shape
    dev = Z.device
    lse = torch.empty(N, dtype=acc, device=dev) if want_values else None
    lse_pos = torch.empty(N, dtype=acc, device=dev) if want_values and variant == "in" else None
    grad = torch.zeros(N, d, dtype=acc, device=dev) if weights is not None else None
    for r0 in range(0, N, block):
        r1 = min(N, r0 + block)
        S = _logit_tile(scaled, Z, r0, r1, acc)
        Sp = _positive_tile(S, labels, r0, r1) if variant == "in" else None
        if Sp is not None:
            mp, sp = _exp_rows_(Sp)
            sp = torch.where(sp > 0, sp, torch.ones_like(sp))  # anchors without positives
            if want_values:
                lse_pos[r0:r1] = (mp + torch.log(sp)).squeeze(1)
        m, s = _exp_rows_(S)
        if want_values:
            lse[r0:r1] = (m + torch.log(s)).squeeze(1)
        if grad is None:
            continue
        w = weights[r0:r1, None]
        if Sp is not None:
            # D = p - q: normalise both tiles, subtract in place (no third tile)
            S.div_(s).sub_(Sp.div_(sp))
            row_w = w
        else:
            # p = E / s: fold 1/s into the row weights instead of a pass over the tile
            row_w = w / s
        D = S if S.dtype == Z.dtype else S.to(Z.dtype)
        # rows R: g_R * (D_R Z)/tau ; every row: D_R^T (g_R Z_R)/tau
        grad[r0:r1] += row_w * (D @ scaled).to(acc)
        column = row_w.to(Z.dtype) * scaled[r0:r1]
        if acc == Z.dtype:
            grad.addmm_(D.T, column)  # in place: no N x d temporary per tile
        else:
            grad += (D.T @ column).to(acc)
    return lse, lse_pos, grad


def _out_attraction(Z_acc, scaled_acc, labels, n_classes: int, safe_counts):
    """(1/c_i) sum_{j in P(i)} s_ij = <z_i, S_{y_i} - z_i> / (tau c_i), and the class sums."""
    sums = torch.zeros(n_classes, Z_acc.shape[1], dtype=Z_acc.dtype, device=Z_acc.device)
    sums.index_add_(0, labels, Z_acc)
    others = sums[labels] - Z_acc
    return (scaled_acc * others).sum(dim=1) / safe_counts, others


def _out_attraction_grad(Z_acc, labels, n_classes: int, safe_counts, others, g, tau: float):
    """Gradient of sum_i g_i (1/c_i) sum_{j in P(i)} s_ij (g zero on anchors without positives)."""
    v = (g / safe_counts)[:, None]
    T = torch.zeros(n_classes, Z_acc.shape[1], dtype=Z_acc.dtype, device=Z_acc.device)
    T.index_add_(0, labels, v * Z_acc)
    return (v * (others - Z_acc) + T[labels]) / tau


def _full_grad(ctx_like, g_pos):
    """Gradient of sum_i g_i t_i for per-anchor weights g (zero on anchors without positives)."""
    Z, labels, counts, tau, variant, block, n_classes = ctx_like
    acc = accumulation_dtype(Z.dtype)
    scaled = Z / tau
    _, _, grad = _tiles(Z, scaled, labels, variant, block, acc, g_pos, want_values=False)
    if variant == "out":
        Z_acc = Z.to(acc)
        safe = counts.clamp(min=1).to(acc)
        sums = torch.zeros(n_classes, Z.shape[1], dtype=acc, device=Z.device).index_add_(0, labels, Z_acc)
        grad -= _out_attraction_grad(Z_acc, labels, n_classes, safe, sums[labels] - Z_acc, g_pos, tau)
    return grad


class _SupConTerms(torch.autograd.Function):
    """Per-anchor SupCon terms; see the module docstring for the derivation of the backward."""

    @staticmethod
    def forward(ctx, Z, labels, counts, tau, variant, block, n_classes, uniform_upstream, need_grad):
        acc = accumulation_dtype(Z.dtype)
        has_pos = counts > 0
        g_pos = has_pos.to(acc)
        precompute = need_grad and uniform_upstream
        scaled = Z / tau  # the same rounding as the composite path: (Z / tau) @ Z^T
        lse, lse_pos, grad = _tiles(Z, scaled, labels, variant, block, acc,
                                    g_pos if precompute else None, want_values=True)
        safe = counts.clamp(min=1).to(acc)
        if variant == "out":
            Z_acc, scaled_acc = (Z, scaled) if acc == Z.dtype else (Z.to(acc), scaled.to(acc))
            attract, others = _out_attraction(Z_acc, scaled_acc, labels, n_classes, safe)
            terms = lse - attract
            if precompute:
                grad -= _out_attraction_grad(Z_acc, labels, n_classes, safe, others, g_pos, tau)
        else:
            terms = lse - (lse_pos - torch.log(safe))
        terms = torch.where(has_pos, terms, torch.zeros_like(terms))
        ctx.params = (tau, variant, block, n_classes)
        ctx.precomputed = precompute
        if need_grad:
            # Z is kept for a second derivative and for the recomputing backward; holding a
            # reference costs at most N x d (not N x N)
            ctx.save_for_backward(Z, labels, counts, *([grad] if precompute else []))
        return terms.to(Z.dtype)

    @staticmethod
    def backward(ctx, g):
        tau, variant, block, n_classes = ctx.params
        Z, labels, counts, *pre = ctx.saved_tensors
        if torch.is_grad_enabled():
            # create_graph=True (Hessians, gradgradcheck): the gradient must itself be
            # differentiable, so it is taken through the composite torch expression, whose
            # N x N buffers are acceptable at the sizes second derivatives are formed for.
            with torch.enable_grad():
                terms = _composite_terms(Z, labels, counts, tau, variant)
                (grad,) = torch.autograd.grad(terms, Z, grad_outputs=g, create_graph=True)
            return grad, None, None, None, None, None, None, None, None
        acc = accumulation_dtype(Z.dtype)
        if ctx.precomputed:
            # the caller summed the terms (times a constant): g is that constant everywhere
            out = pre[0] * g[:1].to(acc)[:, None]
        else:
            g_pos = torch.where(counts > 0, g.to(acc), torch.zeros((), dtype=acc, device=g.device))
            out = _full_grad((Z, labels, counts, tau, variant, block, n_classes), g_pos)
        return out.to(Z.dtype), None, None, None, None, None, None, None, None


def _composite_terms(Z, labels, counts, tau: float, variant: str):
    """The per-anchor terms as plain differentiable torch operations on full N x N matrices."""
    N = Z.shape[0]
    S = (Z / tau) @ Z.T
    acc = accumulation_dtype(Z.dtype)
    S = S.to(acc)
    eye = torch.eye(N, dtype=torch.bool, device=Z.device)
    lse = torch.logsumexp(S.masked_fill(eye, float("-inf")), dim=1)
    pos = (labels[:, None] == labels[None, :]) & ~eye
    has_pos = counts > 0
    safe = counts.clamp(min=1).to(acc)
    if variant == "out":
        attract = S.masked_fill(~pos, 0.0).sum(dim=1) / safe
    else:
        # rows without positives keep every entry: a row of -inf would give NaN gradients
        usable = pos | ~has_pos[:, None]
        attract = torch.logsumexp(S.masked_fill(~usable, float("-inf")), dim=1) - torch.log(safe)
    return torch.where(has_pos, lse - attract, torch.zeros_like(lse)).to(Z.dtype)


def supcon_terms(Z: torch.Tensor, labels: torch.Tensor, counts: torch.Tensor, temperature: float, variant: str,
                 *, n_classes: int, block_size: int | None = None, uniform_upstream: bool = False):
    """Per-anchor SupCon terms of ``Z`` (N, d) in its dtype and on its device, fused and row-blocked.

    Parameters
    ----------
    Z : torch.Tensor, shape (N, d)
        Floating tensor (float64, float32, float16 or bfloat16), N >= 2.
    labels : torch.Tensor of int64, shape (N,)
        Class indices in [0, n_classes), on Z's device.
    counts : torch.Tensor of int64, shape (N,)
        |P(i)|, the number of positives of each anchor.
    temperature : float
    variant : {"out", "in"}
    n_classes : int
    block_size : int, optional
        Rows per tile; None chooses it from N and the device memory (:func:`auto_block_size`).
    uniform_upstream : bool
        True when the caller only ever sums the terms (times a constant): the gradient is
        then computed during the forward pass (see the module docstring).

    Returns
    -------
    torch.Tensor, shape (N,)
        The terms (0 for anchors without positives), in Z's dtype; differentiable twice
        (second derivatives go through the composite expression, see the module docstring).
    """
    N = Z.shape[0]
    block = block_size if block_size is not None else auto_block_size(N, Z.device, Z.dtype, variant)
    need_grad = torch.is_grad_enabled() and Z.requires_grad
    return _SupConTerms.apply(Z, labels, counts, float(temperature), variant, int(block), int(n_classes),
                              bool(uniform_upstream), bool(need_grad))

