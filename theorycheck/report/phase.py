"""Phase diagrams of sweeps: the verdict at every grid point, readable in black and white.

One cell per grid point over the sweep's first axis (x) and second axis (y); a third
axis and any further ones become facets (one panel per combination of their values).
Each verdict has its own grey level, hatching *and* letter (H, R, V, I, ...), so a
photocopy or a colour-blind reader loses nothing; under the letter, the point's key
figure (a counterexample's margin, an informative fraction, a gap, ...), whose name
the caption gives.

Examples
--------
>>> from theorycheck.report.phase import VERDICT_STYLES
>>> len({(s.hatch, s.letter) for s in VERDICT_STYLES.values()}) == len(VERDICT_STYLES)
True
"""

from __future__ import annotations

import io
import itertools
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping

__all__ = ["VerdictStyle", "VERDICT_STYLES", "phase_diagram", "save_phase", "PHASE_DPI"]

#: Resolution of the PNG (print quality).
PHASE_DPI = 300


@dataclass(frozen=True)
class VerdictStyle:
    """How a verdict's cell is drawn: grey face, hatch pattern, letter, letter colour."""

    face: str
    hatch: str
    letter: str
    ink: str = "black"


#: One style per verdict; grey levels, hatches and letters all differ.
VERDICT_STYLES: dict[str, VerdictStyle] = {
    "HOLDS": VerdictStyle("white", "", "H"),
    "REFUTED": VerdictStyle("0.45", "xx", "R", "white"),
    "VACUOUS": VerdictStyle("0.9", "..", "V"),
    "INCONCLUSIVE": VerdictStyle("0.75", "//", "I"),
    "INVALID": VerdictStyle("white", "\\\\", "-"),
    "ERROR": VerdictStyle("0.15", "", "E", "white"),
    "WORKER-DIED": VerdictStyle("0.15", "++", "W", "white"),
    "CANCELLED": VerdictStyle("white", "||", "C"),
}


def _doc(sweep: Any) -> Mapping[str, Any]:
    return sweep.to_dict() if hasattr(sweep, "to_dict") else sweep


def _label(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _key_text(value: Any) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return ""
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.3g}"
    return f"{value:.1e}"


