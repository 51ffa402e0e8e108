"""Losses of representation learning, written once for float64 numpy, torch and mpmath.

Every loss here accepts numpy arrays, torch tensors (autograd is kept, the result lives
on the input's device) and numpy ``object`` arrays of ``mpmath.mpf`` (the engine
re-evaluates counterexamples at 50+ significant digits through these very functions).
Inputs are validated once, at the boundary (:mod:`theorycheck._validation`); float32 and
integer inputs are computed in float64, except torch tensors given to :func:`supcon` and
:func:`nt_xent`, which keep their floating dtype (fused row-blocked computation,
:mod:`theorycheck._supcon_fused`). Every exponential goes through a log-sum-exp, so a
sphere of radius 100 (temperature 1e-4) gives finite, correct values. Masks (self,
positives) are applied by replacing entries with ``-inf`` *before* a log-sum-exp or by
selecting with ``where`` -- never by multiplying with 0, which would turn ``inf`` into NaN.

The conventions of every loss, and which reference implementation each one matches, are
listed in ``docs/losses.md``.

Notation: N samples, h (or d) embedding dimension, rows of ``Z`` are embeddings, except in
:func:`sample_contrastive` / :func:`dimension_contrastive`, which follow garrido2023 and take
``K`` of shape (M, N) whose *columns* are embeddings.

Examples
--------
>>> import numpy as np
>>> from theorycheck.losses import cross_entropy, sample_contrastive
>>> float(cross_entropy(np.ones((4, 3)), np.zeros((5, 3)), [0, 1, 2, 3])) == float(np.log(5))
True
>>> float(sample_contrastive(np.eye(3)))
0.0
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np

from . import backend as xp
from ._validation import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_labels,
    check_real,
    check_size,
    representable,
    MAX_BATCH_SIZE,
    fail,
    is_mp_array,
    is_torch,
)

try:
    import torch
except ImportError:  # pragma: no cover - torch is a runtime dependency
    torch = None  # type: ignore[assignment]

__all__ = [
    "cross_entropy",
    "supcon",
    "sc_loss",
    "SCLossResult",
    "nt_xent",
    "infonce_one_negative",
    "dcl",
    "barlow_twins",
    "vicreg",
    "vicreg_exp",
    "vicreg_ctr",
    "sample_contrastive",
    "dimension_contrastive",
    "alignment",
    "uniformity",
]

_SUPCON_VARIANTS = ("out", "in")
_REDUCTIONS = ("mean", "sum", "none")
_BATCH_SETS = ("multiset", "subset", "ordered")
_SC_METHODS = ("auto", "exact", "monte-carlo")

# Entries of a gathered (batches, b, b) block evaluated per chunk in sc_loss: bounds memory
# (about 32 bytes per entry with the masks) while keeping numpy/torch calls large.
_SC_CHUNK_ENTRIES = 2_000_000
_SC_CHUNK_ENTRIES_MP = 20_000


# --------------------------------------------------------------------------------------
# Private helpers: number-system plumbing shared by every loss
# --------------------------------------------------------------------------------------


def _unify(*arrays):
    """Bring validated arrays into one number system.

    mpmath wins over torch and numpy (a high-precision evaluation must not be degraded);
    torch wins over numpy (autograd and the device are kept; numpy operands are moved to the
    device of the first tensor).
    """
    if any(is_mp_array(a) for a in arrays):
        return tuple(a if is_mp_array(a) else xp.to_mp(a) for a in arrays)
    tensors = [a for a in arrays if is_torch(a)]
    if tensors:
        device = tensors[0].device
        return tuple(
            a.to(device) if is_torch(a) else torch.as_tensor(a, dtype=torch.float64, device=device)
            for a in arrays
        )
    return arrays


def _const(value: float, like: Any):
    """A constant in the number system of ``like``; exact (mpf) for mpmath arrays."""
    if is_mp_array(like) or isinstance(like, mpmath.mpf):
        return mpmath.mpf(value)
    return float(value)


def _neg_inf(like: Any):
    return mpmath.mpf("-inf") if is_mp_array(like) else float("-inf")


def _mask_like(mask: np.ndarray, like: Any):
    """A numpy boolean mask as a torch bool tensor on ``like``'s device (or unchanged)."""
    if is_torch(like):
        return torch.as_tensor(mask, dtype=torch.bool, device=like.device)
    return mask


def _keep(values, mask: np.ndarray, fill):
    """``values`` where ``mask`` is True, else ``fill`` (no arithmetic on the dropped entries)."""
    if is_torch(values):
        return values.masked_fill(~_mask_like(mask, values), fill)
    if is_mp_array(values):
        return np.where(mask, values, mpmath.mpf(fill))
    return np.where(mask, values, fill)


def _fill_diagonal(S, fill):
    """Copy of ``S`` (..., n, n) with the diagonal of the last two axes replaced by ``fill``."""
    n = S.shape[-1]
    if is_torch(S):
        return S.masked_fill(torch.eye(n, dtype=torch.bool, device=S.device), fill)
    out = S.copy()
    idx = np.arange(n)
    out[..., idx, idx] = mpmath.mpf(fill) if is_mp_array(S) else fill
    return out


def _transpose(A):
    """Swap the last two axes (works for batched torch, numpy and object arrays)."""
    if is_torch(A):
        return A.transpose(-1, -2)
    return np.swapaxes(A, -1, -2)


def _concat_rows(a, b):
    if is_torch(a):
        return torch.cat([a, b], dim=0)
    return np.concatenate([a, b], axis=0)


def _relu(x):
    # (x + |x|) / 2 is exactly max(x, 0) in floating point and needs no comparison, so it
    # runs unchanged on numpy, torch and mpmath object arrays.
    return (x + xp.abs(x)) / 2


def _softplus(x):
    """log(1 + e^x) without overflow: max(x, 0) + log1p(e^{-|x|})."""
    return _relu(x) + xp.log1p(xp.exp(-xp.abs(x)))


def _divide_by_count(x, count: int):
    """x / count with an exact integer divisor for mpmath."""
    if is_mp_array(x) or isinstance(x, mpmath.mpf):
        return x / mpmath.mpf(count)
    return x / count


def _finish_scalar(value):
    """numpy 0-d results become np.float64, torch stays a 0-d tensor, mpmath an mpf."""
    if is_torch(value):
        return value
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if isinstance(value, mpmath.mpf):
        return value
    return np.float64(value)


def _row_norms_nonzero(Z, name: str, caller: str, original) -> None:
    squared = xp.sum(Z * Z, axis=1)
    # compare in the input's own number system: an mpf of 1e-400 is not zero
    zero = any(v == 0 for v in squared) if is_mp_array(squared) else bool(np.any(xp.to_numpy(squared) == 0))
    if zero:
        raise fail(name, caller, "rows of non-zero norm (they are normalized; pass normalize=False to use raw dot products)", original)


def _normalize_rows(Z):
    return Z / xp.norm(Z, axis=1, keepdims=True)


def _embeddings(Z, name: str, caller: str, *, min_rows: int = 1, keep_torch_dtype: bool = False):
    return check_array(Z, name, caller, ndim=2, min_rows=min_rows, keep_torch_dtype=keep_torch_dtype)


