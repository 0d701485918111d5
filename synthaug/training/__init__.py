"""Training: the one runner, its callbacks, each model family's step or per-row losses, the conditional sampler."""

from .adversarial import ConditionHead, GANSettings, gradient_penalty, logistic_critic_losses, private_gan_step, wgan_step
from .callbacks import Callback, Checkpoint, EarlyStopping, LogMetrics, StopTraining, TimeLimit
from .conditional import ConditionSampler
from .likelihood import flow_losses, vae_loss, vae_losses
from .optim import make_adam
from .runner import FixedSteps, PlainStep, ShuffledBatches, TrainingRunner, likelihood_step

__all__ = [
    "Callback",
    "Checkpoint",
    "ConditionHead",
    "ConditionSampler",
    "EarlyStopping",
    "FixedSteps",
    "GANSettings",
    "LogMetrics",
    "PlainStep",
    "ShuffledBatches",
    "StopTraining",
    "TimeLimit",
    "TrainingRunner",
    "flow_losses",
    "gradient_penalty",
    "likelihood_step",
    "logistic_critic_losses",
    "make_adam",
    "private_gan_step",
    "vae_loss",
    "vae_losses",
    "wgan_step",
]
