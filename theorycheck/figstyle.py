"""Print-quality figure conventions shared by the report and the empirical figures.

One place decides what a theorycheck figure looks like on paper, so that a figure pasted
into a one-column (:data:`ONE_COLUMN`, 3.3 in) or two-column (:data:`TWO_COLUMN`, 6.9 in)
paper reads at its printed size:

* sizes in inches at the printed width, fonts of 6.5-7.5 pt (:func:`style`), PNG at
  :data:`DPI` (300) and vector SVG (PDF on request), with no date or software metadata so
  that the same figure gives the same bytes (:func:`render`, :func:`save`);
* ``constrained`` layout, so titles, labels and a legend outside the axes always fit in
  the figure; long titles are wrapped to the width (:func:`wrap`);
* legends below the axes (:func:`legend_below`): a legend never covers data;
* values too large to draw are clipped to the top of the axes and marked there with an
  upward arrow (:func:`clip_top`, :func:`mark_clipped`), so every drawn point lies inside its axes.

Only matplotlib's object API is used (``matplotlib.figure.Figure``, Agg canvas): nothing
touches pyplot's global state or needs a display.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ._validation import fail
from .report.durable import atomic_write_bytes

__all__ = ["ONE_COLUMN", "TWO_COLUMN", "DPI", "FORMATS", "DEFAULT_FORMATS", "style", "new_figure", "wrap",
           "legend_below", "clip_top", "mark_clipped", "render", "save", "check_formats", "log_floor",
           "power_fit_curve"]

#: Printed width of a one-column figure (inches; a two-column paper's column).
ONE_COLUMN = 3.3
#: Printed width of a figure spanning both columns (inches).
TWO_COLUMN = 6.9
#: Resolution of PNG files (dots per inch at the printed size).
DPI = 300
#: Formats a figure can be written in.
FORMATS = ("png", "svg", "pdf")
#: Formats written unless asked otherwise.
DEFAULT_FORMATS = ("png", "svg")

# Font sizes for print: 7 pt text at the printed size matches a paper's caption size.
_RC = {
    "font.size": 7.0, "axes.titlesize": 7.5, "axes.labelsize": 7.0, "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5, "legend.fontsize": 6.5, "figure.titlesize": 7.5, "lines.linewidth": 1.0,
    "lines.markersize": 3.5, "axes.linewidth": 0.6, "xtick.major.width": 0.6, "ytick.major.width": 0.6,
    # fixed ids in the SVG (matplotlib otherwise salts them randomly): same figure, same bytes
    "svg.hashsalt": "theorycheck", "pdf.fonttype": 42,
}
#: Metadata left out of each format (dates and software versions would change the bytes).
_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
             "pdf": {"CreationDate": None, "Creator": None, "Producer": None}}


def style():
    """Context manager with the print rc settings (fonts are fixed when an artist is created,
    so figures are built, and rendered, inside it)."""
    import matplotlib

    return matplotlib.rc_context(_RC)


def new_figure(width: float = TWO_COLUMN, height: float = 2.6, *, ncols: int = 1, projection: str | None = None):
    """A ``Figure`` of ``width`` x ``height`` inches in constrained layout, and its axes.

    Returns ``(fig, ax)`` for one panel, ``(fig, array of axes)`` for ``ncols`` > 1. Call it
    inside :func:`style`.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02)
    if projection is not None:
        return fig, fig.add_subplot(1, 1, 1, projection=projection)
    return fig, fig.subplots(1, ncols)


def _chars_per_line(width_in: float, fontsize: float) -> int:
    # DejaVu Sans averages about 0.55 em per character; keep a margin for wide glyphs
    return max(20, int(width_in * 72.0 / (0.6 * fontsize)))


def wrap(text: str, width_in: float, fontsize: float = 7.5) -> str:
    """``text`` with each line wrapped to fit ``width_in`` inches at ``fontsize`` points
    (a title wider than the figure would be cut at both edges)."""
    n = _chars_per_line(width_in, fontsize)
    return "\n".join(textwrap.fill(line, n, break_long_words=True, break_on_hyphens=False) if line else line
                     for line in str(text).split("\n"))


