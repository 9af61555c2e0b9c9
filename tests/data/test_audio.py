import numpy as np
import pytest
import soundfile as sf

from vocal_xai import spectral
from vocal_xai.data import audio
from vocal_xai.errors import AudioDecodeError


def _chirp(rate, seconds=2.0, channels=1):
    t = np.arange(int(rate * seconds)) / rate
    y = 0.5 * np.sin(2 * np.pi * 440.0 * t)
    return np.stack([y * (1.0 if c == 0 else 0.5) for c in range(channels)], axis=1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "fmt, subtype, rate, channels",
    [
        ("wav", "PCM_16", 22050, 1),
        ("wav", "PCM_24", 48000, 2),
        ("wav", "FLOAT", 16000, 1),
        ("flac", "PCM_16", 44100, 2),
        ("flac", "PCM_24", 22050, 1),
        ("ogg", "VORBIS", 44100, 2),
        ("mp3", "MPEG_LAYER_III", 44100, 1),
    ],
)
def test_any_format_rate_and_channels_become_mono_22050(tmp_path, fmt, subtype, rate, channels):
    path = tmp_path / f"x.{fmt}"
    data = _chirp(rate, channels=channels)
    sf.write(path, data, rate, subtype=subtype)
    info = audio.audio_info(path)
    assert info.sample_rate == rate and info.channels == channels
    y = audio.load_audio(path)
    # Length follows the rate change (mp3 encoders add a little padding).
    expected = data.shape[0] * spectral.SAMPLE_RATE / rate
    assert abs(y.size - expected) <= (2500 if fmt == "mp3" else 2)
    # Mixed to mono: the mean of the channels; a 440 Hz tone survives resampling.
    mono_peak = 0.5 * np.mean([1.0 if c == 0 else 0.5 for c in range(channels)])
    lossy = fmt in ("ogg", "mp3")
    assert np.max(np.abs(y[2000:-2000])) == pytest.approx(mono_peak, rel=0.1 if lossy else 0.01)
    spectrum = np.abs(np.fft.rfft(y[:22050]))
    assert np.argmax(spectrum) == pytest.approx(440, abs=2)


def test_garbage_file_names_the_file(tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"\x00\x01garbage" * 100)
    with pytest.raises(AudioDecodeError, match="broken.wav: can't decode audio"):
        audio.audio_info(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_samples_are_refused_with_their_count_and_time(tmp_path, bad):
    path = tmp_path / "holes.wav"
    data = _chirp(22050)[:, 0].astype(np.float32)
    data[[11025, 11026, 20000]] = bad
    sf.write(path, data, 22050, subtype="FLOAT")
    with pytest.raises(
        AudioDecodeError,
        match=r"holes.wav: expected finite samples; received 3 NaN or "
        r"infinite samples at 22050 Hz, the first at 0.500 s",
    ):
        audio.load_audio(path)