def _two_views(z1, z2, caller: str, *, min_rows: int = 1, keep_torch_dtype: bool = False):
    a = _embeddings(z1, "z1", caller, min_rows=min_rows, keep_torch_dtype=keep_torch_dtype)
    b = _embeddings(z2, "z2", caller, min_rows=min_rows, keep_torch_dtype=keep_torch_dtype)
    if tuple(a.shape) != tuple(b.shape):
        raise fail("z2", caller, f"of the same shape as `z1` {tuple(a.shape)}", z2)
    return _unify(a, b)


# --------------------------------------------------------------------------------------
# Cross-entropy
# --------------------------------------------------------------------------------------


@representable("Z", "W", "l2")
def cross_entropy(Z, W, y, l2=0.0):
    r"""Bias-free softmax cross-entropy, mean over samples (graf2021, section 2 of docs/theory.md).

    .. math::

        L_{CE}(Z, W; Y) = \frac{1}{N} \sum_{n=1}^N -\log
            \frac{\exp\langle z_n, w_{y_n}\rangle}{\sum_{k=1}^K \exp\langle z_n, w_k\rangle}
            \; + \; l_2 \, \|W\|_F^2

    Parameters
    ----------
    Z : array_like, shape (N, h)
        Embeddings (rows).
    W : array_like, shape (K, h)
        Classifier weights (rows), K >= 2.
    y : array_like of int, shape (N,)
        Labels in [0, K).
    l2 : float, default 0.0
        Weight of the penalty ``l2 * ||W||_F^2`` (graf2021.ce.l2 writes it lambda).

    Returns
    -------
    scalar
        np.float64, 0-d torch tensor (autograd kept) or mpmath.mpf, following the inputs.

    Examples
    --------
    With W = 0 every class has probability 1/K:

    >>> import numpy as np
    >>> float(cross_entropy(np.ones((2, 3)), np.zeros((4, 3)), [0, 3])) == float(np.log(4))
    True
    """
    caller = "cross_entropy"
    Z = _embeddings(Z, "Z", caller)
    W = check_array(W, "W", caller, ndim=2)
    if W.shape[0] < 2:
        raise fail("W", caller, "of shape (K, h) with K >= 2 classes", W)
    if W.shape[1] != Z.shape[1]:
        raise fail("W", caller, f"of shape (K, {Z.shape[1]}) (same dimension h as `Z`)", W)
    y = check_labels(y, "y", caller, n=Z.shape[0], num_classes=W.shape[0])
    l2 = check_real(l2, "l2", caller, ge=0.0)
    Z, W = _unify(Z, W)
    logits = Z @ W.T
    rows = np.arange(Z.shape[0])
    if is_torch(logits):
        target = logits[torch.as_tensor(rows, device=logits.device), torch.as_tensor(y, device=logits.device)]
    else:
        target = logits[rows, y]
    loss = xp.mean(xp.logsumexp(logits, axis=1) - target)
    if l2 != 0.0:
        loss = loss + _const(l2, W) * xp.sum(W * W)
    return _finish_scalar(loss)


# --------------------------------------------------------------------------------------
# Supervised contrastive loss (khosla2020 conventions; graf2021 per-batch term)
# --------------------------------------------------------------------------------------


def _supcon_terms_batched(S, y: np.ndarray, variant: str):
    """Per-anchor SupCon terms for a stack of batches.

    ``S`` (..., n, n) are the logits <z_i, z_j>/tau of each batch, ``y`` (..., n) int labels.
    Returns ``(terms, counts)``: terms (..., n) are

    * out: LSE_{k != i} S_ik - mean_{j in P(i)} S_ij,
    * in:  LSE_{k != i} S_ik - LSE_{j in P(i)} S_ij + log |P(i)|,

    and 0 for anchors without positives; counts (..., n) = |P(i)| (numpy int).
    """
    n = S.shape[-1]
    eye = np.eye(n, dtype=bool)
    positives = (y[..., :, None] == y[..., None, :]) & ~eye
    counts = positives.sum(axis=-1)
    has_pos = counts > 0
    safe_counts = np.maximum(counts, 1)
    lse = xp.logsumexp(_fill_diagonal(S, _neg_inf(S)), axis=-1)
    if variant == "out":
        attract = xp.sum(_keep(S, positives, 0.0), axis=-1) / _counts_like(safe_counts, S)
    else:
        # Rows without positives keep every entry so that their (discarded) log-sum-exp stays
        # finite: a -inf there would give NaN gradients through the final `where`.
        usable = positives | ~has_pos[..., None]
        attract = xp.logsumexp(_keep(S, usable, _neg_inf(S)), axis=-1) - xp.log(_counts_like(safe_counts, S))
    terms = _keep(lse - attract, has_pos, 0.0)
    return terms, counts


def _counts_like(counts: np.ndarray, like):
    """Integer counts as an array of ``like``'s number system (exact for mpmath)."""
    if is_torch(like):
        return torch.as_tensor(counts, dtype=like.dtype, device=like.device)
    if is_mp_array(like):
        return xp.to_mp(counts)
    return counts.astype(np.float64)


def _self_masked_logits(Z, temperature: float):
    """(Z / tau, S) with S = Z Z^T / tau and -inf on the diagonal (k != i in every LSE).

    The diagonal of the freshly computed product is overwritten in place. For torch this is
    legal under autograd (the matmul's backward needs its inputs, not its output) and saves
    the N x N copy an out-of-place mask would cost; its backward only zeroes the diagonal of
    the incoming gradient, and it stays twice differentiable.
    """
    scaled = Z / _const(temperature, Z)
    S = scaled @ Z.T
    if is_torch(S):
        S.fill_diagonal_(float("-inf"))
    else:
        idx = np.arange(S.shape[0])
        S[idx, idx] = _neg_inf(S)
    return scaled, S


def _class_sums(Z, inverse: np.ndarray, n_classes: int):
    """Row i of the result is the sum of the rows of Z in the class of sample i (O(N h))."""
    if is_torch(Z):
        index = torch.as_tensor(inverse, device=Z.device)
        sums = torch.zeros((n_classes, Z.shape[1]), dtype=Z.dtype, device=Z.device).index_add(0, index, Z)
        return sums[index]
    sums = xp.zeros_like(Z[:n_classes])  # n_classes <= N: the classes are those present in y
    np.add.at(sums, inverse, Z)
    return sums[inverse]


def _supcon_terms_full(Z, y: np.ndarray, temperature: float, variant: str):
    """Per-anchor terms of one batch, fast path: one matmul and one masked log-sum-exp.

    For L_out the positive part needs no N x N mask: sum_{j in P(i)} <z_i, z_j> =
    <z_i, s_{y_i} - z_i> with s_c the sum of the embeddings of class c (an N x K x h cost).
    """
    _, inverse = np.unique(y, return_inverse=True)
    inverse = inverse.reshape(-1)
    if variant == "in":
        S = (Z / _const(temperature, Z)) @ Z.T
        return _supcon_terms_batched(S, inverse, variant)
    class_sizes = np.bincount(inverse)
    counts = class_sizes[inverse] - 1
    scaled, S = _self_masked_logits(Z, temperature)
    lse = xp.logsumexp(S, axis=-1)
    others = _class_sums(Z, inverse, class_sizes.shape[0]) - Z
    positive_sum = xp.sum(scaled * others, axis=1)
    has_pos = counts > 0
    if has_pos.all():  # the usual case: no anchor to zero out, skip the mask
        return lse - positive_sum / _counts_like(counts, Z), counts
    attract = positive_sum / _counts_like(np.maximum(counts, 1), Z)
    return _keep(lse - attract, has_pos, 0.0), counts


