"""Exponential moving averages of a network's weights (torch's ``AveragedModel``) with a warm-up.

The decay used at update ``n`` is ``min(decay, (1 + n) / (10 + n))``: early updates average
little, so a short run is not pulled back towards the initial weights, while a long one gets
the full ``decay``. Averaging DP-SGD iterates is post-processing: it costs no privacy.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


def exponential_average(module: nn.Module, decay: float) -> AveragedModel:
    """An ``AveragedModel`` of ``module`` whose ``update_parameters(module)`` moves it by the warmed-up ``decay``."""

    def average(averaged: torch.Tensor, current: torch.Tensor, n_averaged: torch.Tensor) -> torch.Tensor:
        n = float(n_averaged)
        rate = min(decay, (1.0 + n) / (10.0 + n))
        return averaged + (current - averaged) * (1.0 - rate)

    return AveragedModel(module, avg_fn=average)


def copy_average_into(average: AveragedModel, module: nn.Module) -> None:
    """Overwrite ``module``'s parameters with the averaged ones."""
    with torch.no_grad():
        for target, source in zip(module.parameters(), average.module.parameters(), strict=True):
            target.copy_(source)


__all__ = ["copy_average_into", "exponential_average"]
