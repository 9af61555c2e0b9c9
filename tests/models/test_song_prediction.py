import numpy as np
import pytest

from vocal_xai import spectral
from vocal_xai.models.detector import SVDNet, song


@pytest.mark.parametrize("preset, frames", [("svdnet_tiny", 260), ("svdnet_paper", 150)])
def test_whole_song_equals_sliding_excerpts(preset, frames):
    rng = np.random.default_rng(0)
    model = SVDNet.from_preset(preset, rng.normal(-4, 1, 80), rng.uniform(0.5, 2, 80))
    log_mel = rng.normal(-4, 2, (frames, 80)).astype(np.float32)
    fast = song.song_outputs(model, log_mel[None])
    excerpts = song.padded_excerpts(log_mel)
    assert excerpts.shape == (frames, 115, 80)
    slow = model.predict(excerpts, batch_size=64, verbose=0)
    np.testing.assert_allclose(fast["logit"][0], slow["logit"][:, 0], atol=1e-4, rtol=0)
    np.testing.assert_allclose(fast["probability"][0], slow["probability"][:, 0], atol=1e-4)
    last = model.embedding_names[-1]
    np.testing.assert_allclose(fast[last][0], slow[last], atol=1e-4)
    assert np.std(slow["logit"]) > 1e-3  # the comparison is not between constants


def test_padding_is_silence():
    excerpts = song.padded_excerpts(np.zeros((10, 80), np.float32)).numpy()
    assert np.all(excerpts[0, :57] == np.float32(spectral.LOG_MEL_MIN))
    assert np.all(excerpts[0, 57:67] == 0.0)
    assert np.all(excerpts[9, 67:] == np.float32(spectral.LOG_MEL_MIN))


def test_batch_of_songs():
    rng = np.random.default_rng(1)
    model = SVDNet.from_preset("svdnet_tiny", np.zeros(80), np.ones(80))
    songs = rng.normal(0, 1, (2, 130, 80)).astype(np.float32)
    both = song.song_outputs(model, songs)["logit"].numpy()
    assert both.shape == (2, 130)
    np.testing.assert_allclose(both[1], song.song_outputs(model, songs[1:])["logit"][0], atol=1e-5)
