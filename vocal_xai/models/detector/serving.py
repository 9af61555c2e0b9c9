"""The detector's inference graph for TF Serving.

Signatures (core TF ops only):

``serving_default``
    log_mel float32 [batch, 115, 80] (raw log-mel) ->
    logit [batch], probability [batch], embedding [batch, 64] (the last hidden layer, dense-64).
``frames``
    waveform float32 [batch, samples] at 22050 Hz, samples >= 1024 ->
    logit and probability [batch, frames], one per frame at 70 frames/s.
"""

import tensorflow as tf

from vocal_xai import spectral
from vocal_xai.models.detector import song

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

    @tf.function(
        input_signature=[
            tf.TensorSpec(
                [None, spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS], tf.float32, name="log_mel"
            )
        ]
    )
    def serve(self, log_mel):
        check = tf.debugging.assert_equal(
            tf.shape(log_mel)[1:],
            tf.constant([spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS]),
            message=(
                f"log_mel must have shape [batch, {spectral.EXCERPT_FRAMES}, "
                f"{spectral.NUM_MEL_BANDS}]"
            ),
        )
        finite = tf.debugging.assert_all_finite(log_mel, message="log_mel must be finite (no NaN or Inf)")
        # The model runs only after the checks have passed.
        with tf.control_dependencies([check, finite]):
            log_mel = tf.identity(log_mel)
        out = self._model(log_mel)
        return {
            "logit": out["logit"][:, 0],
            "probability": out["probability"][:, 0],
            "embedding": out[self._embedding],
        }

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="waveform")])
    def frames(self, waveform):
        check = tf.debugging.assert_greater_equal(
            tf.shape(waveform)[1],
            spectral.FRAME_LENGTH,
            message=f"waveform must have at least {spectral.FRAME_LENGTH} samples",
        )
        finite = tf.debugging.assert_all_finite(waveform, message="waveform must be finite (no NaN or Inf)")
        with tf.control_dependencies([check, finite]):
            waveform = tf.identity(waveform)
        out = self._song(spectral.log_mel(waveform))
        return {"logit": out["logit"], "probability": out["probability"]}

    def signatures(self):
        return {"serving_default": self.serve, "frames": self.frames}
