"""The cost of streaming results (issue 15): `theorycheck verify all --out DIR` with the
streamed writes timed inside the same run.

One run of ``theorycheck verify all`` (default budget; ``--quick``: ``--budget 0.5``)
through :func:`theorycheck.cli.main`, with the streaming hook (``_Output.update``: one
journal line, fsync, and the whole ``results.json`` rewritten atomically with fsync, per
claim) wrapped in a timer. Prints the run's wall time, the number of streamed claims, the
total and per-claim streaming time and its share of the wall time (target: under 2%).
The "without" time is the wall time minus the measured streaming time: the streaming
hook is the only work a run without streaming would not do.

Run: ``python benchmarks/run.py durable`` (``--quick``: 0.5 s per claim).
"""

from __future__ import annotations

import os
import tempfile
import time

from theorycheck import cli

TARGET_SHARE = 0.02


def main() -> None:
    quick = os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
    real_update = cli._Output.update
    spent: list[float] = []

    def timed_update(self, partial):
        start = time.perf_counter()
        try:
            return real_update(self, partial)
        finally:
            spent.append(time.perf_counter() - start)

    cli._Output.update = timed_update
    try:
        with tempfile.TemporaryDirectory() as tmp:
            argv = ["verify", "all", "--out", os.path.join(tmp, "out"), "-q"]
            if quick:
                argv += ["--budget", "0.5"]
            start = time.perf_counter()
            code = cli.main(argv)
            wall = time.perf_counter() - start
            size_kb = os.path.getsize(os.path.join(tmp, "out", "results.json")) / 1024
    finally:
        cli._Output.update = real_update
    streaming = sum(spent)
    n = len(spent)
    print(f"verify all{' --budget 0.5' if quick else ''}: exit {code}, wall {wall:.1f} s, "
          f"{n} claims streamed, final results.json {size_kb:.0f} KiB, {os.cpu_count()} CPUs visible")
    print(f"streaming writes: total {streaming * 1000:.0f} ms, per claim mean {1000 * streaming / max(n, 1):.1f} ms, "
          f"max {1000 * max(spent, default=0.0):.1f} ms")
    print(f"with streaming {wall:.1f} s, without (wall - streaming) {wall - streaming:.1f} s: "
          f"share {streaming / wall:.2%} (target < {TARGET_SHARE:.0%}): "
          f"{'OK' if streaming / wall < TARGET_SHARE else 'OVER'}")


if __name__ == "__main__":
    main()
