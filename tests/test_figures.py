"""Every figure is print quality and tells the truth about what it draws.

Generic checks (:func:`check_figure`), applied to every builder of
``theorycheck.report.figures.FIGURE_BUILDERS`` and to every figure of
``theorycheck.empirical.figures``: a one- or two-column width; no empty axes; every data
point (line vertices, scatter offsets, filled areas, bars, text anchors in data
coordinates) inside its axes; no legend over a data point or a line segment; every text
(titles included) inside the figure, so nothing is cut; titles naming the sizes drawn.
Then the files: PNG at 300 dpi (read back from the pHYs chunk), SVG and PDF written and
deterministic, and one regression test per figure that used to mislead (issue 16).
"""


import numpy as np
import pytest
from PIL import Image

from theorycheck import figstyle
from theorycheck.empirical import figures as emp
from theorycheck.report import figures as rep

# --------------------------------------------------------------------------------------
# the generic checker
# --------------------------------------------------------------------------------------

TOL = 1.5  # pixels: an axhline lies exactly on the axes' edge


def _renderer(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _is_3d(ax) -> bool:
    return getattr(ax, "name", "") == "3d"


def _densify(points: np.ndarray, per_segment: int = 12) -> np.ndarray:
    """Points along each segment of a polyline, so a line crossing a legend is caught too."""
    if len(points) < 2:
        return points
    t = np.linspace(0.0, 1.0, per_segment)[:, None, None]
    segs = points[:-1][None] * (1 - t) + points[1:][None] * t
    return segs.reshape(-1, 2)


def data_points(ax, *, dense: bool = False) -> np.ndarray:
    """Display coordinates of everything ``ax`` draws as data (finite points only)."""
    out = []
    for line in ax.lines:
        if not line.get_visible() or len(line.get_xydata()) == 0:
            continue
        pts = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
        pts = pts[np.isfinite(pts).all(axis=1)]
        if dense and line.get_linestyle() not in ("None", "none", "", " "):
            pts = _densify(pts)
        out.append(pts)
    for coll in ax.collections:
        if coll.__class__.__name__ == "PathCollection":  # scatter: a marker at each offset
            pts = coll.get_offset_transform().transform(np.asarray(coll.get_offsets(), dtype=float))
            out.append(pts[np.isfinite(pts).all(axis=1)])
            continue
        for path in coll.get_paths():  # fill_between, bars as polygons: vertices in data space
            pts = coll.get_transform().transform(path.vertices)
            out.append(pts[np.isfinite(pts).all(axis=1)])
    for patch in ax.patches:
        ext = patch.get_window_extent()
        out.append(np.array([[ext.x0, ext.y0], [ext.x1, ext.y1]]))
    for text in ax.texts:
        out.append(text.get_transform().transform([text.get_position()]))
    return np.concatenate(out) if out else np.zeros((0, 2))


def has_data(ax) -> bool:
    return bool(ax.lines or ax.collections or ax.patches or ax.images)


def titles(fig) -> str:
    parts = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    parts += [ax.get_title() for ax in fig.axes]
    return "\n".join(parts).replace("\n", " ")


def check_figure(fig, *, sizes=()):
    """Assert the print rules on a built figure; returns its title text."""
    assert fig is not None
    renderer = _renderer(fig)
    width = fig.get_figwidth()
    assert min(abs(width - figstyle.ONE_COLUMN), abs(width - figstyle.TWO_COLUMN)) < 0.01, width
    assert fig.axes, "a figure without axes"
    legends = [lg for lg in fig.legends] + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    for ax in fig.axes:
        assert has_data(ax), f"empty axes: {ax.get_title()!r}"
        if _is_3d(ax):
            continue
        box = ax.get_window_extent(renderer)
        pts = data_points(ax)
        assert len(pts), "axes with nothing drawn"
        inside = ((pts[:, 0] >= box.x0 - TOL) & (pts[:, 0] <= box.x1 + TOL)
                  & (pts[:, 1] >= box.y0 - TOL) & (pts[:, 1] <= box.y1 + TOL))
        assert inside.all(), f"{(~inside).sum()} data points outside the axes {ax.get_title()!r}"
        dense = data_points(ax, dense=True)
        for legend in legends:
            lb = legend.get_window_extent(renderer)
            over = ((dense[:, 0] > lb.x0) & (dense[:, 0] < lb.x1) & (dense[:, 1] > lb.y0) & (dense[:, 1] < lb.y1))
            assert not over.any(), "the legend covers data"
    fb = fig.bbox
    # titles, axis labels, legend entries and annotations one by one (named in the message) ...
    texts = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
    for legend in legends:
        texts += legend.get_texts()
    for text in texts:
        if not (text.get_visible() and text.get_text()):
            continue
        ext = text.get_window_extent(renderer)
        assert ext.x0 >= fb.x0 - TOL and ext.x1 <= fb.x1 + TOL and ext.y0 >= fb.y0 - TOL and ext.y1 <= fb.y1 + TOL, (
            f"text cut at the figure's edge: {text.get_text()!r}")
    # ... and everything drawn (tick labels included) inside the figure
    tight = fig.get_tightbbox(renderer)
    w, h = fig.get_size_inches()
    assert tight.x0 >= -0.01 and tight.y0 >= -0.01 and tight.x1 <= w + 0.01 and tight.y1 <= h + 0.01, (
        f"something drawn is cut at the figure's edge: {tight} for {w} x {h} in")
    title = titles(fig)
    for size in sizes:
        assert size in title, f"{size!r} not in the title {title!r}"
    return title


# --------------------------------------------------------------------------------------
# inputs for every builder
# --------------------------------------------------------------------------------------

def _simplex(K, h):
    base = np.eye(K) - 1.0 / K
    u, s, _ = np.linalg.svd(base)
    out = np.zeros((K, h))
    out[:, : K - 1] = (u * s)[:, : K - 1] / np.linalg.norm((u * s)[0, : K - 1])
    return out


def _claim(cid, evidence, params=None, kind="optimum", **extra):
    return {"id": cid, "verdict": extra.pop("verdict", "HOLDS"), "kind": kind, "params": params or {},
            "evidence": evidence, "counterexample": extra.pop("counterexample", None), **extra}


LONG = {"N": 8, "h": 3, "rho": 1.0, "lam": 0.1, "batch_size": 512, "iterations": 300,
        "weight_radius": 2.5, "model": "resnet18", "data": "cifar10:/data/cifar"}

CLAIMS = {
    # one start far above the others: it must be clipped and marked, not run off the panel
    "traces": _claim("demo.l2", {"claimed_optimum": 1.0, "traces": [
        [100.0, 3.0, 1.2, 1.0], [2.5, 1.1, 1.0], [2.0, 1.0, 0.9999999], [1.4]]}, params=LONG),
    # a refuted claim at N=8, K=4 whose counterexample was shrunk to N=4, K=2
    "class-means": _claim("demo.refuted", {"claimed_optimum": 1.07}, params={"N": 8, "K": 4, "h": 3},
                          kind="characterization", verdict="REFUTED",
                          counterexample={"inputs": {"Z": [[1.0], [0.9], [-1.0], [-0.8]], "y": [0, 0, 1, 1]},
                                          "lhs": 0.31, "rhs": 0.34, "params": {"N": 4, "K": 2, "h": 1}}),
    "training": _claim("demo.training", {"target_cos": -1 / 9, "history": [
        {"iteration": i, "cos_mean": -1 / 9 + 0.9 / (i + 1), "cos_max_dev": 1.0 / (i + 1), "nc1": 1.0 / (i + 1),
         "ce_gap": 0.5 / (i + 1)} for i in range(0, 300, 30)]}, params=LONG, kind="empirical"),
    "random-labels": _claim("demo.random-labels", {
        "rows": [{"loss": loss, "fraction": f, "seed": s, "iterations": it, "max_iterations": 600}
                 for loss, f, s, it in (("ce", 0.0, 0, 20), ("ce", 0.5, 0, 70), ("ce", 1.0, 0, 60),
                                        ("supcon", 0.0, 0, 20), ("supcon", 0.5, 0, 60), ("supcon", 1.0, 0, None))],
        "fits": {"ce": {"alpha": 0.05, "alpha_ci": None, "t0": 20.2, "c": 45.5, "slope": 40.0, "intercept": 30.0},
                 "supcon": {"alpha": 1.8, "alpha_ci": [1.2, 2.5], "t0": 20.0, "c": 50.0}}},
        params={"data": "digits", "max_samples": 100}, kind="empirical"),
}
# over all claims: two landscape claims with identical success fractions (one would hide the other)
ALL = ([_claim(cid, {"global_fraction": f, "starts": 10}, params={"d": d, "K": 10, "n_per_class": 2},
               kind="landscape") for cid in ("a.benign", "b.benign") for d, f in ((8, 0.0), (9, 0.9), (10, 1.0))]
       + [_claim("demo.imbalance", {"imbalance_angles": [
           {"ratio": r, "tau": tau, "k_major": 5, "k_minor": 5, "n_minor": 2,
            "cos_majority_majority": -0.11 - 0.001 * r,
            "cos_minority_minority": -0.11 + 0.004 * r * tau, "cos_majority_minority": -0.11 - 0.0007 * r}
           for tau in (0.1, 0.5, 1.0) for r in (1, 2, 5, 10, 20, 50, 100)]}, kind="characterization"),
          _claim("demo.bound", {"informative_fraction": 0.25, "informative_samples": [[1.0, 2.0], [3.0, 2.5]]},
                 kind="inequality")])
EXPECTED_SIZES = {
    "traces": ["N=8", "h=3", "4 starts"],
    "class-means": ["shrunk to K=2, N=4", "claim judged at N=8, K=4"],
    "training": ["K=10", "batch_size=512"],
    "random-labels": ["3 fractions", "1 seed"],
    "ufm-success": ["K=10", "n_per_class=2", "10 starts"],
    "imbalance-angles": ["K=10 (5 majority, 5 minority)", "n_minor=2"],
    "informativeness": ["1 bounds", "2 inputs"],
}


def _build(name):
    builder = dict((n, b) for n, _, b, _ in rep.FIGURE_BUILDERS)[name]
    scope = dict((n, s) for n, s, _, _ in rep.FIGURE_BUILDERS)[name]
    return builder(CLAIMS[name]) if scope == "claim" else builder(ALL)


def test_every_report_builder_is_covered():
    assert {n for n, *_ in rep.FIGURE_BUILDERS} == set(EXPECTED_SIZES)


@pytest.mark.parametrize("name", [n for n, *_ in rep.FIGURE_BUILDERS])
def test_report_figure_follows_the_print_rules(name):
    check_figure(_build(name), sizes=EXPECTED_SIZES[name])


HISTORY_CE = [{"iteration": i, "target_cos": -1 / 9, "cos_mean": -1 / 9 + 1.0 / (i + 1), "cos_max_dev": 1.0 / (i + 1),
               "sample_mean_similarity": 0.9, "nc1": 1.0 / (i + 1), "simplex_distance": 0.5 / (i + 1),
               "ce_loss": 1.0 + 1.0 / (i + 1), "ce_bound": 1.0, "ce_gap": 1.0 / (i + 1)} for i in range(0, 200, 20)]
# SC on unbalanced labels: no closed-form minimum, so no gap (used to leave an empty right panel)
HISTORY_SC = [{"iteration": i, "target_cos": -1 / 9, "cos_mean": 0.5 / (i + 1), "sc_batch_loss": 1400.0 - i,
               "sc_batch_loss_se": 0.2, "sc_minimum": None, "sc_gap": None,
               "sc_note": "labels are not balanced: graf2021.sc.minimum does not apply"} for i in range(0, 200, 50)]
TITLE = "supcon / mlp / digits: N=1797, K=10, h=128, batch 512, 150 iterations"
EMPIRICAL = {
    "geometry-ce": lambda: emp.geometry_figure(HISTORY_CE, title=TITLE),
    "geometry-sc": lambda: emp.geometry_figure(HISTORY_SC, title=TITLE),
    "cosine-histogram": lambda: emp.cosine_histogram_figure(np.full(45, -0.1) + np.linspace(0, 0.05, 45), 10,
                                                            title=TITLE),
    "loss-ce": lambda: emp.loss_vs_bound_figure(HISTORY_CE, title=TITLE),
    "loss-sc": lambda: emp.loss_vs_bound_figure(HISTORY_SC, title=TITLE),
    "random-labels": lambda: emp.random_labels_figure(CLAIMS["random-labels"]["evidence"]["rows"], {
        "ce": {"power": {"t0": 20.2, "c": 45.5, "alpha": 0.05, "alpha_ci": None},
               "linear": {"intercept": 30.0, "slope": 40.0}},
        "supcon": {"power": {"t0": 20.0, "c": 50.0, "alpha": 1.8, "alpha_ci": [1.2, 2.5]}}},
        title="random labels on digits (N=100, K=10, mlp)"),
}


@pytest.mark.parametrize("name", sorted(EMPIRICAL))
def test_empirical_figure_follows_the_print_rules(name):
    check_figure(EMPIRICAL[name](), sizes=["K=10"])


# --------------------------------------------------------------------------------------
# the checker catches what it is for
# --------------------------------------------------------------------------------------

def test_the_checker_rejects_a_legend_over_data_and_an_off_panel_trace():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(figstyle.ONE_COLUMN, 2.5))
    ax = fig.subplots()
    ax.plot([0, 1, 2], [0, 1, 2], label="data")
    ax.legend(loc="center")  # right on the line
    with pytest.raises(AssertionError, match="legend covers data"):
        check_figure(fig)
    ax.get_legend().remove()
    ax.set_ylim(0, 1)  # the last point is off the panel
    with pytest.raises(AssertionError, match="outside the axes"):
        check_figure(fig)