def legend_below(fig, axes: Iterable, *, extra: Sequence = (), width_in: float | None = None):
    """One legend for the whole figure, below the axes (outside them: it covers no data).

    Handles of every axis in ``axes`` are collected (a label shown once), plus ``extra``
    ``(handle, label)`` pairs. The number of columns is chosen from the label lengths so the
    legend fits the figure width. Returns the legend, or ``None`` when nothing is labelled.
    """
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab and not lab.startswith("_") and lab not in labels:
                handles.append(h)
                labels.append(lab)
    for h, lab in extra:
        if lab not in labels:
            handles.append(h)
            labels.append(lab)
    if not handles:
        return None
    width_in = width_in or fig.get_figwidth()
    size = 6.5
    # a legend entry is its text plus about 3 em of handle and padding
    entry_in = (max(len(lab) for lab in labels) * 0.55 * size + 3 * size) / 72.0
    ncols = max(1, min(len(labels), int((width_in - 0.1) // entry_in)))
    return fig.legend(handles, labels, loc="outside lower center", ncols=ncols, fontsize=size, frameon=False,
                      handlelength=2.4, columnspacing=1.2)


def clip_top(values, top: float) -> tuple[np.ndarray, np.ndarray]:
    """``values`` with everything above ``top`` replaced by ``top``, and the mask of those
    replaced (mark them at the edge with :func:`mark_clipped`)."""
    arr = np.asarray(values, dtype=float)
    over = arr > top
    return np.where(over, top, arr), over


def mark_clipped(ax, x, top: float, mask, label: str = "clipped at the top (value larger)") -> None:
    """Upward arrows at ``(x[mask], top)``: these points are larger than the axis shows."""
    x = np.asarray(x, dtype=float)[np.asarray(mask, dtype=bool)]
    if x.size:
        # an arrow, not a triangle: triangles are the markers of some curves
        ax.plot(x, np.full(x.size, top), linestyle="none", marker=r"$\uparrow$", markersize=8, color="black",
                label=label, zorder=5)


def check_formats(formats, where: str) -> tuple[str, ...]:
    """``formats`` (a sequence or a comma-separated string) as a tuple of known formats.

    Raises
    ------
    ValueError
        Naming ``formats`` and ``where`` when a format is unknown or none is given.
    """
    if isinstance(formats, str):
        formats = [f for f in formats.split(",")]
    try:
        out = tuple(dict.fromkeys(str(f).strip().lower().lstrip(".") for f in formats))
    except TypeError:
        raise fail("formats", where, f"a sequence of {', '.join(FORMATS)}", formats) from None
    if not out or any(f not in FORMATS for f in out):
        raise fail("formats", where, f"a non-empty selection of {', '.join(FORMATS)}", formats)
    return out


def render(fig, fmt: str = "png") -> bytes:
    """The bytes of ``fig`` as ``fmt`` (``png`` at :data:`DPI`, ``svg``, ``pdf``), without
    date or software metadata: the same figure gives the same bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fmt = check_formats([fmt], "render")[0]
    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    with style():
        if fig.get_layout_engine() is not None:
            # lay out once and freeze: constrained layout measures text with the renderer of
            # each format, so without this the same figure would shift a little from one
            # format (or one call) to the next, and the bytes would depend on what came before
            fig.draw_without_rendering()
            fig.set_layout_engine("none")
        fig.savefig(buf, format=fmt, dpi=DPI, metadata=_METADATA[fmt])
    return buf.getvalue()


def save(fig, path: str | Path, formats: Sequence[str] | str = DEFAULT_FORMATS) -> dict[str, str]:
    """Write ``fig`` as ``path`` with each suffix of ``formats`` (``x.png`` -> ``x.png``,
    ``x.svg``, ...); folders are created. Returns ``{format: path written}``."""
    formats = check_formats(formats, "save")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = {}
    for fmt in formats:
        target = path.with_suffix("." + fmt)
        atomic_write_bytes(target, render(fig, fmt))  # rendered in memory; never a truncated file
        out[fmt] = str(target)
    return out


def finite_extent(values) -> tuple[float, float] | None:
    """``(min, max)`` of the finite values, or ``None``."""
    arr = np.asarray(values, dtype=float).ravel()
    arr = arr[np.isfinite(arr)]
    return (float(arr.min()), float(arr.max())) if arr.size else None


def log_floor(values, floor: float = 1e-16) -> tuple[np.ndarray, bool]:
    """``|values|`` raised to at least ``floor`` for a log axis, and whether any was raised."""
    arr = np.abs(np.asarray(values, dtype=float))
    raised = bool((arr < floor).any())
    return np.maximum(arr, floor), raised



def power_fit_curve(t0, c, alpha, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray] | None:
    """``(p, T0 + c p^alpha)`` on a grid of ``[lo, hi]`` that is dense near ``lo``, so a
    steep fit (small ``alpha``) is drawn as the continuous curve it is, not as a jump;
    ``None`` when a coefficient is missing or not finite."""
    try:
        t0, c, alpha = float(t0), float(c), float(alpha)
    except (TypeError, ValueError):
        return None
    if not all(np.isfinite([t0, c, alpha, lo, hi])) or hi <= lo or lo < 0:
        return None
    grid = np.unique(np.concatenate([np.linspace(lo, hi, 200), lo + (hi - lo) * np.geomspace(1e-6, 1.0, 200)]))
    return grid, t0 + c * grid ** alpha
