"""Figures of the empirical checks (matplotlib, Agg; PNG at 300 dpi and SVG, readable in black and white).

Every curve differs by line style and marker, not only by colour; reference values
(-1/(K-1), the bound) are dashed black lines with a label. Figures are built on
``matplotlib.figure.Figure`` directly, so nothing touches pyplot's global state or needs
a display. Sizes, fonts, legends (below the axes) and formats follow
:mod:`theorycheck.figstyle`; each ``plot_*`` writes ``path`` in every format of its
``formats`` argument (default :data:`FORMATS`: ``.png`` and ``.svg`` next to each other).

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

from .. import figstyle as fs

__all__ = ["plot_geometry", "plot_cosine_histogram", "plot_loss_vs_bound", "plot_random_labels",
           "training_figures", "FORMATS", "geometry_figure", "cosine_histogram_figure", "loss_vs_bound_figure",
           "random_labels_figure"]

_STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v"), ((0, (1, 1)), "P"),
           ((0, (3, 1, 1, 1, 1, 1)), "X"), ((0, (5, 5)), "*")]
_GREYS = ["0.0", "0.35", "0.55", "0.2", "0.45", "0.15", "0.6", "0.3"]
# dotted patterns of the linear fits, one per loss (they differ without colour)
_LINEAR_STYLES = [(0, (1, 1)), (0, (1, 3)), (0, (3, 2, 1, 2))]
#: Formats each figure is written in unless a call says otherwise (PNG at 300 dpi, SVG).
FORMATS = fs.DEFAULT_FORMATS


def _save(fig, path: str | Path, formats: Sequence[str] | str | None = None) -> str:
    """Write ``fig`` as ``path`` in each of ``formats`` (default :data:`FORMATS`; same stem,
    the format's suffix); returns the path of the first format (the PNG by default)."""
    written = fs.save(fig, path, FORMATS if formats is None else formats)
    fig.clear()
    return next(iter(written.values()))


def _series(history: Sequence[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(r["iteration"], r[key]) for r in history if r.get(key) is not None]
    if not pairs:
        return np.zeros(0), np.zeros(0)
    it, val = zip(*pairs)
    return np.asarray(it, dtype=float), np.asarray(val, dtype=float)


def _line(ax, x, y, i: int, label: str) -> None:
    ls, marker = _STYLES[i % len(_STYLES)]
    ax.plot(x, y, linestyle=ls, marker=marker, markersize=3.5, color=_GREYS[i % len(_GREYS)], label=label,
            markevery=max(1, len(x) // 12))


def _title(fig, title: str) -> None:
    if title:
        fig.suptitle(fs.wrap(title, fig.get_figwidth() - 0.1), fontsize=7.5)


def plot_geometry(history: Sequence[dict], path: str | Path, *, title: str = "",
                  formats: Sequence[str] | str | None = None) -> str:
    """Write :func:`geometry_figure` in each of ``formats`` (default PNG at 300 dpi and SVG);
    returns the path of the first (the PNG by default)."""
    return _save(geometry_figure(history, title=title), path, formats)


def geometry_figure(history: Sequence[dict], *, title: str = ""):
    """Geometry over training: cosines against -1/(K-1) (left), collapse measures (right,
    log scale; left out when the history has none). Two-column width, legend below."""
    with fs.style():
        it, cos_mean = _series(history, "cos_mean")
        target = history[-1].get("target_cos") if history else None
        measures = []
        for key, label in (("nc1", "NC1"), ("simplex_distance", "distance to simplex (means)"),
                           ("collapsed_simplex_distance", "distance to collapsed simplex"),
                           ("nc2_equiangular_dev", "NC2 mean |cos + 1/(K-1)|")):
            x, y = _series(history, key)
            if (y > 0).any():
                measures.append((label, x[y > 0], y[y > 0]))
        if measures:
            fig, (left, right) = fs.new_figure(fs.TWO_COLUMN, 2.9, ncols=2)
        else:
            fig, left = fs.new_figure(fs.ONE_COLUMN, 3.0)
            right = None
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
        left.set_title("class means vs regular simplex")
        for i, (label, x, y) in enumerate(measures):
            # styles continue from the left panel's: one shared legend, every entry distinct
            _line(right, x, y, i + 3, label)
        if right is not None:
            right.set_yscale("log")
            right.set_xlabel("iteration")
            right.set_title("collapse measures (0 at the simplex)")
        fs.legend_below(fig, [left] + ([right] if right is not None else []))
        _title(fig, title)
        return fig


def plot_cosine_histogram(cosines: Any, num_classes: int, path: str | Path, *, title: str = "",
                          formats: Sequence[str] | str | None = None) -> str:
    """Write :func:`cosine_histogram_figure` in each of ``formats``; returns the first path."""
    return _save(cosine_histogram_figure(cosines, num_classes, title=title), path, formats)


def cosine_histogram_figure(cosines: Any, num_classes: int, *, title: str = ""):
    """Histogram of the K(K-1)/2 final class-mean cosines with -1/(K-1) marked (one column)."""
    with fs.style():
        cos = np.asarray(cosines, dtype=float)
        target = -1.0 / (num_classes - 1)
        fig, ax = fs.new_figure(fs.ONE_COLUMN, 2.8)
        lo = min(float(cos.min()) if cos.size else target, target) - 0.05
        hi = max(float(cos.max()) if cos.size else target, target) + 0.05
        ax.hist(cos, bins=30, range=(lo, hi), color="0.6", edgecolor="black", hatch="//", linewidth=0.5,
                label=f"{cos.size} pairs of class means")
        ax.axvline(target, color="black", linestyle="--", linewidth=1.2, label=f"-1/(K-1) = {target:.4f}")
        ax.set_xlabel("cosine between class means")
        ax.set_ylabel("pairs of classes")
        fs.legend_below(fig, [ax])
        _title(fig, (title + "\n" if title else "") + f"final class-mean cosines (K = {num_classes})")
        return fig


def plot_loss_vs_bound(history: Sequence[dict], path: str | Path, *, title: str = "",
                       formats: Sequence[str] | str | None = None) -> str:
    """Write :func:`loss_vs_bound_figure` in each of ``formats``; returns the first path."""
    return _save(loss_vs_bound_figure(history, title=title), path, formats)


def loss_vs_bound_figure(history: Sequence[dict], *, title: str = ""):
    """Achieved loss and its theoretical minimum over training (left) and their gap on a log scale (right).

    CE: the training-set loss against graf2021's bound at the current ||W||_F. SC: the mean
    per-batch loss l(Z; B) (with +- 2 standard errors) against the closed-form minimum.
    When no gap is recorded (e.g. SC with unbalanced labels, where the closed form does not
    apply) the figure has the left panel only, one column wide, and says why in its title.
    """
    with fs.style():
        ce = any(r.get("ce_loss") is not None for r in history)
        gx, gy = _series(history, "ce_gap" if ce else "sc_gap")
        positive = gy > 0
        if positive.any():
            fig, (ax, gap_ax) = fs.new_figure(fs.TWO_COLUMN, 2.9, ncols=2)
        else:
            fig, ax = fs.new_figure(fs.ONE_COLUMN, 3.0)
            gap_ax = None
        if ce:
            x, y = _series(history, "ce_loss")
            _line(ax, x, y, 0, "cross-entropy (training set)")
            xb, yb = _series(history, "ce_bound")
            if xb.size:
                ax.plot(xb, yb, color="black", linestyle="--", label="bound at current ||W||_F (graf2021)")
            ax.set_ylabel("loss")
        else:
            x, y = _series(history, "sc_batch_loss")
            _, se = _series(history, "sc_batch_loss_se")
            _line(ax, x, y, 0, "mean per-batch SC loss l(Z; B)")
            if se.size == y.size and y.size:
                ax.fill_between(x, y - 2 * se, y + 2 * se, color="0.85", hatch="...", linewidth=0,
                                label="+- 2 standard errors")
            xb, yb = _series(history, "sc_minimum")
            if xb.size:
                ax.plot(xb, yb, color="black", linestyle="--", label="closed-form minimum (graf2021)")
            ax.set_ylabel("loss per batch")
        ax.set_xlabel("iteration")
        ax.set_title("loss against its theoretical minimum" if gap_ax is not None else "loss")
        if gap_ax is not None:
            _line(gap_ax, gx[positive], gy[positive], 1, "loss - minimum")
            gap_ax.set_yscale("log")
            gap_ax.set_xlabel("iteration")
            gap_ax.set_title("gap to the minimum (log scale)")
        note = ""
        if gap_ax is None:
            notes = [r.get("sc_note") or r.get("ce_note") for r in history if r.get("sc_note") or r.get("ce_note")]
            note = "no gap to draw: " + (notes[-1] if notes else "no theoretical minimum recorded")
        fs.legend_below(fig, [ax] + ([gap_ax] if gap_ax is not None else []))
        _title(fig, "\n".join(t for t in (title, note) if t))
        return fig


def plot_random_labels(rows: Sequence[dict], fits: dict, path: str | Path, *, title: str = "",
                       formats: Sequence[str] | str | None = None) -> str:
    """Write :func:`random_labels_figure` in each of ``formats``; returns the first path."""
    return _save(random_labels_figure(rows, fits, title=title), path, formats)


def random_labels_figure(rows: Sequence[dict], fits: dict, *, title: str = ""):
    """Iterations to fit the training set against the flipped-label fraction, one curve per loss.

    ``rows``: dicts with ``loss``, ``fraction``, ``iterations`` (None when not fitted);
    ``fits``: per loss a dict with ``power`` (``t0``, ``c``, ``alpha``) and ``linear``
    (``intercept``, ``slope``) as returned by :func:`theorycheck.empirical.random_labels.fit_scaling`.
    Each run is a marker; the fitted power law is a continuous line on a grid of p that is
    dense near the smallest fraction (a small alpha rises steeply there: drawn on a coarse
    grid it looked like a step), thin and labelled "underdetermined" when the fit has no
    interval for alpha; the linear fit is thin and dotted; censored runs are hollow markers
    at the cap. One column; the title states how many fractions and seeds are drawn.
    """
    with fs.style():
        fig, ax = fs.new_figure(fs.ONE_COLUMN, 3.4)
        losses = sorted({r["loss"] for r in rows})
        fractions = [r["fraction"] for r in rows]
        lo, hi = min(fractions or [0.0]), max(fractions or [1.0])
        grid = np.linspace(lo, hi, 200)
        for i, loss in enumerate(losses):
            ls, marker = _STYLES[i % len(_STYLES)]
            colour = _GREYS[i % len(_GREYS)]
            pts = [(r["fraction"], r["iterations"]) for r in rows
                   if r["loss"] == loss and r["iterations"] is not None]
            if pts:
                px, py = zip(*pts)
                ax.scatter(px, py, marker=marker, color=colour, s=14, label=f"{loss}: iterations to fit (runs)",
                           zorder=3)
            censored = [(r["fraction"], r["max_iterations"]) for r in rows
                        if r["loss"] == loss and r["iterations"] is None]
            if censored:
                cx, cy = zip(*censored)
                ax.scatter(cx, cy, marker=marker, facecolors="none", edgecolors=colour, s=14,
                           label=f"{loss}: not fitted (at the cap)")
            fit = fits.get(loss) or {}
            power = fit.get("power") or {}
            curve = fs.power_fit_curve(power.get("t0"), power.get("c"), power.get("alpha"), lo, hi)
            if curve is not None:
                # an underdetermined fit (no interval for alpha) is drawn thin and said to be so
                sure = power.get("alpha_ci") is not None
                ax.plot(*curve, linestyle=ls, color=colour, linewidth=1.1 if sure else 0.7,
                        label=f"{loss}: fit T0 + c p^alpha, alpha = {float(power['alpha']):.2f}"
                              + ("" if sure else " (underdetermined)"))
            linear = fit.get("linear")
            if linear and linear.get("slope") is not None:
                ax.plot(grid, linear["intercept"] + linear["slope"] * grid, linestyle=_LINEAR_STYLES[i % 3],
                        color=colour, linewidth=0.8, label=f"{loss}: linear fit")
        ax.set_xlabel("fraction of flipped labels p")
        ax.set_ylabel("iterations until 100% train accuracy")
        fs.legend_below(fig, [ax])
        n = len({r.get("seed") for r in rows if "seed" in r}) or None
        sizes = f"{len(set(fractions))} fractions" + (f", {n} seed{'s' if n > 1 else ''}" if n else "")
        _title(fig, (title or "random labels (graf2021)") + f" ({sizes})")
        return fig


def training_figures(result: Any, out_dir: str | Path, *, formats: Sequence[str] | str | None = None
                     ) -> dict[str, str]:
    """The three figures of a training run, written into ``out_dir`` in each of ``formats``
    (default PNG and SVG); returns their PNG paths by name (``geometry_png``, ...), plus
    ``<name>_svg`` / ``<name>_pdf`` for the other formats written."""
    out_dir = Path(out_dir)
    cfg = result.config
    final = result.final or {}
    sizes = ", ".join(f"{k}={final[key]}" for k, key in (("N", "n"), ("K", "num_classes"), ("h", "dim"))
                      if final.get(key) is not None)
    title = f"{cfg.loss} / {cfg.model} / {cfg.data}: {sizes}, batch {cfg.batch_size}, {result.iterations} iterations"
    formats = fs.check_formats(FORMATS if formats is None else formats, "training_figures")
    files = {}

    def record(key: str, first: str) -> None:
        stem = Path(first).with_suffix("")
        for fmt in formats:
            files[key if fmt == "png" else key.replace("_png", f"_{fmt}")] = str(stem) + "." + fmt

    record("geometry_png", plot_geometry(result.history, out_dir / "geometry.png", title=title, formats=formats))
    K = final.get("num_classes")
    if K and result.final_cosines.size:
        record("cosine_histogram_png", plot_cosine_histogram(result.final_cosines, K, out_dir / "cosine_histogram.png",
                                                             title=title, formats=formats))
    record("loss_bound_png", plot_loss_vs_bound(result.history, out_dir / "loss_vs_bound.png", title=title,
                                                formats=formats))
    return files