def test_the_checker_rejects_a_cut_title_and_an_empty_panel():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(figstyle.ONE_COLUMN, 2.5))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1])
    fig.suptitle("a title much too long for a single column of a paper, cut at both edges " * 2)
    with pytest.raises(AssertionError, match="cut"):
        check_figure(fig)
    fig2 = Figure(figsize=(figstyle.TWO_COLUMN, 2.5))
    left, _ = fig2.subplots(1, 2)
    left.plot([0, 1], [0, 1])
    with pytest.raises(AssertionError, match="empty axes"):
        check_figure(fig2)


# --------------------------------------------------------------------------------------
# one regression test per figure listed in issue 16
# --------------------------------------------------------------------------------------

def test_a_far_start_is_clipped_and_marked():
    fig = _build("traces")
    left = fig.axes[0]
    top = left.get_ylim()[1]
    assert top < 100.0  # the far start does not flatten the panel
    arrows = [ln for ln in left.lines if ln.get_label().startswith("clipped")]
    assert len(arrows) == 1 and arrows[0].get_xydata()[0, 0] == 0.0
    assert "clipped" in left.get_ylabel()


def test_class_means_title_states_the_shrunk_sizes_drawn():
    title = titles(_build("class-means"))
    assert "counterexample shrunk to K=2, N=4, h=1" in title
    assert "value 0.31 against claimed 0.34" in title
    # the drawn means: K=2 points, as the title says
    crosses = [c for c in _build("class-means").axes[0].collections if c.get_label().startswith("class means")]
    assert len(crosses[0].get_offsets()) == 2


