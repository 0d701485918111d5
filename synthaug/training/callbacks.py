"""Callbacks of the training runner: early stopping, metric logging, checkpoints.

Pass them to a synthesizer as ``callbacks=[...]``. Each sees the epoch's record (a dict of
``epoch``, the loss means and ``seconds``; under DP only ``epoch`` and ``seconds``) and the
networks being trained.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..atomic import atomic_path
from ..exceptions import DataFileError, ParameterError


class StopTraining(Exception):
    """Raised by a callback to end training after the current epoch."""


class Callback:
    """Base class: every hook does nothing.

    ``reads_private_rows`` marks callbacks that look at the training data beyond what DP-SGD
    privatises (the runner refuses them under DP).
    """

    reads_private_rows: bool = False

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_") and not k.endswith("_"))
        return f"{type(self).__name__}({settings})"

    def on_train_begin(self, modules: Sequence[nn.Module]) -> None:
        """Called once before the first epoch."""

    def on_epoch_end(self, record: dict[str, Any], modules: Sequence[nn.Module]) -> None:
        """Called after every epoch; raise :class:`StopTraining` to stop."""

    def on_train_end(self, modules: Sequence[nn.Module]) -> None:
        """Called once after the last epoch."""


class EarlyStopping(Callback):
    """Stop when the validation loss has not improved by ``min_delta`` for ``patience`` epochs.

    The synthesizer holds out ``validation_fraction`` of the training rows (drawn with its
    ``random_state``), trains on the rest and computes the validation loss after each epoch.
    With ``restore_best`` the networks end with the weights of the best epoch. Only for
    likelihood models (TVAE, flow, image VAE, image flow) and never under DP: the validation
    loss reads private rows outside DP-SGD.
    """

    reads_private_rows = True

    def __init__(
        self, *, patience: int = 10, min_delta: float = 0.0, validation_fraction: float = 0.1, restore_best: bool = True
    ) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ParameterError(f"EarlyStopping patience must be a positive integer, got {patience!r}")
        if not 0.0 < validation_fraction < 1.0:
            raise ParameterError(f"EarlyStopping validation_fraction must be in (0, 1), got {validation_fraction!r}")
        if not min_delta >= 0.0:
            raise ParameterError(f"EarlyStopping min_delta must be >= 0, got {min_delta!r}")
        self.patience, self.min_delta = patience, float(min_delta)
        self.validation_fraction, self.restore_best = float(validation_fraction), restore_best
        self.monitor = "validation_loss"

    def on_train_begin(self, modules: Sequence[nn.Module]) -> None:
        self.best_, self.best_epoch_, self.stopped_epoch_ = math.inf, 0, None
        self._best_state: list[dict[str, torch.Tensor]] | None = None

    def on_epoch_end(self, record: dict[str, Any], modules: Sequence[nn.Module]) -> None:
        value = record.get(self.monitor)
        if value is None:
            raise ParameterError(f"EarlyStopping monitors {self.monitor!r}, which this model does not report")
        if value < self.best_ - self.min_delta:
            self.best_, self.best_epoch_ = float(value), int(record["epoch"])
            if self.restore_best:
                self._best_state = [copy.deepcopy(m.state_dict()) for m in modules]
        elif record["epoch"] - self.best_epoch_ >= self.patience:
            self.stopped_epoch_ = int(record["epoch"])
            raise StopTraining

    def on_train_end(self, modules: Sequence[nn.Module]) -> None:
        if self.restore_best and self._best_state is not None:
            for module, state in zip(modules, self._best_state, strict=True):
                module.load_state_dict(state)
        self._best_state = None


class LogMetrics(Callback):
    """Hand each epoch's numbers to ``log(metrics, step=epoch)``.

    The signature is MLflow's: ``LogMetrics(mlflow.log_metrics)`` logs every epoch to the
    active run; any callable taking ``(dict, step=int)`` works (a list's append through a lambda,
    TensorBoard's writer, a logger).
    """

    def __init__(self, log: Callable[..., Any]) -> None:
        if not callable(log):
            raise ParameterError(f"LogMetrics needs a callable, got {type(log).__name__}")
        self.log = log

    def on_epoch_end(self, record: dict[str, Any], modules: Sequence[nn.Module]) -> None:
        metrics = {k: float(v) for k, v in record.items() if k != "epoch"}
        self.log(metrics, step=int(record["epoch"]))


class Checkpoint(Callback):
    """Write the networks' weights to ``folder/epoch_NNNN.pt`` every ``every`` epochs (and at the end).

    Files hold tensors only (``torch.load(path, weights_only=True)`` reads them): a list with
    one state dict per trained network, in the model's order. Each file is written atomically; a folder
    that already holds checkpoints is refused (nothing is overwritten).
    """

    def __init__(self, folder: str | Path, *, every: int = 10) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ParameterError(f"Checkpoint every must be a positive integer, got {every!r}")
        self.folder, self.every = Path(folder), every

    def on_train_begin(self, modules: Sequence[nn.Module]) -> None:
        existing = sorted(self.folder.glob("epoch_*.pt")) if self.folder.is_dir() else []
        if existing:
            raise DataFileError(
                f"checkpoint folder {str(self.folder)!r} already holds {existing[0].name} (and {len(existing) - 1} more); "
                "checkpoints never overwrite files: choose an empty or new folder"
            )
        self.written_: list[Path] = []
        self._last = 0

    def on_epoch_end(self, record: dict[str, Any], modules: Sequence[nn.Module]) -> None:
        self._last = int(record["epoch"])
        if self._last % self.every == 0:
            self._write(modules)

    def on_train_end(self, modules: Sequence[nn.Module]) -> None:
        if self._last and (not self.written_ or self.written_[-1].stem != f"epoch_{self._last:04d}"):
            self._write(modules)

    def _write(self, modules: Sequence[nn.Module]) -> None:
        path = self.folder / f"epoch_{self._last:04d}.pt"
        with atomic_path(path) as tmp:
            torch.save([{k: v.detach().cpu() for k, v in m.state_dict().items()} for m in modules], tmp)
        self.written_.append(path)


class TimeLimit(Callback):
    """Stop after the first epoch that ends ``seconds`` or more after training began.

    ``stopped_epoch_`` is the last epoch run when the limit stopped training (``None`` when
    every epoch ran). It reads no rows, so it is allowed under DP (a DP fit that stops early
    spends the budget of the steps it took).
    """

    def __init__(self, seconds: float) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
            raise ParameterError(f"TimeLimit seconds must be a positive number, got {seconds!r}")
        self.seconds = float(seconds)

    def on_train_begin(self, modules: Sequence[nn.Module]) -> None:
        self._start, self.stopped_epoch_ = time.perf_counter(), None

    def on_epoch_end(self, record: dict[str, Any], modules: Sequence[nn.Module]) -> None:
        if time.perf_counter() - self._start >= self.seconds:
            self.stopped_epoch_ = int(record["epoch"])
            raise StopTraining


def validation_fraction(callbacks: Sequence[Callback] | None) -> float:
    """The share of rows to hold out for the callbacks (0 when none asks)."""
    shares = [c.validation_fraction for c in callbacks or () if isinstance(c, EarlyStopping)]
    return max(shares, default=0.0)


__all__ = ["Callback", "Checkpoint", "EarlyStopping", "LogMetrics", "StopTraining", "TimeLimit", "validation_fraction"]
