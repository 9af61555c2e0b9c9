"""The conditional DCGAN prior over log-mel excerpts."""

from vocal_xai.models.dcgan.conditional_dcgan import ConditionalDCGAN
from vocal_xai.models.dcgan.dcgan_backbone import Discriminator, Generator
from vocal_xai.models.dcgan.dcgan_presets import PRESETS

__all__ = ["PRESETS", "ConditionalDCGAN", "Discriminator", "Generator"]
