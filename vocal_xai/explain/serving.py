"""The latent gradient ascent itself as a SavedModel, so TF Serving returns
explanations.

Generator, detector and the ascent's ``tf.while_loop`` (``ascent._ascent_fn``,
the loop ``tools/explain.py`` runs, with Adam on z and the detector's output
logit as the activation) in one graph of core TF ops. Two signatures:

- ``serving_default``: seed int64 [batch], class_id int32 [batch],
  direction string [batch] ("max" or "min"), learning_rate float32 [batch],
  rp float32 [batch], steps int32 scalar -> explanations. z0 is drawn from the
  seed with ``ascent.latents_from_seeds``, as ``tools/explain.py`` draws it.
- ``from_latent``: the same with z0 float32 [batch, 128] instead of seed.

Outputs: ``log_mel`` [batch, 115, 80] (the explanation: the best example of
the trajectory), ``activation`` [batch] (its logit), ``z`` [batch, 128] (its
latent) and ``activation_trace`` [batch, steps + 1] (the logit at every step).

Inputs are checked before anything runs: shapes and batch sizes, class in
{0, 1}, direction in {max, min}, finite values (no NaN or Inf), learning rate
> 0, rp >= 0 and 0 <= steps <= ``MAX_STEPS``. steps is a scalar, so REST
requests use the columnar ``{"inputs": {...}}`` format.
"""

import pathlib

import tensorflow as tf

from vocal_xai import export, spectral
from vocal_xai.explain import ascent, objectives

MAX_STEPS = 2000
"""The most ascent steps one request may ask for (the paper's longest run is
1000); it bounds the time and the trace memory of a request."""


class ExplainerServing(tf.Module):
    """Wraps generator + detector + the ascent loop with named signatures.

    Args:
        generator: the conditional generator (Keras).
        detector: the ``SVDNet`` (Keras).
    """

    def __init__(self, generator, detector):
        super().__init__(name="explainer")
        self.model_variables = [v.value for v in generator.variables] + [v.value for v in detector.variables]
        self.param = ascent.LatentParameterisation(generator, detector)
        self.latent_dim = int(generator.latent_dim)
        self._run = self.param.run_fn(objectives.activation("logit", 0), "adam")
        rows = [
            tf.TensorSpec([None], tf.int32, name="class_id"),
            tf.TensorSpec([None], tf.string, name="direction"),
            tf.TensorSpec([None], tf.float32, name="learning_rate"),
            tf.TensorSpec([None], tf.float32, name="rp"),
            # Any shape here, so that the scalar check below runs on the
            # tensor actually fed (a static [] would let a graph fed a vector
            # skip it).
            tf.TensorSpec(None, tf.int32, name="steps"),
        ]
        self.from_seed = tf.function(
            self._from_seed, input_signature=[tf.TensorSpec([None], tf.int64, name="seed")] + rows
        )
        self.from_latent = tf.function(
            self._from_latent, input_signature=[tf.TensorSpec([None, None], tf.float32, name="z0")] + rows
        )

    def _from_seed(self, seed, class_id, direction, learning_rate, rp, steps):
        return self._explain(ascent.latents_from_seeds(seed, self.latent_dim), class_id, direction,
                             learning_rate, rp, steps)

    def _from_latent(self, z0, class_id, direction, learning_rate, rp, steps):
        return self._explain(z0, class_id, direction, learning_rate, rp, steps)

    def _explain(self, z0, class_id, direction, learning_rate, rp, steps):
        batch = tf.shape(z0)[0]
        checks = [
            tf.debugging.assert_equal(
                tf.shape(z0)[1], self.latent_dim, message=f"z0 must have shape [batch, {self.latent_dim}]"
            ),
            tf.debugging.assert_all_finite(z0, message="z0 must be finite (no NaN or Inf)"),
            tf.debugging.assert_all_finite(learning_rate, message="learning_rate must be finite (no NaN or Inf)"),
            tf.debugging.assert_all_finite(rp, message="rp must be finite (no NaN or Inf)"),
        ]
        for name, value in [("class_id", class_id), ("direction", direction),
                            ("learning_rate", learning_rate), ("rp", rp)]:
            checks.append(tf.debugging.assert_equal(
                tf.size(value), batch, message=f"{name} must have one entry per row"
            ))
        checks.append(tf.debugging.assert_equal(tf.size(steps), 1, message="steps must be a scalar"))
        checks += [
            tf.debugging.assert_equal(
                tf.reduce_all((class_id >= 0) & (class_id <= 1)), True,
                message="class_id must be 0 (non-vocal) or 1 (vocal)",
            ),
            tf.debugging.assert_equal(
                tf.reduce_all((direction == "max") | (direction == "min")), True,
                message="direction must be max or min",
            ),
            tf.debugging.assert_positive(learning_rate, message="learning_rate must be > 0"),
            tf.debugging.assert_non_negative(rp, message="rp must be >= 0"),
            tf.debugging.assert_non_negative(steps, message="steps must be >= 0"),
            tf.debugging.assert_less_equal(steps, MAX_STEPS, message=f"steps must be <= {MAX_STEPS}"),
        ]
        # The ascent runs only after every check has passed: every input goes
        # through an Identity that waits for them (Identity keeps its control
        # inputs through graph optimisation, a no-op Reshape need not).
        with tf.control_dependencies(checks):
            z0, steps, class_id, direction, learning_rate, rp = (
                tf.identity(t) for t in (z0, steps, class_id, direction, learning_rate, rp)
            )
        steps = tf.reshape(steps, [])
        class_id, direction, learning_rate, rp = (
            tf.reshape(t, [batch]) for t in (class_id, direction, learning_rate, rp)
        )
        sign = tf.where(direction == "max", 1.0, -1.0)
        out = self._run(z0, class_id, learning_rate, rp, sign, steps, tf.reshape(steps, [1]))
        best_z = out["best_z"][0]
        log_mel, _ = self.param(best_z, class_id)
        return {
            "log_mel": tf.ensure_shape(log_mel, [None, spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS]),
            "activation": sign * out["best_signed"][0],
            "z": best_z,
            "activation_trace": tf.transpose(out["activation"]),
        }

    def signatures(self):
        return {"serving_default": self.from_seed, "from_latent": self.from_latent}


def export_explainer(generator, detector, export_base, metadata, version=None):
    """Write ``<export_base>/explainer/<version>/`` with metadata (which
    generator and detector it holds) in ``assets.extra/``."""
    module = ExplainerServing(generator, detector)
    metadata = {**metadata, "max_steps": MAX_STEPS}
    return export.export_module(
        module, pathlib.Path(export_base) / "explainer", module.signatures(), version,
        extra_files={export.METADATA_FILE: lambda path: export.write_metadata(path, metadata)},
    )


def export_from_zoo(detector="detector", generator="generator", export_base=None, version=None):
    """Export the explainer of two zoo models (names or paths; newest
    versions by default) into ``<export_base>/explainer/`` (default: the zoo)."""
    from vocal_xai import zoo

    detector_dir, generator_dir = zoo.resolve(detector), zoo.resolve(generator)
    metadata = {
        "detector": {"path": str(detector_dir), "version": int(detector_dir.name)},
        "generator": {"path": str(generator_dir), "version": int(generator_dir.name)},
    }
    return export_explainer(
        zoo.load_generator(str(generator_dir)), zoo.load_detector(str(detector_dir)),
        export_base or zoo.root(), metadata, version,
    )
