"""The detector's inference graph for TF Serving.

Signatures (core TF ops only):

``serving_default``
    log_mel float32 [batch, 115, 80] (raw log-mel) ->
    logit [batch], probability [batch], embedding [batch, 64] (the last hidden layer, dense-64).
``frames``
    waveform float32 [batch, samples] at 22050 Hz, samples >= 1024 ->
    logit and probability [batch, frames], one per frame at 70 frames/s.

Inputs are declared with an unknown rank so that the graph itself checks
them, before the model runs, and answers a wrong rank, an empty batch, a
wrong size or a non-finite value with a message that names the input and
the constraint (TF Serving returns it with HTTP 400).
"""

import tensorflow as tf

from vocal_xai import spectral
from vocal_xai.models.detector import song


def checked_input(x, name, layout, rank, sizes=None, minimum=None):
    """``x`` once it has passed the serving checks, with its static rank.

    The checks run in order, each only after the previous one has passed,
    and the model only after all of them: rank, a batch of at least one row,
    the fixed sizes, the minimum sizes, then finite values.

    Args:
        x: a float tensor of unknown rank.
        name: the input's name, for messages.
        layout: the expected shape in words, e.g. ``"[batch, 115, 80]"``.
        rank: the expected rank.
        sizes: ``{axis: size}`` that must match exactly.
        minimum: ``{axis: size}`` that must be reached.

    Returns:
        ``x`` with a static rank of ``rank`` (and the fixed sizes).
    """
    message = f"{name} must have shape {layout}"
    deps = [tf.debugging.assert_equal(tf.rank(x), rank, message=f"{message}; received a different rank")]
    with tf.control_dependencies(deps):
        deps.append(
            tf.debugging.assert_positive(tf.shape(x)[0], message=f"{message}; received an empty batch")
        )
    for axis, size in (sizes or {}).items():
        with tf.control_dependencies(deps):
            deps.append(tf.debugging.assert_equal(tf.shape(x)[axis], size, message=message))
    for axis, size in (minimum or {}).items():
        with tf.control_dependencies(deps):
            deps.append(tf.debugging.assert_greater_equal(tf.shape(x)[axis], size, message=message))
    with tf.control_dependencies(deps):
        deps.append(tf.debugging.assert_all_finite(x, message=f"{name} must be finite (no NaN or Inf)"))
    with tf.control_dependencies(deps):
        # A reshape, not tf.ensure_shape: the latter lets the graph run the
        # size checks ahead of the rank check.
        dims = [(sizes or {}).get(axis, tf.shape(x)[axis]) for axis in range(1, rank)]
        return tf.reshape(x, [-1, *dims])


class DetectorServing(tf.Module):
    """Wraps an ``SVDNet`` with explicit, named serving signatures."""

    def __init__(self, model, embedding=None):
        super().__init__(name="detector")
        # Track the variables the graphs read; keep the Keras object out of the
        # SavedModel's object graph.
        self.model_variables = [v.value for v in model.variables]
        self._model = lambda x: model(x, training=False)
        self._song = lambda x: song.song_outputs(model, x)
        # The last hidden layer (dense-64 in the paper's model) by default.
        self._embedding = embedding or model.embedding_names[-1]

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32, name="log_mel")])
    def serve(self, log_mel):
        shape = [spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS]
        log_mel = checked_input(
            log_mel, "log_mel", f"[batch, {shape[0]}, {shape[1]}]", rank=3, sizes={1: shape[0], 2: shape[1]}
        )
        out = self._model(log_mel)
        return {
            "logit": out["logit"][:, 0],
            "probability": out["probability"][:, 0],
            "embedding": out[self._embedding],
        }

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32, name="waveform")])
    def frames(self, waveform):
        waveform = checked_input(
            waveform,
            "waveform",
            f"[batch, samples] with samples >= {spectral.FRAME_LENGTH}",
            rank=2,
            minimum={1: spectral.FRAME_LENGTH},
        )
        out = self._song(spectral.log_mel(waveform))
        return {"logit": out["logit"], "probability": out["probability"]}

    def signatures(self):
        return {"serving_default": self.serve, "frames": self.frames}
