"""Reports: rendering `verify all`'s results into HTML, Markdown and LaTeX, and a sweep-sized document.

Two tables:

1. *verify all.* The results of a real ``theorycheck verify all`` run (default: the stored
   ``tests/data/verify-all-small.json``; ``THEORYCHECK_BENCH_RESULTS=path/results.json`` for
   another) rendered as the report folder does it: every figure drawn once, then HTML (figures
   embedded), Markdown and LaTeX. Target: under 10 s in all on 2 CPU cores.
2. *4,500 claims.* The same claims replicated with distinct ids and parameters until the
   document has 4,500 entries (a sweep's worth), written with ``write_report_folder``. Above
   ``LARGE_DOCUMENT`` claims the HTML report is a summary: the figures over all claims drawn
   once, no per-claim figures, each claim's key evidence only (the full evidence stays in the
   JSON). Target: under 30 s, and an HTML file a browser opens (its size is printed).

Run: ``python benchmarks/run.py report`` (``--quick``: 1,500 claims in table 2).
"""

from __future__ import annotations

import copy
import os
import tempfile
import time
from pathlib import Path

from theorycheck.report.figures import report_figures
from theorycheck.report.html import LARGE_DOCUMENT, render_html, write_report_folder
from theorycheck.report.json_report import read_json
from theorycheck.report.latex import render_latex
from theorycheck.report.markdown import render_markdown

QUICK = os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
DEFAULT_RESULTS = Path(__file__).resolve().parent.parent / "tests" / "data" / "verify-all-small.json"
TARGET_VERIFY_ALL_S = 10.0
TARGET_LARGE_S = 30.0
N_LARGE = 1500 if QUICK else 4500


def _timed(fn):
    """``(result, wall seconds)``; the CPU seconds of the call are kept in ``_timed.cpu``."""
    cpu = time.process_time()
    started = time.perf_counter()
    out = fn()
    _timed.cpu = time.process_time() - cpu
    return out, time.perf_counter() - started


def _browser_open(html_path: str) -> str:
    """Load the HTML in headless Chromium when there is one: seconds to the load event and page height."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    try:
        from _chromium import Chromium, chromium_path
    except ImportError as exc:  # websocket-client missing: a dev dependency
        return f"not opened ({exc})"
    exe = chromium_path()
    if exe is None:
        return "not opened (no chromium)"
    with tempfile.TemporaryDirectory() as profile, Chromium(exe, Path(profile), timeout=120) as page:
        page.viewport(1400)
        started = time.perf_counter()
        page.load(Path(html_path))
        seconds = time.perf_counter() - started
        height = page.eval("document.documentElement.scrollHeight")
        n = page.eval("document.querySelectorAll('section.claim').length")
    return f"opened in Chromium: load event after {seconds:.1f} s, {n} claim sections, {height} px tall"


def replicate(doc: dict, n: int) -> dict:
    """``doc`` with its claims repeated until there are ``n``, each copy with a distinct id and
    an extra parameter ``replica`` (so no two entries are the same claim at the same sizes)."""
    claims = doc["claims"]
    out = []
    for i in range(n):
        base = claims[i % len(claims)]
        entry = copy.deepcopy(base)
        entry["id"] = f"{base['id']}.r{i // len(claims)}"
        entry["params"] = dict(base.get("params") or {}, replica=i // len(claims))
        out.append(entry)
    return dict(doc, claims=out, command=doc["command"] + f"  # replicated to {n} claims")


def main() -> None:
    path = Path(os.environ.get("THEORYCHECK_BENCH_RESULTS") or DEFAULT_RESULTS)
    doc = read_json(path)
    n = len(doc["claims"])
    print(f"report rendering, {os.cpu_count()} CPUs; results: {path} ({n} claims)")

    # the snippets ask the engine's kinds (torch and all): loaded already when verify all renders
    _, t_import = _timed(lambda: __import__("theorycheck.engine.kinds"))
    print(f"(import of theorycheck.engine.kinds, paid once by `theorycheck report`: {t_import:.2f} s wall, "
          f"{_timed.cpu:.2f} s CPU)")
    rows = []
    figures, t = _timed(lambda: report_figures(doc))
    rows.append(("figures (drawn once)", t, _timed.cpu, sum(len(f.png) for f in figures)))
    html_text, t = _timed(lambda: render_html(doc, figures=figures))
    rows.append(("HTML, figures embedded", t, _timed.cpu, len(html_text.encode())))
    md_text, t = _timed(lambda: render_markdown(doc))
    rows.append(("Markdown", t, _timed.cpu, len(md_text.encode())))
    tex_text, t = _timed(lambda: render_latex(doc, figures=figures, figure_folder="figures"))
    rows.append(("LaTeX", t, _timed.cpu, len(tex_text.encode())))
    total, total_cpu = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"\n1. verify all ({n} claims, {len(figures)} figures)")
    print(f"{'step':<28}{'wall s':>9}{'CPU s':>9}{'output':>12}")
    for name, wall, cpu, size in rows:
        print(f"{name:<28}{wall:>9.2f}{cpu:>9.2f}{size / 1e6:>10.2f}MB")
    print(f"{'total':<28}{total:>9.2f}{total_cpu:>9.2f}   target < {TARGET_VERIFY_ALL_S:.0f} s: "
          f"{'met' if total < TARGET_VERIFY_ALL_S else 'NOT met'} (wall; a loaded machine shows more wall than CPU)")

    big = replicate(doc, N_LARGE)
    with tempfile.TemporaryDirectory() as tmp:
        paths, t_folder = _timed(lambda: write_report_folder(big, tmp))
        cpu_folder = _timed.cpu
        sizes = {role: os.path.getsize(p) for role, p in paths.items() if os.path.isfile(p)}
        n_figs = len(list(Path(tmp, "figures").glob("*.png")))
        opened = _browser_open(paths["html"])
    print(f"\n2. {N_LARGE} claims (replicated; summary report above {LARGE_DOCUMENT} claims), write_report_folder")
    print(f"{'file':<16}{'MB':>9}")
    for role, size in sizes.items():
        print(f"{role:<16}{size / 1e6:>9.2f}")
    print(f"figures written: {n_figs}")
    print(f"total {t_folder:.2f} s wall, {cpu_folder:.2f} s CPU   target < {TARGET_LARGE_S:.0f} s: "
          f"{'met' if t_folder < TARGET_LARGE_S else 'NOT met'}")
    print(f"report.html: {opened}")


if __name__ == "__main__":
    main()
