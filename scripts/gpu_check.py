"""GPU checks of the fused SupCon loss: run on a machine with CUDA (exit 2 without one).

    python scripts/gpu_check.py

The test suite runs on CPU-only machines and holds no test that would only skip there;
this script is what a session with a lent GPU (or a user) runs instead. It checks that
the loss and its gradient on CUDA equal the CPU's in float64, float32 and bfloat16, that
they stay in the input's dtype and device, and prints the automatic block size and the
peak allocator memory of an N = 16384 float32 step.
"""

from __future__ import annotations

import sys

import numpy as np
import torch

from theorycheck import losses as L
from theorycheck._supcon_fused import auto_block_size


def _compare(dtype: torch.dtype) -> None:
    rng = np.random.default_rng(10)
    Z = torch.tensor(rng.normal(size=(1000, 32)), dtype=dtype)
    y = rng.integers(0, 10, size=1000)
    results = []
    for device in ("cpu", "cuda"):
        Zd = Z.to(device).requires_grad_(True)
        loss = L.supcon(Zd, y, 0.1, "in")
        loss.backward()
        assert loss.device.type == device and loss.dtype == dtype and Zd.grad.dtype == dtype, (loss, Zd.grad.dtype)
        results.append((float(loss), Zd.grad.cpu().double()))
    tol = {torch.float64: 1e-10, torch.float32: 1e-4}.get(dtype, 3e-2)
    value_err = abs(results[0][0] - results[1][0]) / abs(results[0][0])
    grad_err = float((results[0][1] - results[1][1]).norm() / results[0][1].norm())
    print(f"{dtype}: loss relative difference {value_err:.2e}, gradient {grad_err:.2e} (tolerance {tol:g})")
    assert value_err <= tol and grad_err <= 10 * tol


def main() -> int:
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device here", file=sys.stderr)
        return 2
    for dtype in (torch.float64, torch.float32, torch.bfloat16):
        _compare(dtype)
    device = torch.device("cuda")
    n = 16384
    print(f"auto block size at N = {n}: {auto_block_size(n, device, torch.float32)}")
    torch.cuda.reset_peak_memory_stats()
    Z = torch.randn(n, 128, device=device, requires_grad=True)
    y = torch.randint(0, 10, (n,), device=device)
    L.supcon(torch.nn.functional.normalize(Z, dim=1), y, 0.1, "out").backward()
    torch.cuda.synchronize()
    print(f"N = {n} float32 forward + backward: peak allocated {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
