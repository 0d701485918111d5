"""The one training runner: epochs of batches (shuffled, or Poisson-sampled under DP), a
progress bar, per-epoch loss means, and callbacks. Each model supplies only its step.

A *step* takes one batch (a tensor of row indices, or ``None`` for models that draw their own
rows) and returns the losses to log as tensors: a per-row tensor is averaged over rows, a
scalar over steps, each key over the steps that reported it.

Under DP (``private`` given) the runner enforces what the privacy ledger assumes: the batches
are the private trainer's Poisson batches, every planned private step is taken (no early
stop), callbacks that read private rows are refused, and callbacks see only the public part
of each epoch's record (epoch number and seconds: the losses are not privatised).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import torch
from torch import nn
from tqdm.auto import tqdm

from ..exceptions import PrivacyError
from ..privacy.ledger import public_history
from .callbacks import Callback, StopTraining

if TYPE_CHECKING:
    from ..privacy.training import PrivateTraining


Step = Callable[[Any], dict[str, torch.Tensor]]


class Batches(Protocol):
    """Anything that yields one epoch's batches."""

    def epoch_batches(self) -> Iterator[Any]: ...


class Stepper(Protocol):
    """Takes one optimiser step from a batch's per-row losses."""

    def backward_and_step(self, per_row: torch.Tensor) -> None: ...


class ShuffledBatches:
    """Non-private batching: every row of ``rows`` once per epoch, in a fresh random order."""

    def __init__(self, rows: torch.Tensor, batch_size: int, generator: torch.Generator) -> None:
        self.rows, self.batch_size, self.generator = rows, batch_size, generator

    def epoch_batches(self) -> Iterator[torch.Tensor]:
        order = self.rows[torch.randperm(self.rows.shape[0], generator=self.generator, device=self.rows.device)]
        for start in range(0, order.shape[0], self.batch_size):
            yield order[start : start + self.batch_size]


class FixedSteps:
    """``steps`` batches of ``None`` per epoch, for steps that draw their own rows."""

    def __init__(self, steps: int) -> None:
        self.steps = steps

    def epoch_batches(self) -> Iterator[None]:
        return iter([None] * self.steps)


class PlainStep:
    """Non-private optimiser step on the batch mean, optionally with gradient-norm clipping."""

    def __init__(self, optimizer: torch.optim.Optimizer, max_grad_norm: float | None = None) -> None:
        self.optimizer, self.max_grad_norm = optimizer, max_grad_norm
        self.params = [p for group in optimizer.param_groups for p in group["params"]]

    def backward_and_step(self, per_row: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        batch_mean(per_row).backward()
        if self.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(self.params, self.max_grad_norm)
        self.optimizer.step()


def batch_mean(per_row: torch.Tensor) -> torch.Tensor:
    """Mean over a batch that may be empty."""
    return per_row.sum() / max(per_row.shape[0], 1)


def likelihood_step(
    losses: Callable[[torch.Tensor], dict[str, torch.Tensor]],
    stepper: Stepper,
    log_loss_as: str | None = "loss",
    after_step: Callable[[], None] | None = None,
) -> Step:
    """A step minimising ``losses(rows)["loss"]`` (one value per row) with ``stepper``; the other
    entries are logged as they are, ``"loss"`` under the name ``log_loss_as`` (not at all if None).
    ``after_step`` (if given) runs after each optimiser step."""

    def step(rows: torch.Tensor) -> dict[str, torch.Tensor]:
        values = dict(losses(rows))
        loss = values.pop("loss")
        stepper.backward_and_step(loss)
        if after_step is not None:
            after_step()
        return values if log_loss_as is None else {log_loss_as: loss, **values}

    return step


class _EpochMeans:
    """Sums of detached losses and their counts over one epoch."""

    def __init__(self) -> None:
        self.totals: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, values: dict[str, torch.Tensor]) -> None:
        for key, value in values.items():
            value = value.detach()
            self.totals[key] = self.totals[key] + value.sum() if key in self.totals else value.sum()
            self.counts[key] = self.counts.get(key, 0) + value.numel()

    def means(self) -> dict[str, float]:
        return {key: float(total) / max(self.counts[key], 1) for key, total in self.totals.items()}


