"""Figures of a results document (matplotlib, Agg; PNG at 300 dpi, SVG, PDF), drawn from its evidence alone.

Every figure is built from the JSON results document (``RunResults.to_dict()`` or a file
read by :func:`theorycheck.report.json_report.read_json`): nothing is recomputed and no
claim needs to be importable, so ``theorycheck report results.json`` re-draws exactly the
figures of the run. Figures are made with ``matplotlib.figure.Figure`` directly (no pyplot
state, no display) and rendered with fixed size, resolution and metadata, so the same
document gives byte-identical images (:mod:`theorycheck.figstyle`: one- or two-column
paper width, 7 pt text).

All figures are readable in black and white: curves differ by line style and marker,
reference values (a closed-form minimum, -1/(K-1), the trivial bound) are dashed black
lines with a label, and filled areas are hatched. The legend is below the axes (it never
covers data), every drawn point lies inside its axes (far values are clipped and marked),
and titles state the sizes of what is drawn.

Which figure is drawn depends on which evidence keys a claim's entry carries:

=========================  =====================================================  =====================
figure                     evidence it reads                                      scope
=========================  =====================================================  =====================
``traces``                 ``traces`` (objective per step, one list per start)    one per claim
                           and ``claimed_optimum`` (optimum/characterization/
                           landscape kinds; written by the engine)
``class-means``            ``class_means`` (K x h), or ``best_inputs`` / a         one per claim
                           counterexample's inputs holding embeddings ``Z``
                           (or ``H``, or ``Z_*``; N x h, first ``h`` columns
                           of a wider lifted one) and ``y`` (N labels)
``ufm-success``            ``global_fraction`` (landscape) of entries with a       all claims
                           dimension parameter ``d``/``h``/``M``, or
                           ``success_by_dimension`` ({d: fraction}, or rows
                           {"d", "fraction" | "fraction_reached"} as
                           ``theorycheck.ufm.landscape_row`` writes them)
``imbalance-angles``       ``imbalance_angles``: list of {"R" | "ratio",          all claims
                           "maj_maj", "min_min", "maj_min" [, "tau"]} (cosines;
                           also ``theorycheck.ufm.ImbalanceRow`` field names
                           ``cos_majority_majority``, ...), or entries with a
                           ratio parameter ``R``/``imbalance`` and those keys
``informativeness``        ``informative_fraction`` (inequalities with a trivial  all claims
                           bound; engine), and ``informative_samples``
                           ([[rhs, trivial], ...]) where present
``random-labels``          ``rows`` ({"loss", "fraction", "iterations"}) and      one per claim
                           ``fits`` (empirical random-label claim)
``training``               ``history`` ({"iteration", "cos_mean", ...}) and       one per claim
                           ``target_cos`` (empirical simplex claim)
=========================  =====================================================  =====================

Examples
--------
>>> doc = {"claims": [{"id": "demo.opt", "verdict": "HOLDS", "kind": "optimum", "params": {},
...        "evidence": {"claimed_optimum": 1.0, "traces": [[3.0, 1.5, 1.0], [2.0, 1.0]]}}]}
>>> [f.name for f in report_figures(doc)]
['traces-demo.opt']
>>> report_figures(doc)[0].png[:4] == b"\\x89PNG"
True
"""

from __future__ import annotations

import functools
import math
import numbers
import re
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .. import figstyle as fs
from .durable import atomic_write_bytes

__all__ = [
    "ReportFigure",
    "report_figures",
    "figures_by_claim",
    "write_figures",
    "FIGURE_BUILDERS",
    "figure_traces",
    "figure_class_means",
    "figure_ufm_success",
    "figure_imbalance_angles",
    "figure_informativeness",
    "figure_random_labels",
    "figure_training",
]

#: (line style, marker) pairs: the curves of one figure differ without colour.
STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v"), ((0, (1, 1)), "P"),
          ((0, (3, 1, 1, 1, 1, 1)), "X"), ((0, (5, 5)), "*")]
GREYS = ["0.0", "0.4", "0.6", "0.25", "0.5", "0.15", "0.7", "0.35"]
DPI = fs.DPI
#: Dimension-like parameter names (the x axis of the UFM success figure), first match wins.
DIMENSION_PARAMS = ("d", "h", "M", "dim")
#: Ratio-like parameter names (the x axis of the imbalance figure), first match wins.
RATIO_PARAMS = ("R", "ratio", "imbalance")
ANGLE_KEYS = (("maj_maj", "majority-majority"), ("min_min", "minority-minority"),
              ("maj_min", "majority-minority"))
#: Longer spellings accepted for the same cosines (the fields of ``theorycheck.ufm.ImbalanceRow``).
ANGLE_ALIASES = {"maj_maj": "cos_majority_majority", "min_min": "cos_minority_minority",
                 "maj_min": "cos_majority_minority"}


@dataclass(frozen=True)
class ReportFigure:
    """A rendered figure: a stable ``name`` (also its file name), a caption, the ids of the
    claims it illustrates (empty for a figure over all claims), the position of the claim
    entry it belongs to in ``doc["claims"]`` (``None`` for a figure over all claims), the
    PNG bytes (300 dpi) and, when rendered, the SVG and PDF bytes."""

    name: str
    title: str
    caption: str
    claim_ids: tuple
    png: bytes
    claim_index: int | None = None
    svg: bytes | None = None
    pdf: bytes | None = None

    @property
    def filename(self) -> str:
        return f"{self.name}.png"

    @property
    def formats(self) -> tuple[str, ...]:
        """The formats this figure holds bytes for (``png`` always)."""
        return tuple(f for f in fs.FORMATS if getattr(self, f) is not None)

    def data(self, fmt: str) -> bytes | None:
        """The bytes of the figure as ``fmt`` (``png``, ``svg``, ``pdf``), ``None`` if not rendered."""
        return getattr(self, fs.check_formats([fmt], "ReportFigure.data")[0])


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------

