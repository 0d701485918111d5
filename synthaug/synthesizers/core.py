"""The one skeleton every synthesizer (table or image) stands on.

:class:`SynthesizerCore` holds what is shared: parameter validation, the fit frame (random
state, device, DP config, the sampling stream), training through the one
:class:`~synthaug.training.runner.TrainingRunner` (plain or DP-SGD, with callbacks), the
privacy ledger of a DP fit or the no-guarantee ledger, persistence of the shared state and
pickling of the sampling generator. The table and image bases add their data handling.

Data path of a fit::

    fit(X, y) -> base: validate params, check input, schema / scaler (private statistics under DP)
              -> model: build networks, give its step (or per-row losses) to the runner
              -> runner: epochs x batches (shuffled, or Poisson + DP-SGD), callbacks, history
              -> core: ledger, sampling generator
"""

from __future__ import annotations

import numbers
from abc import ABCMeta
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from torch import nn

from ..exceptions import ParameterError
from ..privacy.config import DPConfig, check_dp
from ..privacy.ledger import NO_GUARANTEE
from ..training.callbacks import validation_fraction
from ..training.data_parallel import (
    AllReducedStep,
    ShardedBatches,
    check_data_parallel,
    local_batch_size,
    shared_random_state,
    synchronise_start,
    world,
)
from ..training.optim import make_adam
from ..training.runner import (
    Batches,
    PlainStep,
    ShuffledBatches,
    Step,
    TrainingRunner,
    likelihood_step,
)
from .params import POSITIVE_INT, check_params, declare_parameters, param

if TYPE_CHECKING:
    from ..privacy.plan import PrivateFit
    from ..privacy.training import PrivateTraining