@representable("Z", "temperature")
def supcon(
    Z,
    y,
    temperature=1.0,
    variant="out",
    reduction="mean",
    drop_anchors_without_positives=True,
    base_temperature=None,
    *,
    block_size=None,
):
    r"""Supervised contrastive loss with Khosla et al.'s conventions as explicit options.

    With logits :math:`s_{ij} = \langle z_i, z_j\rangle / \tau`, positives
    :math:`P(i) = \{j \ne i : y_j = y_i\}` and :math:`A(i) = \{k \ne i\}` (khosla2020):

    .. math::

        \ell^{out}_i = -\frac{1}{|P(i)|} \sum_{j \in P(i)}
            \log \frac{e^{s_{ij}}}{\sum_{k \in A(i)} e^{s_{ik}}}, \qquad
        \ell^{in}_i = -\log \Big( \frac{1}{|P(i)|} \sum_{j \in P(i)}
            \frac{e^{s_{ij}}}{\sum_{k \in A(i)} e^{s_{ik}}} \Big).

    By Jensen's inequality :math:`\ell^{in}_i \le \ell^{out}_i`, with equality iff all
    :math:`s_{ij}, j \in P(i)` are equal. With ``variant="out"``, ``reduction="sum"`` and
    ``temperature=1`` the value on a batch is graf2021's per-batch term
    :math:`l(Z; B) = \sum_{i: |B_{y_i}| \ge 2} \ell^{out}_i` (docs/theory.md section 3).

    Parameters
    ----------
    Z : array_like, shape (N, h)
        Embeddings (rows), N >= 2. Not normalized here: normalize before calling for the
        cosine-similarity convention of the reference code.
    y : array_like of int, shape (N,)
        Non-negative integer labels.
    temperature : float, default 1.0
        tau > 0.
    variant : {"out", "in"}
        Where the average over positives sits: outside (L_out) or inside (L_in) the log.
    reduction : {"mean", "sum", "none"}
        ``"none"`` returns the N per-anchor terms (0 for anchors without positives);
        ``"sum"`` their sum; ``"mean"`` their mean over the anchors that count.
    drop_anchors_without_positives : bool, default True
        For ``"mean"``: True averages over anchors with at least one positive only (the
        behaviour of pytorch-metric-learning); False counts them as 0 in a mean over all N
        anchors (the reference SupCon code). ``"sum"`` and ``"none"`` are unaffected.
    base_temperature : float or None, default None
        If given, the loss is multiplied by ``temperature / base_temperature`` as in the
        reference SupCon training code (which uses base_temperature = 0.07).
    block_size : int or None, keyword-only, default None
        torch only: anchors per row tile of the fused computation (memory O(N x block_size));
        None chooses it from N and the device's memory
        (:func:`theorycheck._supcon_fused.auto_block_size`). The value does not depend on it
        beyond rounding.

    Returns
    -------
    scalar or array of shape (N,)
        Following the inputs' number system (numpy float64, torch with autograd, mpmath).

    Notes
    -----
    numpy inputs (float32 and integer ones converted) are computed in float64 and mpmath
    object arrays at the working precision, by the composite implementation. torch tensors
    go through a fused :class:`torch.autograd.Function` with a hand-derived backward
    (:mod:`theorycheck._supcon_fused`, where the gradient is derived): the result stays in
    the tensor's dtype and on its device (float16/bfloat16 accumulate the log-sum-exp in
    float32), memory is O(N x block_size) instead of several N x N buffers; second
    derivatives (``create_graph=True``) fall back to the composite N x N expression. Against the composite float64 computation
    of the same values: float64 agrees to about 1e-13 relative; float32 to a few
    float32 ulps of the largest logit magnitude, ``|error| <= 1e-5 * max(1, max|s_ij|)``
    per term (tested), bfloat16/float16 to their own resolution (about 1e-2 relative).

    Raises
    ------
    InvalidArgumentError
        For ``reduction="mean"`` with dropped anchors when no anchor has a positive (no
        class has two samples): the mean over an empty set is undefined.

    Examples
    --------
    Two classes of two samples: each anchor has one positive and two negatives; with all
    embeddings equal every term is log 3:

    >>> import numpy as np
    >>> bool(np.isclose(supcon(np.ones((4, 2)), [0, 0, 1, 1]), np.log(3), rtol=1e-14))
    True
    """
    caller = "supcon"
    Z = _embeddings(Z, "Z", caller, min_rows=2, keep_torch_dtype=True)
    y = check_labels(y, "y", caller, n=Z.shape[0])
    temperature = check_real(temperature, "temperature", caller, gt=0.0)
    variant = check_choice(variant, "variant", caller, _SUPCON_VARIANTS)
    reduction = check_choice(reduction, "reduction", caller, _REDUCTIONS)
    drop = check_bool(drop_anchors_without_positives, "drop_anchors_without_positives", caller)
    if base_temperature is not None:
        base_temperature = check_real(base_temperature, "base_temperature", caller, gt=0.0)
    if block_size is not None:
        block_size = check_int(block_size, "block_size", caller, min_value=1)

    if is_torch(Z):
        return _supcon_torch(Z, y, temperature, variant, reduction, drop, base_temperature, block_size)
    terms, counts = _supcon_terms_full(Z, y, temperature, variant)
    if base_temperature is not None:
        terms = terms * _const(temperature / base_temperature, terms)
    if reduction == "none":
        return terms
    total = xp.sum(terms)
    if reduction == "sum":
        return _finish_scalar(total)
    n_anchors = int(np.count_nonzero(counts)) if drop else Z.shape[0]
    if n_anchors == 0:
        raise _no_anchor_error(y, caller)
    return _finish_scalar(_divide_by_count(total, n_anchors))


def _no_anchor_error(y, caller: str):
    return fail(
        "y",
        caller,
        "labels with at least one class of two or more samples (no anchor has a positive, "
        "so the mean over anchors with positives is undefined; use reduction='sum' or "
        "drop_anchors_without_positives=False)",
        y,
    )


def _fused_terms(Z, y: np.ndarray, temperature: float, variant: str, block_size, uniform_upstream: bool):
    """Per-anchor terms of torch ``Z`` through the fused row-blocked Function, and |P(i)|."""
    from ._supcon_fused import supcon_terms

    _, inverse = np.unique(y, return_inverse=True)
    inverse = inverse.reshape(-1)
    class_sizes = np.bincount(inverse)
    counts = class_sizes[inverse] - 1
    terms = supcon_terms(
        Z,
        torch.as_tensor(inverse, dtype=torch.int64, device=Z.device),
        torch.as_tensor(counts, dtype=torch.int64, device=Z.device),
        temperature,
        variant,
        n_classes=int(class_sizes.shape[0]),
        block_size=block_size,
        uniform_upstream=uniform_upstream,
    )
    return terms, counts


