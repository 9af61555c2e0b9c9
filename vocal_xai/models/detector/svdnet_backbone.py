"""SVDNet: the singing-voice detector of Schlueter & Grill (ISMIR 2015).

Raw log-mel ``[batch, 115, 80]`` -> per-band standardisation (training-split
statistics, baked in) -> conv3x3x64, conv3x3x32, maxpool3x3, conv3x3x128,
conv3x3x64, maxpool3x3 ('valid' padding, LeakyReLU 0.01) -> dropout 0.5,
dense 256, dropout, dense 64, dropout, dense 1.

Outputs, by name:
    logit         [batch, 1]   the pre-sigmoid vocal logit (the neuron explained)
    probability   [batch, 1]   sigmoid of the logit
    embedding_256 [batch, 256] dense-256 activations (after LeakyReLU)
    embedding_64  [batch, 64]  dense-64 activations (after LeakyReLU)
"""

import keras

from vocal_xai import spectral
from vocal_xai.errors import ParameterError
from vocal_xai.layers import Standardize
from vocal_xai.models.detector.svdnet_presets import PRESETS


@keras.saving.register_keras_serializable(package="vocal_xai")
class SVDNet(keras.Model):
    """The SVDNet detector as a functional Keras model.

    Args:
        mean: per-band mean of the training split's log-mel. [shape=(80,)]
        std: per-band std of the training split's log-mel. [shape=(80,)]
        conv_filters: four filter counts; pooling follows the 2nd and 4th.
        dense_units: units of the hidden dense layers; each one's activations
            are an output named ``embedding_<units>``.
        dropout: dropout rate before every dense layer.
        leaky_slope: negative slope of the LeakyReLUs.
    """

    def __init__(
        self,
        mean,
        std,
        conv_filters=(64, 32, 128, 64),
        dense_units=(256, 64),
        dropout=0.5,
        leaky_slope=0.01,
        **kwargs,
    ):
        conv_filters = tuple(int(f) for f in conv_filters)
        dense_units = tuple(int(u) for u in dense_units)
        if len(conv_filters) != 4 or min(conv_filters) < 1:
            raise ParameterError(
                f"Expected four positive filter counts. Received: conv_filters={conv_filters}"
            )
        if not dense_units or min(dense_units) < 1 or len(set(dense_units)) != len(dense_units):
            raise ParameterError(
                f"Expected distinct positive dense units. Received: dense_units={dense_units}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ParameterError(f"Expected 0 <= dropout < 1. Received: dropout={dropout}")

        # Standardise raw log-mel, then add a channel axis.
        inputs = keras.Input((spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS), name="log_mel")
        x = Standardize(mean, std, name="standardize")(inputs)
        x = keras.layers.Reshape(
            (spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS, 1), name="add_channel"
        )(x)

        # Two blocks of two 3x3 convolutions and a 3x3 max-pool.
        for i, filters in enumerate(conv_filters):
            x = keras.layers.Conv2D(filters, 3, padding="valid", name=f"conv{i + 1}")(x)
            x = keras.layers.LeakyReLU(negative_slope=leaky_slope, name=f"conv{i + 1}_act")(x)
            if i % 2 == 1:
                x = keras.layers.MaxPooling2D(3, name=f"pool{i // 2 + 1}")(x)
        x = keras.layers.Flatten(name="flatten")(x)

        # Dense layers with dropout; their activations are the embeddings.
        outputs = {}
        for j, units in enumerate(dense_units):
            x = keras.layers.Dropout(dropout, name=f"dropout{j + 1}")(x)
            x = keras.layers.Dense(units, name=f"dense{j + 1}")(x)
            x = keras.layers.LeakyReLU(negative_slope=leaky_slope, name=f"embedding_{units}")(x)
            outputs[f"embedding_{units}"] = x
        x = keras.layers.Dropout(dropout, name=f"dropout{len(dense_units) + 1}")(x)
        logit = keras.layers.Dense(1, name="logit")(x)
        outputs["logit"] = logit
        outputs["probability"] = keras.layers.Activation("sigmoid", name="probability")(logit)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        self.mean = list(mean)
        self.std = list(std)
        self.conv_filters = conv_filters
        self.dense_units = dense_units
        self.dropout = dropout
        self.leaky_slope = leaky_slope

    @classmethod
    def from_preset(cls, preset, mean, std, **kwargs):
        """Build a named preset (see ``PRESETS``) with the given statistics."""
        if preset not in PRESETS:
            raise ParameterError(
                f"Expected preset in {sorted(PRESETS)}. Received: preset={preset!r}"
            )
        return cls(mean, std, **{**PRESETS[preset], **kwargs})

    @property
    def embedding_names(self):
        return tuple(f"embedding_{u}" for u in self.dense_units)

    def logit_model(self):
        """A model sharing these layers with the logit as its single output,
        for ``compile``/``fit``."""
        return keras.Model(self.input, self.get_layer("logit").output, name=f"{self.name}_train")

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "mean": [float(v) for v in self.mean],
            "std": [float(v) for v in self.std],
            "conv_filters": list(self.conv_filters),
            "dense_units": list(self.dense_units),
            "dropout": self.dropout,
            "leaky_slope": self.leaky_slope,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
