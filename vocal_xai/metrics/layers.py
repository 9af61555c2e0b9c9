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
from vocal_xai.metrics import frechet, selectors


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


SERVED_SELECTORS = tuple(name for name in selectors.SELECTORS if name != "frechet_infinity")
"""The selectors of ``vocal_xai.metrics.selectors`` that ``SelectorScore``
computes in a graph: every one with the same options as the default call,
but ``frechet_infinity`` (random subsets)."""


@keras.saving.register_keras_serializable(package="vocal_xai")
class SelectorScore(keras.layers.Layer):
    """A candidate selector's score of one set of examples against a real
    reference held in the layer: ``selectors.<selector>(embeddings,
    activations, reference)`` with its default options, in any graph.

    Inputs: ``[embeddings, activations]``, embeddings [n, dim] and their
    activations [n] (n >= 2; n > k for ``recall``). Output: a float64
    scalar, lower is better.

    The reference's statistics (mean, covariance and a factor of it, the
    principal axes, the k-NN radii, the kernel mean) are computed once in
    NumPy by ``set_reference`` and held as non-trainable float64 weights, so
    the graph repeats the offline arithmetic.

    Args:
        selector: a name in ``SERVED_SELECTORS``.
        dim: embedding size.
        size: K, the number of reference excerpts (> k).
        reference: optional ``selectors.Reference`` to hold from the start.
    """

    def __init__(self, selector, dim, size, reference=None, **kwargs):
        super().__init__(**kwargs)
        if selector not in SERVED_SELECTORS:
            raise ParameterError(
                f"Expected selector in {list(SERVED_SELECTORS)}. Received: selector={selector!r}"
            )
        for name, value, low in (("dim", dim, 1), ("size", size, selectors.DEFAULT_K + 1)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ParameterError(
                    f"Expected an integer {name} >= {low}. Received: {name}={value!r}"
                )
        self.selector, self.dim, self.size = selector, dim, size
        self.components = min(selectors.DEFAULT_COMPONENTS, dim)
        shapes = {
            "embeddings": (size, dim),
            "activations": (size,),
            "mean": (dim,),
            "covariance": (dim, dim),
            "factor": (dim, dim),
            "axes": (dim, self.components),
            "pca_covariance": (self.components, self.components),
            "pca_factor": (self.components, self.components),
            "knn_squared_radii": (size,),
            "kernel_mean": (),
        }
        self.reference_weights = {
            name: self.add_weight(
                shape=shape, initializer="zeros", dtype="float64", trainable=False, name=name
            )
            for name, shape in shapes.items()
        }
        if reference is not None:
            self.set_reference(reference)

    def set_reference(self, ref):
        """Hold ``ref`` (a ``selectors.Reference`` of ``size`` excerpts of
        dimension ``dim``) and its statistics."""
        if not isinstance(ref, selectors.Reference) or (ref.size, ref.dim) != (self.size, self.dim):
            shape = (ref.size, ref.dim) if isinstance(ref, selectors.Reference) else type(ref)
            raise ParameterError(
                f"Expected a Reference of {self.size} excerpts of dimension {self.dim}. "
                f"Received: {shape}"
            )
        axes = ref.principal_axes[:, : self.components]
        pca_covariance = axes.T @ ref.covariance @ axes
        pca_covariance = 0.5 * (pca_covariance + pca_covariance.T)
        values = {
            "embeddings": ref.embeddings,
            "activations": ref.activations,
            "mean": ref.mean,
            "covariance": ref.covariance,
            "factor": _factor(ref.covariance),
            "axes": axes,
            "pca_covariance": pca_covariance,
            "pca_factor": _factor(pca_covariance),
            "knn_squared_radii": ref._knn_squared_radii(selectors.DEFAULT_K),
            "kernel_mean": ref._kernel_mean(
                *selectors._kernel_options(*selectors.DEFAULT_KERNEL, self.dim)
            ),
        }
        for name, value in values.items():
            self.reference_weights[name].assign(np.asarray(value, np.float64))

    def call(self, inputs):
        embeddings, activations = inputs
        x = tf.cast(embeddings, tf.float64)
        w = {name: tf.convert_to_tensor(v) for name, v in self.reference_weights.items()}
        if self.selector == "paper_1d":
            return frechet.frechet_distance_1d(tf.cast(activations, tf.float64), w["activations"])
        if self.selector == "frechet":
            return _frechet_to(x, w["mean"], w["covariance"], w["factor"])
        if self.selector == "frechet_pca":
            projected = (x - w["mean"]) @ w["axes"]
            zeros = tf.zeros([self.components], tf.float64)
            return _frechet_to(projected, zeros, w["pca_covariance"], w["pca_factor"])
        if self.selector == "kid":
            return _kid(x, w["embeddings"], w["kernel_mean"], self.dim)
        to_reference = _squared_distances(x, w["embeddings"])
        if self.selector == "recall":
            radii = tf.sort(_squared_distances(x, x), axis=1)[:, selectors.DEFAULT_K]
            covered = tf.reduce_any(to_reference <= radii[:, None], axis=0)
            return 1.0 - tf.reduce_mean(tf.cast(covered, tf.float64))
        inside = to_reference <= w["knn_squared_radii"][None, :]
        if self.selector == "precision":
            return 1.0 - tf.reduce_mean(tf.cast(tf.reduce_any(inside, axis=1), tf.float64))
        if self.selector == "coverage":
            return 1.0 - tf.reduce_mean(tf.cast(tf.reduce_any(inside, axis=0), tf.float64))
        n = tf.cast(tf.shape(x)[0], tf.float64)
        return 0.0 - tf.reduce_sum(tf.cast(inside, tf.float64)) / (selectors.DEFAULT_K * n)

    def compute_output_shape(self, input_shape):
        return ()

    def get_config(self):
        return {
            **super().get_config(),
            "selector": self.selector,
            "dim": self.dim,
            "size": self.size,
        }


def _factor(covariance):
    """F with ``covariance = F F^T``: its Cholesky factor when it is positive
    definite, else its symmetric square root (the forms of
    ``frechet.frechet_distance`` with the covariance first)."""
    try:
        return np.linalg.cholesky(covariance)
    except np.linalg.LinAlgError:
        eigenvalues, vectors = np.linalg.eigh(covariance)
        return (vectors * np.sqrt(np.maximum(eigenvalues, 0.0))) @ vectors.T


def _frechet_to(x, mean, covariance, factor):
    """``selectors._frechet_to`` in a graph: the n x n form for n <= d, else
    the d x d form of the fitted covariance, ``Tr sqrt(F^T S F)``."""
    n, d = tf.shape(x)[0], tf.shape(x)[1]

    def small():
        return frechet.frechet_distance_to_samples(x, mean, covariance)

    def full():
        count = tf.cast(n, tf.float64)
        fitted_mean = tf.reduce_mean(x, axis=0)
        centred = x - fitted_mean
        fitted = tf.matmul(centred, centred, transpose_a=True) / (count - 1.0)
        fitted = 0.5 * (fitted + tf.transpose(fitted))
        trace_sqrt = frechet._trace_sqrt_of_psd(
            tf.matmul(factor, fitted @ factor, transpose_a=True)
        )
        diff = mean - fitted_mean
        distance = (
            tf.reduce_sum(diff * diff)
            + tf.linalg.trace(covariance)
            + tf.linalg.trace(fitted)
            - 2.0 * trace_sqrt
        )
        return tf.maximum(distance, 0.0)

    return tf.cond(n <= d, small, full)


def _squared_distances(a, b):
    """Squared Euclidean distances from the differences. [shape=(len(a), len(b))]"""
    return tf.reduce_sum(tf.square(a[:, None, :] - b[None, :, :]), axis=-1)


def _kid(x, reference, kernel_mean, dim):
    degree, gamma, coef0 = selectors._kernel_options(*selectors.DEFAULT_KERNEL, dim)
    n = tf.cast(tf.shape(x)[0], tf.float64)
    within = (gamma * tf.matmul(x, x, transpose_b=True) + coef0) ** degree
    within = (tf.reduce_sum(within) - tf.linalg.trace(within)) / (n * (n - 1.0))
    between = tf.reduce_mean((gamma * tf.matmul(x, reference, transpose_b=True) + coef0) ** degree)
    return within + kernel_mean - 2.0 * between