def _supcon_torch(Z, y: np.ndarray, temperature, variant, reduction, drop, base_temperature, block_size):
    """supcon for a torch tensor: fused, in Z's dtype and on its device."""
    caller = "supcon"
    if reduction == "mean":
        # checked before any work (the labels alone decide it)
        sizes = np.bincount(np.unique(y, return_inverse=True)[1].reshape(-1))
        n_anchors = int(np.sum(sizes[sizes > 1])) if drop else Z.shape[0]
        if n_anchors == 0:
            raise _no_anchor_error(y, caller)
    # "sum" and "mean" only sum the terms: the gradient can be formed in the forward pass
    terms, _ = _fused_terms(Z, y, temperature, variant, block_size, uniform_upstream=(reduction != "none"))
    scale = None if base_temperature is None else temperature / base_temperature
    if reduction == "none":
        return terms if scale is None else terms * scale
    total = terms.sum()
    if scale is not None:
        total = total * scale
    if reduction == "sum":
        return total
    return total / n_anchors


# --------------------------------------------------------------------------------------
# Graf et al.'s full SC loss over a batch set
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SCLossResult:
    """Value of :func:`sc_loss`: the loss summed over a batch set, exact or estimated.

    Attributes
    ----------
    value : scalar
        L_SC = sum over the batch set of l(Z; B) (exact), or the unbiased Monte-Carlo
        estimate ``n_batches * mean``. Same number system as the input (torch keeps
        autograd). ``inf`` as a float when the total exceeds the float64 range (about 1e308):
        use :attr:`mean` and :attr:`log_n_batches` then.
    standard_error : float
        Standard error of ``value`` (0.0 when exact).
    mean : scalar
        Mean of l(Z; B) over the batch set (``value / n_batches``), always finite.
    mean_standard_error : float
        Standard error of ``mean`` (0.0 when exact).
    n_batches : int
        Exact number of batches in the batch set (a Python int, possibly huge).
    log_n_batches : float
        Natural log of ``n_batches``.
    method : str
        ``"exact"`` or ``"monte-carlo"``.
    n_evaluated : int
        Number of batch losses computed (distinct multisets/subsets when exact, samples
        when Monte-Carlo).
    batches : str
        The batch set: ``"multiset"``, ``"subset"`` or ``"ordered"``.
    """

    value: Any
    standard_error: float
    mean: Any
    mean_standard_error: float
    n_batches: int
    log_n_batches: float
    method: str
    n_evaluated: int
    batches: str

    def __float__(self) -> float:
        return xp.asfloat(self.value)


def _n_batches(N: int, b: int, batches: str) -> int:
    if batches == "multiset":
        return math.comb(N + b - 1, b)
    if batches == "subset":
        return math.comb(N, b)
    return N**b


def _n_distinct(N: int, b: int, batches: str) -> int:
    """Batches to evaluate when enumerating: ordered tuples are grouped by their multiset."""
    return math.comb(N, b) if batches == "subset" else math.comb(N + b - 1, b)


def _enumerate_batches(N: int, b: int, batches: str, chunk_rows: int):
    """Yield (rows, b) int64 index blocks of every subset / multiset (sorted positions)."""
    source = itertools.combinations(range(N), b) if batches == "subset" else itertools.combinations_with_replacement(range(N), b)
    while True:
        block = list(itertools.islice(source, chunk_rows))
        if not block:
            return
        yield np.asarray(block, dtype=np.int64).reshape(len(block), b)