def test_ufm_success_curves_with_equal_values_stay_apart():
    fig = _build("ufm-success")
    ax = fig.axes[0]
    a, b = [ln for ln in ax.lines if ln.get_label().endswith("benign")]
    assert np.allclose(a.get_ydata(), b.get_ydata())  # same values: the case where one hid the other
    assert np.all(np.abs(np.asarray(a.get_xdata()) - np.asarray(b.get_xdata())) > 0.05)
    assert a.get_markerfacecolor() != b.get_markerfacecolor()


def test_imbalance_legend_is_outside_the_axes():
    fig = _build("imbalance-angles")
    renderer = _renderer(fig)
    assert fig.axes[0].get_legend() is None and len(fig.legends) == 1
    assert not fig.legends[0].get_window_extent(renderer).overlaps(fig.axes[0].get_window_extent(renderer))


def test_loss_vs_bound_without_a_gap_has_one_panel_saying_why():
    fig = EMPIRICAL["loss-sc"]()
    assert len(fig.axes) == 1
    assert "labels are not balanced" in titles(fig)
    assert len(EMPIRICAL["loss-ce"]().axes) == 2


@pytest.mark.parametrize("fig_of", [lambda: _build("random-labels"), EMPIRICAL["random-labels"]])
def test_random_labels_fit_is_the_fitted_curve_drawn_as_a_line(fig_of):
    ax = fig_of().axes[0]
    (fit,) = [ln for ln in ax.lines if ln.get_label().startswith("ce: fit")]
    x, y = np.asarray(fit.get_xdata()), np.asarray(fit.get_ydata())
    assert len(x) > 100 and fit.get_linestyle() != "None"
    assert np.allclose(y, 20.2 + 45.5 * x ** 0.05)
    # dense where the curve is steep: the first visible rise is drawn in small steps, not one jump
    assert np.sum(x < 0.01) > 50
    assert "underdetermined" in fit.get_label()


