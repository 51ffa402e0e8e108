"""Training throughput of theorycheck.empirical, and time for digits SC to reach the simplex.

Rows:

* CPU throughput (samples/s) of one training step -- forward, loss, backward, Adam step --
  for the MLP (digits vectors, 64 -> 256 -> 256 -> 128) and the small CNN (8x8 digits
  images), with our :class:`~theorycheck.empirical.train.TrainingModule` and each
  objective (CE, CE-fix, SC: losses computed by ``theorycheck.losses`` in float64). The
  baseline, measured in the same run and interleaved with ours, is the same encoder with
  a bias-free linear head trained with ``torch.nn.functional.cross_entropy`` in float32:
  the ratio ours / baseline says what the exact float64 losses and the sphere projection cost.
* Wall time for SC on balanced digits (rho = 1.5, batches of 512, Adam 1e-3) to bring
  *every* pairwise class-mean cosine within 0.02 of -1/9, geometry measured every 10
  iterations (target: under 2 minutes on 2 CPU cores).
* GPU rows only when CUDA is available: ResNet-18 (CIFAR variant) on 32x32 inputs, batch
  256, float32 against autocast float16 with a gradient scaler (ratio amp / float32).

Run: ``python benchmarks/run.py train`` (``--quick`` for fewer repeats).
"""

from __future__ import annotations

import os
import statistics
import time

import torch

from theorycheck.empirical.data import load_dataset
from theorycheck.empirical.models import build_encoder
from theorycheck.empirical.objectives import make_objective
from theorycheck.empirical.train import TrainingModule, train

TARGET = -1.0 / 9.0


def _baseline_step(encoder, head, optimizer, x, y):
    loss = torch.nn.functional.cross_entropy(head(encoder(x)), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def _ours_step(module, optimizer, x, y):
    loss = module(x, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def _throughput(model_name: str, loss_name: str, x: torch.Tensor, y: torch.Tensor, repeats: int,
                steps: int = 10) -> tuple[float, float]:
    """(ours, baseline) samples per second: medians over repeats of ``steps`` steps, interleaved."""
    torch.manual_seed(0)
    objective, radius = make_objective(loss_name, 10, 128, rho=1.5 if loss_name == "supcon" else 1.0,
                                       weight_radius=2.5)
    module = TrainingModule(build_encoder(model_name, tuple(x.shape[1:]), 128, radius=radius), objective)
    ours_opt = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=1e-3)
    torch.manual_seed(0)
    encoder = build_encoder(model_name, tuple(x.shape[1:]), 128)
    head = torch.nn.Linear(128, 10, bias=False)
    base_opt = torch.optim.Adam(list(encoder.parameters()) + list(head.parameters()), lr=1e-3)
    _ours_step(module, ours_opt, x, y)  # warm-up
    _baseline_step(encoder, head, base_opt, x, y)
    t_ours, t_base = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            _ours_step(module, ours_opt, x, y)
        t_ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(steps):
            _baseline_step(encoder, head, base_opt, x, y)
        t_base.append(time.perf_counter() - start)
    n = steps * x.shape[0]
    return n / statistics.median(t_ours), n / statistics.median(t_base)


def _time_to_simplex(threads: int | None, tol: float = 0.02,
                     max_iterations: int = 2000) -> tuple[float | None, int | None, float]:
    """Wall seconds (data loading and evaluations included) until max |cos + 1/9| <= tol."""
    start = time.perf_counter()
    result = train(loss="supcon", data="digits", balance=True, rho=1.5, batch_size=512, iterations=max_iterations,
                   eval_every=10, sc_eval_batches=2, seed=0, device="cpu", figures=False, progress=False,
                   threads=threads, stop_when=lambda rec: rec["cos_max_dev"] <= tol)
    wall = time.perf_counter() - start
    if result.stopped_by != "stop_when":
        return None, None, result.final["cos_max_dev"]
    return wall, result.fitted_at, result.final["cos_max_dev"]


def _gpu_rows(repeats: int) -> list[tuple[str, float, float]]:
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    x = torch.randn(256, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (256,), device=device)
    rows = []
    for loss_name in ("ce", "supcon"):
        speeds = {}
        for amp in (False, True):
            torch.manual_seed(0)
            objective, radius = make_objective(loss_name, 10, 512, rho=1.0 / 0.1 ** 0.5 if loss_name == "supcon"
                                               else None)
            module = TrainingModule(build_encoder("resnet18", (3, 32, 32), 512, radius=radius), objective,
                                    autocast_dtype=torch.float16 if amp else None).to(device)
            opt = torch.optim.SGD([p for p in module.parameters() if p.requires_grad], lr=0.1, momentum=0.9,
                                  weight_decay=1e-4)
            scaler = torch.amp.GradScaler("cuda", enabled=amp)

            def step():
                loss = module(x, y)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()

            for _ in range(3):
                step()
            torch.cuda.synchronize()
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                for _ in range(10):
                    step()
                torch.cuda.synchronize()
                times.append(time.perf_counter() - start)
            speeds[amp] = 2560 / statistics.median(times)
        rows.append((loss_name, speeds[False], speeds[True]))
    return rows


def main() -> None:
    quick = os.environ.get("THEORYCHECK_BENCH_QUICK") == "1"
    repeats = 3 if quick else 7
    print(f"CPU training step throughput (samples/s), torch threads = {torch.get_num_threads()}, "
          f"batch 256, Adam; baseline: same encoder + linear head, torch cross_entropy in float32")
    digits = load_dataset("digits")
    images = load_dataset("digits", as_images=True)
    x_vec, y = torch.from_numpy(digits.x[:256]), torch.from_numpy(digits.y[:256])
    x_img = torch.from_numpy(images.x[:256])
    print(f"{'model':<6} {'loss':<7} {'ours':>10} {'baseline':>10} {'ratio':>7}")
    for model_name, x in (("mlp", x_vec), ("cnn", x_img)):
        for loss_name in ("ce", "ce-fix", "supcon"):
            ours, base = _throughput(model_name, loss_name, x, y, repeats)
            print(f"{model_name:<6} {loss_name:<7} {ours:>10.0f} {base:>10.0f} {ours / base:>7.2f}")
    print()
    print("digits SC (N=1740, K=10, rho=1.5, b=512, Adam 1e-3, seed 0): wall time until every class-mean "
          "cosine is within 0.02 of -1/9 (geometry measured every 10 iterations; target < 120 s)")
    print(f"{'threads':<8} {'iterations':>10} {'seconds':>8} {'/ target':>9}")
    for threads in (torch.get_num_threads(), 1) if torch.get_num_threads() != 1 else (1,):
        wall, iteration, dev = _time_to_simplex(threads)
        if wall is None:
            print(f"{threads:<8} {'not reached in 2000 iterations':>30} (final {dev:.4f})")
        else:
            print(f"{threads:<8} {iteration:>10} {wall:>8.1f} {wall / 120:>9.2f}")
    if torch.cuda.is_available():
        print()
        print(f"GPU ({torch.cuda.get_device_name()}): ResNet-18, 32x32 inputs, batch 256, SGD (samples/s)")
        print(f"{'loss':<7} {'float32':>10} {'amp fp16':>10} {'ratio':>7}")
        for loss_name, fp32, amp in _gpu_rows(repeats):
            print(f"{loss_name:<7} {fp32:>10.0f} {amp:>10.0f} {amp / fp32:>7.2f}")
    else:
        print("(no CUDA device: GPU rows skipped)")


if __name__ == "__main__":
    main()
