"""Building and initialising networks without touching torch's global RNG.

Modules are constructed on the ``meta`` device (no memory, no random draws),
moved to the target device uninitialised, then initialised from an explicit
:class:`torch.Generator`. The global RNG state is left exactly as it was.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import torch
from torch import nn

M = TypeVar("M", bound=nn.Module)


@torch.no_grad()
def init_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """(Re)initialise every parameter of ``module`` from ``generator`` (torch's default schemes)."""
    for sub in module.modules():
        if isinstance(sub, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)) and sub.weight.numel():
            nn.init.kaiming_uniform_(sub.weight, a=math.sqrt(5), generator=generator)
            if sub.bias is not None:
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(sub.weight)
                bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                nn.init.uniform_(sub.bias, -bound, bound, generator=generator)
        elif isinstance(sub, (nn.BatchNorm1d, nn.BatchNorm2d)):
            sub.reset_running_stats()
            if sub.affine:
                nn.init.ones_(sub.weight)
                nn.init.zeros_(sub.bias)
        elif isinstance(sub, (nn.LayerNorm, nn.GroupNorm)):
            if sub.weight is not None:
                nn.init.ones_(sub.weight)
            if sub.bias is not None:
                nn.init.zeros_(sub.bias)
        elif isinstance(sub, nn.Embedding):
            nn.init.normal_(sub.weight, generator=generator)
    for sub in module.modules():
        post_init = getattr(sub, "post_init", None)
        if callable(post_init):  # buffers and special initialisations a module sets itself
            post_init()
        if hasattr(sub, "generator") and isinstance(sub.generator, (torch.Generator, type(None))):
            sub.generator = generator


def build(factory: Callable[[], M], device: torch.device, generator: torch.Generator) -> M:
    """Construct ``factory()`` on the meta device, materialise it on ``device`` and seed-initialise it."""
    with torch.device("meta"):
        module = factory()
    module = module.to_empty(device=device)
    init_parameters(module, generator)
    return module
