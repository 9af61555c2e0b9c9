import numpy as np

from vocal_xai import spectral
from vocal_xai.explain import audio


def test_inversion_recovers_a_tone(tmp_path):
    t = np.arange(int(1.6 * 22050)) / 22050
    y = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    log_mel = spectral.log_mel(y).numpy()
    back = audio.log_mel_to_audio(log_mel, n_iter=30)
    assert np.max(np.abs(back)) == np.float32(0.9)
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
