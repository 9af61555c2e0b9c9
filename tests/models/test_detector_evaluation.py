import types

import numpy as np
import pytest

from vocal_xai.errors import ParameterError
from vocal_xai.models.detector import evaluation


def test_median_smooth_matches_numpy_in_the_interior():
    p = np.random.default_rng(0).uniform(size=300)
    out = evaluation.median_smooth(p, 5)
    for i in range(10, 290):
        assert out[i] == pytest.approx(np.median(p[i - 2 : i + 3]))
    # A short spike inside a long run disappears with the paper's 56 frames.
    spiky = np.zeros(400)
    spiky[200:220] = 1.0
    assert evaluation.median_smooth(spiky).max() == 0.0


def test_binary_metrics_known_values():
    pred = np.array([1, 1, 0, 0, 1, 0])
    true = np.array([1, 0, 0, 1, 1, 0])
    m = evaluation.binary_metrics(pred, true)
    assert m["error"] == pytest.approx(2 / 6)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    with pytest.raises(ParameterError, match=r"\(3,\) and \(2,\)"):
        evaluation.binary_metrics([1, 0, 1], [1, 0])


def test_pick_threshold_separates_classes():
    probs = np.array([0.1, 0.2, 0.35, 0.6, 0.7, 0.9])
    labels = np.array([0, 0, 0, 1, 1, 1])
    t = evaluation.pick_threshold(probs, labels)
    assert 0.35 <= t < 0.6
    assert evaluation.binary_metrics(probs > t, labels)["error"] == 0.0


def test_frame_error_counts_every_frame_of_every_song_at_the_threshold(monkeypatch):
    split = types.SimpleNamespace(
        features=["song a", "song b"], labels=[np.array([0, 1, 1]), np.array([1, 0])]
    )
    probabilities = [np.array([0.2, 0.7, 0.4]), np.array([0.9, 0.6])]
    monkeypatch.setattr(evaluation, "song_probabilities", lambda model, features: probabilities)
    assert evaluation.frame_error("model", split) == pytest.approx(2 / 5)
    assert evaluation.frame_error("model", split, threshold=0.3) == pytest.approx(1 / 5)


def test_song_probabilities_reuses_one_compiled_pass_per_model():
    import gc

    from vocal_xai.models.detector.svdnet_backbone import SVDNet

    rng = np.random.default_rng(0)
    model = SVDNet.from_preset("svdnet_tiny", np.zeros(80), np.ones(80))
    songs = [rng.normal(size=(n, 80)).astype(np.float32) for n in (130, 171, 150)]
    first = evaluation.song_probabilities(model, songs)
    traces = evaluation._SONG_PROBABILITY_FNS[model].experimental_get_tracing_count()
    again = evaluation.song_probabilities(model, songs[::-1])
    assert evaluation._SONG_PROBABILITY_FNS[model].experimental_get_tracing_count() == traces
    for a, b in zip(first, again[::-1]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert [len(p) for p in first] == [130, 171, 150]
    # The cache does not keep a model alive (other tests' models may go in
    # the same collection).
    import weakref

    before, alive = len(evaluation._SONG_PROBABILITY_FNS), weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None and len(evaluation._SONG_PROBABILITY_FNS) <= before - 1
