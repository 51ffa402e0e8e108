"""supcon forward+backward versus pytorch-metric-learning's SupConLoss (CPU).

Both compute the same quantity from the same raw embeddings: PML's default SupConLoss
normalizes rows (CosineSimilarity), so the timed theorycheck function normalizes too,
then calls ``supcon(..., variant="out", reduction="mean")`` (anchors without positives
dropped, PML's AvgNonZeroReducer). Each row reports the median over repeats of one
forward+backward pass, and the ratio ours / PML (< 1 means theorycheck is faster).
float32 rows: PML computes in float32; theorycheck always computes in float64, so those
rows compare float64 work against float32 work.

Run: ``python benchmarks/run.py supcon`` (``--quick`` for small sizes).
"""

from __future__ import annotations

import os
import statistics
import time

import torch
from pytorch_metric_learning.losses import SupConLoss

from theorycheck.losses import supcon

TEMPERATURE = 0.1
DIM = 128
N_CLASSES = 10


def _ours(Z, y):
    return supcon(torch.nn.functional.normalize(Z, dim=1), y, temperature=TEMPERATURE)


def _once(fn, Z, y) -> float:
    Z.grad = None
    start = time.perf_counter()
    fn(Z, y).backward()
    return time.perf_counter() - start


def _time_pair(ours, baseline, Z, y, repeats: int) -> tuple[float, float, float, float]:
    """Median seconds of one forward+backward of each, and both loss values.

    The two are timed alternately, repeat by repeat, so that a change in machine load
    (other processes on a shared box) hits both sides alike.
    """
    v_ours, v_base = float(ours(Z, y).detach()), float(baseline(Z, y).detach())  # warm-up
    t_ours, t_base = [], []
    for _ in range(repeats):
        t_ours.append(_once(ours, Z, y))
        t_base.append(_once(baseline, Z, y))
    return statistics.median(t_ours), statistics.median(t_base), v_ours, v_base


def main() -> None:
    quick = os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
    sizes = (128, 256, 512) if quick else (256, 1024, 4096)
    torch.manual_seed(0)
    pml = SupConLoss(temperature=TEMPERATURE)
    print(f"supcon forward+backward, dim {DIM}, {N_CLASSES} classes, tau {TEMPERATURE}, "
          f"{torch.get_num_threads()} torch threads")
    header = f"{'dtype':>8} {'N':>6} {'repeats':>7} {'ours ms':>10} {'PML ms':>10} {'ours/PML':>9} {'|diff|':>9}"
    print(header)
    print("-" * len(header))
    for dtype in (torch.float64, torch.float32):
        for n in sizes:
            repeats = 101 if n <= 256 else 21 if n <= 1024 else 7
            Z = torch.randn(n, DIM, dtype=dtype, requires_grad=True)
            y = torch.randint(0, N_CLASSES, (n,))
            t_ours, t_pml, v_ours, v_pml = _time_pair(_ours, pml, Z, y, repeats)
            print(f"{str(dtype).replace('torch.', ''):>8} {n:>6} {repeats:>7} {1e3 * t_ours:>10.2f} "
                  f"{1e3 * t_pml:>10.2f} {t_ours / t_pml:>9.3f} {abs(v_ours - v_pml):>9.1e}")


if __name__ == "__main__":
    main()
