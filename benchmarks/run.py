"""Run theorycheck's benchmarks.

Usage::

    python benchmarks/run.py              # every benchmarks/bench_<name>.py
    python benchmarks/run.py supcon       # one (or several) by name
    python benchmarks/run.py --quick      # smaller sizes (sets THEORYCHECK_BENCH_QUICK=1)
    python benchmarks/run.py --list       # names only

Each benchmark is a standalone script ``bench_<name>.py`` with a ``main()`` that prints a
small table, including ratios against a baseline measured in the same run (so the
ratios, not the absolute times, are what carries over between machines).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK_ENV = "THEORYCHECK_BENCH_QUICK"


def available() -> dict[str, Path]:
    """Benchmark name -> file, for every ``bench_<name>.py`` beside this script."""
    return {path.stem[len("bench_"):]: path for path in sorted(HERE.glob("bench_*.py"))}


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(f"theorycheck_bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None  # spec_from_file_location on a .py path always has one
    spec.loader.exec_module(module)
    if not callable(getattr(module, "main", None)):
        raise SystemExit(f"benchmarks/{path.name} has no main() function")
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run theorycheck benchmarks (ratios are measured in the same run).")
    parser.add_argument("names", nargs="*", help="benchmark names (bench_<name>.py); default: all")
    parser.add_argument("--quick", action="store_true", help=f"smaller sizes (sets {QUICK_ENV}=1)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    benches = available()
    if args.list:
        print("\n".join(benches))
        return 0
    unknown = [n for n in args.names if n not in benches]
    if unknown:
        known = ", ".join(benches) or "(none)"
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; available: {known}")
    if args.quick:
        os.environ[QUICK_ENV] = "1"
    for name in args.names or list(benches):
        print(f"== {name} ==", flush=True)
        start = time.perf_counter()
        _load(name, benches[name]).main()
        print(f"({name}: {time.perf_counter() - start:.1f} s)\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
