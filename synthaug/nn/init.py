"""Building and initialising networks without touching torch's global RNG.

Modules are constructed on the ``meta`` device (no memory, no random draws) and
materialised uninitialised on the target device. Every submodule is then initialised
by torch's own ``reset_parameters()`` (and ``reset_running_stats()``), run inside
:func:`torch.random.fork_rng` with a seed drawn from an explicit
:class:`torch.Generator`: the result depends on that generator only, and the global
RNG state is left exactly as it was. A submodule that owns parameters but has no
``reset_parameters`` is an error, so no parameter keeps uninitialised memory.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TypeVar

import torch
from torch import nn

M = TypeVar("M", bound=nn.Module)


def _check_covered(module: nn.Module) -> None:
    """Raise if a submodule owns parameters that no ``reset_parameters`` initialises."""
    for name, sub in module.named_modules():
        own = [p for p, _ in sub.named_parameters(recurse=False)]
        if own and not callable(getattr(sub, "reset_parameters", None)):
            where = name or type(module).__name__
            raise TypeError(
                f"cannot initialise {type(sub).__name__} at {where!r}: it owns parameter(s) {own} but has no "
                "reset_parameters(); define one (or hold the parameters in layers that have it)"
            )


def _fork_devices(module: nn.Module) -> list[int]:
    """CUDA devices whose RNG the initialisation may touch (forked so that they are restored)."""
    tensors = [*module.parameters(), *module.buffers()]
    if not torch.cuda.is_available() or not any(t.is_cuda for t in tensors):
        return []
    return list(range(torch.cuda.device_count()))


def _reset(module: nn.Module) -> None:
    """Call every submodule's reset hooks, innermost first (an outer reset has the last word)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Initializing zero-element tensors is a no-op")  # e.g. Linear(0, k)
        for sub in reversed(list(module.modules())):
            for hook in ("reset_parameters", "reset_running_stats"):
                method = getattr(sub, hook, None)
                if callable(method):
                    method()


def _attach(module: nn.Module, generator: torch.Generator) -> None:
    """Run each submodule's ``post_init`` and hand the generator to those that draw at run time."""
    for sub in module.modules():
        post_init = getattr(sub, "post_init", None)
        if callable(post_init):  # buffers and special initialisations a module sets itself
            post_init()
        if hasattr(sub, "generator") and isinstance(sub.generator, (torch.Generator, type(None))):
            sub.generator = generator


@torch.no_grad()
def init_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """(Re)initialise every parameter and running statistic of ``module``, seeded from ``generator``."""
    _check_covered(module)
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device).item())
    devices = _fork_devices(module)
    with torch.random.fork_rng(devices=devices):
        # seed exactly the default generators that fork_rng restores (torch.manual_seed would
        # also reseed every CUDA device, forked or not)
        torch.random.default_generator.manual_seed(seed)
        for index in devices:
            torch.cuda.default_generators[index].manual_seed(seed)
        _reset(module)
    _attach(module, generator)


def build(factory: Callable[[], M], device: torch.device, generator: torch.Generator) -> M:
    """Construct ``factory()`` on the meta device, materialise it on ``device`` and seed-initialise it."""
    with torch.device("meta"):
        module = factory()
    module = module.to_empty(device=device)
    init_parameters(module, generator)
    return module
