"""The detector's test misses by the singer's level against the mix."""

import json
import shutil
import types

import numpy as np
import pytest
import soundfile as sf
from conftest import small_synthetic_corpus

from vocal_xai import spectral
from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import synthetic
from vocal_xai.errors import CorpusError, ParameterError
from vocal_xai.models.detector import evaluation, levels

SR = spectral.SAMPLE_RATE


def _sine(freq, amplitude, seconds=2.0):
    t = np.arange(int(seconds * SR)) / SR
    return amplitude * np.sin(2 * np.pi * freq * t)


def test_frame_levels_is_the_energy_ratio_in_db_per_log_mel_frame():
    vocal, band = _sine(440.0, 0.5), _sine(1000.0, 0.05)
    out = levels.frame_levels(vocal, band)
    assert out.shape == (spectral.num_frames(vocal.size),)
    np.testing.assert_allclose(out, 20.0, atol=0.05)  # 20 log10(0.5 / 0.05)
    # A voice that stops halfway: its silent frames sit far below the band.
    vocal[SR:] = 0.0
    out = levels.frame_levels(vocal, band)
    frame_end = np.arange(out.size) * spectral.HOP_LENGTH + spectral.FRAME_LENGTH
    np.testing.assert_allclose(out[frame_end <= SR], 20.0, atol=0.05)
    assert np.all(out[np.arange(out.size) * spectral.HOP_LENGTH >= SR] < -80.0)
    assert levels.frame_levels(np.zeros(100), np.zeros(100)).shape == (0,)
    with pytest.raises(ParameterError, match=r"\(10,\) and \(12,\)"):
        levels.frame_levels(np.zeros(10), np.zeros(12))


def test_misses_are_counted_in_the_bin_of_their_level():
    calls = [np.array([1, 0, 0, 1, 0]), np.array([0, 1, 1])]
    labels = [np.array([1, 1, 1, 1, 0]), np.array([1, 1, 0])]
    lv = [np.array([-40.0, -40.0, 3.0, 12.0, -99.0]), np.array([3.0, 7.0, 0.0])]
    rows = levels.misses_by_level(calls, labels, lv, edges=(-20.0, 5.0))
    assert [(r.low_db, r.high_db) for r in rows] == [(-np.inf, -20.0), (-20.0, 5.0), (5.0, np.inf)]
    # Vocal frames: two below -20 dB (one missed), two in [-20, 5) (both
    # missed), two at 5 dB and above (none missed); 8 frames in all.
    assert [r.vocal_frames for r in rows] == [2, 2, 2]
    assert [r.missed for r in rows] == [0.5, 1.0, 0.0]
    assert [r.error_share for r in rows] == [1 / 8, 2 / 8, 0.0]
    assert [r.share_of_vocal for r in rows] == pytest.approx([1 / 3] * 3)
    assert [r.label for r in rows] == ["below -20 dB", "-20 to 5 dB", "5 dB and above"]
    # Through JSON and back.
    back = [levels.LevelRow.from_dict(json.loads(json.dumps(levels.row_dict(r)))) for r in rows]
    assert back == rows
    table = levels.format_table(rows)
    assert "-20 to 5 dB" in table and "100.0%" in table and "25.00%" in table
    with pytest.raises(ParameterError, match="increasing edges"):
        levels.misses_by_level(calls, labels, lv, edges=(5.0, -20.0))
    with pytest.raises(ParameterError, match="song 1 with 3, 3 and 2"):
        levels.misses_by_level(calls, labels, [lv[0], lv[1][:2]])


def test_errors_by_kind_count_each_kinds_misses_and_false_alarms():
    calls = [np.array([1, 1, 0, 0]), np.array([0, 0, 0, 1, 1, 1]), np.array([1, 0])]
    labels = [np.array([1, 1, 1, 0]), np.array([0, 0, 0, 0, 1, 1]), np.array([0, 0])]
    rows = levels.errors_by_kind(calls, labels, ["solo", "sampled", "solo"])
    assert [r.kind for r in rows] == ["solo", "sampled"]
    solo, sampled = rows
    # solo: 3 vocal frames, 1 missed; 3 non-vocal, 1 called vocal (song 3).
    assert (solo.songs, solo.vocal_frames, solo.non_vocal_frames) == (2, 3, 3)
    assert solo.missed == pytest.approx(1 / 3) and solo.false_alarms == pytest.approx(1 / 3)
    assert solo.error == pytest.approx(2 / 6)
    assert (sampled.missed, sampled.false_alarms, sampled.error) == (0.0, 0.25, 1 / 6)
    table = levels.format_kind_table(rows)
    assert "sampled" in table.splitlines()[2] and "25.0%" in table.splitlines()[2]
    with pytest.raises(ParameterError, match="as many songs"):
        levels.errors_by_kind(calls, labels, ["solo"])
    with pytest.raises(ParameterError, match="song 1 with 6 and 5"):
        levels.errors_by_kind(calls, [labels[0], labels[1][:5], labels[2]], ["a", "b", "c"])