# --------------------------------------------------------------------------------------
# files: PNG at 300 dpi, SVG, PDF on request, deterministic
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def doc():
    return {"claims": [CLAIMS["traces"], CLAIMS["class-means"]]}


def test_png_is_300_dpi_at_the_printed_size_and_svg_is_written(tmp_path, doc):
    paths = rep.write_figures(doc, tmp_path)
    assert sorted(p.rsplit("/", 1)[1] for p in paths) == [
        "class-means-demo.refuted.png", "class-means-demo.refuted.svg", "traces-demo.l2.png", "traces-demo.l2.svg"]
    with Image.open(tmp_path / "traces-demo.l2.png") as img:
        dpi = img.info["dpi"]
        size = img.size
    assert dpi == pytest.approx((300, 300), abs=0.01)
    assert size == (round(figstyle.TWO_COLUMN * 300), round(3.0 * 300))
    svg = (tmp_path / "traces-demo.l2.svg").read_bytes()
    assert svg.startswith(b"<?xml") and b"<svg" in svg and b"<dc:date>" not in svg


def test_pdf_on_request_and_formats_rendered_again_when_missing(tmp_path):
    one = {"claims": [CLAIMS["class-means"]]}
    figs = rep.report_figures(one)  # PNG only
    assert [f.formats for f in figs] == [("png",)]
    paths = rep.write_figures(one, tmp_path, figs, formats="png,pdf")
    assert {p.rsplit(".", 1)[1] for p in paths} == {"png", "pdf"}
    assert (tmp_path / "class-means-demo.refuted.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(ValueError, match="formats"):
        rep.write_figures(one, tmp_path, formats=("png", "gif"))
    # the same figure, the same bytes (no dates, no random ids), in every format
    again = rep.report_figures(one, formats=("svg", "pdf"))
    assert again[0].png == figs[0].png
    assert again[0].svg == rep.report_figures(one, formats=("svg",))[0].svg
    assert again[0].pdf == (tmp_path / "class-means-demo.refuted.pdf").read_bytes()


def test_empirical_plot_writes_png_and_svg(tmp_path):
    path = emp.plot_loss_vs_bound(HISTORY_SC, tmp_path / "loss_vs_bound.png")
    assert path.endswith("loss_vs_bound.png")
    assert (tmp_path / "loss_vs_bound.svg").read_bytes().startswith(b"<?xml")
    with Image.open(path) as img:
        assert img.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    only_pdf = emp.plot_loss_vs_bound(HISTORY_SC, tmp_path / "x.png", formats=("pdf",))
    assert only_pdf.endswith("x.pdf") and not (tmp_path / "x.png").exists()


def test_verify_all_option_rejects_an_unknown_format():
    import argparse

    from theorycheck.cli import _parse_figure_formats

    assert _parse_figure_formats("PNG, svg,pdf") == ("png", "svg", "pdf")
    with pytest.raises(argparse.ArgumentTypeError, match="png, svg, pdf"):
        _parse_figure_formats("png,gif")
