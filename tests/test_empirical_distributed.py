"""DDP with the gradient-correct all-gather: 2 processes (gloo, CPU) == 1 process on the global batch.

Two processes are spawned with torch.multiprocessing. They meet through a file store
in the test's temporary folder (no TCP port to race for) and gloo talks over the
loopback interface, whatever the machine's hostname resolves to. Each worker writes
its own stdout and stderr (C++ messages from gloo included) to a log file; if a worker
dies, those logs are reported, so the cause shows in CI output, and the pair is retried. Each
builds the same float64 model, takes its half of one global batch, runs the training
module (the code path ``theorycheck train`` uses) under DistributedDataParallel and
back-propagates. Rank 0's loss and parameter gradients must equal those of one process
on the whole batch. The same workers also show the pitfall the module documents: with a
plain (non-differentiable) all_gather the gradient comes out divided by the number of
processes.
"""

from __future__ import annotations

import os
import pickle
import socket
import warnings

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from theorycheck.empirical.distributed import (
    DistributedContext,
    _all_gather_without_grad,
    all_gather_with_grad,
    free_port,
    local_slice,
    synchronise_batchnorm,
)
from theorycheck.empirical.models import build_encoder
from theorycheck.empirical.objectives import make_objective
from theorycheck.empirical.train import TrainingModule

WORLD = 2
GLOBAL_BATCH = 12
ATTEMPTS = 3


def _module(loss: str) -> TrainingModule:
    torch.manual_seed(0)
    objective, radius = make_objective(loss, 3, 5, rho=1.5, seed=0)
    encoder = build_encoder("mlp", (4,), 5, radius=radius, hidden=(8,))
    return TrainingModule(encoder, objective).double()


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(GLOBAL_BATCH, 4, generator=gen, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 2, 1, 0, 0, 1, 2])
    return x, y


def _grads(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.grad.detach().clone() for name, p in module.named_parameters() if p.grad is not None}


def _loopback_interface() -> str:
    names = [name for _, name in socket.if_nameindex() if name.startswith("lo")]
    return names[0] if names else "lo"


def _log_path(out_dir: str, rank: int) -> str:
    return os.path.join(out_dir, f"rank{rank}.log")


def _worker(rank: int, out_dir: str) -> None:
    # fd-level redirection, so that what gloo's C++ code prints before an abort is kept
    log = os.open(_log_path(out_dir, rank), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    torch.set_num_threads(1)
    store = os.path.join(out_dir, "rendezvous")
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=WORLD)
    try:
        context = DistributedContext(rank, WORLD, rank, "gloo")
        x, y = _batch()
        xs, ys = local_slice(x, context), local_slice(y, context)
        results = {}
        for loss_name in ("supcon", "ce"):
            module = _module(loss_name)
            ddp = torch.nn.parallel.DistributedDataParallel(module)
            loss = ddp(xs, ys)
            loss.backward()
            results[loss_name] = (float(loss.detach()), _grads(module))
        # the pitfall: a plain all_gather, then the usual DDP averaging of gradients
        module = _module("supcon")
        features = module.encoder(xs)
        gathered = _all_gather_without_grad(features)
        labels = torch.cat([local_slice(y, DistributedContext(r, WORLD)) for r in range(WORLD)])
        naive_loss = module.objective(gathered, labels)
        naive_loss.backward()
        for p in module.parameters():
            dist.all_reduce(p.grad)
            p.grad /= WORLD
        results["naive"] = (float(naive_loss.detach()), _grads(module))
        # the gathered tensor is the global batch in rank order, differentiable w.r.t. the local rows
        probe = torch.arange(3.0, dtype=torch.float64).reshape(1, 3).repeat(2, 1) + 10 * rank
        probe.requires_grad_(True)
        everything = all_gather_with_grad(probe)
        (everything * torch.arange(1.0, 5.0, dtype=torch.float64)[:, None]).sum().backward()
        results["probe"] = (everything.detach(), probe.grad.detach())
        with open(os.path.join(out_dir, f"rank{rank}.pkl"), "wb") as fh:
            pickle.dump(results, fh)
        # no rank closes its sockets while the other may still be inside a collective
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _spawn_once(out_dir: str) -> str | None:
    """Run the two workers; None on success, else the failure with both workers' logs."""
    try:
        mp.spawn(_worker, args=(out_dir,), nprocs=WORLD, join=True)
        return None
    except Exception as exc:
        logs = [f"{type(exc).__name__}: {exc}"]
        for rank in range(WORLD):
            path = _log_path(out_dir, rank)
            text = open(path, errors="replace").read() if os.path.exists(path) else "(no log written)"
            logs.append(f"--- rank {rank} log (last 4000 characters) ---\n{text[-4000:]}")
        return "\n".join(logs)


