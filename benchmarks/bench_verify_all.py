"""`theorycheck verify all` at its default budget (no --empirical): time per family.

Plans the run exactly as ``theorycheck verify all`` does
(:func:`theorycheck.engine.families.plan_all`: the default per-claim budget is 150 s shared
over the planned claims, 0.5 to 5 s each), then runs the families one at a time and
times each, then times writing the report folder (JSON, Markdown, HTML with figures,
BibTeX). Every row reports the measured wall time against the family's *budgeted* time
(claims x per-claim budget, measured baseline of the same run: the engine's deadline),
and its share of the total; the last rows compare the total with the 180 s target of
issue 8 (2 CPU cores).

Run: ``python benchmarks/run.py verify_all`` (``--quick``: 0.5 s per claim).
"""

from __future__ import annotations

import os
import tempfile
import time

from theorycheck.claims import load_all
from theorycheck.engine.families import plan_all, run_all
from theorycheck.engine.results import Budget
from theorycheck.report.html import write_report_folder

TARGET_SECONDS = 180.0


def main() -> None:
    load_all()
    quick = os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
    budget = Budget(seconds=0.5) if quick else None
    plans = plan_all(budget=budget)
    rows = []
    parts = []
    start_all = time.perf_counter()
    for pf in plans:
        if not pf.checks:
            rows.append((pf.family.name, 0, 0.0, 0.0, 0.0, "", "skipped (" + ", ".join(pf.skipped) + ")"))
            continue
        start = time.perf_counter()
        # one family through run_all, with the budget the whole run gave it
        res = run_all(budget=pf.budget, names=[pf.family.name], progress=False)
        wall = time.perf_counter() - start
        parts.append(res)
        judged = sum(float(e.result.seconds) for e in res.entries)
        verdicts = {}
        for v in res.verdicts:
            verdicts[v] = verdicts.get(v, 0) + 1
        rows.append((pf.family.name, len(pf.checks), float(pf.budget.seconds), wall, judged,
                     ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())), ""))
    run_seconds = time.perf_counter() - start_all
    merged = parts[0] if parts else run_all(names=[])
    for part in parts[1:]:
        merged.entries.extend(part.entries)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_report_folder(merged, tmp)
        n_figures = len(os.listdir(paths["figures"])) if "figures" in paths else 0
        html_kb = os.path.getsize(paths["html"]) / 1024
    report_seconds = time.perf_counter() - start
    total = run_seconds + report_seconds

    print(f"verify all, default budget{' (quick: 0.5 s per claim)' if quick else ''}, "
          f"{os.cpu_count()} CPUs visible")
    header = ("family", "claims", "s/claim", "budgeted s", "wall s", "wall/budget", "share", "verdicts")
    print("  ".join(f"{h:>11}" if i else f"{h:<10}" for i, h in enumerate(header)))
    for name, n, per, wall, judged, verdicts, note in rows:
        budgeted = n * per
        if not n:
            print(f"{name:<10}  {note}")
            continue
        print(f"{name:<10}  {n:>11}  {per:>11.1f}  {budgeted:>11.1f}  {wall:>11.1f}  "
              f"{wall / budgeted:>11.2f}  {wall / total:>10.0%}  {verdicts}")
    planned = sum(r[1] * r[2] for r in rows)
    print(f"{'report':<10}  {'':>11}  {'':>11}  {'':>11}  {report_seconds:>11.1f}  {'':>11}  "
          f"{report_seconds / total:>10.0%}  {n_figures} figures, report.html {html_kb:.0f} KiB")
    print(f"{'total':<10}  {sum(r[1] for r in rows):>11}  {'':>11}  {planned:>11.1f}  {total:>11.1f}  "
          f"{total / planned if planned else float('nan'):>11.2f}")
    print(f"total / target ({TARGET_SECONDS:.0f} s): {total / TARGET_SECONDS:.2f}  "
          f"({'within' if total <= TARGET_SECONDS else 'OVER'} the target)")


if __name__ == "__main__":
    main()
