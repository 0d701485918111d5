"""Image synthesizers: class-conditional GAN, VAE and normalizing flow."""

from .base import BaseImageSynthesizer
from .flow import ImageFlowSynthesizer
from .gan import ImageGANSynthesizer
from .vae import ImageVAESynthesizer

__all__ = ["BaseImageSynthesizer", "ImageFlowSynthesizer", "ImageGANSynthesizer", "ImageVAESynthesizer"]
