"""Distances to a fixed reference as Keras layers, for serving graphs.

``FrechetDistanceToReference`` holds a reference's mean and covariance as
non-trainable float64 weights and maps a set of examples' embeddings to their
Fréchet distance to it (``frechet.frechet_distance_to_samples``), in any
graph: ``Model.predict``, a ``tf.function`` or a SavedModel signature.
"""

import keras
import numpy as np
import tensorflow as tf

from vocal_xai.errors import ParameterError
from vocal_xai.metrics import frechet


@keras.saving.register_keras_serializable(package="vocal_xai")
class FrechetDistanceToReference(keras.layers.Layer):
    """Fréchet distance of each set of embeddings to the reference Gaussian.

    Input: embeddings, a set of n >= 2 examples or a batch of such sets.
    [shape=(..., n, dim)] Output: float64 distances, >= 0. [shape=(...)]

    Args:
        dim: embedding size.
        reference: optional ``frechet.GaussianStats`` to hold from the start;
            ``set_reference`` replaces it later. Saved with the weights.
    """

    def __init__(self, dim, reference=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
            raise ParameterError(f"Expected an integer dim >= 1. Received: dim={dim!r}")
        self.dim = dim
        self.reference_mean = self.add_weight(
            shape=(dim,), initializer="zeros", dtype="float64", trainable=False, name="mean"
        )
        self.reference_covariance = self.add_weight(
            shape=(dim, dim),
            initializer="zeros",
            dtype="float64",
            trainable=False,
            name="covariance",
        )
        if reference is not None:
            self.set_reference(reference)

    def set_reference(self, stats):
        """Hold ``stats`` (a ``frechet.GaussianStats`` of dimension ``dim``)."""
        mean = np.asarray(stats.mean, np.float64)
        covariance = np.asarray(stats.covariance, np.float64)
        if mean.shape != (self.dim,) or covariance.shape != (self.dim, self.dim):
            raise ParameterError(
                f"Expected reference statistics of dimension {self.dim}. Received: "
                f"mean.shape={mean.shape}, covariance.shape={covariance.shape}"
            )
        self.reference_mean.assign(mean)
        self.reference_covariance.assign(covariance)

    def call(self, embeddings):
        return frechet.frechet_distance_to_samples(
            tf.cast(embeddings, tf.float64),
            tf.convert_to_tensor(self.reference_mean),
            tf.convert_to_tensor(self.reference_covariance),
        )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-2])

    def get_config(self):
        return {**super().get_config(), "dim": self.dim}
