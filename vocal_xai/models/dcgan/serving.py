"""The generator's inference graph for TF Serving.

Signature ``serving_default``: z float32 [batch, 128], class_id int32 [batch]
(0 = non-vocal, 1 = vocal) -> log_mel float32 [batch, 115, 80] (raw log-mel,
floored at log(1e-7)). Core TF ops only. (The class input is named
``class_id`` because TF signatures take input names as Python parameter
names, and ``class`` is a keyword.)
"""

import tensorflow as tf

from vocal_xai import spectral


class GeneratorServing(tf.Module):
    """Wraps a conditional ``Generator`` with an explicit, named signature."""

    def __init__(self, generator):
        super().__init__(name="generator")
        self.model_variables = [v.value for v in generator.variables]
        self._generator = lambda z, c: generator({"z": z, "class": c}, training=False)
        self.latent_dim = int(generator.latent_dim)
        self.serve = tf.function(
            self._serve,
            input_signature=[
                tf.TensorSpec([None, self.latent_dim], tf.float32, name="z"),
                tf.TensorSpec([None], tf.int32, name="class_id"),
            ],
        )

    def _serve(self, z, class_id):
        checks = [
            tf.debugging.assert_equal(
                tf.shape(z)[1], self.latent_dim, message=f"z must have shape [batch, {self.latent_dim}]"
            ),
            tf.debugging.assert_equal(
                tf.shape(class_id)[0], tf.shape(z)[0], message="class_id must have one entry per row of z"
            ),
            tf.debugging.assert_equal(
                tf.reduce_all((class_id >= 0) & (class_id <= 1)), True,
                message="class_id must be 0 (non-vocal) or 1 (vocal)",
            ),
            tf.debugging.assert_all_finite(z, message="z must be finite (no NaN or Inf)"),
        ]
        # The generator runs only after every check has passed.
        with tf.control_dependencies(checks):
            z, class_id = tf.identity(z), tf.identity(class_id)
        log_mel = self._generator(z, class_id)
        log_mel = tf.ensure_shape(log_mel, [None, spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS])
        return {"log_mel": log_mel}

    def signatures(self):
        return {"serving_default": self.serve}
