"""Start-up and whole-run wall time, before and after a change, measured in one run.

``theorycheck --version`` and ``theorycheck --help`` (median of 5 fresh interpreters each) and ``theorycheck verify all``
(one run, default budget) for the current checkout and, when ``THEORYCHECK_BENCH_BEFORE``
names another source tree of the package (a folder holding ``theorycheck/``, e.g. made with
``git archive <commit> | tar -x -C DIR``), for that tree too, alternating so both see
the same load. The ratio after/before is what carries over between machines; issue 12
asks for ``--version`` under 0.3 s and ``verify all`` no slower.
``--quick`` (``THEORYCHECK_BENCH_QUICK=1``): ``--version`` only. With
``THEORYCHECK_BENCH_OUT=DIR`` the two ``verify all`` JSON documents are kept there
(``before.json``, ``after.json``) to compare their verdicts.

Run: ``THEORYCHECK_BENCH_BEFORE=/tmp/base python benchmarks/run.py startup``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "theorycheck.cli"]


def _wall(tree: Path, args: list[str], cwd: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    start = time.perf_counter()
    subprocess.run(CLI + args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    return time.perf_counter() - start


def main() -> None:
    trees = {"after": HERE}
    before = os.environ.get("THEORYCHECK_BENCH_BEFORE")
    if before:
        trees = {"before": Path(before), "after": HERE}
    quick = os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
    with tempfile.TemporaryDirectory() as tmp:
        version = {name: [] for name in trees}
        helps = {name: [] for name in trees}
        for _ in range(5):  # alternating, so a change of load hits both alike
            for name, tree in trees.items():
                version[name].append(_wall(tree, ["--version"], tmp))
                helps[name].append(_wall(tree, ["--help"], tmp))
        full = {}
        out = os.environ.get("THEORYCHECK_BENCH_OUT") or tmp
        if not quick:
            for name, tree in trees.items():
                full[name] = _wall(tree, ["verify", "all", "--json", os.path.join(out, f"{name}.json")], tmp)
    print(f"{'tree':>7} {'--version s (median of 5)':>26} {'--help s (median of 5)':>23} {'verify all s':>13}")
    for name in trees:
        v, h = statistics.median(version[name]), statistics.median(helps[name])
        print(f"{name:>7} {v:26.3f} {h:23.3f} {full.get(name, float('nan')):13.1f}")
    if "before" in trees:
        ratio = {k: statistics.median(d['after']) / statistics.median(d['before'])
                 for k, d in (("version", version), ("help", helps))}
        print(f"{'ratio':>7} {ratio['version']:26.3f} {ratio['help']:23.3f} "
              f"{full.get('after', float('nan')) / full.get('before', float('nan')):13.2f}")


if __name__ == "__main__":
    main()
