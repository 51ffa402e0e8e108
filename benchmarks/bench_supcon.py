"""supcon forward+backward against pytorch-metric-learning and against the physical limit.

Three computations of one training step's loss on the same raw embeddings Z (N x 128,
10 classes, tau = 0.1), each timed as forward + backward:

* ours: ``supcon(normalize(Z), y, temperature=0.1)`` (the fused, row-blocked torch
  Function, in Z's dtype);
* PML: pytorch-metric-learning's ``SupConLoss(temperature=0.1)`` (it normalizes rows
  itself; the same quantity, anchors without positives dropped);
* limit: the least any implementation has to do, as bare torch: one normalised Gram
  matmul forward and backward plus one log-sum-exp over the N x N logits
  (``logsumexp(normalize(Z) @ normalize(Z).T / tau, 1).mean()``).

Each row prints the median seconds of each, the ratios ours / PML and ours / limit
(< 1: ours is faster), and the peak memory of each step above the memory held before it
measured in a fresh process per step (CPU: peak resident set size, reset through
``/proc/self/clear_refs``; CUDA: the allocator's ``max_memory_allocated``). CPU rows run on one thread; GPU rows are added when
CUDA is present. The machine the numbers come from may be shared: the three are timed
alternately, repeat by repeat, so that load hits all alike, but absolute times under load
are noisy -- read the ratios.

A baseline whose N x N buffers would exceed ``--max-baseline-gib`` (default 6 GiB, estimated)
is skipped and printed as such: at N = 16384 PML holds several 1-2 GiB matrices.

Run: ``python benchmarks/run.py supcon`` or ``python benchmarks/bench_supcon.py [--quick]``
(``--quick``: N = 256 and 1024 only).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from theorycheck.losses import supcon

TEMPERATURE = 0.1
DIM = 128
N_CLASSES = 10
SIZES = (256, 1024, 4096, 8192, 16384)
QUICK_SIZES = (256, 1024)
# estimated N x N buffers alive at once (forward + backward), to skip what cannot fit
_NN_BUFFERS = {"PML": 8, "limit": 4}


def _ours(Z, y):
    return supcon(F.normalize(Z, dim=1), y, temperature=TEMPERATURE)


def _limit(Z, y):
    Zn = F.normalize(Z, dim=1)
    return torch.logsumexp(Zn @ Zn.T / TEMPERATURE, dim=1).mean()


def _pml():
    from pytorch_metric_learning.losses import SupConLoss

    loss = SupConLoss(temperature=TEMPERATURE)
    return lambda Z, y: loss(Z, y)


def _status_bytes(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    return 0


class _Peak:
    """Peak memory of a block above what was held when it started (None where unmeasurable)."""

    def __init__(self, device: torch.device):
        self.device = device
        self.cpu = sys.platform.startswith("linux") and os.access("/proc/self/clear_refs", os.W_OK)

    def __enter__(self):
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.base = torch.cuda.memory_allocated(self.device)
        elif self.cpu:
            self.base = _status_bytes("VmRSS")
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # VmHWM := current RSS
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.bytes = torch.cuda.max_memory_allocated(self.device) - self.base
        elif self.cpu:
            self.bytes = _status_bytes("VmHWM") - self.base
        else:
            self.bytes = None


def _step(fn, Z, y, device) -> tuple[float, float]:
    Z.grad = None
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    value = fn(Z, y)
    value.backward()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start, float(value.detach())


def _measure_memory(name: str, dtype: torch.dtype, n: int, device: torch.device) -> int | None:
    """Peak bytes of one forward+backward of ``name``, above the memory held before it.

    Measured in a fresh process: inside a long-running one, memory freed by earlier steps
    stays resident in the C allocator and hides later peaks.
    """
    cmd = [sys.executable, os.path.abspath(__file__), "--memory-of", name, str(dtype).replace("torch.", ""),
           str(n), device.type]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        return None
    out = done.stdout.strip().splitlines()
    return None if not out or out[-1] == "None" else int(out[-1])


def _memory_child(name: str, dtype_name: str, n: int, device_type: str) -> None:
    torch.set_num_threads(1)
    device = torch.device(device_type)
    dtype = getattr(torch, dtype_name)
    fn = {"ours": _ours, "limit": _limit}.get(name) or _pml()
    torch.manual_seed(n)
    small = torch.randn(64, DIM, dtype=dtype, device=device, requires_grad=True)
    _step(fn, small, torch.randint(0, N_CLASSES, (64,), device=device), device)  # load kernels, allocate pools
    Z = torch.randn(n, DIM, dtype=dtype, device=device, requires_grad=True)
    y = torch.randint(0, N_CLASSES, (n,), device=device)
    with _Peak(device) as peak:
        _step(fn, Z, y, device)
    print(peak.bytes)


def _repeats(n: int) -> int:
    return 21 if n <= 256 else 7 if n <= 1024 else 5 if n <= 4096 else 3 if n <= 8192 else 2


def _fmt_mib(b) -> str:
    return "n/a" if b is None else f"{b / 2**20:.0f}"


def run(sizes, dtypes, device: torch.device, max_baseline_gib: float) -> None:
    methods = {"ours": _ours, "PML": _pml(), "limit": _limit}
    header = (f"{'device':>6} {'dtype':>8} {'N':>6} {'reps':>4} {'ours ms':>9} {'PML ms':>9} {'limit ms':>9} "
              f"{'ours/PML':>8} {'ours/lim':>8} {'ours MiB':>8} {'PML MiB':>8} {'lim MiB':>8} {'|ours-PML|':>10}")
    print(header)
    print("-" * len(header))
    for dtype in dtypes:
        for n in sizes:
            torch.manual_seed(n)
            Z = torch.randn(n, DIM, dtype=dtype, device=device, requires_grad=True)
            y = torch.randint(0, N_CLASSES, (n,), device=device)
            item = torch.finfo(dtype).bits // 8
            active = {name: fn for name, fn in methods.items()
                      if name == "ours" or _NN_BUFFERS[name] * n * n * item <= max_baseline_gib * 2**30}
            times = {name: [] for name in active}
            values = {name: _step(fn, Z, y, device)[1] for name, fn in active.items()}  # warm-up
            peaks = {name: _measure_memory(name, dtype, n, device) for name in active}
            for _ in range(_repeats(n)):  # alternate so that load changes hit all alike
                for name, fn in active.items():
                    times[name].append(_step(fn, Z, y, device)[0])
            t = {name: statistics.median(v) for name, v in times.items()}

            def ms(name):
                return f"{1e3 * t[name]:9.1f}" if name in t else f"{'skipped':>9}"

            def ratio(name):
                return f"{t['ours'] / t[name]:8.2f}" if name in t else f"{'-':>8}"

            diff = f"{abs(values['ours'] - values['PML']):10.1e}" if "PML" in values else f"{'-':>10}"
            print(f"{device.type:>6} {str(dtype).replace('torch.', ''):>8} {n:>6} {_repeats(n):>4} {ms('ours')} "
                  f"{ms('PML')} {ms('limit')} {ratio('PML')} {ratio('limit')} {_fmt_mib(peaks['ours']):>8} "
                  f"{_fmt_mib(peaks.get('PML')) if 'PML' in peaks else 'skipped':>8} "
                  f"{_fmt_mib(peaks.get('limit')) if 'limit' in peaks else 'skipped':>8} {diff}", flush=True)
            del Z


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 256 and 1024 only")
    parser.add_argument("--max-baseline-gib", type=float, default=6.0,
                        help="skip PML / the limit where their N x N buffers would exceed this (estimated)")
    parser.add_argument("--memory-of", nargs=4, metavar=("METHOD", "DTYPE", "N", "DEVICE"), help=argparse.SUPPRESS)
    args = parser.parse_args([] if argv is None and __name__ != "__main__" else argv)
    if args.memory_of:
        name, dtype_name, n, device_type = args.memory_of
        _memory_child(name, dtype_name, int(n), device_type)
        return
    quick = args.quick or os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
    sizes = QUICK_SIZES if quick else SIZES
    dtypes = (torch.float32, torch.float64)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        print(f"supcon forward+backward: d = {DIM}, {N_CLASSES} classes, tau = {TEMPERATURE}; CPU rows on 1 torch "
              f"thread; timings on a possibly shared machine (read the ratios); memory = peak above the start")
        run(sizes, dtypes, torch.device("cpu"), args.max_baseline_gib)
        if torch.cuda.is_available():
            run(sizes, dtypes + (torch.bfloat16,), torch.device("cuda"), args.max_baseline_gib)
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    main()