class TrainingRunner:
    """Runs ``step`` over ``batches`` for ``epochs`` epochs; returns one record per epoch.

    Args:
        step: the model's step (see module docstring).
        batches: the epoch's batches; under DP it must be ``private``.
        epochs: passes.
        desc: progress-bar label (`` (DP)`` is appended under DP).
        verbose: show the progress bar with the losses.
        callbacks: :class:`~synthaug.training.callbacks.Callback` instances.
        private: the :class:`~synthaug.privacy.training.PrivateTraining` of a DP fit, or None.
        modules: the networks trained (put in training mode first, handed to callbacks).
        validate: per-row validation losses of the held-out rows (non-DP early stopping).
        show: record keys for the progress bar (default: every loss).
        device: where index batches are moved before the step (Poisson batches are drawn on the CPU).
    """

    def __init__(
        self,
        step: Step,
        batches: Batches,
        *,
        epochs: int,
        desc: str,
        verbose: bool = False,
        callbacks: Sequence[Callback] = (),
        private: PrivateTraining | None = None,
        modules: Sequence[nn.Module] = (),
        validate: Callable[[], dict[str, torch.Tensor]] | None = None,
        show: Iterable[str] | None = None,
        device: torch.device | None = None,
    ) -> None:
        self.step, self.batches, self.epochs = step, batches, epochs
        self.desc, self.verbose, self.callbacks = desc, verbose, list(callbacks)
        self.private, self.modules, self.validate, self.show = private, list(modules), validate, show
        self.device = device
        self._check_private()

    def _check_private(self) -> None:
        if self.private is None:
            return
        reading = [type(c).__name__ for c in self.callbacks if c.reads_private_rows]
        if reading:
            raise PrivacyError(f"{reading} read the private rows during training; they cannot be used with dp")
        if self.batches is not self.private and not isinstance(self.batches, _PrivatePasses):
            raise PrivacyError("a DP fit must train on the private trainer's Poisson batches")

    def run(self) -> list[dict[str, Any]]:
        for module in self.modules:
            module.train()
        history: list[dict[str, Any]] = []
        desc = self.desc + (" (DP)" if self.private is not None else "")
        bar = tqdm(range(self.epochs), desc=desc, unit="epoch", disable=not self.verbose, leave=False)
        for callback in self.callbacks:
            callback.on_train_begin(self.modules)
        try:
            for epoch in bar:
                record = self._epoch(epoch)
                history.append(record)
                if self.verbose:
                    bar.set_postfix({k: f"{v:.3f}" for k, v in record.items() if self._shown(k)})
                if self._notify(record):
                    break
        finally:
            bar.close()
        for callback in self.callbacks:
            callback.on_train_end(self.modules)
        self._check_steps_taken()
        return history

    def _epoch(self, epoch: int) -> dict[str, Any]:
        started = time.perf_counter()
        means = _EpochMeans()
        for batch in self.batches.epoch_batches():
            if isinstance(batch, torch.Tensor) and self.device is not None:
                batch = batch.to(self.device)
            means.add(self.step(batch))
        record: dict[str, Any] = {"epoch": epoch + 1, **means.means()}
        if self.validate is not None:
            with torch.no_grad():
                validation = _EpochMeans()
                validation.add(self.validate())
            record.update({f"validation_{k}": v for k, v in validation.means().items()})
            for module in self.modules:
                module.train()
        record["seconds"] = time.perf_counter() - started
        return record

    def _notify(self, record: dict[str, Any]) -> bool:
        """Hand the record to the callbacks (its public part under DP); True to stop."""
        seen = record if self.private is None else public_history([record])[0]
        stop = False
        for callback in self.callbacks:
            try:
                callback.on_epoch_end(seen, self.modules)
            except StopTraining:
                stop = True
        return stop

    def _shown(self, key: str) -> bool:
        if key in ("epoch", "seconds"):
            return False
        return self.show is None or key in self.show

    def _check_steps_taken(self) -> None:
        if self.private is None:
            return
        planned, taken = self.private.steps, self.private.steps_taken
        if taken != planned:
            raise PrivacyError(f"the DP fit took {taken} private steps where {planned} were planned and accounted")


class _PrivatePasses:
    """``passes`` epochs of a private trainer's Poisson batches as one runner epoch."""

    def __init__(self, private: PrivateTraining, passes: int) -> None:
        self.private, self.passes = private, passes

    def epoch_batches(self) -> Iterator[torch.Tensor]:
        for _ in range(self.passes):
            yield from self.private.epoch_batches()


def private_passes(private: PrivateTraining, passes: int) -> Batches:
    """Batches for a runner epoch that spans ``passes`` private epochs (e.g. several critic steps per update)."""
    return private if passes == 1 else _PrivatePasses(private, passes)


__all__ = [
    "Batches",
    "FixedSteps",
    "PlainStep",
    "ShuffledBatches",
    "Stepper",
    "TrainingRunner",
    "batch_mean",
    "likelihood_step",
    "private_passes",
]
