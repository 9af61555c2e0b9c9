"""A float64 linear embedding model for the metric tests, importable by a
test's child process (which adds this folder to ``sys.path``)."""

import keras
import tensorflow as tf

from vocal_xai.metrics import frechet


class LinearEmbedding(keras.Model):
    """A float64 linear embedding whose ``test_step`` accumulates the
    statistics of its outputs, keras-io style."""

    def __init__(self, dim, seed=0):
        super().__init__()
        self.embed = keras.layers.Dense(
            dim,
            kernel_initializer=keras.initializers.RandomNormal(seed=seed),
            bias_initializer=keras.initializers.Constant(2.0),
            dtype="float64",
        )
        self.embedding_stats = frechet.FrechetStatistics(dim)
        self.traced_in_graph = None

    def call(self, x):
        return self.embed(x)

    @property
    def metrics(self):
        return [self.embedding_stats]

    def test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        self.traced_in_graph = not tf.executing_eagerly()
        self.embedding_stats.update_state(self(x))
        return self.embedding_stats.result()
