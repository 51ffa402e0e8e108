"""Geometry of trained representations, streamed over a data set in float64.

The metrics follow TorchMetrics' shape: a metric object accumulates sufficient
statistics batch by batch (``update``), turns them into numbers once (``compute``) and
can start again (``reset``). Everything is accumulated in float64 on the device the
features live on, so a whole CIFAR training set is summarised without keeping its
N x h feature matrix.

:class:`GeometryTracker` (one pass) keeps, per class k, the count n_k, the sum of the
features s_k and the sum of the unit-normalised features u_k, plus the pooled within-class
scatter S = sum_n (z_n - mu_{y_n})(z_n - mu_{y_n})^T (h x h, merged batch by batch with Chan
et al.'s pairwise update so that it never cancels), the largest norm, and for a classifier W the
cross-entropy sum and the number of correct argmax predictions. From these:

* class means mu_k = s_k / n_k; their pairwise cosines and angular similarities
  1 - arccos(cos)/pi against the regular-simplex values -1/(K-1) and
  1 - arccos(-1/(K-1))/pi (graf2021; :func:`theorycheck.geometry.pairwise_cosine_statistics`),
  on the raw means as graf2021 do;
* the distance of the class means to the nearest regular simplex
  (:func:`theorycheck.geometry.distance_to_simplex`, radius fitted) and of the samples to
  "collapsed onto a regular simplex" (same formula as
  :func:`theorycheck.geometry.distance_to_collapsed_simplex`, from the statistics);
* sample-to-class-mean similarity: mean over n of cos(z_n, mu_{y_n}) = sum_k <u_k, mu_k>/||mu_k|| / N;
* NC1-NC3 of papyan2020 (docs/theory.md section 4), with the global mean mu_G the mean of the
  class means (``global_mean="class-means"``, the default of :mod:`theorycheck.geometry`;
  ``"samples"`` for the mean of all samples; they differ under imbalance):
  Sigma_W = S/N, Sigma_B = M^T M / K with M the centred means,
  NC1 = Tr(Sigma_W Sigma_B^+)/K; NC2 equinorm and equiangularity; NC3 = ||W/||W||_F - M/||M||_F||_F;
* the cross-entropy of the classifier (mean over samples) and its train accuracy.

NC4 and the nearest-class-mean accuracy need the class means before the samples are
assigned to them, so they take a second pass: :class:`NearestClassMeanAgreement`.

The loss gap (:func:`ce_loss_gap`, :func:`sc_loss_gap`) compares the achieved loss with the
theoretical minimum for the same N, K, b, rho: the CE bound of graf2021.ce.bound at the
current ||W||_F (:func:`theorycheck.bounds.ce_lower_bound`) and the closed-form SC minimum
(:func:`theorycheck.bounds.sc_minimum`) for the batch distribution training samples from.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .._validation import check_choice, check_int, check_labels, check_real, fail
from ..geometry import class_mean_rank_cut, distance_to_simplex, pairwise_cosine_statistics

__all__ = [
    "GeometryTracker",
    "NearestClassMeanAgreement",
    "geometry_summary",
    "ce_loss_gap",
    "sc_loss_gap",
    "expected_batch_loss",
    "class_mean_cosines",
]

_GLOBAL_MEANS = ("class-means", "samples")


def _as_float64(features: Any, caller: str) -> torch.Tensor:
    if not isinstance(features, torch.Tensor):
        features = torch.as_tensor(np.asarray(features, dtype=np.float64))
    if features.ndim != 2:
        raise fail("features", caller, "a 2-D (batch, h) array", features)
    out = features.detach().to(torch.float64)
    if not bool(torch.isfinite(out).all()):
        raise fail("features", caller, "finite (no NaN or inf: did training diverge?)", features)
    return out


def _labels(labels: Any, n: int, num_classes: int, caller: str, device: torch.device) -> torch.Tensor:
    if isinstance(labels, torch.Tensor) and not labels.is_floating_point() and labels.ndim == 1:
        if labels.shape[0] != n:
            raise fail("labels", caller, f"of length {n} (one label per feature row)", labels)
        return labels.to(device=device, dtype=torch.int64)
    y = check_labels(labels, "labels", caller, n=n, num_classes=num_classes)
    return torch.as_tensor(y, device=device)


class GeometryTracker:
    """Streaming class-mean geometry, NC1-NC3 and CE loss of labelled features (float64).

    Parameters
    ----------
    num_classes : int
        K >= 2.
    classifier : array_like (K, h), optional
        W of a CE objective: enables NC3, the CE loss and train accuracy.
    global_mean : {"class-means", "samples"}
        mu_G for NC1-NC3 (see the module docstring).

    Examples
    --------
    Features collapsed onto a regular simplex give cosines -1/(K-1) and zero NC1:

    >>> from theorycheck.geometry import regular_simplex
    >>> Zeta = regular_simplex(4, 3)
    >>> t = GeometryTracker(4)
    >>> t.update(Zeta[[0, 1, 2, 3, 0, 1, 2, 3]], [0, 1, 2, 3, 0, 1, 2, 3])
    >>> m = t.compute()
    >>> round(m["cos_mean"], 12), m["nc1"] < 1e-20
    (-0.333333333333, True)
    """

    def __init__(self, num_classes: int, *, classifier: Any = None, global_mean: str = "class-means"):
        caller = "GeometryTracker"
        self.num_classes = check_int(num_classes, "num_classes", caller, min_value=2)
        self.global_mean = check_choice(global_mean, "global_mean", caller, _GLOBAL_MEANS)
        self.classifier = None if classifier is None else _as_float64(classifier, caller)
        if self.classifier is not None and self.classifier.shape[0] != self.num_classes:
            raise fail("classifier", caller, f"of shape ({self.num_classes}, h)", classifier)
        self.reset()

    def __repr__(self) -> str:
        return f"GeometryTracker({self.num_classes}, global_mean={self.global_mean!r})"

    def reset(self) -> None:
        """Forget everything seen so far."""
        self._dim: int | None = None
        self.counts = None
        self.sums = None
        self.unit_sums = None
        self.scatter = None
        self.max_norm = 0.0
        self.ce_sum = 0.0
        self.correct = 0

    def _allocate(self, h: int, device: torch.device) -> None:
        K = self.num_classes
        self._dim = h
        self.counts = torch.zeros(K, dtype=torch.float64, device=device)
        self.sums = torch.zeros(K, h, dtype=torch.float64, device=device)
        self.unit_sums = torch.zeros(K, h, dtype=torch.float64, device=device)
        self.scatter = torch.zeros(h, h, dtype=torch.float64, device=device)
        if self.classifier is not None:
            if self.classifier.shape[1] != h:
                raise fail("classifier", "GeometryTracker", f"of shape ({K}, {h}) (same h as the features)",
                           self.classifier)
            self.classifier = self.classifier.to(device)

    def update(self, features: Any, labels: Any) -> None:
        """Add a batch: ``features`` (B, h) and ``labels`` (B,) in [0, K)."""
        caller = "GeometryTracker.update"
        z = _as_float64(features, caller)
        if self._dim is None:
            self._allocate(z.shape[1], z.device)
        elif z.shape[1] != self._dim:
            raise fail("features", caller, f"of shape (batch, {self._dim}) like the earlier batches", features)
        z = z.to(self.sums.device)
        y = _labels(labels, z.shape[0], self.num_classes, caller, z.device)
        if y.numel() and int(y.max()) >= self.num_classes:
            raise fail("labels", caller, f"labels in [0, {self.num_classes})", labels)
        norms = z.norm(dim=1)
        self._add_to_scatter(z, y)
        self.counts.index_add_(0, y, torch.ones_like(norms))
        self.sums.index_add_(0, y, z)
        # a zero feature has no direction; it contributes nothing to the cosine sums
        self.unit_sums.index_add_(0, y, z / norms.clamp_min(1e-300)[:, None])
        if norms.numel():
            self.max_norm = max(self.max_norm, float(norms.max()))
        if self.classifier is not None:
            logits = z @ self.classifier.T
            self.ce_sum += float((torch.logsumexp(logits, dim=1) - logits.gather(1, y[:, None])[:, 0]).sum())
            self.correct += int((logits.argmax(dim=1) == y).sum())

    def _add_to_scatter(self, z: torch.Tensor, y: torch.Tensor) -> None:
        """Merge a batch into the pooled within-class scatter E^T E (Chan et al.'s update).

        Accumulating the raw second moment Z^T Z and subtracting sum_k n_k mu_k mu_k^T at
        the end cancels catastrophically: for collapsed features the scatter is zero but
        comes out at eps * ||Z||^2, and the collapsed-simplex distance, which is quadratic
        in it, at sqrt(eps) ~ 1e-8 instead of rounding level. Centring each batch on its
        own class means and adding the between-means correction
        n_old m / (n_old + m) * delta delta^T keeps every term at the size of the true
        scatter, so a collapsed configuration gives a scatter of order eps^2.
        """
        K = self.num_classes
        batch_counts = torch.bincount(y, minlength=K).to(torch.float64)
        batch_sums = torch.zeros(K, z.shape[1], dtype=torch.float64, device=z.device).index_add_(0, y, z)
        seen = batch_counts > 0
        batch_means = torch.where(seen[:, None], batch_sums / batch_counts.clamp_min(1.0)[:, None], 0.0)
        centred = z - batch_means[y]
        old_counts = self.counts
        old_means = torch.where((old_counts > 0)[:, None], self.sums / old_counts.clamp_min(1.0)[:, None], 0.0)
        delta = batch_means - old_means
        weight = torch.where(seen & (old_counts > 0),
                             old_counts * batch_counts / (old_counts + batch_counts).clamp_min(1.0), 0.0)
        self.scatter += centred.T @ centred + (delta * weight[:, None]).T @ delta

    # -- results --------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return 0 if self.counts is None else int(self.counts.sum())

    def class_means(self) -> np.ndarray:
        """mu_k, shape (K, h); every class must have been seen."""
        self._require_all_classes()
        return (self.sums / self.counts[:, None]).cpu().numpy()

    def _require_all_classes(self) -> None:
        if self.counts is None:
            raise fail("update", "GeometryTracker.compute", "called at least once before compute", None)
        missing = np.flatnonzero(self.counts.cpu().numpy() == 0)
        if missing.size:
            raise fail("labels", "GeometryTracker.compute", "covering every class (a class without samples has "
                       "no mean)", f"no samples of class(es) {missing.tolist()}")

    def compute(self) -> dict[str, Any]:
        """All one-pass metrics as a dict of Python floats (see the module docstring)."""
        self._require_all_classes()
        K = self.num_classes
        counts = self.counts.cpu().numpy()
        N = float(counts.sum())
        means = self.class_means()
        sums = self.sums.cpu().numpy()
        out: dict[str, Any] = {"n": int(N), "num_classes": K, "dim": int(self._dim),
                               "max_norm": self.max_norm, "target_cos": -1.0 / (K - 1)}
        mean_norms = np.linalg.norm(means, axis=1)
        out["class_mean_norm_mean"] = float(mean_norms.mean())
        if np.all(mean_norms > 0):
            cs = pairwise_cosine_statistics(means)
            out.update(cos_mean=cs.cos_mean, cos_std=cs.cos_std, cos_max_dev=cs.cos_max_dev,
                       target_angular=cs.target_angular, angular_mean=cs.angular_mean,
                       angular_std=cs.angular_std, angular_max_dev=cs.angular_max_dev)
            unit_means = means / mean_norms[:, None]
            out["sample_mean_similarity"] = float(np.sum(self.unit_sums.cpu().numpy() * unit_means) / N)
        else:
            out.update(cos_mean=None, cos_std=None, cos_max_dev=None, angular_mean=None, angular_std=None,
                       angular_max_dev=None, sample_mean_similarity=None)
        out["simplex_distance"] = distance_to_simplex(means)
        # within-class scatter E^T E (= N Sigma_W), merged batch by batch without cancellation
        scatter = self.scatter.cpu().numpy()
        out["collapsed_simplex_distance"] = _collapsed_distance(means, counts, scatter)
        out.update(_neural_collapse(means, counts, sums, scatter, N, self.global_mean,
                                    None if self.classifier is None else self.classifier.cpu().numpy()))
        if self.classifier is not None:
            out["ce_loss"] = self.ce_sum / N
            out["train_accuracy"] = self.correct / N
            out["w_norm"] = float(np.linalg.norm(self.classifier.cpu().numpy()))
        return out


def _collapsed_distance(means: np.ndarray, counts: np.ndarray, scatter: np.ndarray) -> float:
    """Relative distance of G = Z Z^T to the nearest rho^2 P_Y, from streamed statistics.

    The decomposition of :func:`theorycheck.geometry.distance_to_collapsed_simplex`
    (radius fitted): with E the within-class deviations, sum_n <e_n, mu_k>^2 = mu_k^T E^T E mu_k.
    """
    K = means.shape[0]
    Q = np.full((K, K), -1.0 / (K - 1))
    np.fill_diagonal(Q, 1.0)
    weight = np.outer(counts, counts)
    MM = means @ means.T
    within = 2.0 * float(np.sum(counts * np.einsum("kh,hg,kg->k", means, scatter, means))) + float(np.sum(scatter ** 2))
    within = max(within, 0.0)
    c = max(float(np.sum(weight * MM * Q)) / float(np.sum(weight * Q * Q)), 0.0)
    g_norm_sq = float(np.sum(weight * MM ** 2)) + within
    if g_norm_sq == 0.0:
        return 1.0
    resid_sq = float(np.sum(weight * (MM - c * Q) ** 2)) + within
    return math.sqrt(max(resid_sq, 0.0) / g_norm_sq)


def _neural_collapse(means: np.ndarray, counts: np.ndarray, sums: np.ndarray, scatter: np.ndarray, N: float,
                     global_mean: str, W: np.ndarray | None) -> dict[str, Any]:
    K, h = means.shape
    mu_g = means.mean(axis=0) if global_mean == "class-means" else sums.sum(axis=0) / N
    M = means - mu_g
    out: dict[str, Any] = {"global_mean": global_mean}
    _, s, Vt = np.linalg.svd(M, full_matrices=False)
    if s[0] == 0.0:
        out.update(nc1=None, nc2_equinorm=None, nc2_equiangular_std=None, nc2_equiangular_dev=None, nc3=None)
        return out
    # Tr(Sigma_W Sigma_B^+)/K with Sigma_B = M^T M / K: Sigma_B^+ = K V S^-2 V^T on the kept
    # singular directions (the same cut as theorycheck.geometry.neural_collapse), so
    # NC1 = Tr(V^T Sigma_W V S^-2) = sum_j (v_j^T scatter v_j) / (N s_j^2).
    keep = s > class_mean_rank_cut(s[0], means, K, h)
    V = Vt[keep]
    out["nc1"] = float(np.sum(np.einsum("jh,hg,jg->j", V, scatter, V) / s[keep] ** 2) / N)
    norms = np.linalg.norm(M, axis=1)
    out["nc2_equinorm"] = float(norms.std() / norms.mean())
    if np.all(norms > 0):
        U = M / norms[:, None]
        iu = np.triu_indices(K, 1)
        cos = (U @ U.T)[iu]
        out["nc2_equiangular_std"] = float(cos.std())
        out["nc2_equiangular_dev"] = float(np.abs(cos + 1.0 / (K - 1)).mean())
    else:
        out["nc2_equiangular_std"] = out["nc2_equiangular_dev"] = None
    if W is not None:
        w_norm = np.linalg.norm(W)
        out["nc3"] = float(np.linalg.norm(W / w_norm - M / np.linalg.norm(M))) if w_norm > 0 else None
    else:
        out["nc3"] = None
    return out


class NearestClassMeanAgreement:
    """Second pass: nearest-class-mean accuracy and NC4 (papyan2020), given the class means.

    Parameters
    ----------
    class_means : array_like (K, h)
        mu_k from a :class:`GeometryTracker` pass over the same data.
    classifier : array_like (K, h), optional
        W; enables NC4 = fraction of samples where argmax_k <w_k, z> differs from
        argmin_k ||z - mu_k|| (ties: lowest index, as numpy/torch argmin).

    ``compute()`` returns ``ncc_accuracy`` (fraction of samples whose nearest class mean is
    their own class: the train accuracy of the nearest-class-mean classifier, used for SC,
    which has no W) and ``nc4`` (None without W).
    """

    def __init__(self, class_means: Any, *, classifier: Any = None):
        caller = "NearestClassMeanAgreement"
        self.means = _as_float64(class_means, caller)
        self.classifier = None if classifier is None else _as_float64(classifier, caller)
        if self.classifier is not None and self.classifier.shape != self.means.shape:
            raise fail("classifier", caller, f"of shape {tuple(self.means.shape)} like the class means", classifier)
        self.reset()

    def __repr__(self) -> str:
        return f"NearestClassMeanAgreement(<{self.means.shape[0]} class means>)"

    def reset(self) -> None:
        self.n = 0
        self.ncc_correct = 0
        self.mismatch = 0

    def update(self, features: Any, labels: Any) -> None:
        caller = "NearestClassMeanAgreement.update"
        z = _as_float64(features, caller)
        means = self.means.to(z.device)
        y = _labels(labels, z.shape[0], means.shape[0], caller, z.device)
        sq = (z * z).sum(1)[:, None] - 2.0 * z @ means.T + (means * means).sum(1)[None, :]
        nearest = sq.argmin(dim=1)
        self.n += int(z.shape[0])
        self.ncc_correct += int((nearest == y).sum())
        if self.classifier is not None:
            predicted = (z @ self.classifier.to(z.device).T).argmax(dim=1)
            self.mismatch += int((predicted != nearest).sum())

    def compute(self) -> dict[str, Any]:
        if self.n == 0:
            raise fail("update", "NearestClassMeanAgreement.compute", "called at least once before compute", None)
        return {"ncc_accuracy": self.ncc_correct / self.n,
                "nc4": None if self.classifier is None else self.mismatch / self.n}


def geometry_summary(features: Any, labels: Any, num_classes: int, *, classifier: Any = None,
                     global_mean: str = "class-means") -> dict[str, Any]:
    """Both passes on an in-memory feature matrix: the functional twin of the two metric classes."""
    tracker = GeometryTracker(num_classes, classifier=classifier, global_mean=global_mean)
    tracker.update(features, labels)
    out = tracker.compute()
    second = NearestClassMeanAgreement(tracker.class_means(), classifier=classifier)
    second.update(features, labels)
    out.update(second.compute())
    return out


def class_mean_cosines(class_means: Any) -> np.ndarray:
    """The K(K-1)/2 pairwise cosines of the class means (for the histogram figure)."""
    M = np.asarray(class_means, dtype=np.float64)
    unit = M / np.linalg.norm(M, axis=1, keepdims=True)
    iu = np.triu_indices(M.shape[0], 1)
    return np.clip((unit @ unit.T)[iu], -1.0, 1.0)


# -- loss against its theoretical minimum ----------------------------------------------------

def ce_loss_gap(ce_loss: float, num_classes: int, rho: float, w_norm: float, *, balanced: bool) -> dict[str, Any]:
    """Achieved CE minus graf2021's bound log(1 + (K-1) exp(-rho sqrt(K)/(K-1) ||W||_F)).

    ``rho`` is the radius of a ball holding every feature (the sphere radius of the
    encoder, or the largest feature norm seen). The bound assumes balanced labels; the
    result says whether they were (``bound_assumptions_hold``).
    """
    from ..bounds import ce_lower_bound

    bound = float(ce_lower_bound(num_classes, rho, w_norm))
    return {"ce_bound": bound, "ce_gap": float(ce_loss) - bound, "bound_rho": float(rho),
            "bound_assumptions_hold": bool(balanced)}


def sc_loss_gap(batch_loss_mean: float, batch_loss_se: float, n: int, num_classes: int, batch_size: int,
                rho: float, *, replacement: bool, balanced: bool) -> dict[str, Any]:
    """Mean per-batch SC loss minus the closed-form minimum of graf2021.sc.minimum.

    The batch set is the one training samples from: ``ordered`` (i.i.d. with replacement)
    or ``subset`` (without replacement). The minimum needs balanced labels (N divisible by
    K and equal class sizes); otherwise the gap is None and the reason is given.
    """
    from ..bounds import sc_minimum

    batches = "ordered" if replacement else "subset"
    out: dict[str, Any] = {"sc_batch_loss": float(batch_loss_mean), "sc_batch_loss_se": float(batch_loss_se),
                           "sc_batches": batches, "sc_rho": float(rho)}
    if not balanced:
        out.update(sc_minimum=None, sc_gap=None, sc_relative_gap=None,
                   sc_note="labels are not balanced: graf2021.sc.minimum does not apply")
        return out
    minimum = sc_minimum(n, num_classes, batch_size, rho, batches).mean_per_batch
    out.update(sc_minimum=float(minimum), sc_gap=float(batch_loss_mean) - float(minimum),
               sc_relative_gap=(float(batch_loss_mean) - float(minimum)) / abs(float(minimum))
               if minimum != 0 else None)
    return out


def expected_batch_loss(features: Any, labels: Any, batch_size: int, *, replacement: bool, num_batches: int = 16,
                        seed: int = 0, radius: float | None = None) -> tuple[float, float]:
    """Monte-Carlo mean and standard error of graf2021's l(Z; B) over random batches.

    Batches of ``batch_size`` are drawn as training draws them (i.i.d. with replacement, or
    a uniformly random subset); l(Z; B) is :func:`theorycheck.losses.supcon` with
    temperature 1, ``variant="out"`` and ``reduction="sum"``. With ``radius`` the features are
    first projected to the sphere of that radius (rho of the temperature-free form).
    """
    from ..losses import supcon

    caller = "expected_batch_loss"
    z = _as_float64(features, caller)
    y = check_labels(labels.cpu().numpy() if isinstance(labels, torch.Tensor) else labels, "labels", caller,
                     n=z.shape[0])
    b = check_int(batch_size, "batch_size", caller, min_value=2)
    num_batches = check_int(num_batches, "num_batches", caller, min_value=1)
    if not replacement and b > z.shape[0]:
        raise fail("batch_size", caller, f"<= N = {z.shape[0]} when sampling without replacement", b)
    if radius is not None:
        radius = check_real(radius, "radius", caller, gt=0.0)
        z = radius * torch.nn.functional.normalize(z, dim=1)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(num_batches):
        idx = rng.integers(0, z.shape[0], size=b) if replacement else rng.choice(z.shape[0], b, replace=False)
        values.append(float(supcon(z[torch.as_tensor(idx, device=z.device)], y[idx], temperature=1.0,
                                   variant="out", reduction="sum")))
    arr = np.asarray(values)
    se = float(arr.std(ddof=1) / math.sqrt(arr.size)) if arr.size > 1 else float("nan")
    return float(arr.mean()), se
