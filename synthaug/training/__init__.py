"""Training loops as functions, and the vectorised conditional sampler they use."""

from .adversarial import (
    AdversarialConfig,
    ConditionHead,
    gradient_penalty,
    private_critic_loss,
    train_conditional_wgan,
    train_private_gan,
)
from .conditional import ConditionSampler
from .likelihood import FlowConfig, VAEConfig, train_conditional_flow, train_conditional_vae, vae_loss
from .optim import make_adam

__all__ = [
    "AdversarialConfig",
    "ConditionHead",
    "ConditionSampler",
    "FlowConfig",
    "VAEConfig",
    "gradient_penalty",
    "make_adam",
    "private_critic_loss",
    "train_conditional_flow",
    "train_conditional_vae",
    "train_conditional_wgan",
    "train_private_gan",
    "vae_loss",
]