def _styled(builder):
    """Build the figure inside the print style (fonts are fixed when an artist is created)."""
    @functools.wraps(builder)
    def wrapper(*args, **kwargs):
        with fs.style():
            return builder(*args, **kwargs)
    return wrapper


def _new_figure(width: float = fs.TWO_COLUMN, height: float = 2.6, ncols: int = 1, projection: str | None = None):
    return fs.new_figure(width, height, ncols=ncols, projection=projection)


def _png(fig) -> bytes:
    """PNG bytes at 300 dpi with no software-version metadata: deterministic."""
    return fs.render(fig, "png")


def _suptitle(fig, text: str) -> None:
    fig.suptitle(fs.wrap(text, fig.get_figwidth() - 0.1), fontsize=7.5)


def _number(value: Any) -> float | None:
    """A finite float from a JSON value (numbers and "inf"/"nan" strings), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    return None


def _float_list(values: Any) -> list[float]:
    if not isinstance(values, list):
        return []
    out = [_number(v) for v in values]
    return [v for v in out if v is not None]


def _log_scale(axis, set_scale) -> None:
    """A log axis labelled 1e-05 rather than with mathtext (much faster to draw, same information)."""
    from matplotlib.ticker import LogFormatter

    set_scale("log")
    axis.set_major_formatter(LogFormatter(labelOnlyBase=True))
    axis.set_minor_formatter(LogFormatter(labelOnlyBase=True))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-") or "figure"


def _params_text(params: Mapping[str, Any] | None, skip: Iterable[str] = ()) -> str:
    if not params:
        return ""
    skip = set(skip)
    return ", ".join(f"{k}={v}" for k, v in params.items() if k not in skip)


def _label(claim: Mapping[str, Any], skip: Iterable[str] = ()) -> str:
    params = _params_text(claim.get("params"), skip)
    return f"{claim.get('id', '')}" + (f" ({params})" if params else "")


def _short_labels(claims: Sequence[Mapping[str, Any]], skip: Iterable[str] = ()) -> list[str]:
    """A legend label per claim entry: its id, plus the parameters that tell apart entries
    of the same id (all parameters would not fit in a legend)."""
    skip = set(skip)
    by_id: dict[str, list[Mapping[str, Any]]] = {}
    for c in claims:
        by_id.setdefault(str(c.get("id", "")), []).append(c.get("params") or {})
    labels = []
    for c in claims:
        cid = str(c.get("id", ""))
        group = by_id[cid]
        params = c.get("params") or {}
        varying = [k for k in params if k not in skip and len({repr(g.get(k)) for g in group}) > 1]
        labels.append(cid + (" (" + ", ".join(f"{k}={params[k]}" for k in varying) + ")" if varying else ""))
    return labels


def _line(ax, x, y, i: int, label: str, *, markevery: int | None = None, **kwargs) -> None:
    ls, marker = STYLES[i % len(STYLES)]
    ax.plot(x, y, linestyle=ls, marker=marker, markersize=3.5, color=GREYS[i % len(GREYS)], label=label,
            markevery=markevery or max(1, len(x) // 10), **kwargs)


def _evidence(claim: Mapping[str, Any]) -> Mapping[str, Any]:
    ev = claim.get("evidence")
    return ev if isinstance(ev, Mapping) else {}


# --------------------------------------------------------------------------------------
# Per-claim figures
# --------------------------------------------------------------------------------------

@_styled
def figure_traces(claim: Mapping[str, Any]):
    """Objective value along each optimisation start against the claimed (closed-form) minimum.

    Left: the values, with the claimed minimum as a dashed line; a start far above the
    others is clipped at the top of the panel and its clipped points are marked with
    upward arrows (one far-away start would otherwise flatten the approach to
    the minimum). Right: the gap ``|value - minimum|`` on a log scale (starts that go below
    the minimum are drawn with hollow markers; gaps under 1e-16 are drawn at 1e-16), which
    shows the rate of convergence. Two-column width, one legend below both panels.
    Returns ``None`` when the evidence has no ``traces`` / ``claimed_optimum``.
    """
    from matplotlib.lines import Line2D

    ev = _evidence(claim)
    optimum = _number(ev.get("claimed_optimum"))
    traces = [t for t in (_float_list(t) for t in (ev.get("traces") or [])) if t] if isinstance(
        ev.get("traces"), list) else []
    if optimum is None or not traces:
        return None
    drawn = traces[:8]
    fig, (left, right) = _new_figure(fs.TWO_COLUMN, 3.0, ncols=2)
    lo = min(min(min(t) for t in drawn), optimum)
    hi = max(max(t) for t in drawn)
    # do not let one far-away start flatten the approach to the minimum: clip (and mark) above `top`
    top = hi
    if hi > lo:
        top = min(hi, optimum + 4 * max(float(np.median([t[0] for t in drawn])) - optimum, 1e-12))
    clip = top < hi
    below_any = floored_any = False
    for i, trace in enumerate(drawn):
        steps = np.arange(len(trace))
        values, over = fs.clip_top(trace, top)
        _line(left, steps, values, i, f"start {i + 1}")
        if over.any():
            fs.mark_clipped(left, steps, top, over, label="clipped: larger than the panel shows")
        gap, floored = fs.log_floor(np.asarray(trace) - optimum)
        floored_any |= floored
        below = (np.asarray(trace) - optimum) < 0
        ls, marker = STYLES[i % len(STYLES)]
        right.plot(steps, gap, linestyle=ls, marker=marker, markersize=3,
                   markevery=max(1, len(steps) // 8), color=GREYS[i % len(GREYS)])
        if below.any():
            below_any = True
            right.plot(steps[below], gap[below], linestyle="none", marker=marker, markerfacecolor="none",
                       markeredgecolor="black", markersize=4.5)
    left.axhline(optimum, color="black", linestyle="--", linewidth=1.0, label=f"claimed minimum {optimum:.6g}")
    span = max(top - lo, 1e-12 * max(1.0, abs(optimum)))
    left.set_ylim(lo - 0.05 * span, top + 0.06 * span)
    left.set_xlabel("recorded point (evenly spaced over the run)")
    left.set_ylabel("objective" + (" (clipped at the top)" if clip else ""))
    _log_scale(right.yaxis, right.set_yscale)
    right.set_xlabel("recorded point (evenly spaced over the run)")
    right.set_ylabel("|objective - claimed minimum|")
    if floored_any:
        right.set_title("gaps under 1e-16 drawn at 1e-16", fontsize=7)
    extra = [(Line2D([], [], linestyle="none", marker="o", markerfacecolor="none", markeredgecolor="black"),
              "below the claimed minimum (right)")] if below_any else []
    fs.legend_below(fig, [left, right], extra=extra)
    more = f" (first {len(drawn)} drawn)" if len(traces) > len(drawn) else ""
    params = _params_text(claim.get("params"))
    _suptitle(fig, f"{claim.get('id', '')}: optimisation from {len(traces)} starts{more}"
                   + (f" at {params}" if params else ""))
    return fig


def _class_means(claim: Mapping[str, Any]) -> tuple[np.ndarray | None, str]:
    """Class means to draw, and where they come from."""
    drawn = _class_means_drawn(claim)
    return (drawn["means"], drawn["source"]) if drawn else (None, "")


def _class_means_drawn(claim: Mapping[str, Any]) -> dict | None:
    """What the class-means figure draws: ``means`` (K x h), ``source`` (words), ``params``
    (the sizes of the drawn point: a counterexample's own, which may be shrunk), ``shrunk``
    (whether those differ from the claim's) and ``samples`` (N x h embeddings and their
    labels, when the source has them), or ``None``."""
    ev = _evidence(claim)
    claim_params = claim.get("params") if isinstance(claim.get("params"), Mapping) else {}
    means = ev.get("class_means")
    if isinstance(means, list) and means and all(isinstance(r, list) for r in means):
        try:
            arr = np.asarray([[float(v) for v in r] for r in means], dtype=float)
        except (TypeError, ValueError):
            arr = None
        if arr is not None and arr.ndim == 2 and arr.shape[0] >= 2 and np.isfinite(arr).all():
            return {"means": arr, "source": "class means of the best point found", "params": claim_params,
                    "shrunk": False, "samples": None}
    cx = claim.get("counterexample")
    cx_params = (cx.get("params") if isinstance(cx, Mapping) and isinstance(cx.get("params"), Mapping)
                 else None) or claim_params
    for inputs, params, source in (
            (ev.get("best_inputs"), claim_params, "class means of the best point found"),
            (cx.get("inputs") if isinstance(cx, Mapping) else None, cx_params,
             "class means of the counterexample")):
        got = _means_and_samples(inputs, params)
        if got is not None:
            shrunk = source.endswith("counterexample") and dict(params) != dict(claim_params)
            return {"means": got[0], "source": source, "params": params, "shrunk": shrunk, "samples": got[1:]}
    return None


def _embedding_name(inputs: Mapping[str, Any]) -> str | None:
    """The input holding the embeddings: ``Z``, else ``H``, else the first ``Z_*`` (e.g. ``Z_lifted``)."""
    for name in ("Z", "H"):
        if isinstance(inputs.get(name), list):
            return name
    return next((k for k in inputs if k.startswith("Z_") and isinstance(inputs[k], list)), None)


def _means_of_inputs(inputs: Any, params: Mapping[str, Any]) -> np.ndarray | None:
    """Class means of inputs holding embeddings (N x h rows, see :func:`_embedding_name`) and
    ``y`` (N integer labels). An embedding wider than the parameter ``h`` is a lifted one
    (e.g. the ball lifted onto a sphere one dimension up): its first ``h`` columns are used."""
    got = _means_and_samples(inputs, params)
    return None if got is None else got[0]


def _means_and_samples(inputs: Any, params: Mapping[str, Any]):
    """``(class means, embeddings, labels)`` of inputs as :func:`_means_of_inputs` reads them, or ``None``."""
    if not (isinstance(inputs, Mapping) and isinstance(inputs.get("y"), list)):
        return None
    name = _embedding_name(inputs)
    if name is None:
        return None
    try:
        Z = np.asarray(inputs[name], dtype=float)
        y = np.asarray(inputs["y"])
    except (TypeError, ValueError):
        return None
    if not (Z.ndim == 2 and y.ndim == 1 and len(y) == Z.shape[0] and np.issubdtype(y.dtype, np.integer)
            and np.isfinite(Z).all()):
        return None
    h = params.get("h")
    if isinstance(h, int) and not isinstance(h, bool) and 1 <= h < Z.shape[1]:
        Z = Z[:, :h]
    labels = np.unique(y)
    if len(labels) < 2:
        return None
    return np.stack([Z[y == k].mean(axis=0) for k in labels]), Z, y


def _nearest_simplex(means: np.ndarray) -> np.ndarray:
    """The regular simplex (radius = mean norm of the means) closest to ``means`` after an
    orthogonal Procrustes alignment; same shape as ``means``."""
    K, h = means.shape
    radius = float(np.mean(np.linalg.norm(means, axis=1))) or 1.0
    # rows of the centred identity scaled to the radius: a regular simplex in R^K
    base = np.eye(K) - 1.0 / K
    base *= radius / np.linalg.norm(base[0])
    # express it in K-1 (or h) dimensions, then rotate onto the means
    u, s, vt = np.linalg.svd(base)
    coords = (u * s)[:, : min(K - 1, h)]
    padded = np.zeros((K, h))
    padded[:, : coords.shape[1]] = coords
    m, _, n = np.linalg.svd(padded.T @ means)
    return padded @ (m @ n)


def _sizes_text(params: Mapping[str, Any], K: int, N: int | None) -> str:
    """The sizes of what is drawn: ``K`` (and ``N``) as counted in the drawn data, then the
    other parameters (a counterexample's own, which may be shrunk from the claim's)."""
    head = [f"K={K}"] + ([f"N={N}"] if N is not None else [])
    rest = _params_text(params, skip={"K", "N"})
    return ", ".join(head + ([rest] if rest else []))


@_styled
def figure_class_means(claim: Mapping[str, Any]):
    """Class means projected to 2D (3D for K = 4) against the nearest regular simplex.

    The projection is onto the top principal directions of the means (exact when they
    span at most 2 (3) dimensions, e.g. K = 3 (4) means of a centred simplex); the simplex
    is Procrustes-aligned to the means and drawn with hollow markers and dashed edges.
    Where the point has per-sample embeddings they are drawn too (small dots), so a point
    whose means sit on the simplex but whose classes have not collapsed shows it. The title
    states the sizes drawn: for a counterexample shrunk to smaller sizes than the claim was
    judged at, it says so and gives both. One-column width.
    """
    from matplotlib.ticker import MaxNLocator

    drawn = _class_means_drawn(claim)
    if drawn is None:
        return None
    means, source = drawn["means"], drawn["source"]
    K, h = means.shape
    target = _nearest_simplex(means)
    centre = means.mean(axis=0)
    _, _, vt = np.linalg.svd(means - centre)
    dims = 3 if (K == 4 and h >= 3) else 2
    basis = vt[:dims].T if vt.shape[0] >= dims else np.eye(h)[:, :dims]
    if basis.shape[1] < dims:
        dims = basis.shape[1]
    P, T = means @ basis, target @ basis
    samples = drawn["samples"]
    S = samples[0] @ basis if samples is not None else None
    if dims == 3:
        fig, ax = _new_figure(fs.ONE_COLUMN, 3.9, projection="3d")
    else:
        fig, ax = _new_figure(fs.ONE_COLUMN, 3.6)
        if dims == 1:
            P, T = np.c_[P, np.zeros(K)], np.c_[T, np.zeros(K)]
            S = np.c_[S, np.zeros(len(S))] if S is not None else None
            dims = 2
    edge_pairs = [(a, b) for a in range(K) for b in range(a + 1, K)] if K <= 8 else []
    for j, (a, b) in enumerate(edge_pairs):
        ax.plot(*[T[[a, b], c] for c in range(dims)], color="0.5", linestyle="--", linewidth=0.7,
                label="simplex edges" if j == 0 else None)
    if S is not None:
        ax.scatter(*[S[:, c] for c in range(dims)], s=6, color="0.55", marker=".",
                   label=f"samples ({len(S)})")
    ax.scatter(*[T[:, c] for c in range(dims)], s=60, facecolors="none", edgecolors="black", marker="o",
               label="regular simplex (aligned)")
    ax.scatter(*[P[:, c] for c in range(dims)], s=24, color="black", marker="x", label=source)
    ax.scatter(*[[0.0]] * dims, s=16, color="0.4", marker="+", label="origin")
    norms = np.linalg.norm(means, axis=1)
    cosines = (means @ means.T) / np.outer(norms, norms)
    off = cosines[~np.eye(K, dtype=bool)]
    N = len(samples[1]) if samples is not None else None
    sizes = _sizes_text(drawn["params"], K, N)
    if drawn["shrunk"]:
        where = (f"counterexample shrunk to {sizes} "
                 f"(claim judged at {_params_text(claim.get('params'))})")
    else:
        where = sizes
    cx = claim.get("counterexample") if isinstance(claim.get("counterexample"), Mapping) else {}
    lhs, rhs = _number(cx.get("lhs")), _number(cx.get("rhs"))
    if source.endswith("counterexample") and lhs is not None and rhs is not None:
        # the means may well sit on the simplex: say what fails at these sizes
        where += f"; value {lhs:.4g} against claimed {rhs:.4g} at these sizes"
    _suptitle(fig, f"{claim.get('id', '')}: {where}\n"
                   f"cos between means in [{off.min():.3f}, {off.max():.3f}]; simplex -1/(K-1) = "
                   f"{-1.0 / (K - 1):.3f}")
    if dims == 2:
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel("principal direction 1")
        ax.set_ylabel("principal direction 2")
    fs.legend_below(fig, [ax])
    return fig


@_styled
def figure_random_labels(claim: Mapping[str, Any]):
    """Iterations to fit against the flipped fraction: each run a marker, each loss's fitted
    power law ``T0 + c p^alpha`` a continuous line (dense near the smallest fraction, where a
    small alpha rises steeply), thin and marked "underdetermined" without an interval for
    alpha. Evidence without the coefficients (documents from before they were recorded)
    gets a line through the mean per fraction, labelled as such. One column."""
    ev = _evidence(claim)
    rows = ev.get("rows")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, Mapping) and "loss" in r and "fraction" in r
                                                          for r in rows):
        return None
    fig, ax = _new_figure(fs.ONE_COLUMN, 3.4)
    losses = sorted({str(r["loss"]) for r in rows})
    fits = ev.get("fits") if isinstance(ev.get("fits"), Mapping) else {}
    fractions = [f for f in (_number(r.get("fraction")) for r in rows) if f is not None]
    lo, hi = (min(fractions), max(fractions)) if fractions else (0.0, 1.0)
    for i, loss in enumerate(losses):
        ls, marker = STYLES[i % len(STYLES)]
        colour = GREYS[i % len(GREYS)]
        fit = fits.get(loss) if isinstance(fits.get(loss), Mapping) else {}
        pts = sorted((_number(r.get("fraction")), _number(r.get("iterations"))) for r in rows
                     if str(r["loss"]) == loss and _number(r.get("iterations")) is not None
                     and _number(r.get("fraction")) is not None)
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=marker, color=colour, s=14, zorder=3,
                       label=f"{loss}: iterations to fit (runs)")
        alpha = _number(fit.get("alpha"))
        curve = fs.power_fit_curve(fit.get("t0"), fit.get("c"), alpha, lo, hi) if alpha is not None else None
        if curve is not None:
            sure = fit.get("alpha_ci") is not None
            ax.plot(*curve, linestyle=ls, color=colour, linewidth=1.1 if sure else 0.7,
                    label=f"{loss}: fit T0 + c p^alpha, alpha = {alpha:.2f}" + ("" if sure else " (underdetermined)"))
        elif pts:
            # several seeds per fraction: the line through the mean per fraction (not a fit)
            xs = sorted({p[0] for p in pts})
            means = [float(np.mean([p[1] for p in pts if p[0] == f])) for f in xs]
            ax.plot(xs, means, linestyle=ls, color=colour, linewidth=0.9,
                    label=f"{loss}: mean per fraction" + (f" (fitted exponent {alpha:.2f})" if alpha is not None
                                                         else ""))
        censored = [(_number(r.get("fraction")), _number(r.get("max_iterations"))) for r in rows
                    if str(r["loss"]) == loss and _number(r.get("iterations")) is None
                    and _number(r.get("max_iterations")) is not None and _number(r.get("fraction")) is not None]
        if censored:
            ax.scatter([c[0] for c in censored], [c[1] for c in censored], marker=marker, facecolors="none",
                       edgecolors=colour, s=14, label=f"{loss}: not fitted within the cap")
    ax.set_xlabel("fraction of flipped labels p")
    ax.set_ylabel("iterations until 100% train accuracy")
    fs.legend_below(fig, [ax])
    seeds = {r.get("seed") for r in rows if "seed" in r}
    sizes = f"{len(set(fractions))} fractions" + (f", {len(seeds)} seed{'s' if len(seeds) > 1 else ''}"
                                                   if seeds else "")
    params = _params_text(claim.get("params"), skip={"fractions"})
    _suptitle(fig, f"{claim.get('id', '')}: CE linear, SC superlinear? ({sizes}"
                   + (f"; {params}" if params else "") + ")")
    return fig


@_styled
def figure_training(claim: Mapping[str, Any]):
    """Class-mean cosine over training against -1/(K-1) (empirical simplex claim).

    Left: the mean class-mean cosine (and the worst pair) against -1/(K-1). Right, where
    the history has positive collapse measures (NC1, loss gaps): those on a log scale; a
    history without them gives a one-panel figure (no empty panel).
    """
    ev = _evidence(claim)
    history = ev.get("history")
    target = _number(ev.get("target_cos"))
    if not isinstance(history, list) or not history or target is None:
        return None
    rows = [r for r in history if isinstance(r, Mapping)]
    it = [_number(r.get("iteration")) for r in rows]
    measures = []
    for key, label in (("nc1", "NC1"), ("sc_gap", "SC loss - minimum"), ("ce_gap", "CE loss - bound")):
        pts = [(x, _number(r.get(key))) for x, r in zip(it, rows)
               if x is not None and (_number(r.get(key)) or 0) > 0]
        if pts:
            measures.append((label, pts))
    cos = [(x, _number(r.get("cos_mean"))) for x, r in zip(it, rows)
           if x is not None and _number(r.get("cos_mean")) is not None]
    dev = [(x, _number(r.get("cos_max_dev"))) for x, r in zip(it, rows)
           if x is not None and _number(r.get("cos_max_dev")) is not None]
    if not (cos or dev or measures):
        return None
    if measures:
        fig, (left, right) = _new_figure(fs.TWO_COLUMN, 2.9, ncols=2)
    else:
        fig, left = _new_figure(fs.ONE_COLUMN, 3.0)
        right = None
    if cos:
        _line(left, [p[0] for p in cos], [p[1] for p in cos], 0, "mean class-mean cosine")
    if dev:
        _line(left, [p[0] for p in dev], [target + p[1] for p in dev], 1, "-1/(K-1) + worst |cos + 1/(K-1)|")
    left.axhline(target, color="black", linestyle="--", linewidth=1.0, label=f"-1/(K-1) = {target:.4f}")
    left.set_xlabel("iteration")
    left.set_ylabel("cosine")
    for i, (label, pts) in enumerate(measures):
        _line(right, [p[0] for p in pts], [p[1] for p in pts], i + 2, label)
    if right is not None:
        _log_scale(right.yaxis, right.set_yscale)
        right.set_xlabel("iteration")
        right.set_ylabel("collapse measure (0 at the simplex)")
    fs.legend_below(fig, [left] + ([right] if right is not None else []))
    # K drawn, from the target -1/(K-1), unless the parameters already say it
    K = round(1 - 1 / target) if target < 0 and "K" not in (claim.get("params") or {}) else None
    sizes = f"K={K}" + (", " if claim.get("params") else "") if K else ""
    _suptitle(fig, f"{claim.get('id', '')}: training geometry at {sizes}{_params_text(claim.get('params'))}")
    return fig


# --------------------------------------------------------------------------------------
# Figures over several claims
# --------------------------------------------------------------------------------------

def _dimension_of(params: Mapping[str, Any]) -> tuple[str, float] | None:
    for name in DIMENSION_PARAMS:
        value = _number(params.get(name)) if isinstance(params, Mapping) else None
        if value is not None:
            return name, value
    return None


def _common_params(claims: Sequence[Mapping[str, Any]], skip: Iterable[str] = ()) -> str:
    """``k=v`` for each parameter every claim in ``claims`` shares with the same value (the
    sizes of a figure over several claims), in the first claim's order."""
    skip = set(skip)
    params = [c.get("params") if isinstance(c.get("params"), Mapping) else {} for c in claims]
    if not params:
        return ""
    common = {k: v for k, v in params[0].items()
              if k not in skip and all(k in p and repr(p[k]) == repr(v) for p in params[1:])}
    return _params_text(common)


@_styled
def figure_ufm_success(claims: Sequence[Mapping[str, Any]]):
    """Fraction of optimisation starts that reach the global minimum, per dimension d.

    One curve per claim id (and per setting of its other parameters). Points come from
    landscape entries (``global_fraction``, with a dimension parameter) and from
    ``success_by_dimension`` evidence (``{d: fraction}`` or a list of ``{"d", "fraction"}``).
    The curves are offset sideways by a small amount and alternate filled and hollow
    markers, so that curves with equal values stay visible (one would hide the other).
    The title states the sizes shared by the claims drawn and the number of starts.
    """
    series: dict[str, dict[float, float]] = {}
    used: list[Mapping[str, Any]] = []
    starts: list[float] = []
    dim_name = "d"
    dims = [_dimension_of(c.get("params") or {}) for c in claims]
    labels = _short_labels(claims, skip={d[0] for d in dims if d is not None})
    for claim, label in zip(claims, labels):
        ev = _evidence(claim)
        sweep = ev.get("success_by_dimension")
        if isinstance(sweep, Mapping):
            pts = {float(k): _number(v) for k, v in sweep.items() if _number(k) is not None}
        elif isinstance(sweep, list):  # rows as theorycheck.ufm.landscape_row writes them, or {"d", "fraction"}
            pts = {_number(r.get("d")): _number(r.get("fraction", r.get("fraction_reached")))
                   for r in sweep if isinstance(r, Mapping)}
            starts += [n for n in (_number(r.get("starts")) for r in sweep if isinstance(r, Mapping))
                       if n is not None]
        else:
            pts = {}
        pts = {k: v for k, v in pts.items() if k is not None and v is not None}
        if pts:
            series.setdefault(label, {}).update(pts)
            used.append(claim)
            continue
        frac = _number(ev.get("global_fraction"))
        dim = _dimension_of(claim.get("params") or {})
        if str(claim.get("kind", "")) == "landscape" and frac is not None and dim is not None:
            dim_name = dim[0]
            series.setdefault(label, {})[dim[1]] = frac
            used.append(claim)
            n = _number(ev.get("starts", ev.get("n_starts")))
            if n is not None:
                starts.append(n)
    if not series:
        return None
    fig, ax = _new_figure(fs.ONE_COLUMN, 3.2)
    all_x = sorted({x for pts in series.values() for x in pts})
    step = min(np.diff(all_x)) if len(all_x) > 1 else 1.0
    n = len(series)
    for i, (label, pts) in enumerate(sorted(series.items())):
        xs = sorted(pts)
        shift = (i - (n - 1) / 2) * 0.1 * step if n > 1 else 0.0
        _line(ax, [x + shift for x in xs], [pts[x] for x in xs], i, label, markevery=1,
              markerfacecolor="white" if i % 2 else None)
    ax.axhline(1.0, color="black", linestyle=":", linewidth=0.8, label="every start reaches the minimum")
    ax.set_ylim(-0.06, 1.08)
    ax.set_xlim(all_x[0] - 0.5 * step, all_x[-1] + 0.5 * step)
    ax.set_xticks(all_x)
    ax.set_xticklabels([f"{x:g}" for x in all_x])
    ax.set_xlabel(f"dimension {dim_name}" + (" (curves offset sideways to stay visible)" if n > 1 else ""))
    ax.set_ylabel("fraction of starts at the global minimum")
    fs.legend_below(fig, [ax])
    sizes = _common_params(used, skip=DIMENSION_PARAMS)
    if starts:
        lo, hi = int(min(starts)), int(max(starts))
        sizes += ("; " if sizes else "") + (f"{lo} starts per point" if lo == hi else f"{lo}-{hi} starts per point")
    _suptitle(fig, "landscape: success fraction per dimension" + (f" ({sizes})" if sizes else ""))
    return fig


def _cosines(source: Mapping[str, Any]) -> dict:
    return {k: _number(source.get(k, source.get(ANGLE_ALIASES[k]))) for k, _ in ANGLE_KEYS}


def _angle_rows(claim: Mapping[str, Any]) -> list[dict]:
    ev = _evidence(claim)
    rows = []
    sweep = ev.get("imbalance_angles")
    if isinstance(sweep, list):
        for r in sweep:
            ratio = next((_number(r.get(n)) for n in RATIO_PARAMS if _number(r.get(n)) is not None),
                         None) if isinstance(r, Mapping) else None
            if ratio is not None:
                rows.append({"R": ratio, "tau": _number(r.get("tau")), **_cosines(r), "sizes": _row_sizes(r)})
    else:
        params = claim.get("params") or {}
        ratio = next((_number(params.get(n)) for n in RATIO_PARAMS if _number(params.get(n)) is not None), None)
        cos = _cosines(ev)
        if ratio is not None and any(v is not None for v in cos.values()):
            rows.append({"R": ratio, "tau": _number(params.get("tau")), **cos, "sizes": _params_text(
                params, skip=set(RATIO_PARAMS) | {"tau"})})
    return rows


def _row_sizes(row: Mapping[str, Any]) -> str:
    """The class counts of an imbalance row: ``K=.. (k majority, k minority), n_minor=..``."""
    kmaj, kmin, nmin = (_number(row.get(k)) for k in ("k_major", "k_minor", "n_minor"))
    sizes = row.get("class_sizes")
    if kmaj is None and isinstance(sizes, list) and sizes:
        counts = [_number(v) for v in sizes]
        if None not in counts:
            kmaj = sum(1 for v in counts if v == max(counts)) if max(counts) > min(counts) else None
            kmin = len(counts) - kmaj if kmaj is not None else None
            nmin = min(counts)
            if kmaj is None:
                return f"K={len(counts)}, n={int(min(counts))}"
    if kmaj is None or kmin is None:
        return ""
    return f"K={int(kmaj + kmin)} ({int(kmaj)} majority, {int(kmin)} minority)" + (
        f", n_minor={int(nmin)}" if nmin is not None else "")


TAU_FILLS = ("full", "none", "left", "top")


@_styled
def figure_imbalance_angles(claims: Sequence[Mapping[str, Any]]):
    """Cosines between class means (majority-majority, minority-minority, majority-minority)
    against the imbalance ratio R, one line style per pair type and one marker fill per tau.
    One-column width; the legend is below the axes; the title states the class counts."""
    rows = [r for c in claims for r in _angle_rows(c)]
    rows = [r for r in rows if any(r.get(k) is not None for k, _ in ANGLE_KEYS)]
    if not rows:
        return None
    taus = sorted({r["tau"] for r in rows}, key=lambda t: (t is None, t or 0.0))
    fig, ax = _new_figure(fs.ONE_COLUMN, 2.6 + 0.12 * len(ANGLE_KEYS) * len(taus))
    for j, tau in enumerate(taus):
        for i, (key, label) in enumerate(ANGLE_KEYS):
            pts = sorted((r["R"], r[key]) for r in rows if r["tau"] == tau and r.get(key) is not None)
            if not pts:
                continue
            ls, marker = STYLES[i % len(STYLES)]
            # one marker fill per temperature (full, hollow, half, ...): distinct in black and white
            ax.plot([p[0] for p in pts], [p[1] for p in pts], linestyle=ls, marker=marker, color=GREYS[j % 4],
                    fillstyle=TAU_FILLS[j % len(TAU_FILLS)], markerfacecolor="black",
                    markerfacecoloralt="white", markeredgecolor="black",
                    label=label + (f", tau={tau:g}" if tau is not None else ""))
    _log_scale(ax.xaxis, ax.set_xscale)
    ax.set_xlabel("imbalance ratio R (majority / minority samples)")
    ax.set_ylabel("cosine between class means")
    fs.legend_below(fig, [ax])
    sizes = sorted({r["sizes"] for r in rows if r.get("sizes")})
    # the balanced row (R = 1) has no majority: the imbalanced rows say more of the same sizes
    sizes = [t for t in sizes if "majority" in t] or sizes
    _suptitle(fig, "label imbalance: class-mean geometry" + (f" at {'; '.join(sizes)}" if sizes else ""))
    return fig

@_styled
def figure_informativeness(claims: Sequence[Mapping[str, Any]]):
    """How often each bound is tighter than its trivial bound (inequalities with ``trivial``).

    Left: the fraction of inputs tried where the claimed bound beats the trivial one (0:
    never informative, the engine's VACUOUS). Right, where evidence has
    ``informative_samples`` ([[claimed bound, trivial bound], ...]): the claimed bound
    against the trivial one; points on the informative side of the diagonal are filled.
    """
    bars = []
    samples = []
    for claim, label in zip(claims, _short_labels(claims)):
        ev = _evidence(claim)
        frac = _number(ev.get("informative_fraction"))
        if frac is not None:
            bars.append((label, frac, str(claim.get("verdict", "")).upper()))
        pts = ev.get("informative_samples")
        if isinstance(pts, list):
            pairs = [(_number(p[0]), _number(p[1])) for p in pts if isinstance(p, list) and len(p) >= 2]
            pairs = [p for p in pairs if None not in p]
            if pairs:
                samples.append((label, pairs))
    if not bars and not samples:
        return None
    ncols = 2 if samples and bars else 1
    fig, axes = _new_figure(fs.TWO_COLUMN, max(2.2, 0.24 * len(bars) + 1.2), ncols=ncols)
    axes = list(np.atleast_1d(axes))
    if bars:
        ax = axes[0]
        ypos = np.arange(len(bars))
        hatches = ["", "//", "..", "xx"]
        for i, (label, frac, verdict) in enumerate(bars):
            ax.barh(ypos[i], frac, color="0.75", edgecolor="black", hatch=hatches[i % len(hatches)])
            ax.text(min(frac, 1.0) + 0.01, ypos[i], f"{frac:.2f} ({verdict})", va="center", fontsize=6.5)
        ax.set_yticks(ypos)
        ax.set_yticklabels([b[0] for b in bars], fontsize=6.5)
        ax.set_xlim(0, 1.25)
        ax.invert_yaxis()
        ax.set_xlabel("fraction of inputs where it beats the trivial bound")
        ax.set_title(f"informativeness of {len(bars)} bounds", fontsize=7.5)
    if samples:
        ax = axes[-1]
        lo = min(min(min(p) for p in pairs) for _, pairs in samples)
        hi = max(max(max(p) for p in pairs) for _, pairs in samples)
        for i, (label, pairs) in enumerate(samples):
            _, marker = STYLES[i % len(STYLES)]
            arr = np.asarray(pairs)
            ax.scatter(arr[:, 1], arr[:, 0], marker=marker, facecolors="none", edgecolors=GREYS[i % len(GREYS)],
                       s=14, label=label)
        ax.plot([lo, hi], [lo, hi], color="black", linestyle="--", linewidth=1, label="claimed = trivial")
        ax.set_xlabel("trivial bound")
        ax.set_ylabel("claimed bound")
        ax.set_title(f"claimed against trivial bound ({sum(len(p) for _, p in samples)} inputs)", fontsize=7.5)
        fs.legend_below(fig, [ax])
    return fig


# --------------------------------------------------------------------------------------
# Collecting the figures of a document
# --------------------------------------------------------------------------------------

#: ``(name, scope, builder, caption)``: ``scope`` is ``"claim"`` (called with each claim
#: entry, one figure per claim) or ``"all"`` (called with the list of every claim entry).
FIGURE_BUILDERS: list[tuple[str, str, Callable, str]] = [
    ("traces", "claim", figure_traces,
     "Objective along each optimisation start (left) and its gap to the claimed closed-form minimum "
     "(right, log scale)."),
    ("class-means", "claim", figure_class_means,
     "Class means projected onto their principal directions, against the Procrustes-aligned regular "
     "simplex of the same radius."),
    ("training", "claim", figure_training,
     "Geometry of a trained encoder over training: class-mean cosines against -1/(K-1), and collapse "
     "measures."),
    ("random-labels", "claim", figure_random_labels,
     "Iterations needed to fit the training set against the fraction of flipped labels."),
    ("ufm-success", "all", figure_ufm_success,
     "Fraction of optimisation starts of the landscape claims that end at the global minimum, per dimension."),
    ("imbalance-angles", "all", figure_imbalance_angles,
     "Cosines between class means under step imbalance against the imbalance ratio R."),
    ("informativeness", "all", figure_informativeness,
     "How often each bound is tighter than the trivial bound on the inputs tried."),
]


def _claim_key(claim: Mapping[str, Any], index: int, ids: Sequence[str]) -> str:
    cid = str(claim.get("id", "claim"))
    # the same claim judged at several parameter settings gets a running number
    return cid if ids.count(cid) == 1 else f"{cid}-{sum(1 for j in ids[:index] if j == cid) + 1}"


def report_figures(doc: Mapping[str, Any], *, include: Sequence[str] | None = None,
                   formats: Sequence[str] | str = ("png",)) -> list[ReportFigure]:
    """Every figure the evidence of ``doc`` supports, in a fixed order.

    Parameters
    ----------
    doc : mapping
        A results document.
    include : sequence of str, optional
        Names of :data:`FIGURE_BUILDERS` to draw (default: all).
    formats : sequence of str or str, optional
        Formats to render besides PNG (always rendered: the HTML report embeds it): any of
        ``png``, ``svg``, ``pdf`` (a comma-separated string is accepted). Default PNG only;
        :func:`write_figures` renders what it is asked to write.

    Returns
    -------
    list of ReportFigure
        Per-claim figures first (in claim order), then the figures over all claims. A
        figure's ``name`` is ``<builder>-<claim id>[-<n>]`` or ``<builder>``.
    """
    formats = fs.check_formats(formats, "report_figures")
    claims = [c for c in (doc.get("claims") or []) if isinstance(c, Mapping)]
    ids = [str(c.get("id", "claim")) for c in claims]
    wanted = set(include) if include is not None else None
    out: list[ReportFigure] = []

    def rendered(fig) -> dict:
        data = {fmt: fs.render(fig, fmt) for fmt in dict.fromkeys(("png",) + formats)}
        # the figure is done with: free its memory now (a large document draws many)
        fig.clear()
        return data

    for index, claim in enumerate(claims):
        for name, scope, builder, caption in FIGURE_BUILDERS:
            if scope != "claim" or (wanted is not None and name not in wanted):
                continue
            fig = builder(claim)
            if fig is None:
                continue
            key = _claim_key(claim, index, ids)
            out.append(ReportFigure(name=_slug(f"{name}-{key}"), title=f"{name}: {_label(claim)}",
                                    caption=caption, claim_ids=(ids[index],), claim_index=index,
                                    **rendered(fig)))
    for name, scope, builder, caption in FIGURE_BUILDERS:
        if scope != "all" or (wanted is not None and name not in wanted):
            continue
        fig = builder(claims)
        if fig is None:
            continue
        out.append(ReportFigure(name=name, title=name, caption=caption, claim_ids=(), **rendered(fig)))
    return out


def figures_by_claim(figures: Sequence[ReportFigure]) -> tuple[dict[int, list[ReportFigure]], list[ReportFigure]]:
    """Split figures into ``({claim entry index: [its figures]}, [figures over all claims])``."""
    per: dict[int, list[ReportFigure]] = {}
    shared = []
    for fig in figures:
        if fig.claim_index is not None:
            per.setdefault(fig.claim_index, []).append(fig)
        else:
            shared.append(fig)
    return per, shared


def write_figures(doc: Mapping[str, Any], folder: str | Path, figures: Sequence[ReportFigure] | None = None,
                  *, formats: Sequence[str] | str = fs.DEFAULT_FORMATS) -> list[str]:
    """Write every figure of ``doc`` as ``folder/<name>.<format>`` for each of ``formats``
    (default PNG at 300 dpi and SVG; ``pdf`` on request).

    ``figures`` (from :func:`report_figures`) are written as they are; a format they were
    not rendered in is drawn again from ``doc``. Returns the paths written (PNG paths
    first, in figure order, then the other formats).
    """
    formats = fs.check_formats(formats, "write_figures")
    figures = report_figures(doc, formats=formats) if figures is None else list(figures)
    missing = sorted({fmt for fmt in formats for f in figures if f.data(fmt) is None})
    if missing:  # render those formats again, matched by the figure's stable name
        names = {f.name for f in figures}
        again = {f.name: f for f in report_figures(doc, formats=missing) if f.name in names}
        figures = [dataclasses.replace(f, **{fmt: again[f.name].data(fmt) for fmt in missing})
                   if f.name in again else f for f in figures]
    folder = Path(folder)
    paths = []
    if figures:
        folder.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        for fig in figures:
            data = fig.data(fmt)
            if data is None:
                continue
            path = folder / f"{fig.name}.{fmt}"
            atomic_write_bytes(path, data)  # never a truncated figure
            paths.append(str(path))
    return paths
