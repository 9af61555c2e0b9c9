"""The Fréchet distance to a fixed reference as a Keras layer."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from vocal_xai.errors import ParameterError
from vocal_xai.metrics import frechet, selectors
from vocal_xai.metrics.layers import SERVED_SELECTORS, FrechetDistanceToReference, SelectorScore

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


def _reference(seed, size=40, dim=8):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(0, 1, (dim, dim))
    return selectors.Reference.from_samples(
        rng.normal(0.3, 1.0, (size, dim)) @ mixing, rng.normal(1.0, 2.0, size)
    )


@pytest.mark.parametrize("name", SERVED_SELECTORS)
def test_selector_score_equals_the_offline_selector(name):
    ref = _reference(0)
    layer = SelectorScore(name, ref.dim, ref.size, reference=ref)
    traced = tf.function(
        layer,
        input_signature=[
            [tf.TensorSpec([None, ref.dim], tf.float32), tf.TensorSpec([None], tf.float32)]
        ],
    )
    rng = np.random.default_rng(3)
    scores = []
    # Fewer examples than dimensions (n x n form of the distance), and more.
    for n in (6, 8, 25):
        x = (rng.normal(0.2, 1.2, (n, ref.dim)) @ ref.principal_axes.T).astype(np.float32)
        a = rng.normal(0.5, 1.5, n).astype(np.float32)
        offline = selectors.SELECTORS[name](x, a, ref)
        np.testing.assert_allclose(layer([x, a]).numpy(), offline, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(traced([x, a]).numpy(), offline, rtol=1e-9, atol=1e-9)
        scores.append(offline)
    assert len(set(scores)) > 1  # the sets are told apart


def test_selector_score_is_saved_with_the_model_and_can_be_replaced(tmp_path):
    ref = _reference(0)
    layer = SelectorScore("kid", ref.dim, ref.size, reference=ref)
    embeddings, activations = keras.Input((ref.dim,), batch_size=12), keras.Input((), batch_size=12)
    model = keras.Model([embeddings, activations], layer([embeddings, activations]))
    path = tmp_path / "score.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    rng = np.random.default_rng(4)
    # float32, as the model's inputs take them.
    x = rng.normal(0, 1, (12, ref.dim)).astype(np.float32)
    a = rng.normal(0, 1, 12).astype(np.float32)
    np.testing.assert_allclose(
        loaded([x, a]).numpy(), selectors.kid(x, a, ref), rtol=1e-9, atol=1e-12
    )
    other = _reference(5)
    layer.set_reference(other)
    np.testing.assert_allclose(layer([x, a]).numpy(), selectors.kid(x, a, other), rtol=1e-9)
    assert not layer.trainable_weights


def test_selector_score_bad_arguments():
    with pytest.raises(ParameterError, match="selector='frechet_infinity'"):
        SelectorScore("frechet_infinity", 8, 40)
    with pytest.raises(ParameterError, match="size >= 6. Received: size=5"):
        SelectorScore("kid", 8, 5)
    with pytest.raises(ParameterError, match=r"40 excerpts of dimension 8. Received: \(30, 8\)"):
        SelectorScore("kid", 8, 40, reference=_reference(0, size=30))
