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
from vocal_xai.signature_checks import InputChecks, with_static_shape


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
        frames, bands = spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS
        checks = InputChecks()
        checks.shape(
            log_mel, "log_mel", 3, f"[batch, {frames}, {bands}]", sizes={1: frames, 2: bands}
        )
        checks.finite(log_mel, "log_mel")
        log_mel = with_static_shape(checks.passed(log_mel), 3, {1: frames, 2: bands})
        out = self._model(log_mel)
        return {
            "logit": out["logit"][:, 0],
            "probability": out["probability"][:, 0],
            "embedding": out[self._embedding],
        }

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32, name="waveform")])
    def frames(self, waveform):
        checks = InputChecks()
        checks.shape(
            waveform,
            "waveform",
            2,
            f"[batch, samples] with samples >= {spectral.FRAME_LENGTH}",
            minimum={1: spectral.FRAME_LENGTH},
        )
        checks.finite(waveform, "waveform")
        waveform = with_static_shape(checks.passed(waveform), 2)
        out = self._song(spectral.log_mel(waveform))
        return {"logit": out["logit"], "probability": out["probability"]}

    def signatures(self):
        return {"serving_default": self.serve, "frames": self.frames}
