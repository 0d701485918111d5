"""Training loops as functions, and the vectorised conditional sampler they use."""

from .adversarial import AdversarialConfig, ConditionHead, gradient_penalty, train_conditional_wgan
from .conditional import ConditionSampler

__all__ = ["AdversarialConfig", "ConditionHead", "ConditionSampler", "gradient_penalty", "train_conditional_wgan"]
