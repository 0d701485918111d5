"""Training loops as functions, and the vectorised conditional sampler they use."""

from .adversarial import AdversarialConfig, ConditionHead, gradient_penalty, train_conditional_wgan
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
    "train_conditional_flow",
    "train_conditional_vae",
    "train_conditional_wgan",
    "vae_loss",
]
