"""DP-SGD through Opacus: Poisson-sampled batches of row indices and a private optimiser.

:class:`PrivateTraining` wraps the modules that read real rows with Opacus's
``PrivacyEngine.make_private`` (hooks on the original modules, flat clipping over all of
their parameters together), draws every batch by Poisson sampling (Opacus's
``DPDataLoader``), and calibrates the noise for exactly the steps the loop will take,
composed with whatever the preprocessing already spent.

Clipping uses Opacus's ghost clipping (``grad_sample_mode="ghost"``): each row's gradient
norm is computed from the layer inputs and output gradients without materialising
per-row gradients, then a second backward of the norm-weighted per-row losses gives the
clipped sum. This is exactly per-row clipping (same sum, same sensitivity) at a fraction of
the memory traffic: on a 2-core CPU, materialised per-row gradients made a TVAE step about
15-60x slower than without DP; ghost clipping keeps it near 2-3x.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
from opacus import PrivacyEngine
from opacus.utils.fast_gradient_clipping_utils import DPTensorFastGradientClipping
from opacus.validators import ModuleValidator
from torch import nn
from torch.utils.data import DataLoader, Dataset

from .accounting import History, calibrate_noise, epsilon_of
from .config import DPConfig

_HOOK_WARNING = "Full backward hook is firing when gradients are computed with respect to module outputs"


class _RowIndices(Dataset):
    """The dataset of row numbers ``0..n-1``; batches are index tensors (the rows stay on the device)."""

    def __init__(self, n_rows: int) -> None:
        self.n_rows = n_rows

    def __len__(self) -> int:
        return self.n_rows

    def __getitem__(self, index: int) -> tuple[torch.Tensor]:
        return (torch.tensor(index, dtype=torch.long),)

    def __getitems__(self, indices: list[int]) -> list[int]:
        return indices


def _collate(indices: list[int]) -> tuple[torch.Tensor]:
    return (torch.as_tensor(indices, dtype=torch.long),)


def check_private_modules(modules: Sequence[nn.Module]) -> None:
    """Raise when a module cannot be trained with DP-SGD (e.g. BatchNorm mixes rows)."""
    for module in modules:
        errors = ModuleValidator.validate(module, strict=False)
        if errors:
            raise ValueError(f"{type(module).__name__} cannot be trained with differential privacy: {errors}")


class PrivateTraining:
    """DP-SGD set-up for one training loop.

    Args:
        modules: the networks that read real rows (their parameters are privatised together).
        make_optimizer: builds the (non-private) optimiser from a parameter list.
        n_rows: private training rows.
        batch_size: expected rows per step (the sampling rate is ``1 / ceil(n / batch_size)``).
        epochs: passes; the loop takes ``epochs * ceil(n / batch_size)`` private steps.
        config: the user's budget; ``delta`` the accountant's share of delta.
        prior: accountant history already spent (the private preprocessing).
        generator: source of the sampling and the noise (reproducible; not a CSPRNG).
        noise_multiplier: use this noise instead of calibrating it to ``config.epsilon``
            (the ledger then reports whatever epsilon the accountant finds, possibly infinite).
    """

    def __init__(
        self,
        modules: Sequence[nn.Module],
        make_optimizer: Callable[[list[nn.Parameter]], torch.optim.Optimizer],
        *,
        n_rows: int,
        batch_size: int,
        epochs: int,
        config: DPConfig,
        delta: float,
        prior: History,
        generator: torch.Generator,
        noise_multiplier: float | None = None,
    ) -> None:
        check_private_modules(modules)
        self.config, self.delta, self.prior = config, delta, list(prior)
        self.n_rows = n_rows
        self.steps_per_epoch = math.ceil(n_rows / min(batch_size, n_rows))
        self.sample_rate = 1.0 / self.steps_per_epoch
        self.steps = int(epochs) * self.steps_per_epoch
        if noise_multiplier is None:
            noise_multiplier, _ = calibrate_noise(
                config.epsilon, delta, self.sample_rate, self.steps, config.accountant, self.prior
            )
        self.noise_multiplier = float(noise_multiplier)
        self.container = nn.ModuleList(modules)
        loader = DataLoader(_RowIndices(n_rows), batch_size=min(batch_size, n_rows), generator=generator, collate_fn=_collate)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Opacus notes on secure_mode / a seeded noise generator
            self.engine = PrivacyEngine(accountant=config.accountant)
            self.hooks, self.optimizer, _, self.loader = self.engine.make_private(
                module=self.container,
                optimizer=make_optimizer(list(self.container.parameters())),
                criterion=nn.MSELoss(),  # unused: the loops hand over their per-row losses directly
                data_loader=loader,
                noise_multiplier=self.noise_multiplier,
                max_grad_norm=config.max_grad_norm,
                poisson_sampling=True,
                noise_generator=generator,
                grad_sample_mode="ghost",
                wrap_model=False,
            )
        self.expected_batch_size = int(self.optimizer.expected_batch_size)

    def epoch_batches(self) -> Iterator[torch.Tensor]:
        """Row indices of each Poisson-sampled batch of one epoch (sizes vary; may be empty)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_HOOK_WARNING)
            for (rows,) in self.loader:
                yield rows

    def backward_and_step(self, per_row: torch.Tensor) -> None:
        """One private optimiser step from the per-row losses of a batch: each row's gradient
        clipped to ``max_grad_norm``, summed, Gaussian noise added, divided by the expected
        batch size. An empty batch still takes its (noise-only) step."""
        self.optimizer.zero_grad(set_to_none=True)
        if per_row.shape[0] == 0:
            for p in self.container.parameters():
                p.grad = torch.zeros_like(p)
        else:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_HOOK_WARNING)
                DPTensorFastGradientClipping(self.hooks, self.optimizer, per_row, "mean").backward()
        self.optimizer.step()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Run non-private passes through the private modules (e.g. the synthesis net's step
        through the critic) without Opacus's per-row hooks."""
        self.hooks.disable_hooks()
        try:
            yield
        finally:
            self.hooks.enable_hooks()

    @property
    def steps_taken(self) -> int:
        return int(sum(k for _, _, k in self.engine.accountant.history))

    def history(self) -> History:
        """The whole accountant history: the preprocessing, then the steps actually taken."""
        return [*self.prior, *[(float(s), float(q), int(k)) for s, q, k in self.engine.accountant.history]]

    def spent_epsilon(self) -> float:
        return epsilon_of(self.history(), self.delta, self.config.accountant)

    def close(self) -> None:
        """Remove Opacus's hooks so the fitted modules are plain modules again."""
        self.hooks.cleanup()
        for p in self.container.parameters():
            for attr in ("grad_sample", "_forward_counter", "summed_grad"):
                if hasattr(p, attr):
                    delattr(p, attr)
