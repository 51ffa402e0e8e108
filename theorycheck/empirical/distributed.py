"""Multi-process training with torch.distributed (DDP), launched by ``torchrun``.

A contrastive loss couples every sample of a batch with every other one, so with P
processes each holding b/P samples the loss must be computed on the *global* batch:
every process gathers the representations of all processes. The known pitfall is that
``torch.distributed.all_gather`` is not differentiable: the gathered copies of the other
processes' representations are constants. If every process then takes the loss of its
own anchors only, the gradient through its samples' appearances in the *other*
processes' anchor terms is dropped; if every process takes the whole global loss, each
process's gradient is right but DDP's averaging divides it by P (mis-scaled). Either way
the update differs from single-process training (``_all_gather_without_grad`` below is
kept only for the test that shows it).

:func:`all_gather_with_grad` fixes it. Every process computes the same global loss L on
the gathered batch. In the backward pass, process r holds dL/dz for *all* gathered
slots; the gradient for its own slot is the sum over processes of what each of them
computed for that slot, all-reduced and sliced:

    grad_r = sum_{q} (dL/dz_r)_{computed on q} = P * dL/dz_r.

DDP then *averages* the parameter gradients over the P processes, which divides the
factor P out again: the resulting parameter gradient equals the single-process gradient
of L on the global batch exactly (tested with gloo and 2 processes on CPU). The backward
uses ``all_reduce`` rather than ``reduce_scatter`` because gloo has no reduce-scatter.

Losses that are a mean over independent samples (cross-entropy) need no gather: each
process takes its local mean and DDP's average of equal-size local means is the global
mean.

Launch: ``torchrun --nproc_per_node=P -m theorycheck.empirical.cli train ...`` (the
``train`` command reads ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
``MASTER_PORT`` from the environment ``torchrun`` sets). Multi-node runs use the same
command with ``--nnodes`` and a rendezvous endpoint.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import torch
import torch.distributed as dist

from .._validation import check_choice, fail

__all__ = [
    "DistributedContext",
    "all_gather_with_grad",
    "gather_for_loss",
    "init_distributed",
    "shutdown_distributed",
    "synchronise_batchnorm",
    "local_slice",
    "free_port",
]


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits in a distributed run (``world_size == 1`` when not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """The process that writes files and prints (rank 0)."""
        return self.rank == 0


class _GatherWithGrad(torch.autograd.Function):
    """all_gather whose backward all-reduces (sums) the gradients and returns this rank's slot."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> tuple[torch.Tensor, ...]:
        ctx.rank = dist.get_rank()
        parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, tensor.contiguous())
        return tuple(parts)

    @staticmethod
    def backward(ctx, *grads: torch.Tensor) -> torch.Tensor:
        stacked = torch.stack([g.contiguous() for g in grads])
        dist.all_reduce(stacked, op=dist.ReduceOp.SUM)
        return stacked[ctx.rank]


def all_gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate ``tensor`` from every process along dim 0, differentiably.

    All processes must pass tensors of the same shape (the trainer splits the global
    batch into equal local batches). Outside a distributed run it returns ``tensor``.
    The gradient that reaches a process's own rows is the sum of the gradients every
    process computed for those rows (see the module docstring for why this is exact
    under DDP's gradient averaging).
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return tensor
    return torch.cat(_GatherWithGrad.apply(tensor), dim=0)


def _all_gather_without_grad(tensor: torch.Tensor) -> torch.Tensor:
    # The pitfall, kept only so the tests can show that it gives the wrong gradient:
    # the other processes' rows come back as constants.
    parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, tensor.detach().contiguous())
    parts[dist.get_rank()] = tensor
    return torch.cat(parts, dim=0)


def gather_for_loss(features: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Global-batch features (differentiable) and labels, in rank order.

    Rank r's local batch is the r-th contiguous slice of the global batch
    (:func:`local_slice`), so the gathered batch is the global batch in its original order.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return features, labels
    gathered = all_gather_with_grad(features)
    label_parts = [torch.empty_like(labels) for _ in range(dist.get_world_size())]
    dist.all_gather(label_parts, labels.contiguous())
    return gathered, torch.cat(label_parts, dim=0)


def local_slice(global_batch: torch.Tensor, context: DistributedContext) -> torch.Tensor:
    """This process's contiguous share of a global batch (equal shares; the trainer checks divisibility)."""
    size = global_batch.shape[0] // context.world_size
    return global_batch[context.rank * size:(context.rank + 1) * size]


def init_distributed(device: str = "cpu") -> DistributedContext:
    """Join the process group ``torchrun`` describes in the environment, if any.

    Without ``WORLD_SIZE`` (or with ``WORLD_SIZE=1``) nothing is initialised and a
    single-process context is returned. The backend is ``nccl`` for CUDA and ``gloo``
    for CPU.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext()
    if not dist.is_available():  # pragma: no cover - builds without distributed support
        raise fail("WORLD_SIZE", "init_distributed", "1 on a torch build without torch.distributed", world_size)
    check_choice(device, "device", "init_distributed", ("cpu", "cuda"))
    backend = "nccl" if device == "cuda" else "gloo"
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device == "cuda":
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistributedContext(rank, world_size, local_rank, backend)


def synchronise_batchnorm(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """BatchNorm layers replaced by ``SyncBatchNorm`` on CUDA (weights and running statistics kept).

    Under DDP a plain BatchNorm normalises each process's share of the batch with that
    share's own statistics, so P processes do not train like one process on the global
    batch; ``SyncBatchNorm`` computes the statistics over all processes. torch implements
    it for GPUs only: on CPU (gloo) the module is returned unchanged and BatchNorm stays
    per process (the MLP has none by default).
    """
    if device.type != "cuda":
        return module
    return torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)


def shutdown_distributed(context: DistributedContext) -> None:
    """Leave the process group (no-op for single-process runs).

    All processes meet at a barrier first: a process that tears down its connections
    while a peer is still inside a collective can make that peer's gloo transport
    abort the whole process.
    """
    if context.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for tests and single-node launches; binds to loopback only)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
