"""Log-mel front-end built from tf.signal only.

The constants follow Schlueter & Grill (ISMIR 2015): mono audio at 22050 Hz,
1024-sample Hann frames, hop 315 samples (70 frames/s), STFT magnitude,
80 triangular mel bands (HTK mel scale) from 27.5 Hz to 8000 Hz, natural log of
``max(x, 1e-7)``.

Frames are not centred: frame ``t`` covers samples ``[t * 315, t * 315 + 1024)``
and its centre lies at ``(t * 315 + 512) / 22050`` seconds.

The functions are small and compose (``stft -> magnitude -> mel -> log``);
``LogMel`` wraps them as a Keras layer so the front-end can sit inside exported
models. Only core TF ops are used, so TF Serving can run the graphs.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from vocal_xai.errors import ParameterError

SAMPLE_RATE = 22050
FRAME_LENGTH = 1024
HOP_LENGTH = 315
NUM_MEL_BANDS = 80
FMIN = 27.5
FMAX = 8000.0
LOG_FLOOR = 1e-7
EXCERPT_FRAMES = 115
FRAME_RATE = SAMPLE_RATE / HOP_LENGTH  # 70 frames/s
LOG_MEL_MIN = math.log(LOG_FLOOR)


def num_frames(num_samples):
    """Number of STFT frames for ``num_samples`` samples (no padding)."""
    if num_samples < FRAME_LENGTH:
        return 0
    return 1 + (num_samples - FRAME_LENGTH) // HOP_LENGTH


def frame_times(n_frames):
    """Centre time in seconds of each frame. [shape=(n_frames,)]"""
    return (np.arange(n_frames) * HOP_LENGTH + FRAME_LENGTH / 2) / SAMPLE_RATE


def mel_filterbank(
    num_bands=NUM_MEL_BANDS,
    frame_length=FRAME_LENGTH,
    sample_rate=SAMPLE_RATE,
    fmin=FMIN,
    fmax=FMAX,
    dtype=tf.float32,
):
    """Triangular mel filterbank. [shape=(frame_length // 2 + 1, num_bands)]"""
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ParameterError(
            "Expected 0 <= fmin < fmax <= sample_rate / 2. "
            f"Received: fmin={fmin}, fmax={fmax}, sample_rate={sample_rate}"
        )
    return tf.signal.linear_to_mel_weight_matrix(
        num_mel_bins=num_bands,
        num_spectrogram_bins=frame_length // 2 + 1,
        sample_rate=sample_rate,
        lower_edge_hertz=fmin,
        upper_edge_hertz=fmax,
        dtype=dtype,
    )


def stft(waveform, frame_length=FRAME_LENGTH, hop_length=HOP_LENGTH):
    """Complex STFT with a periodic Hann window.

    Args:
        waveform: float32 audio. [shape=(..., samples)]

    Returns:
        complex64 spectrum. [shape=(..., frames, frame_length // 2 + 1)]
    """
    return tf.signal.stft(
        waveform,
        frame_length=frame_length,
        frame_step=hop_length,
        fft_length=frame_length,
        window_fn=tf.signal.hann_window,
        pad_end=False,
    )


def magnitude(spectrum):
    """Absolute value of a complex spectrum."""
    return tf.abs(spectrum)


def mel(spec_magnitude, filterbank=None):
    """Apply a mel filterbank to a magnitude spectrum on its last axis."""
    if filterbank is None:
        filterbank = mel_filterbank(dtype=spec_magnitude.dtype)
    return tf.tensordot(spec_magnitude, filterbank, axes=1)


def log_compress(x, floor=LOG_FLOOR):
    """Natural log of ``max(x, floor)``."""
    return tf.math.log(tf.maximum(x, floor))


def log_mel(waveform):
    """Waveform at 22050 Hz to log-mel.

    Args:
        waveform: float32 mono audio. [shape=(..., samples)]

    Returns:
        float32 log-mel, in nats, floored at log(1e-7).
        [shape=(..., frames, 80)]
    """
    waveform = tf.convert_to_tensor(waveform, tf.float32)
    return log_compress(mel(magnitude(stft(waveform))))


@keras.saving.register_keras_serializable(package="vocal_xai")
class LogMel(keras.layers.Layer):
    """Keras layer: waveform ``[batch, samples]`` -> log-mel ``[batch, frames, 80]``.

    The filterbank is fixed and built once; the layer has no weights.
    """

    def __init__(self, **kwargs):
        kwargs["trainable"] = False
        super().__init__(**kwargs)
        self._filterbank = mel_filterbank()

    def call(self, waveform):
        waveform = tf.cast(waveform, tf.float32)
        return log_compress(mel(magnitude(stft(waveform)), self._filterbank))

    def compute_output_shape(self, input_shape):
        samples = input_shape[-1]
        frames = None if samples is None else num_frames(samples)
        return tuple(input_shape[:-1]) + (frames, NUM_MEL_BANDS)
