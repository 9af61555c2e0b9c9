import keras
import numpy as np

from vocal_xai import inference


def test_one_compiled_function_per_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dropout(0.9), keras.layers.Dense(2)])
    fn = inference.compiled(model)
    assert inference.compiled(model) is fn
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert inference.compiled(other) is not fn
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    # Inference mode: dropout is off, so the result equals the model's own.
    np.testing.assert_allclose(fn(x), model(x, training=False), rtol=1e-6)
