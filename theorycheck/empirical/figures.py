"""PNG figures of the empirical checks (matplotlib, Agg backend, readable in black and white).

Every curve differs by line style and marker, not only by colour; reference values
(-1/(K-1), the bound) are dashed black lines with a label. Figures are built on
``matplotlib.figure.Figure`` directly, so nothing touches pyplot's global state or needs
a display.

* :func:`plot_geometry` -- class-mean cosine (mean and worst pair) against -1/(K-1),
  sample-to-class-mean similarity, NC1 and the distance to the nearest simplex over training.
* :func:`plot_cosine_histogram` -- final pairwise class-mean cosines against -1/(K-1).
* :func:`plot_loss_vs_bound` -- achieved loss against its theoretical minimum over training.
* :func:`plot_random_labels` -- iterations to fit against the flipped fraction, with fits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["plot_geometry", "plot_cosine_histogram", "plot_loss_vs_bound", "plot_random_labels",
           "training_figures"]

_STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v")]
_GREYS = ["0.0", "0.35", "0.55", "0.2", "0.45"]


def _save(fig: Figure, path: str | Path) -> str:
    FigureCanvasAgg(fig)
    import io

    from ..report.durable import atomic_write_bytes

    path = Path(path)
    buffer = io.BytesIO()  # rendered in memory, then written atomically (never a truncated PNG)
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return atomic_write_bytes(path, buffer.getvalue())


def _series(history: Sequence[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(r["iteration"], r[key]) for r in history if r.get(key) is not None]
    if not pairs:
        return np.zeros(0), np.zeros(0)
    it, val = zip(*pairs)
    return np.asarray(it, dtype=float), np.asarray(val, dtype=float)


def _line(ax, x, y, i: int, label: str) -> None:
    ls, marker = _STYLES[i % len(_STYLES)]
    ax.plot(x, y, linestyle=ls, marker=marker, markersize=4, color=_GREYS[i % len(_GREYS)], label=label,
            markevery=max(1, len(x) // 12))


def plot_geometry(history: Sequence[dict], path: str | Path, *, title: str = "") -> str:
    """Geometry over training: cosines against -1/(K-1) (left), collapse measures (right, log scale)."""
    fig = Figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2)
    it, cos_mean = _series(history, "cos_mean")
    target = history[-1].get("target_cos") if history else None
    if it.size:
        _line(left, it, cos_mean, 0, "mean class-mean cosine")
        it_max, dev = _series(history, "cos_max_dev")
        if target is not None and it_max.size:
            # the worst pair, drawn as the cosine furthest from the target on either side
            _line(left, it_max, target + dev, 1, "target + max |cos - target|")
        it_s, sim = _series(history, "sample_mean_similarity")
        if it_s.size:
            _line(left, it_s, sim, 2, "sample-to-class-mean cosine")
    if target is not None:
        left.axhline(target, color="black", linestyle="--", linewidth=1, label=f"-1/(K-1) = {target:.4f}")
    left.set_xlabel("iteration")
    left.set_ylabel("cosine")
    left.legend(fontsize=8)
    left.set_title("class means vs regular simplex")
    for i, (key, label) in enumerate((("nc1", "NC1"), ("simplex_distance", "distance to simplex (means)"),
                                      ("collapsed_simplex_distance", "distance to collapsed simplex"),
                                      ("nc2_equiangular_dev", "NC2 mean |cos + 1/(K-1)|"))):
        x, y = _series(history, key)
        positive = y > 0
        if positive.any():
            _line(right, x[positive], y[positive], i, label)
    right.set_yscale("log")
    right.set_xlabel("iteration")
    right.set_title("collapse measures (0 at the simplex)")
    right.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_cosine_histogram(cosines: Any, num_classes: int, path: str | Path, *, title: str = "") -> str:
    """Histogram of the K(K-1)/2 final class-mean cosines with -1/(K-1) marked."""
    cos = np.asarray(cosines, dtype=float)
    target = -1.0 / (num_classes - 1)
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    lo = min(float(cos.min()) if cos.size else target, target) - 0.05
    hi = max(float(cos.max()) if cos.size else target, target) + 0.05
    ax.hist(cos, bins=30, range=(lo, hi), color="0.6", edgecolor="black", hatch="//")
    ax.axvline(target, color="black", linestyle="--", linewidth=1.5, label=f"-1/(K-1) = {target:.4f}")
    ax.set_xlabel("cosine between class means")
    ax.set_ylabel("pairs of classes")
    ax.legend(fontsize=8)
    ax.set_title(title or f"final class-mean cosines (K = {num_classes})")
    return _save(fig, path)


def plot_loss_vs_bound(history: Sequence[dict], path: str | Path, *, title: str = "") -> str:
    """Achieved loss and its theoretical minimum over training (left) and their gap on a log scale (right).

    CE: the training-set loss against graf2021's bound at the current ||W||_F. SC: the mean
    per-batch loss l(Z; B) (with +- 2 standard errors) against the closed-form minimum.
    """
    fig = Figure(figsize=(10, 4))
    ax, gap_ax = fig.subplots(1, 2)
    if any(r.get("ce_loss") is not None for r in history):
        x, y = _series(history, "ce_loss")
        _line(ax, x, y, 0, "cross-entropy (training set)")
        xb, yb = _series(history, "ce_bound")
        if xb.size:
            ax.plot(xb, yb, color="black", linestyle="--", label="bound at current ||W||_F (graf2021)")
        ax.set_ylabel("loss")
        gx, gy = _series(history, "ce_gap")
    else:
        x, y = _series(history, "sc_batch_loss")
        _, se = _series(history, "sc_batch_loss_se")
        _line(ax, x, y, 0, "mean per-batch SC loss l(Z; B)")
        if se.size == y.size and y.size:
            ax.fill_between(x, y - 2 * se, y + 2 * se, color="0.85", label="+- 2 standard errors")
        xb, yb = _series(history, "sc_minimum")
        if xb.size:
            ax.plot(xb, yb, color="black", linestyle="--", label="closed-form minimum (graf2021)")
        ax.set_ylabel("loss per batch")
        gx, gy = _series(history, "sc_gap")
    ax.set_xlabel("iteration")
    ax.legend(fontsize=8)
    ax.set_title("loss against its theoretical minimum")
    positive = gy > 0
    if positive.any():
        _line(gap_ax, gx[positive], gy[positive], 1, "loss - minimum")
        gap_ax.set_yscale("log")
        gap_ax.legend(fontsize=8)
    gap_ax.set_xlabel("iteration")
    gap_ax.set_title("gap to the minimum (log scale)")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_random_labels(rows: Sequence[dict], fits: dict, path: str | Path, *, title: str = "") -> str:
    """Iterations to fit the training set against the flipped-label fraction, one curve per loss.

    ``rows``: dicts with ``loss``, ``fraction``, ``iterations`` (None when not fitted);
    ``fits``: per loss a dict with ``power`` (``t0``, ``c``, ``alpha``) and ``linear``
    (``intercept``, ``slope``) as returned by :func:`theorycheck.empirical.random_labels.fit_scaling`.
    """
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    losses = sorted({r["loss"] for r in rows})
    grid = np.linspace(0.0, max([r["fraction"] for r in rows] or [1.0]), 100)
    for i, loss in enumerate(losses):
        ls, marker = _STYLES[i % len(_STYLES)]
        colour = _GREYS[i % len(_GREYS)]
        pts = [(r["fraction"], r["iterations"]) for r in rows if r["loss"] == loss and r["iterations"] is not None]
        if pts:
            px, py = zip(*pts)
            ax.scatter(px, py, marker=marker, color=colour, label=f"{loss}: iterations to 100% train acc.",
                       zorder=3)
        censored = [(r["fraction"], r["max_iterations"]) for r in rows
                    if r["loss"] == loss and r["iterations"] is None]
        if censored:
            cx, cy = zip(*censored)
            ax.scatter(cx, cy, marker=marker, facecolors="none", edgecolors=colour, label=f"{loss}: not fitted (cap)")
        fit = fits.get(loss) or {}
        power = fit.get("power")
        if power and power.get("alpha") is not None:
            ax.plot(grid, power["t0"] + power["c"] * grid ** power["alpha"], linestyle=ls, color=colour,
                    label=f"{loss}: T0 + c p^alpha, alpha = {power['alpha']:.2f}")
        linear = fit.get("linear")
        if linear and linear.get("slope") is not None:
            ax.plot(grid, linear["intercept"] + linear["slope"] * grid, linestyle=":", color=colour, linewidth=0.8)
    ax.set_xlabel("fraction of flipped labels p")
    ax.set_ylabel("iterations until 100% train accuracy")
    ax.legend(fontsize=7)
    ax.set_title(title or "random labels (graf2021): dotted = linear fit")
    return _save(fig, path)


def training_figures(result: Any, out_dir: str | Path) -> dict[str, str]:
    """The three figures of a training run, written into ``out_dir``; returns their paths by name."""
    out_dir = Path(out_dir)
    cfg = result.config
    title = f"{cfg.loss} / {cfg.model} / {cfg.data}"
    files = {"geometry_png": plot_geometry(result.history, out_dir / "geometry.png", title=title)}
    K = result.final.get("num_classes")
    if K and result.final_cosines.size:
        files["cosine_histogram_png"] = plot_cosine_histogram(result.final_cosines, K,
                                                              out_dir / "cosine_histogram.png", title=title)
    files["loss_bound_png"] = plot_loss_vs_bound(result.history, out_dir / "loss_vs_bound.png", title=title)
    return files
