"""Synchronous data-parallel training across processes (``torch.distributed``, as DDP does it).

Started by ``torchrun`` (or ``synthaug synthesize --nproc N``, which calls it), every process runs
the same fit inside :func:`process_group`. The likelihood models then train data-parallel:

* every process fits the same transformer and builds the same networks from rank 0's seed
  (broadcast, so ``random_state=None`` works too; rank 0's parameters are broadcast to make sure);
  each epoch the rows are put in one order shared by the processes and each takes an equal share
  of it (``order[rank::world]``, cut to ``n // world`` rows so every process takes the same number
  of steps; at most ``world - 1`` rows sit out an epoch);
* ``batch_size`` stays the global batch: each process takes ``ceil(batch_size / world)`` rows
  per step, and the gradients of the batch means are averaged over the processes with one
  ``all_reduce`` before clipping and the optimiser step, so every process applies the same update
  and the trajectory is that of one process with the global batch;
* the random draws inside the losses (noise, conditions) are decorrelated per process.

This is the DDP algorithm written on ``all_reduce`` rather than the ``DistributedDataParallel``
wrapper: our losses call model methods (``log_prob``, ``denoise``) that the wrapper's forward
hooks do not see. Gloo serves CPU processes, NCCL GPUs. Under DP the fit is refused (Opacus's
distributed DP-SGD would need its own accounting of the per-process Poisson batches); callbacks
are refused too (an early stop decided by one process would leave the others waiting).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from ..exceptions import ParameterError, PrivacyError
from .runner import PlainStep, batch_mean


def world() -> tuple[int, int]:
    """``(rank, world_size)`` of this process: ``(0, 1)`` outside a process group."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def launched_by_torchrun() -> bool:
    """Whether this process was started by ``torchrun`` (its environment names a world size)."""
    return "WORLD_SIZE" in os.environ and "RANK" in os.environ


@contextmanager
def process_group() -> Iterator[tuple[int, int]]:
    """Join the process group described by torchrun's environment for the block (gloo on CPU,
    NCCL where CUDA is present); yields ``(rank, world_size)``. Outside torchrun: ``(0, 1)``."""
    import torch.distributed as dist

    if not launched_by_torchrun() or dist.is_initialized():
        yield world()
        return
    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    try:
        yield world()
        dist.barrier()  # leave together: a peer closing its connections first aborts gloo's reader threads
    finally:
        dist.destroy_process_group()


def check_data_parallel(model: str, *, supported: bool, private: bool, callbacks: Sequence[object]) -> None:
    """Refuse, inside a process group of several processes, what cannot train data-parallel."""
    if world()[1] == 1:
        return
    if private:
        raise PrivacyError(
            "a DP fit cannot train across processes: the privacy accounting assumes one Poisson-sampled batch per "
            "step; fit with dp in a single process"
        )
    if not supported:
        raise ParameterError(f"{model} does not train across processes; the likelihood models (flow, tvae, diffusion, "
                             "autoregressive) do")  # fmt: skip
    if callbacks:
        raise ParameterError(
            "callbacks cannot be used when training across processes (an early stop on one would stall the others)"
        )


def shared_random_state(rng: np.random.RandomState) -> np.random.RandomState:
    """``rng`` outside a process group; inside, a stream seeded from rank 0's draw on every process,
    so that everything before training (transformer, networks) is the same everywhere even
    with ``random_state=None``."""
    import torch.distributed as dist

    if world()[1] == 1:
        return rng
    seed = torch.tensor([int(rng.randint(np.iinfo(np.int32).max))], dtype=torch.int64)
    dist.broadcast(seed, src=0)
    return np.random.RandomState(int(seed))


def shard(rows: torch.Tensor) -> torch.Tensor:
    """This process's equal share of ``rows``: ``rows[rank::world]`` cut to ``len(rows) // world``."""
    rank, size = world()
    share = rows.shape[0] // size
    if share == 0:
        raise ParameterError(f"{rows.shape[0]} training row(s) cannot be shared among {size} processes")
    return rows[rank::size][:share]


def local_batch_size(batch_size: int) -> int:
    """Rows per step in this process, for a global ``batch_size``."""
    return -(-batch_size // world()[1])


def synchronise_start(modules: Sequence[nn.Module], generator: torch.Generator) -> torch.Generator:
    """Rank 0's parameters on every process and a different random stream on each (``generator``
    reseeded in place); returns a generator equal on every process, for the shared row order."""
    import torch.distributed as dist

    rank, _ = world()
    for module in modules:
        for tensor in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(tensor.data, src=0)
    base = int(torch.randint(2**62, (1,), generator=generator, device=generator.device))  # equal on every process
    shared = torch.Generator(device=generator.device)
    shared.manual_seed(base)
    generator.manual_seed(base + 1 + rank)
    return shared


class ShardedBatches:
    """Each epoch one order of all ``rows`` drawn from a ``shared`` generator (equal on every
    process), of which this process takes ``order[rank::world]`` cut to ``n // world`` rows, in
    batches of ``batch_size``: a fresh split of the rows among the processes every epoch, as
    PyTorch's ``DistributedSampler`` with ``set_epoch`` gives."""

    def __init__(self, rows: torch.Tensor, batch_size: int, shared: torch.Generator) -> None:
        self.rows, self.batch_size, self.shared = rows, batch_size, shared

    def epoch_batches(self) -> Iterator[torch.Tensor]:
        order = self.rows[torch.randperm(self.rows.shape[0], generator=self.shared, device=self.rows.device)]
        mine = shard(order)
        for start in range(0, mine.shape[0], self.batch_size):
            yield mine[start : start + self.batch_size]


class AllReducedStep(PlainStep):
    """:class:`~synthaug.training.runner.PlainStep` whose gradients are averaged over the processes
    before clipping and the update."""

    def backward_and_step(self, per_row: torch.Tensor) -> None:
        import torch.distributed as dist

        self.optimizer.zero_grad(set_to_none=False)
        batch_mean(per_row).backward()
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= world()[1]
        offset = 0
        for p in self.params:
            n = p.numel()
            p.grad = flat[offset : offset + n].view_as(p).clone()
            offset += n
        if self.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(self.params, self.max_grad_norm)
        self.optimizer.step()


__all__ = [
    "AllReducedStep",
    "check_data_parallel",
    "launched_by_torchrun",
    "local_batch_size",
    "process_group",
    "ShardedBatches",
    "shard",
    "shared_random_state",
    "synchronise_start",
    "world",
]
