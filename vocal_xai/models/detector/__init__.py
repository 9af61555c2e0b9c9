"""The singing-voice detector (SVDNet, Schlueter & Grill 2015)."""

from vocal_xai.models.detector.svdnet_backbone import SVDNet
from vocal_xai.models.detector.svdnet_presets import PRESETS
