import librosa
import numpy as np
import pytest
import tensorflow as tf

from vocal_xai import spectral
from vocal_xai.errors import ParameterError


def _reference_log_mel(y):
    """librosa STFT magnitude (no centring, periodic Hann) -> same filterbank -> log."""
    mag = np.abs(
        librosa.stft(
            y.astype(np.float64),
            n_fft=spectral.FRAME_LENGTH,
            hop_length=spectral.HOP_LENGTH,
            window="hann",
            center=False,
        )
    ).T
    fb = spectral.mel_filterbank(dtype=tf.float64).numpy()
    return np.log(np.maximum(mag @ fb, spectral.LOG_FLOOR))


@pytest.mark.parametrize("seed", [0, 1])
def test_log_mel_matches_librosa_reference(seed):
    rng = np.random.default_rng(seed)
    t = np.arange(3 * spectral.SAMPLE_RATE) / spectral.SAMPLE_RATE
    y = 0.3 * np.sin(2 * np.pi * 330 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    y = (y + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    ours = spectral.log_mel(y).numpy()
    ref = _reference_log_mel(y)
    assert ours.shape == ref.shape == (spectral.num_frames(y.size), 80)
    above = ref > np.log(spectral.LOG_FLOOR) + 1e-3
    assert above.mean() > 0.9
    assert np.max(np.abs(ours[above] - ref[above])) <= 1e-3


def test_filterbank_shape_and_range():
    fb = spectral.mel_filterbank().numpy()
    assert fb.shape == (513, 80)
    freqs = np.arange(513) * spectral.SAMPLE_RATE / spectral.FRAME_LENGTH
    # Nothing above 8 kHz or below 27.5 Hz, and every band has weight.
    assert np.all(fb[freqs > spectral.FMAX] == 0)
    assert np.all(fb[freqs < spectral.FMIN] == 0)
    assert np.all(fb.sum(axis=0) > 0)


def test_frame_count_and_times():
    assert spectral.num_frames(1023) == 0
    assert spectral.num_frames(1024) == 1
    assert spectral.num_frames(1024 + 315) == 2
    np.testing.assert_allclose(spectral.frame_times(2), [512 / 22050, 827 / 22050])
    assert spectral.FRAME_RATE == pytest.approx(70.0)


def test_silence_is_floored():
    out = spectral.log_mel(np.zeros(4096, np.float32)).numpy()
    np.testing.assert_allclose(out, np.log(1e-7), rtol=0, atol=1e-6)


def test_layer_matches_function_and_batches():
    rng = np.random.default_rng(3)
    y = rng.standard_normal((2, 5000)).astype(np.float32) * 0.1
    layer = spectral.LogMel()
    out = layer(y).numpy()
    assert out.shape == (2, spectral.num_frames(5000), 80)
    assert layer.compute_output_shape((None, 5000)) == (None, spectral.num_frames(5000), 80)
    np.testing.assert_allclose(out[1], spectral.log_mel(y[1]).numpy(), atol=1e-6)
    clone = spectral.LogMel.from_config(layer.get_config())
    np.testing.assert_allclose(clone(y).numpy(), out, atol=0)


def test_bad_filterbank_range():
    with pytest.raises(ParameterError, match="fmax=20000"):
        spectral.mel_filterbank(fmax=20000)