def phase_diagram(sweep: Any, *, title: str | None = None):
    """A matplotlib Figure: one hatched, lettered cell per grid point (see the module doc).

    Parameters
    ----------
    sweep : SweepResult or dict
        A :class:`theorycheck.sweeps.SweepResult` or its ``sweep.json`` document.
    title : str, optional
        Default: the claim id and the number of points.

    Returns
    -------
    matplotlib.figure.Figure
        Each cell is a Rectangle with gid ``phase-cell-<index>`` and a Text with gid
        ``phase-text-<index>`` (the point's index in ``sweep.json``).
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    doc = _doc(sweep)
    axes = [(a["name"], list(a["values"])) for a in doc["axes"]] if isinstance(doc["axes"][0], Mapping) \
        else [(n, list(v)) for n, v in doc["axes"]]
    (x_name, x_values) = axes[0]
    y_name, y_values = axes[1] if len(axes) > 1 else ("", [None])
    facet_axes = axes[2:]
    facets = list(itertools.product(*(v for _, v in facet_axes))) or [()]
    ncols = min(len(facets), 3)
    nrows = math.ceil(len(facets) / ncols)
    cell_w = 0.62 if len(x_values) <= 12 else 0.45
    width = max(5.0, ncols * (len(x_values) * cell_w + 1.4))
    height = max(2.6, nrows * (len(y_values) * 0.5 + 1.2) + 1.3)
    fig = Figure(figsize=(min(width, 22), min(height, 22)))
    grid = fig.subplots(nrows, ncols, squeeze=False)
    fontsize = 8 if len(x_values) <= 12 else 6
    by_facet: dict[tuple, list] = {}
    for point in doc["points"]:
        params = point["params"]
        key = tuple(params[n] for n, _ in facet_axes)
        by_facet.setdefault(key, []).append(point)
    seen_verdicts, key_names = [], []
    for k, facet in enumerate(facets):
        ax = grid[k // ncols][k % ncols]
        for point in by_facet.get(facet, []):
            params = point["params"]
            xi = x_values.index(params[x_name])
            yi = y_values.index(params[y_name]) if y_name else 0
            verdict = str(point.get("verdict", "CANCELLED")).upper()
            style = VERDICT_STYLES.get(verdict, VERDICT_STYLES["ERROR"])
            if verdict not in seen_verdicts:
                seen_verdicts.append(verdict)
            rect = Rectangle((xi - 0.5, yi - 0.5), 1, 1, facecolor=style.face, edgecolor="black", hatch=style.hatch,
                             linewidth=0.6)
            rect.set_gid(f"phase-cell-{point['index']}")
            ax.add_patch(rect)
            key_text = _key_text(point.get("key_value"))
            if key_text and point.get("key") not in key_names:
                key_names.append(point["key"])
            # the letter sits on a small box of the cell's own grey so the hatching never hides it
            text = ax.text(xi, yi, style.letter + ("\n" + key_text if key_text else ""), ha="center",
                           va="center", fontsize=fontsize, color=style.ink, fontweight="bold",
                           bbox={"boxstyle": "round,pad=0.15", "facecolor": style.face, "edgecolor": "none"})
            text.set_gid(f"phase-text-{point['index']}")
        ax.set_xlim(-0.5, len(x_values) - 0.5)
        ax.set_ylim(-0.5, len(y_values) - 0.5)
        ax.set_xticks(range(len(x_values)), [_label(v) for v in x_values], fontsize=fontsize)
        ax.set_xlabel(x_name)
        if y_name:
            ax.set_yticks(range(len(y_values)), [_label(v) for v in y_values], fontsize=fontsize)
            ax.set_ylabel(y_name)
        else:
            ax.set_yticks([])
        if facet_axes:
            ax.set_title(", ".join(f"{n} = {_label(v)}" for (n, _), v in zip(facet_axes, facet)), fontsize=9)
        ax.set_aspect("auto")
    for k in range(len(facets), nrows * ncols):
        grid[k // ncols][k % ncols].set_visible(False)
    handles = [Patch(facecolor=VERDICT_STYLES[v].face, edgecolor="black", hatch=VERDICT_STYLES[v].hatch,
                     label=f"{VERDICT_STYLES[v].letter}  {v}") for v in VERDICT_STYLES if v in seen_verdicts]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.93), fontsize=7, frameon=False,
               ncols=min(len(handles), 4))
    claim = doc.get("claim", "")
    fig.suptitle(title or f"{claim}: verdict at {len(doc['points'])} grid points", fontsize=10, x=0.02,
                 y=0.99, ha="left")
    if key_names:
        fig.text(0.01, 0.005, "under the letter: " + ", ".join(key_names), fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 0.84))
    return fig


def save_phase(fig: Any, folder: str | os.PathLike, stem: str = "phase",
               writer: Callable[[str, bytes], str] | None = None) -> dict:
    """Write ``<stem>.png`` (300 dpi) and ``<stem>.svg`` into ``folder``; returns ``{"png", "svg"}`` paths.

    ``writer(path, data)`` writes the bytes (default: a plain write); the sweep passes an
    atomic one. No creation date or software version is embedded, so the same sweep gives
    the same files.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    out = {}
    for fmt, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=PHASE_DPI, metadata=meta, bbox_inches="tight")
        path = os.path.join(os.fspath(folder), f"{stem}.{fmt}")
        if writer is not None:
            writer(path, buf.getvalue())
        else:
            with open(path, "wb") as fh:
                fh.write(buf.getvalue())
        out[fmt] = path
    return out
