"""Singing-voice detectors: SVDNet (Schlueter & Grill 2015), and any other
detector behind its interface (``adapter``)."""

from vocal_xai.models.detector.adapter import KerasDetector, SavedModelDetector, WaveformDetector
from vocal_xai.models.detector.svdnet_backbone import SVDNet
from vocal_xai.models.detector.svdnet_presets import PRESETS

__all__ = ["PRESETS", "KerasDetector", "SVDNet", "SavedModelDetector", "WaveformDetector"]
