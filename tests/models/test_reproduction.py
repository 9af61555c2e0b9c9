"""Reproduction checks: the small corpus a published model's check names,
and the figures publishing records for the tests to recompute."""

import json
import pathlib
import sys

import keras
import numpy as np
import pytest
import soundfile as sf
from helpers import random_band_stats, run_ok

from vocal_xai import zoo
from vocal_xai.data import pipeline, synthetic
from vocal_xai.errors import ParameterError
from vocal_xai.models import reproduction
from vocal_xai.models.dcgan import PRESETS, Generator
from vocal_xai.models.dcgan import task as gan_task
from vocal_xai.models.detector import SVDNet
from vocal_xai.models.detector import task as detector_task

ROOT = pathlib.Path(__file__).resolve().parents[2]
DURATION = 8.0


@pytest.fixture
def small_checks(monkeypatch):
    """Check corpora of one 8-second song per split."""
    monkeypatch.setattr(reproduction, "CHECK_SPLIT_SIZES", {"train": 1, "valid": 1, "test": 1})
    monkeypatch.setattr(reproduction, "CHECK_DURATION", DURATION)


def test_a_check_corpus_record(small_checks):
    record = reproduction.corpus_record(2, ("test", "valid"), seed=5)
    assert record == {
        "version": 2,
        "seed": 5,
        "split_sizes": {"train": 1, "valid": 1, "test": 1},
        "duration": DURATION,
        "splits": ["valid", "test"],
    }
    assert json.loads(json.dumps(record)) == record


@pytest.mark.slow
def test_the_check_corpus_is_the_songs_its_record_names(small_checks):
    record = reproduction.corpus_record(2, ("test", "valid"), seed=5)
    seen = {}

    def compute(songs):
        seen["root"] = songs.root
        names = {split: [s.name for s in songs.songs(split)] for split in record["splits"]}
        return names, sf.read(songs.songs("test")[0].audio_path, dtype="float32")[0]

    names, audio = reproduction.run_check(record, compute)
    # Numbered as in a corpus of these split sizes: train song000, valid
    # song001, test song002; only the record's splits are written.
    assert names == {"valid": ["song001"], "test": ["song002"]}
    expected = synthetic.synthesize_song(5, 2, DURATION, 2).audio
    np.testing.assert_allclose(audio, expected, atol=1.01 / 32768)
    assert not pathlib.Path(seen["root"]).exists()  # a temporary folder, removed


def _tiny_detector(seed=0):
    keras.utils.set_random_seed(seed)
    return SVDNet.from_preset("svdnet_tiny", *random_band_stats(seed))


@pytest.mark.slow
def test_publish_a_detector_with_its_check(small_checks, tmp_path):
    info = {"version": 1, "seed": 0, "split_sizes": {"train": 2, "valid": 1, "test": 1}}
    run = detector_task.export_detector(
        _tiny_detector(), tmp_path / "run", {"synthetic_corpus": info, "note": "kept"}
    )
    (tmp_path / "zoo" / "detector" / "4").mkdir(parents=True)  # an older version stays
    published = detector_task.publish(run, tmp_path / "zoo")
    assert published == tmp_path / "zoo" / "detector" / "5"
    assert sorted(p.name for p in (tmp_path / "zoo" / "detector").iterdir()) == ["4", "5"]
    metadata = zoo.metadata(published)
    assert metadata["note"] == "kept" and metadata["synthetic_corpus"] == info

    # The check is the evaluation on the record's corpus, which anyone can
    # make again; the published detector reproduces it.
    check = metadata["check"]
    assert check["corpus"] == reproduction.corpus_record(1, ("valid", "test"), 0)
    songs = reproduction.make_check_corpus(check["corpus"], tmp_path / "check")
    assert check["metrics"] == detector_task.evaluate(_tiny_detector(), songs)
    again = detector_task.reproduction_check(zoo.load_detector(str(published)), check["corpus"])
    assert again == check
    assert 0.0 <= check["metrics"]["test"]["error"] <= 1.0


@pytest.mark.slow
def test_publish_detector_tool(tmp_path):
    """Without a synthetic corpus there is nothing to remake: no check; a
    folder without a detector is refused."""
    run = detector_task.export_detector(_tiny_detector(), tmp_path / "run", {"corpus": "mine"})
    tool = [sys.executable, str(ROOT / "tools" / "publish_detector.py")]
    out = run_ok([*tool, f"--version_dir={run}", f"--export_base={tmp_path / 'zoo'}"])
    published = tmp_path / "zoo" / "detector" / "1"
    assert f"Published {published}" in out.stdout
    assert zoo.metadata(published)["corpus"] == "mine" and "check" not in zoo.metadata(published)
    # A chosen version may leave a gap; a version that exists is refused.
    out = run_ok(
        [*tool, f"--version_dir={run}", f"--export_base={tmp_path / 'zoo'}", "--version=3"]
    )
    assert f"Published {tmp_path / 'zoo' / 'detector' / '3'}" in out.stdout
    assert sorted(p.name for p in (tmp_path / "zoo" / "detector").iterdir()) == ["1", "3"]
    with pytest.raises(ParameterError, match="version"):
        detector_task.publish(run, tmp_path / "zoo", version=3)
    with pytest.raises(ParameterError, match="Expected a Keras architecture"):
        detector_task.publish(tmp_path / "empty", tmp_path / "zoo")


@pytest.mark.slow
def test_a_generator_check_is_its_evaluation_on_the_check_corpus(small_checks, tmp_path):
    mean, std = random_band_stats()
    keras.utils.set_random_seed(0)
    generator = Generator(mean, std, **PRESETS["dcgan_tiny_conditional"]["generator"])
    detector = _tiny_detector()
    record = reproduction.corpus_record(1, ("train", "valid"), 0)
    options = {**gan_task.CHECK_OPTIONS, "num_samples": 30, "seed": 3}
    check = gan_task.reproduction_check(generator, detector, record, options)
    assert check["corpus"] == record and check["options"] == options
    assert set(check["evaluation"]) == {"non_vocal", "vocal"}

    songs = reproduction.make_check_corpus(record, tmp_path / "check")
    report = gan_task.evaluate(generator, detector, songs, **options)
    for name, row in check["evaluation"].items():
        assert row == {key: report[name][key] for key in gan_task.CHECK_FIGURES}
        assert row["samples"] <= 30
        assert all(np.isfinite(row[k]) and row[k] >= 0.0 for k in ("generator", "floor", "ceiling"))
    # The check corpus really is that small: one song per split.
    assert len(pipeline.load_split(songs, "train").names) == 1
