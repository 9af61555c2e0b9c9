"""Small layers shared by the models, each registered and serializable."""

import keras
import numpy as np
from keras import ops

from vocal_xai import spectral
from vocal_xai.errors import ParameterError


@keras.saving.register_keras_serializable(package="vocal_xai")
class Standardize(keras.layers.Layer):
    """Per-band standardisation ``(x - mean) / std`` with fixed statistics,
    or its inverse ``x * std + mean``.

    The statistics of the training split are baked into the model, so the
    model takes (or, inverted, gives) raw log-mel.

    Args:
        mean: per-band mean. [shape=(bands,)]
        std: per-band standard deviation, > 0. [shape=(bands,)]
        invert: apply the inverse map.
    """

    def __init__(self, mean, std, invert=False, **kwargs):
        kwargs["trainable"] = False
        super().__init__(**kwargs)
        mean = np.asarray(mean, np.float64).reshape(-1)
        std = np.asarray(std, np.float64).reshape(-1)
        if mean.shape != std.shape or mean.size == 0:
            raise ParameterError(
                "Expected mean and std of the same non-empty shape. "
                f"Received: mean.shape={mean.shape}, std.shape={std.shape}"
            )
        if not np.all(np.isfinite(mean)) or not np.all(std > 0):
            raise ParameterError(
                f"Expected finite mean and std > 0. Received: min(std)={std.min()}"
            )
        self.mean = mean.tolist()
        self.std = std.tolist()
        self.invert = bool(invert)
        self._mean = ops.convert_to_tensor(mean.astype(np.float32))
        self._inv_std = ops.convert_to_tensor((1.0 / std).astype(np.float32))

    def call(self, x):
        mean = ops.cast(self._mean, x.dtype)
        inv_std = ops.cast(self._inv_std, x.dtype)
        if self.invert:
            return x / inv_std + mean
        return (x - mean) * inv_std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"mean": self.mean, "std": self.std, "invert": self.invert})
        return config


@keras.saving.register_keras_serializable(package="vocal_xai")
class CropFrames(keras.layers.Layer):
    """Keep ``frames`` centred frames of ``[batch, time, ...]``."""

    def __init__(self, frames, **kwargs):
        super().__init__(**kwargs)
        if frames < 1:
            raise ParameterError(f"Expected frames >= 1. Received: frames={frames}")
        self.frames = int(frames)

    def call(self, x):
        start = (x.shape[1] - self.frames) // 2
        return x[:, start : start + self.frames]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.frames) + tuple(input_shape[2:])

    def get_config(self):
        config = super().get_config()
        config.update({"frames": self.frames})
        return config


@keras.saving.register_keras_serializable(package="vocal_xai")
class FloorLogMel(keras.layers.Layer):
    """``max(x, log(1e-7))``: the floor of the log-mel front-end."""

    def call(self, x):
        return ops.maximum(x, ops.cast(spectral.LOG_MEL_MIN, x.dtype))

    def compute_output_shape(self, input_shape):
        return input_shape


def identity_stats(bands=spectral.NUM_MEL_BANDS):
    """Mean 0 and std 1 per band, for models built before statistics exist."""
    return np.zeros(bands), np.ones(bands)
