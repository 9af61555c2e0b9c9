"""The Fréchet distance to a fixed reference as a Keras layer."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from vocal_xai.errors import ParameterError
from vocal_xai.metrics import frechet
from vocal_xai.metrics.layers import FrechetDistanceToReference

DIM = 6


def _stats(seed):
    rng = np.random.default_rng(seed)
    return frechet.gaussian_stats(rng.normal(0.5, 1.5, (400, DIM)) @ rng.normal(0, 1, (DIM, DIM)))


def _offline(examples, ref):
    """The distance between the Gaussian fit of ``examples`` and ``ref``, by
    the full d x d form."""
    fit = frechet.gaussian_stats(examples)
    return frechet.distance_between(fit, ref)


def test_equals_the_offline_distance_eagerly_in_graphs_and_batched():
    ref = _stats(0)
    layer = FrechetDistanceToReference(DIM, reference=ref)
    rng = np.random.default_rng(1)
    sets = rng.normal(0, 2, (3, 20, DIM))  # three sets of 20 examples
    expected = [_offline(s, ref) for s in sets]
    assert min(expected) > 0.1
    np.testing.assert_allclose(layer(sets[0]).numpy(), expected[0], rtol=1e-6)
    np.testing.assert_allclose(layer(sets).numpy(), expected, rtol=1e-6)

    # In a graph with an unknown set size, and in a model's predict.
    traced = tf.function(layer, input_signature=[tf.TensorSpec([None, DIM], tf.float32)])
    np.testing.assert_allclose(traced(sets[1].astype(np.float32)).numpy(), expected[1], rtol=1e-5)
    inputs = keras.Input((20, DIM))
    model = keras.Model(inputs, layer(inputs))
    np.testing.assert_allclose(model.predict(sets, verbose=0), expected, rtol=1e-6)

    # Fewer examples than dimensions (a few seeds): still the same distance.
    few = rng.normal(0, 1, (4, DIM))
    np.testing.assert_allclose(layer(few).numpy(), _offline(few, ref), rtol=1e-6)


def test_the_reference_is_saved_with_the_model_and_can_be_replaced(tmp_path):
    layer = FrechetDistanceToReference(DIM, reference=_stats(0))
    inputs = keras.Input((10, DIM))
    model = keras.Model(inputs, layer(inputs))
    path = tmp_path / "distance.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(2).normal(0, 1, (2, 10, DIM))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))

    other = _stats(5)
    layer.set_reference(other)
    np.testing.assert_allclose(layer(x[0]).numpy(), _offline(x[0], other), rtol=1e-6)
    assert not layer.trainable_weights


def test_bad_arguments():
    with pytest.raises(ParameterError, match="dim=0"):
        FrechetDistanceToReference(0)
    layer = FrechetDistanceToReference(DIM)
    with pytest.raises(ParameterError, match=r"dimension 6. Received: mean.shape=\(3,\)"):
        layer.set_reference(frechet.gaussian_stats(np.ones((5, 3)) + np.eye(5, 3)))