def test_decide_keeps_the_filtered_calls_that_evaluate_counts(monkeypatch):
    def split(*labels):
        return types.SimpleNamespace(features=list(labels), labels=[np.array(x) for x in labels])

    valid, test = split([0] * 60 + [1] * 60), split([1] * 50 + [0] * 70, [0] * 80)

    def probabilities(model, features):
        out = [0.1 + 0.8 * np.array(f, float) for f in features]
        if len(features) == 2:
            out[1][40] = 0.95  # one frame: the median filter removes it
        return out

    monkeypatch.setattr(evaluation, "song_probabilities", probabilities)
    d = evaluation.decide("model", valid, test, median_frames=5)
    assert d.threshold == pytest.approx(0.1)  # the lowest with no error on valid
    assert d.test_raw[1][40] == 0.95
    calls = d.calls()
    assert [c.shape for c in calls] == [(120,), (80,)]
    np.testing.assert_array_equal(np.concatenate(calls), np.concatenate(test.labels) > 0)
    metrics = evaluation.evaluate("model", valid, test, median_frames=5)
    assert metrics == evaluation.decision_metrics(d, test.labels)
    assert metrics["test"]["error"] == 0.0
    assert metrics["test_unfiltered"]["error"] == pytest.approx(1 / 200)


@pytest.fixture(scope="module")
def corpus_v2(shared_tmp):
    return small_synthetic_corpus(
        shared_tmp / "levels" / "v2", version=2, seed=5, train=1, duration=6.0
    )


@pytest.mark.slow
def test_synthetic_levels_come_from_the_songs_made_again(corpus_v2, tmp_path):
    songs = corpus_lib.read_corpus(corpus_v2, splits=("test",))
    (name,) = [s.name for s in songs.songs("test")]
    out = {n: levels.song_levels(m) for n, m in levels.synthesize_again(songs, "test").items()}
    made = synthetic.synthesize_song(5, int(name[4:]), 6.0, version=2)
    np.testing.assert_array_equal(
        out[name], levels.frame_levels(made.vocal, made.audio - made.vocal)
    )
    labels = songs.songs("test")[0].frame_labels(out[name].size).astype(bool)
    assert labels.any() and (~labels).any()
    # The singer sounds in the sung segments, and is silent outside them but
    # for the room's tail.
    assert np.median(out[name][labels]) > -10.0
    assert np.median(out[name][~labels]) < np.median(out[name][labels]) - 60.0

    # A corpus whose audio was changed after it was made is refused.
    changed = tmp_path / "changed"
    shutil.copytree(corpus_v2, changed)
    path = changed / "audio" / f"{name}.flac"
    audio, rate = sf.read(path)
    sf.write(path, audio * 0.5, rate, subtype="PCM_16")
    with pytest.raises(CorpusError, match=f"{name}.flac: expected the song that seed 5"):
        levels.synthesize_again(corpus_lib.read_corpus(changed, splits=("test",)), "test")
    # A corpus without synthetic.json (a real one, or a version 1 corpus).
    (changed / "synthetic.json").unlink()
    with pytest.raises(CorpusError, match="synthetic.json: expected a synthetic corpus"):
        levels.synthesize_again(corpus_lib.read_corpus(changed, splits=("test",)), "test")


@pytest.mark.slow
def test_the_detector_evaluation_counts_its_test_misses_by_level(corpus_v2):
    from vocal_xai.data import pipeline
    from vocal_xai.models.detector import SVDNet, task

    songs = corpus_lib.read_corpus(corpus_v2)
    train = pipeline.load_split(songs, "train")
    model = SVDNet.from_preset("svdnet_tiny", *pipeline.band_stats(train.features))
    metrics = task.evaluate(model, songs, by_level=True)
    valid, test = pipeline.load_split(songs, "valid"), pipeline.load_split(songs, "test")
    made = levels.synthesize_again(songs, "test")
    by_song = {n: levels.song_levels(m) for n, m in made.items()}
    want = levels.misses_by_level(
        evaluation.decide(model, valid, test).calls(),
        test.labels,
        [by_song[n] for n in test.names],
    )
    assert metrics["test_by_level"] == [levels.row_dict(r) for r in want]
    rows = [levels.LevelRow.from_dict(r) for r in metrics["test_by_level"]]
    assert sum(r.vocal_frames for r in rows) == int(np.concatenate(test.labels).sum())
    # The misses of every bin add up to the test split's missed vocal frames.
    recall = metrics["test"]["recall"]
    missed = sum(r.missed * r.vocal_frames for r in rows)
    assert missed == pytest.approx((1 - recall) * sum(r.vocal_frames for r in rows))
    # By kind of voice: version 2 has solo singers and unsung songs only, and
    # the rows add up to the split's errors.
    kinds = {r["kind"]: levels.KindRow(**r) for r in metrics["test_by_kind"]}
    assert set(kinds) == {made[n].voice_kind for n in test.names} <= {"solo", "none"}
    frames = sum(r.vocal_frames + r.non_vocal_frames for r in kinds.values())
    assert frames == sum(len(y) for y in test.labels)
    errors = sum(r.error * (r.vocal_frames + r.non_vocal_frames) for r in kinds.values())
    assert errors == pytest.approx(metrics["test"]["error"] * frames)
    assert "test_by_level" not in task.evaluate(model, songs)
    assert "test_by_kind" not in task.evaluate(model, songs)
