"""The generator's inference graph for TF Serving.

Signature ``serving_default``: z float32 [batch, 128], class_id int32 [batch]
(0 = non-vocal, 1 = vocal) -> log_mel float32 [batch, 115, 80] (raw log-mel,
floored at log(1e-7)). Core TF ops only. (The class input is named
``class_id`` because TF signatures take input names as Python parameter
names, and ``class`` is a keyword.) The inputs are checked in the graph
before the generator runs (``vocal_xai.signature_checks``): rank, a
non-empty batch, the latent size, one class per row, classes in {0, 1},
finite values.
"""

import tensorflow as tf

from vocal_xai import spectral
from vocal_xai.signature_checks import InputChecks, with_static_shape


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
                tf.TensorSpec(None, tf.float32, name="z"),
                tf.TensorSpec(None, tf.int32, name="class_id"),
            ],
        )

    def _serve(self, z, class_id):
        checks = InputChecks()
        checks.shape(z, "z", 2, f"[batch, {self.latent_dim}]", sizes={1: self.latent_dim})
        checks.rows(class_id, "class_id", tf.shape(z)[0])
        checks.true(
            tf.reduce_all((class_id >= 0) & (class_id <= 1)),
            "class_id must be 0 (non-vocal) or 1 (vocal)",
        )
        checks.finite(z, "z")
        z, class_id = checks.passed(z, class_id)
        z = with_static_shape(z, 2, {1: self.latent_dim})
        class_id = tf.reshape(class_id, [-1])
        log_mel = self._generator(z, class_id)
        log_mel = tf.ensure_shape(log_mel, [None, spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS])
        return {"log_mel": log_mel}

    def signatures(self):
        return {"serving_default": self.serve}