def _multinomial_weights(idx: np.ndarray, mp: bool):
    """Number of ordered tuples with the multiset of each (sorted) row: b! / prod_n m_n!.

    In a sorted row, position j's rank r_j inside its run of equal indices runs 1..m_n,
    so prod_j r_j = prod_n m_n! -- an O(rows * b) computation that never forms an
    N-wide count matrix.
    """
    rows, b = idx.shape
    rank = np.ones((rows, b), dtype=np.int64)
    for j in range(1, b):
        rank[:, j] = np.where(idx[:, j] == idx[:, j - 1], rank[:, j - 1] + 1, 1)
    if mp:
        b_factorial = math.factorial(b)
        return np.array([mpmath.mpf(b_factorial // math.prod(int(r) for r in row)) for row in rank], dtype=object)
    from scipy.special import gammaln

    # log space keeps b! / prod m! finite far beyond 170!, to ~1e-15 relative.
    return np.exp(gammaln(b + 1) - np.log(rank).sum(axis=1))


def _sample_batches(N: int, b: int, batches: str, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """(n_samples, b) indices of batches drawn uniformly from the batch set."""
    if batches == "ordered":
        return rng.integers(0, N, size=(n_samples, b))
    if batches == "subset":
        return np.stack([rng.choice(N, size=b, replace=False) for _ in range(n_samples)])
    # Uniform multiset via stars and bars: a uniform b-subset c_1 < ... < c_b of
    # [0, N + b - 1) maps one-to-one onto the multiset {c_j - j}.
    picks = np.stack([np.sort(rng.choice(N + b - 1, size=b, replace=False)) for _ in range(n_samples)])
    return picks - np.arange(b)[None, :]


def _batch_losses(Z, G, y: np.ndarray, idx: np.ndarray):
    """l(Z; B) for every row of ``idx`` (rows, b).

    The logits come from the precomputed Gram matrix ``G = Z Z^T`` when there is one (small
    N, many batches), else from the gathered rows (large N: an N x N Gram would not fit).
    """
    labels = y[idx]
    index = torch.as_tensor(idx, device=Z.device) if is_torch(Z) else idx
    if G is not None:
        S = G[index[:, :, None], index[:, None, :]]
    else:
        rows = Z[index]
        S = rows @ _transpose(rows)
    terms, _ = _supcon_terms_batched(S, labels, "out")
    return xp.sum(terms, axis=-1)


def _weighted_total(losses, weights):
    if weights is None:
        return xp.sum(losses)
    if is_torch(losses):
        return xp.sum(losses * torch.as_tensor(weights, dtype=losses.dtype, device=losses.device))
    return xp.sum(losses * weights)


@representable("Z", field="mean")
def sc_loss(
    Z,
    y,
    b,
    batches="multiset",
    *,
    method="auto",
    max_batches=200_000,
    n_samples=1000,
    seed=0,
):
    r"""Graf et al.'s supervised contrastive loss summed over a whole batch set (graf2021).

    .. math::

        L_{SC}(Z; Y) = \sum_{B \in \mathcal{B}} l(Z; B), \qquad
        l(Z; B) = \sum_{i \in B,\ |B_{y_i}| \ge 2} \frac{-1}{|B_{y_i}| - 1}
            \sum_{j \in B_{y_i} \setminus \{i\}}
            \log \frac{e^{\langle z_i, z_j\rangle}}{\sum_{k \in B \setminus \{i\}} e^{\langle z_i, z_k\rangle}}

    where positions in B are distinct even when indices repeat (docs/theory.md section 3).
    ``l(Z; B)`` equals ``supcon(Z[B], y[B], temperature=1, variant="out", reduction="sum")``.
    There is no temperature: it is absorbed into the radius of Z (rho^2 = 1/tau).

    Parameters
    ----------
    Z : array_like, shape (N, h)
        Embeddings (rows).
    y : array_like of int, shape (N,)
        Non-negative integer labels.
    b : int
        Batch size, b >= 2 (and b <= N for ``"subset"``).
    batches : {"multiset", "subset", "ordered"}, default "multiset"
        The batch set: all multisets of size b from [N] (with replacement, unordered; the
        authors' own check), all b-subsets, or all ordered b-tuples with replacement
        (i.i.d. sampling). Its size is C(N+b-1, b), C(N, b) or N^b.
    method : {"auto", "exact", "monte-carlo"}, keyword-only
        ``"exact"`` enumerates: every b-subset, or every multiset once -- for ``"ordered"``
        each multiset is weighted by its number of orderings b!/prod m_n! (a batch's loss
        depends only on its multiset). ``"monte-carlo"`` draws ``n_samples`` batches
        uniformly from the batch set (uniform multisets via stars and bars) and returns
        ``n_batches`` times their mean loss, an unbiased estimate, with its standard error.
        ``"auto"`` is exact iff the number of batches to evaluate (C(N, b) for subsets,
        C(N+b-1, b) otherwise) is at most ``max_batches``.
    max_batches : int, keyword-only, default 200_000
        Enumeration limit (``"exact"`` raises beyond it: raise the limit to force it).
    n_samples : int, keyword-only, default 1000
        Monte-Carlo sample size (>= 2).
    seed : int, keyword-only, default 0
        Seed of the Monte-Carlo sampler (same seed, same estimate).

    Returns
    -------
    SCLossResult
        ``value``, ``standard_error``, ``mean``, ``mean_standard_error``, ``n_batches``
        (exact int), ``log_n_batches``, ``method``, ``n_evaluated``, ``batches``.

    Examples
    --------
    Two collapsed antipodal classes on the unit circle, subsets of size 2: only the two
    same-class pairs contribute, each -2 log(e^1 / e^1) = 0 -- and the four mixed pairs have
    no positive:

    >>> import numpy as np
    >>> Z = np.array([[1.0, 0], [1, 0], [-1, 0], [-1, 0]])
    >>> res = sc_loss(Z, [0, 0, 1, 1], 2, "subset")
    >>> float(res.value), res.n_batches, res.method
    (0.0, 6, 'exact')
    """
    caller = "sc_loss"
    Z = _embeddings(Z, "Z", caller)
    N = Z.shape[0]
    y = check_labels(y, "y", caller, n=N)
    b = check_int(b, "b", caller, min_value=2, max_value=MAX_BATCH_SIZE)
    batches = check_choice(batches, "batches", caller, _BATCH_SETS)
    method = check_choice(method, "method", caller, _SC_METHODS)
    max_batches = check_int(max_batches, "max_batches", caller, min_value=1)
    n_samples = check_int(n_samples, "n_samples", caller, min_value=2)
    seed = check_int(seed, "seed", caller, min_value=0)
    # one chunk holds at least one batch's b x max(b, h) block; the samples' indices n_samples x b
    check_size(b * max(b, Z.shape[1]), "b", caller, b, "one batch's b x max(b, h) block")
    if method != "exact":
        check_size(n_samples * b, "n_samples", caller, n_samples, "the sampled batch indices (n_samples x b)")
    if batches == "subset" and b > N:
        raise fail("b", caller, f"<= N = {N} for batches='subset' (a subset cannot be larger than the data)", b)

    n_batches = _n_batches(N, b, batches)
    n_distinct = _n_distinct(N, b, batches)
    if method == "auto":
        method = "exact" if n_distinct <= max_batches else "monte-carlo"
    elif method == "exact" and n_distinct > max_batches:
        raise fail(
            "max_batches",
            caller,
            f">= {n_distinct} (the number of batches to enumerate) for method='exact'",
            max_batches,
        )

    mp = is_mp_array(Z)
    # A Gram matrix of up to 4M entries is cheaper than gathering b x h rows per batch.
    G = Z @ Z.T if N * N <= 4_000_000 else None
    chunk_rows = max(1, (_SC_CHUNK_ENTRIES_MP if mp else _SC_CHUNK_ENTRIES) // (b * max(b, Z.shape[1])))
    log_n = math.log(n_batches)
    n_float = float(n_batches) if log_n < 709.0 else math.inf

    if method == "exact":
        parts = []
        for idx in _enumerate_batches(N, b, batches, chunk_rows):
            weights = _multinomial_weights(idx, mp) if batches == "ordered" else None
            parts.append(_weighted_total(_batch_losses(Z, G, y, idx), weights))
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        total = _finish_scalar(total)
        if mp:
            mean = total / mpmath.mpf(n_batches)
        elif n_float != math.inf:
            mean = total / n_float
        else:  # the count overflows float64 (the total is then inf too): divide in log space
            mean = total * math.exp(-log_n)
        return SCLossResult(
            value=total, standard_error=0.0, mean=_finish_scalar(mean), mean_standard_error=0.0,
            n_batches=n_batches, log_n_batches=log_n, method="exact", n_evaluated=n_distinct,
            batches=batches,
        )

    rng = np.random.default_rng(seed)
    idx_all = _sample_batches(N, b, batches, n_samples, rng)
    pieces = [_batch_losses(Z, G, y, idx_all[s:s + chunk_rows]) for s in range(0, n_samples, chunk_rows)]
    if is_torch(Z):
        losses = torch.cat(pieces)
    else:
        losses = np.concatenate(pieces)
    mean = _finish_scalar(_divide_by_count(xp.sum(losses), n_samples))
    sample_sd = float(np.std(xp.to_numpy(losses), ddof=1))
    mean_se = sample_sd / math.sqrt(n_samples)
    if mp:
        value = mean * mpmath.mpf(n_batches)
    else:
        value = mean * n_float
    return SCLossResult(
        value=_finish_scalar(value), standard_error=mean_se * n_float, mean=mean,
        mean_standard_error=mean_se, n_batches=n_batches, log_n_batches=log_n,
        method="monte-carlo", n_evaluated=n_samples, batches=batches,
    )


# --------------------------------------------------------------------------------------
# Self-supervised two-view losses
# --------------------------------------------------------------------------------------


def _views_gram(z1, z2, temperature: float, normalize: bool, caller: str, original1, original2):
    if normalize:
        _row_norms_nonzero(z1, "z1", caller, original1)
        _row_norms_nonzero(z2, "z2", caller, original2)
        z1, z2 = _normalize_rows(z1), _normalize_rows(z2)
    Z = _concat_rows(z1, z2)
    return (Z / _const(temperature, Z)) @ Z.T


@representable("z1", "z2")
def nt_xent(z1, z2, temperature, *, normalize=True, block_size=None):
    r"""NT-Xent (SimCLR) loss of two views, mean over the 2N anchors.

    With :math:`u = [z^{(1)}; z^{(2)}]` (2N rows, row-normalized when ``normalize``),
    :math:`s_{ij} = \langle u_i, u_j\rangle/\tau` and :math:`p(i)` the other view of sample i:

    .. math::

        L = \frac{1}{2N} \sum_{i=1}^{2N} -\log
            \frac{e^{s_{i p(i)}}}{\sum_{k \ne i} e^{s_{ik}}}

    (Chen et al. 2020; the SimCLR form used by garrido2023). It is :func:`supcon` with
    labels ``[0..N-1, 0..N-1]``, ``variant="out"``, ``reduction="mean"``.

    Parameters
    ----------
    z1, z2 : array_like, shape (N, h)
        Embeddings of the two views; row n of both is the positive pair.
    temperature : float
        tau > 0.
    normalize : bool, keyword-only, default True
        Cosine similarity as in SimCLR and pytorch-metric-learning; False uses raw dot
        products (the radius then plays the role of 1/sqrt(tau)).
    block_size : int or None, keyword-only, default None
        torch only: anchors per row tile of the fused computation, as in :func:`supcon`
        (torch tensors keep their dtype and device and go through the same fused Function).

    Examples
    --------
    When all 2N embeddings coincide, every anchor sees 2N-1 equal logits:

    >>> import numpy as np
    >>> bool(np.isclose(nt_xent(np.ones((3, 2)), np.ones((3, 2)), 0.5), np.log(5), rtol=1e-14))
    True
    """
    caller = "nt_xent"
    a, b = _two_views(z1, z2, caller, keep_torch_dtype=True)
    temperature = check_real(temperature, "temperature", caller, gt=0.0)
    normalize = check_bool(normalize, "normalize", caller)
    if block_size is not None:
        block_size = check_int(block_size, "block_size", caller, min_value=1)
    if normalize:
        _row_norms_nonzero(a, "z1", caller, z1)
        _row_norms_nonzero(b, "z2", caller, z2)
        a, b = _normalize_rows(a), _normalize_rows(b)
    N = a.shape[0]
    labels = np.concatenate([np.arange(N), np.arange(N)])
    if is_torch(a):
        terms, _ = _fused_terms(_concat_rows(a, b), labels, temperature, "out", block_size, uniform_upstream=True)
        return terms.sum() / (2 * N)
    terms, _ = _supcon_terms_full(_concat_rows(a, b), labels, temperature, "out")
    return _finish_scalar(_divide_by_count(xp.sum(terms), 2 * N))


@representable("z1", "z2")
def dcl(z1, z2, temperature, *, normalize=True):
    r"""Decoupled contrastive loss (Yeh et al. 2022), mean over the 2N anchors.

    As :func:`nt_xent` but the positive is removed from the denominator:

    .. math::

        L = \frac{1}{2N} \sum_{i=1}^{2N} \Big( -s_{i p(i)}
            + \log \sum_{k \notin \{i, p(i)\}} e^{s_{ik}} \Big)

    It can be negative. Needs N >= 2 (each anchor needs a negative).

    Parameters
    ----------
    z1, z2 : array_like, shape (N, h)
        The two views, N >= 2.
    temperature : float
        tau > 0.
    normalize : bool, keyword-only, default True
        Cosine similarity (True) or raw dot products (False).

    Examples
    --------
    All embeddings equal: -1/tau + log((2N - 2) e^{1/tau}) = log(2N - 2) per anchor:

    >>> import numpy as np
    >>> bool(np.isclose(dcl(np.ones((3, 2)), np.ones((3, 2)), 1.0), np.log(4), rtol=1e-14))
    True
    """
    caller = "dcl"
    a, b = _two_views(z1, z2, caller, min_rows=2)
    temperature = check_real(temperature, "temperature", caller, gt=0.0)
    normalize = check_bool(normalize, "normalize", caller)
    S = _views_gram(a, b, temperature, normalize, caller, z1, z2)
    N = a.shape[0]
    partner = np.concatenate([np.arange(N, 2 * N), np.arange(N)])
    rows = np.arange(2 * N)
    negatives = np.ones((2 * N, 2 * N), dtype=bool)
    negatives[rows, rows] = False
    negatives[rows, partner] = False
    if is_torch(S):
        positive = S[torch.as_tensor(rows, device=S.device), torch.as_tensor(partner, device=S.device)]
    else:
        positive = S[rows, partner]
    lse_neg = xp.logsumexp(_keep(S, negatives, _neg_inf(S)), axis=1)
    return _finish_scalar(xp.mean(lse_neg - positive))


@representable("f1", "f2", "f_neg")
def infonce_one_negative(f1, f2, f_neg):
    r"""InfoNCE with one negative in Huang et al.'s form (huang2023), mean over rows.

    .. math::

        L = -\mathbb{E} \log \frac{e^{f_1^\top f_2}}{e^{f_1^\top f_2} + e^{f_1^\top f^-}}
          = \mathbb{E}\, \mathrm{softplus}(f_1^\top f^- - f_1^\top f_2)

    No temperature and no normalization (huang2023 assumes ||f|| = 1; pass unit rows for
    that setting). Computed as a softplus, so it is finite for any finite input.

    Parameters
    ----------
    f1, f2, f_neg : array_like, shape (N, d)
        Anchor, positive and negative embeddings (row n of each forms one triple).

    Examples
    --------
    >>> import numpy as np
    >>> f = np.array([[1.0, 0.0]])
    >>> float(infonce_one_negative(f, f, f)) == float(np.log(2))
    True
    """
    caller = "infonce_one_negative"
    a = _embeddings(f1, "f1", caller)
    p = _embeddings(f2, "f2", caller)
    n = _embeddings(f_neg, "f_neg", caller)
    if tuple(p.shape) != tuple(a.shape):
        raise fail("f2", caller, f"of the same shape as `f1` {tuple(a.shape)}", f2)
    if tuple(n.shape) != tuple(a.shape):
        raise fail("f_neg", caller, f"of the same shape as `f1` {tuple(a.shape)}", f_neg)
    a, p, n = _unify(a, p, n)
    gap = xp.sum(a * n, axis=1) - xp.sum(a * p, axis=1)
    return _finish_scalar(xp.mean(_softplus(gap)))


@representable("z1", "z2", "lambd")
def barlow_twins(z1, z2, lambd=0.0051, *, eps=0.0):
    r"""Barlow Twins loss on the batch-standardized cross-correlation (zbontar2021, huang2023).

    Each column of each view is standardized over the batch with the biased variance,
    :math:`\hat z_{\cdot k} = (z_{\cdot k} - \bar z_k) / \sqrt{\mathrm{var}(z_{\cdot k}) + \epsilon}`,
    then :math:`F = \hat z^{(1)\top} \hat z^{(2)} / N` and

    .. math::

        L_{BT} = \sum_i (1 - F_{ii})^2 + \lambda \sum_{i \ne j} F_{ij}^2 .

    Parameters
    ----------
    z1, z2 : array_like, shape (N, d)
        Two views, N >= 2.
    lambd : float, default 0.0051
        Off-diagonal weight of the reference code (>= 0).
    eps : float, keyword-only, default 0.0
        Added to the variance. 0 makes the loss exactly invariant to per-dimension affine
        maps with positive scale (and requires every column to vary); ``eps=1e-5``
        reproduces ``torch.nn.BatchNorm1d(affine=False)`` of the reference code.

    Examples
    --------
    Identical, decorrelated, standardized views give F = I and L = 0:

    >>> import numpy as np
    >>> z = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    >>> float(barlow_twins(z, z))
    0.0
    """
    caller = "barlow_twins"
    a, b = _two_views(z1, z2, caller, min_rows=2)
    lambd = check_real(lambd, "lambd", caller, ge=0.0)
    eps = check_real(eps, "eps", caller, ge=0.0)
    N, d = a.shape
    standardized = []
    for view, name, original in ((a, "z1", z1), (b, "z2", z2)):
        centred = view - xp.mean(view, axis=0, keepdims=True)
        var = xp.mean(centred * centred, axis=0, keepdims=True)
        if eps == 0.0 and np.any(xp.to_numpy(var) == 0):
            raise fail(name, caller, "non-constant in every column (zero variance cannot be standardized; pass eps > 0)", original)
        standardized.append(centred / xp.sqrt(var + _const(eps, view)))
    F = _divide_by_count(standardized[0].T @ standardized[1], N)
    diag = xp.diag(F)
    on = xp.sum((diag - 1) * (diag - 1))
    off = _fill_diagonal(F, 0.0)
    return _finish_scalar(on + _const(lambd, F) * xp.sum(off * off))


def _vicreg_variance(x, gamma: float, eps: float):
    """mean_k relu(gamma - sqrt(var_k + eps)), unbiased variance over rows (reference code)."""
    N = x.shape[0]
    centred = x - xp.mean(x, axis=0, keepdims=True)
    var = _divide_by_count(xp.sum(centred * centred, axis=0), N - 1)
    std = xp.sqrt(var + _const(eps, x))
    return xp.mean(_relu(_const(gamma, x) - std))


def _covariance(x):
    N = x.shape[0]
    centred = x - xp.mean(x, axis=0, keepdims=True)
    return _divide_by_count(centred.T @ centred, N - 1)


def _vicreg_covariance(x):
    """sum_{i != j} C_ij^2 / d with C the unbiased covariance (reference code)."""
    off = _fill_diagonal(_covariance(x), 0.0)
    return _divide_by_count(xp.sum(off * off), x.shape[1])


def _c_exp(x, temperature: float):
    """garrido2023: (1/d) sum_i log sum_{j != i} exp(C(x)_ij / tau), C the covariance."""
    C = _covariance(x) / _const(temperature, x)
    return xp.mean(xp.logsumexp(_fill_diagonal(C, _neg_inf(C)), axis=1))


def _vicreg_common(z1, z2, caller, sim, std, cov, gamma, eps, *, min_cols: int = 1):
    a, b = _two_views(z1, z2, caller, min_rows=2)
    if a.shape[1] < min_cols:
        raise fail("z1", caller, f"of shape (N, d) with d >= {min_cols}", z1)
    sim = check_real(sim, "sim", caller, ge=0.0)
    std = check_real(std, "std", caller, ge=0.0)
    cov = check_real(cov, "cov", caller, ge=0.0)
    gamma = check_real(gamma, "gamma", caller, gt=0.0)
    eps = check_real(eps, "eps", caller, ge=0.0)
    diff = a - b
    invariance = xp.mean(diff * diff)
    return a, b, sim, std, cov, gamma, eps, invariance


@representable("z1", "z2", "sim", "std", "cov", "gamma")
def vicreg(z1, z2, sim=25, std=25, cov=1, gamma=1, eps=1e-4):
    r"""VICReg loss with the constants and scalings of the reference code (bardes2022).

    .. math::

        L = \mathrm{sim}\cdot \frac{1}{Nd}\|Z - Z'\|_F^2
          + \mathrm{std}\cdot \frac{v(Z) + v(Z')}{2}
          + \mathrm{cov}\cdot \big(c(Z) + c(Z')\big),

    :math:`v(Z) = \frac1d \sum_k \max(0, \gamma - \sqrt{\mathrm{Var}(z_{\cdot k}) + \epsilon})`
    (unbiased variance), :math:`c(Z) = \frac1d \sum_{i \ne j} C(Z)_{ij}^2`,
    :math:`C(Z) = \frac{1}{N-1} (Z - \bar Z)^\top (Z - \bar Z)`.

    Parameters
    ----------
    z1, z2 : array_like, shape (N, d)
        Two views, N >= 2.
    sim, std, cov : float
        Weights of the invariance, variance and covariance terms (25, 25, 1).
    gamma : float
        Target standard deviation (1).
    eps : float
        Added to the variance inside the square root (1e-4).

    Examples
    --------
    Identical views with per-dimension standard deviation >= 1 and no correlation: 0.

    >>> import numpy as np
    >>> z = 2 * np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    >>> float(vicreg(z, z))
    0.0
    """
    caller = "vicreg"
    a, b, sim, std, cov, gamma, eps, invariance = _vicreg_common(z1, z2, caller, sim, std, cov, gamma, eps)
    variance = (_vicreg_variance(a, gamma, eps) + _vicreg_variance(b, gamma, eps)) / 2
    covariance = _vicreg_covariance(a) + _vicreg_covariance(b)
    loss = _const(sim, a) * invariance + _const(std, a) * variance + _const(cov, a) * covariance
    return _finish_scalar(loss)


@representable("z1", "z2", "sim", "std", "cov", "gamma")
def vicreg_exp(z1, z2, sim=25, std=25, cov=1, gamma=1, eps=1e-4, temperature=1.0):
    r"""VICReg-exp of garrido2023: VICReg with a log-sum-exp covariance criterion.

    .. math::

        L = \mathrm{sim}\cdot \frac{1}{Nd}\|Z - Z'\|_F^2
          + \mathrm{std}\cdot \frac{v(Z) + v(Z')}{2}
          + \mathrm{cov}\cdot \big(c_{exp}(Z) + c_{exp}(Z')\big), \quad
        c_{exp}(Z) = \frac1d \sum_i \log \sum_{j \ne i} e^{C(Z)_{ij}/\tau}

    with v and the unbiased covariance C exactly as in :func:`vicreg` (the invariance and
    variance terms keep the reference-code scalings; garrido2023's slide writes unscaled
    sums with weights lambda, mu, nu). Needs d >= 2.

    Parameters
    ----------
    z1, z2 : array_like, shape (N, d)
        Two views, N >= 2, d >= 2.
    sim, std, cov, gamma, eps : float
        As in :func:`vicreg`; ``cov`` weighs c_exp.
    temperature : float, default 1.0
        tau > 0 of c_exp.

    Examples
    --------
    Identical views whose columns have standard deviation above 1 (so v = 0) and zero
    covariance (so c_exp = log e^0 = 0 for d = 2):

    >>> import numpy as np
    >>> z = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]) * 2
    >>> float(vicreg_exp(z, z))
    0.0
    """
    caller = "vicreg_exp"
    a, b, sim, std, cov, gamma, eps, invariance = _vicreg_common(z1, z2, caller, sim, std, cov, gamma, eps, min_cols=2)
    temperature = check_real(temperature, "temperature", caller, gt=0.0)
    variance = (_vicreg_variance(a, gamma, eps) + _vicreg_variance(b, gamma, eps)) / 2
    contrast = _c_exp(a, temperature) + _c_exp(b, temperature)
    loss = _const(sim, a) * invariance + _const(std, a) * variance + _const(cov, a) * contrast
    return _finish_scalar(loss)


@representable("z1", "z2", "sim", "std", "cov", "gamma")
def vicreg_ctr(z1, z2, sim=25, std=25, cov=1, gamma=1, eps=1e-4, temperature=1.0):
    r"""VICReg-ctr of garrido2023: VICReg-exp with the regularizers applied to the transpose.

    .. math::

        L = \mathrm{sim}\cdot \frac{1}{Nd}\|Z - Z'\|_F^2
          + \mathrm{std}\cdot \frac{v(Z^\top) + v(Z'^\top)}{2}
          + \mathrm{cov}\cdot \big(c_{exp}(Z^\top) + c_{exp}(Z'^\top)\big)

    Literal reading of garrido2023 (the embedding matrix is transposed before the variance
    and covariance criteria): with rows of Z as samples, :math:`v(Z^\top)` hinges the
    standard deviation of each *embedding* across its d coordinates (a norm criterion) and
    :math:`c_{exp}(Z^\top) = \frac1N \sum_n \log \sum_{m \ne n} e^{C(Z^\top)_{nm}/\tau}`
    contrasts samples through their (per-sample centred, 1/(d-1)-scaled) Gram matrix.
    Needs N >= 2 and d >= 2.

    Parameters
    ----------
    z1, z2 : array_like, shape (N, d)
        Two views, N >= 2, d >= 2.
    sim, std, cov, gamma, eps, temperature : float
        As in :func:`vicreg_exp`.

    Examples
    --------
    Transposing the inputs of vicreg_exp gives vicreg_ctr:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    >>> bool(np.isclose(vicreg_ctr(a, b), vicreg_exp(a.T, b.T)))
    True
    """
    caller = "vicreg_ctr"
    a, b, sim, std, cov, gamma, eps, invariance = _vicreg_common(z1, z2, caller, sim, std, cov, gamma, eps, min_cols=2)
    temperature = check_real(temperature, "temperature", caller, gt=0.0)
    at, bt = a.T, b.T
    variance = (_vicreg_variance(at, gamma, eps) + _vicreg_variance(bt, gamma, eps)) / 2
    contrast = _c_exp(at, temperature) + _c_exp(bt, temperature)
    loss = _const(sim, a) * invariance + _const(std, a) * variance + _const(cov, a) * contrast
    return _finish_scalar(loss)


# --------------------------------------------------------------------------------------
# garrido2023: sample- and dimension-contrastive criteria
# --------------------------------------------------------------------------------------


def _off_diagonal_energy(G):
    """||G - diag(G)||_F^2, with the diagonal zeroed exactly (no cancellation)."""
    off = _fill_diagonal(G, 0.0)
    return _finish_scalar(xp.sum(off * off))


@representable("K")
def sample_contrastive(K):
    r"""Sample-contrastive criterion L_c of garrido2023.

    .. math:: L_c = \| K^\top K - \mathrm{diag}(K^\top K) \|_F^2

    Parameters
    ----------
    K : array_like, shape (M, N)
        Embedding matrix whose N *columns* are embeddings of dimension M (garrido2023).

    Examples
    --------
    >>> import numpy as np
    >>> float(sample_contrastive(np.ones((2, 3))))  # six off-diagonal Gram entries equal to 2
    24.0
    """
    K = check_array(K, "K", "sample_contrastive", ndim=2)
    return _off_diagonal_energy(K.T @ K)


@representable("K")
def dimension_contrastive(K):
    r"""Dimension-contrastive criterion L_nc of garrido2023.

    .. math:: L_{nc} = \| K K^\top - \mathrm{diag}(K K^\top) \|_F^2

    Parameters
    ----------
    K : array_like, shape (M, N)
        Embedding matrix whose N columns are embeddings of dimension M (garrido2023).

    Examples
    --------
    >>> import numpy as np
    >>> float(dimension_contrastive(np.ones((2, 3))))  # two off-diagonal entries equal to 3
    18.0
    """
    K = check_array(K, "K", "dimension_contrastive", ndim=2)
    return _off_diagonal_energy(K @ K.T)


# --------------------------------------------------------------------------------------
# wang2020: alignment and uniformity
# --------------------------------------------------------------------------------------


@representable("z1", "z2", "alpha")
def alignment(z1, z2, alpha=2):
    r"""Alignment of positive pairs (wang2020): :math:`\mathbb{E}\, \|z_1 - z_2\|_2^\alpha`.

    The expectation is the mean over the N rows. For alpha = 2 no square root is taken,
    so the gradient is defined at z1 = z2.

    Parameters
    ----------
    z1, z2 : array_like, shape (N, h)
        Positive pairs (row n of each).
    alpha : float, default 2
        alpha > 0.

    Examples
    --------
    >>> import numpy as np
    >>> float(alignment(np.zeros((2, 2)), np.ones((2, 2))))
    2.0
    """
    caller = "alignment"
    a, b = _two_views(z1, z2, caller)
    alpha = check_real(alpha, "alpha", caller, gt=0.0)
    diff = a - b
    squared = xp.sum(diff * diff, axis=1)
    if alpha == 2.0:
        return _finish_scalar(xp.mean(squared))
    return _finish_scalar(xp.mean(squared ** _const(alpha / 2.0, squared)))


@representable("z", "t")
def uniformity(z, t=2):
    r"""Uniformity (wang2020): :math:`\log \mathbb{E}_{i<j}\, e^{-t \|z_i - z_j\|_2^2}`.

    The expectation is over the N(N-1)/2 distinct pairs (as ``torch.pdist`` in the
    reference code), computed as a log-sum-exp. Squared distances come from the Gram
    matrix, :math:`\|z_i\|^2 + \|z_j\|^2 - 2\langle z_i, z_j\rangle`, clipped at 0.

    Parameters
    ----------
    z : array_like, shape (N, h)
        Embeddings, N >= 2.
    t : float, default 2
        t > 0.

    Examples
    --------
    Two antipodal unit vectors are at squared distance 4: log e^{-8} = -8.

    >>> import numpy as np
    >>> float(uniformity(np.array([[1.0, 0.0], [-1.0, 0.0]])))
    -8.0
    """
    caller = "uniformity"
    Z = _embeddings(z, "z", caller, min_rows=2)
    t = check_real(t, "t", caller, gt=0.0)
    N = Z.shape[0]
    sq = xp.sum(Z * Z, axis=1)
    D2 = sq[:, None] + sq[None, :] - 2 * (Z @ Z.T)
    D2 = _relu(D2)  # rounding can make the Gram form slightly negative
    pairs = np.triu(np.ones((N, N), dtype=bool), k=1)
    lse = xp.logsumexp(_keep(D2 * _const(-t, D2), pairs, _neg_inf(D2)).reshape(-1))
    n_pairs = N * (N - 1) // 2
    log_pairs = mpmath.log(n_pairs) if is_mp_array(Z) else math.log(n_pairs)
    return _finish_scalar(lse - log_pairs)