@pytest.fixture(scope="module")
def two_process_results(tmp_path_factory):
    # One thread pool per worker and gloo on the loopback interface, whatever the machine.
    # gloo's transport threads can abort a whole process on a connection race (an uncaught
    # exception, e.g. pytorch/gloo#514 in Address::fromPeerName), which no code here can
    # catch. Such a run is retried in a fresh folder, at most ATTEMPTS times in all: the
    # workers assert nothing, so a retry cannot hide a wrong result, and every failed
    # attempt's logs are reported as a warning (all of them in the failure, if every one fails).
    failures = []
    with pytest.MonkeyPatch.context() as env:
        env.setenv("OMP_NUM_THREADS", "1")
        env.setenv("MKL_NUM_THREADS", "1")
        env.setenv("GLOO_SOCKET_IFNAME", _loopback_interface())
        for attempt in range(ATTEMPTS):
            out_dir = tmp_path_factory.mktemp(f"ddp{attempt}")
            failure = _spawn_once(str(out_dir))
            if failure is None:
                break
            failures.append(failure)
            if attempt + 1 < ATTEMPTS:
                warnings.warn(f"two-process gloo run failed (attempt {attempt + 1}), retrying:\n{failure}",
                              RuntimeWarning)
        else:
            pytest.fail(f"the two-process gloo run failed {ATTEMPTS} times:\n" + "\n".join(failures), pytrace=False)
    results = []
    for rank in range(WORLD):
        with open(out_dir / f"rank{rank}.pkl", "rb") as fh:
            results.append(pickle.load(fh))
    return results


@pytest.mark.parametrize("loss_name", ["supcon", "ce"])
def test_two_processes_equal_one_process_on_the_global_batch(two_process_results, loss_name):
    module = _module(loss_name)
    x, y = _batch()
    loss = module(x, y)
    loss.backward()
    reference = _grads(module)
    assert set(reference) == {n for n, _ in module.named_parameters()}  # W too for CE
    for rank_results in two_process_results:
        got_loss, got_grads = rank_results[loss_name]
        if loss_name == "supcon":
            # every process computes the loss of the whole gathered batch
            assert got_loss == pytest.approx(float(loss.detach()), rel=1e-12)
        assert set(got_grads) == set(reference)
        for name, grad in reference.items():
            torch.testing.assert_close(got_grads[name], grad, rtol=1e-10, atol=1e-12)


def test_plain_all_gather_divides_the_gradient_by_the_number_of_processes(two_process_results):
    module = _module("supcon")
    x, y = _batch()
    module(x, y).backward()
    reference = _grads(module)
    got_loss, got_grads = two_process_results[0]["naive"]
    name = "encoder.backbone.net.0.weight"
    assert not torch.allclose(got_grads[name], reference[name])
    for key, grad in reference.items():
        torch.testing.assert_close(got_grads[key], grad / WORLD, rtol=1e-10, atol=1e-12)


def test_gather_with_grad_returns_rank_ordered_rows_and_summed_gradients(two_process_results):
    for rank, res in enumerate(two_process_results):
        gathered, grad = res["probe"]
        expected = torch.cat([torch.arange(3.0, dtype=torch.float64).repeat(2, 1) + 10 * r for r in range(WORLD)])
        torch.testing.assert_close(gathered, expected)
        # d/d(row j) of sum_i c_i rows_i is c_j; every process computed it, the backward sums them
        weights = torch.arange(1.0, 5.0, dtype=torch.float64)[2 * rank:2 * rank + 2]
        torch.testing.assert_close(grad, WORLD * weights[:, None].expand(2, 3))


def test_outside_a_process_group_gathering_is_the_identity():
    t = torch.randn(3, 2, requires_grad=True)
    assert all_gather_with_grad(t) is t
    assert 1024 <= free_port() <= 65535


def test_batchnorm_becomes_syncbatchnorm_on_cuda_only():
    encoder = build_encoder("cnn", (3, 8, 8), 4, radius=1.0)
    with torch.no_grad():
        first = next(m for m in encoder.modules() if isinstance(m, torch.nn.BatchNorm2d))
        first.running_mean.fill_(0.25)
        first.weight.fill_(2.0)
    n_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in encoder.modules())
    assert n_bn > 0
    assert synchronise_batchnorm(encoder, torch.device("cpu")) is encoder  # torch has no CPU SyncBatchNorm
    converted = synchronise_batchnorm(encoder, torch.device("cuda"))  # conversion itself needs no GPU
    kinds = [type(m) for m in converted.modules()]
    assert torch.nn.BatchNorm2d not in kinds and kinds.count(torch.nn.SyncBatchNorm) == n_bn
    sync = next(m for m in converted.modules() if isinstance(m, torch.nn.SyncBatchNorm))
    assert torch.all(sync.running_mean == 0.25) and torch.all(sync.weight == 2.0)
