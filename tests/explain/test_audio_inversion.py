import numpy as np
import pytest

from vocal_xai import spectral
from vocal_xai.explain import audio


@pytest.mark.slow
def test_inversion_recovers_a_tone(tmp_path):
    t = np.arange(int(1.6 * 22050)) / 22050
    y = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    log_mel = spectral.log_mel(y).numpy()
    back = audio.log_mel_to_audio(log_mel, n_iter=30)
    assert np.max(np.abs(back)) == np.float32(0.9)
    # The tone is what is loud, not a click at an edge: a steady tone's
    # crest factor is about sqrt(2) (1.79 measured; 145 with the inverse
    # STFT's edge samples left as they are).
    rms = np.sqrt(np.mean(back**2))
    assert rms > 0.4 and np.max(np.abs(back)) / rms < 2.5
    edge = spectral.FRAME_LENGTH
    assert np.max(np.abs(back[:edge])) < 0.9 and np.max(np.abs(back[-edge:])) < 0.9
    spectrum = np.abs(np.fft.rfft(back * np.hanning(back.size)))
    freqs = np.fft.rfftfreq(back.size, 1 / 22050)
    assert abs(freqs[np.argmax(spectrum)] - 440) < 15
    # Its log-mel is close to the original's where there is energy.
    again = spectral.log_mel(back).numpy()
    n = min(len(again), len(log_mel))
    top = log_mel[:n] > log_mel.max() - 5
    shift = np.mean(again[:n][top] - log_mel[:n][top])  # the peak normalisation
    assert np.mean(np.abs(again[:n][top] - log_mel[:n][top] - shift)) < 0.5
    path = audio.write_wav(tmp_path / "x.wav", back)
    assert path.stat().st_size > 40000


def test_write_wav_keeps_the_samples_at_the_sample_rate(tmp_path):
    import soundfile as sf

    y = (0.25 * np.sin(2 * np.pi * 440 * np.arange(2205) / spectral.SAMPLE_RATE)).astype(np.float32)
    path = audio.write_wav(tmp_path / "x.wav", y)
    back, rate = sf.read(path, dtype="float32")
    assert rate == spectral.SAMPLE_RATE == 22050 and back.shape == y.shape
    np.testing.assert_allclose(back, y, atol=1 / 32768)
