"""Log-mel excerpts back to audio: exp, mel pseudo-inverse (non-negative least
squares against the front-end's own filterbank), Griffin-Lim (librosa)."""

import librosa
import numpy as np
import soundfile as sf

from vocal_xai import spectral


def log_mel_to_audio(log_mel, n_iter=100, seed=0):
    """Invert a raw log-mel excerpt to a waveform at 22050 Hz.

    Args:
        log_mel: natural-log mel magnitudes. [shape=(frames, 80)]
        n_iter: Griffin-Lim iterations (the paper uses 100).

    Returns:
        float32 waveform, peak-normalised to 0.9 unless silent.
    """
    mel = np.exp(np.asarray(log_mel, np.float64)).T  # [80, frames]
    basis = spectral.mel_filterbank().numpy().T.astype(np.float64)  # [80, 513]
    magnitude = librosa.util.nnls(basis, mel)  # [513, frames]
    # The front-end's STFT, which the inversion and its window envelope share.
    stft = dict(
        hop_length=spectral.HOP_LENGTH,
        n_fft=spectral.FRAME_LENGTH,
        win_length=spectral.FRAME_LENGTH,
        window="hann",
    )
    audio = librosa.griffinlim(magnitude, n_iter=n_iter, center=False, random_state=seed, **stft)
    # Without centring, the first and last samples are covered by the tails
    # of one or two windows only, and the inverse STFT divides them by a
    # window envelope near 0: clicks thousands of times louder than the
    # excerpt, which the peak normalisation would then scale to 0.9 and so
    # leave the excerpt itself nearly silent. Multiplying by the envelope
    # over its lowest value where windows fully overlap undoes that division
    # at the edges only, which then fade in and out as the windows do.
    envelope = librosa.filters.window_sumsquare(
        n_frames=magnitude.shape[1], dtype=np.float64, **stft
    )[: len(audio)]
    inside = envelope[spectral.FRAME_LENGTH : len(envelope) - spectral.FRAME_LENGTH]
    if inside.size:
        audio = audio * np.minimum(envelope / np.min(inside), 1.0)
    peak = np.max(np.abs(audio))
    if peak > 0:
        audio = 0.9 * audio / peak
    return audio.astype(np.float32)


def write_wav(path, audio):
    sf.write(str(path), audio, spectral.SAMPLE_RATE, subtype="PCM_16")
    return path