Losses = Callable[[torch.Tensor], dict[str, torch.Tensor]]


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` means CUDA when available, else CPU."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ParameterError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(
            f"device {device!r} asked for, but CUDA is not available (a model saved on a GPU loads here with "
            "synthaug.load(path, device='cpu'))"
        )
    return resolved


def generator_from_state(state: torch.Tensor, device: torch.device) -> torch.Generator:
    """A generator on ``device`` continuing from a saved state. A state saved on another kind of
    device (CUDA's Philox seed and offset on a CPU, or the reverse) cannot be set: the new
    generator is then seeded from the state's bytes, so loading stays deterministic."""
    generator = torch.Generator(device=device)
    try:
        generator.set_state(state)
    except RuntimeError:
        seed = int.from_bytes(bytes(state.to(torch.uint8).flatten()[:8].tolist()), "little") & (2**63 - 1)
        generator.manual_seed(seed)
    return generator


def check_n_samples(n_samples: Any, name: str = "n_samples") -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples <= 0:
        raise ParameterError(f"{name} must be a positive integer, got {n_samples!r}")
    return int(n_samples)


def torch_generator(seed: int, device: torch.device) -> torch.Generator:
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen


def draw_seed(rng: np.random.RandomState) -> int:
    return int(rng.randint(np.iinfo(np.int32).max))


def block_seed(seed: int, block: int) -> int:
    """The seed of block ``block`` of a block-seeded stream: depends on ``(seed, block)`` only."""
    return int(np.random.SeedSequence(int(seed), spawn_key=(int(block),)).generate_state(1)[0])


class GeneratorPickling:
    """Pickling (``copy.deepcopy``, joblib) of an estimator holding a ``torch.Generator`` in
    ``_sampling_generator_``: the generator travels as its state tensor."""

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if "_sampling_generator_" in state:
            state["_sampling_generator_"] = state["_sampling_generator_"].get_state()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        generator_state = state.get("_sampling_generator_")
        self.__dict__.update(state)
        if isinstance(generator_state, torch.Tensor):
            self._sampling_generator_ = generator_from_state(generator_state, self.device_)


@declare_parameters
class SynthesizerCore(GeneratorPickling, BaseEstimator, metaclass=ABCMeta):
    """Shared skeleton of all synthesizers (see module docstring).

    Every subclass is made a keyword-only dataclass of its parameters
    (:func:`~synthaug.synthesizers.params.declare_parameters`): it declares each parameter it
    adds, or whose default it changes, as ``name: type = param(default, *constraints)``, and may
    add cross-parameter checks in ``_check_model_params``. The parameters below are the ones
    the skeleton reads.
    """

    model_name: ClassVar[str] = ""
    network_attributes: ClassVar[tuple[str, ...]] = ()
    _parameter_constraints: ClassVar[dict[str, list[Any]]]

    dp: Any = param(None, None, DPConfig, Mapping)
    device: str | torch.device = param("auto", str, torch.device)
    verbose: bool = param(False, "boolean")
    random_state: int | np.random.RandomState | None = param(None, "random_state")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declare_parameters(cls)

    # ------------------------------------------------------------------ parameters
    def _check_params(self) -> None:
        check_params(self)
        self._check_model_params()

    def _check_model_params(self) -> None:
        """Checks that relate several parameters (override when a model has any)."""

    def _begin_fit(self) -> tuple[np.random.RandomState, Any]:
        """Validate the parameters; set the device; return the fit's RNG and DP config."""
        self._check_params()
        self.device_ = resolve_device(self.device)
        return check_random_state(self.random_state), check_dp(self.dp)

    def _end_fit(self, rng: np.random.RandomState, ledger: dict[str, Any] | None) -> None:
        self.privacy_spent_ = dict(NO_GUARANTEE) if ledger is None else ledger
        self._sampling_generator_ = torch_generator(draw_seed(rng), self.device_)

    def _sampling_generator(self, random_state: Any) -> torch.Generator:
        """The stream for one ``sample`` call: the fitted one, or a fresh one from ``random_state``."""
        if random_state is None:
            return self._sampling_generator_
        return torch_generator(draw_seed(check_random_state(random_state)), self.device_)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str, *, overwrite: bool = False) -> str:
        """Save weights and JSON metadata to ``path`` (written atomically); returns the path.
        An existing file is an error unless ``overwrite=True``.

        Training callbacks are not part of the model: the file stores ``callbacks=None``.
        """
        from ..persistence import save_model

        params = self.get_params(deep=False)
        if "callbacks" in params:
            params["callbacks"] = None
        return save_model(self, path, params, overwrite=overwrite)

    def _network_tensors(self) -> dict[str, torch.Tensor]:
        return {
            f"{attr}.{key}": value.cpu()
            for attr in self.network_attributes
            for key, value in getattr(self, attr).state_dict().items()
        }

    def _load_network_tensors(self, tensors: Mapping[str, torch.Tensor]) -> None:
        from ..exceptions import ModelFileError

        for attr in self.network_attributes:
            prefix = f"{attr}."
            weights = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            try:
                getattr(self, attr).load_state_dict(weights)
            except RuntimeError as exc:
                raise ModelFileError(f"model weights do not match the saved settings: {exc}") from exc
            getattr(self, attr).to(self.device_).eval()

    def _core_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        state = {"privacy_spent": self.privacy_spent_, "history": list(self.history_)}
        return state, {"sampling_generator_state": self._sampling_generator_.get_state()}

    def _restore_core_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> None:
        self.device_ = resolve_device(self.device)
        self.privacy_spent_ = dict(state["privacy_spent"])
        self.history_ = list(state.get("history", []))
        self._sampling_generator_ = generator_from_state(tensors["sampling_generator_state"], self.device_)


class NetworkTraining(SynthesizerCore):
    """The parameters and helpers of a synthesizer that trains networks: epochs, batch size,
    callbacks, and training through the one runner (plain or DP-SGD). A model without networks
    (the marginal model) stands on :class:`SynthesizerCore` alone and takes none of them."""

    #: whether the model trains data-parallel inside a torch.distributed process group
    #: (:mod:`synthaug.training.data_parallel`; the models trained through ``_train_likelihood``)
    data_parallel: ClassVar[bool] = False

    epochs: int = param(300, POSITIVE_INT)
    batch_size: int = param(500, POSITIVE_INT)
    callbacks: Sequence[Any] | None = param(None, None, list, tuple)

    def _begin_fit(self) -> tuple[np.random.RandomState, Any]:
        rng, dp = super()._begin_fit()
        check_data_parallel(
            type(self).__name__, supported=self.data_parallel, private=dp is not None, callbacks=self.callbacks or ()
        )
        return shared_random_state(rng), dp  # the same stream on every process of a group

    # ------------------------------------------------------------------ training
    def _runner(
        self,
        step: Step,
        batches: Batches,
        modules: Sequence[nn.Module],
        *,
        desc: str,
        private: PrivateTraining | None = None,
        validate: Callable[[], dict[str, torch.Tensor]] | None = None,
        epochs: int | None = None,
    ) -> list[dict[str, Any]]:
        """Run the training runner with this estimator's epochs, verbosity and callbacks."""
        runner = TrainingRunner(
            step,
            batches,
            epochs=self.epochs if epochs is None else epochs,
            desc=desc,
            verbose=bool(self.verbose),
            callbacks=list(self.callbacks or ()),
            private=private,
            modules=modules,
            validate=validate,
            device=self.device_,
        )
        return runner.run()

    def _private_trainer(
        self, plan: PrivateFit, modules: Sequence[nn.Module], *, epochs: int | None = None, **adam: Any
    ) -> PrivateTraining:
        """DP-SGD for ``modules`` (Adam with ``adam`` settings), for this fit's planned steps."""
        return plan.trainer(
            list(modules),
            lambda params: make_adam(params, **adam),
            batch_size=self.batch_size,
            epochs=self.epochs if epochs is None else epochs,
        )

    def _held_out_rows(self, n_rows: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Training rows and (when a callback asks for validation) held-out rows."""
        share = validation_fraction(self.callbacks)
        rows = torch.arange(n_rows, device=self.device_)
        if share == 0.0:
            return rows, None
        n_val = int(round(share * n_rows))
        if not 0 < n_val < n_rows:
            raise ParameterError(f"validation_fraction={share} leaves no training or no validation rows of {n_rows}")
        order = rows[torch.randperm(n_rows, generator=generator, device=self.device_)]
        return order[n_val:], order[:n_val]

    def _train_likelihood(
        self,
        losses: Losses,
        modules: Sequence[nn.Module],
        n_rows: int,
        generator: torch.Generator,
        plan: PrivateFit | None,
        *,
        desc: str,
        log_loss_as: str | None = "loss",
        max_grad_norm: float | None = None,
        after_step: Callable[[], None] | None = None,
        batches: Batches | None = None,
        **adam: Any,
    ) -> tuple[list[dict[str, Any]], Any]:
        """Minimise the per-row ``losses(rows)["loss"]`` over ``modules``; returns the history and
        the private trainer (None without DP). Validation losses feed early stopping (non-DP).
        ``after_step`` runs after every optimiser step (e.g. to average the weights). ``batches``
        replaces the shuffled batches over ``n_rows`` rows (a streamed fit's chunks; non-DP, no
        validation rows)."""
        if plan is not None:
            trainer = self._private_trainer(plan, modules, **adam)
            step = likelihood_step(losses, trainer, log_loss_as, after_step)
            return self._runner(step, trainer, modules, desc=desc, private=trainer), trainer
        optimizer = make_adam([p for m in modules for p in m.parameters()], **adam)
        validate, stepper = None, PlainStep(optimizer, max_grad_norm)
        if batches is None:
            train_rows, held_out = self._held_out_rows(n_rows, generator)
            validate = None if held_out is None else (lambda: {"loss": losses(held_out)["loss"]})
            batches = ShuffledBatches(train_rows, self.batch_size, generator)
            if world()[1] > 1:  # this process's share of each epoch, its part of each global batch, averaged gradients
                shared = synchronise_start(modules, generator)
                batches = ShardedBatches(train_rows, local_batch_size(self.batch_size), shared)
                stepper = AllReducedStep(optimizer, max_grad_norm)
        step = likelihood_step(losses, stepper, log_loss_as, after_step)
        return self._runner(step, batches, modules, desc=desc, validate=validate), None

    @staticmethod
    def _close_private(plan: PrivateFit | None, trainer: PrivateTraining | None, names: list[str]) -> dict[str, Any] | None:
        """Remove Opacus's hooks and return the ledger of a DP fit (None without DP)."""
        if trainer is None:
            return None
        trainer.close()
        return plan.ledger(trainer, names)


__all__ = [
    "GeneratorPickling",
    "NetworkTraining",
    "SynthesizerCore",
    "check_n_samples",
    "draw_seed",
    "resolve_device",
    "torch_generator",
]
