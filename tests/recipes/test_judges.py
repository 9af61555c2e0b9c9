"""The judge check: every kind of excerpt, scored by every judge."""

import json

import judges
import numpy as np
import pytest

from vocal_xai import zoo
from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import pipeline
from vocal_xai.errors import ParameterError
from vocal_xai.models.dcgan import PRESETS, Generator


def test_markdown_marks_the_best_kind_and_a_judge_that_misses():
    table = {
        "a": {"means": {"real": 0.5, "blurred": 0.2}, "real_first": True},
        "b": {"means": {"real": 0.4, "blurred": 0.6}, "real_first": False},
    }
    lines = judges.markdown(table).splitlines()
    assert lines[0] == "| kind | a | b |"
    assert lines[2] == "| real | **0.500** | 0.400 |"
    assert lines[3] == "| blurred | 0.200 | **0.600** |"
    assert lines[4] == "| real ranked first | yes | **no** |"


@pytest.mark.slow
def test_run_writes_the_table_of_every_kind_and_judge(small_corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("VOCAL_XAI_CACHE", str(tmp_path / "cache"))
    songs = corpus_lib.read_corpus(small_corpus)
    train = pipeline.load_split(songs, "train")
    mean, std = pipeline.band_stats(train.features)
    zoo_dir = tmp_path / "zoo"
    from vocal_xai.models.dcgan import task as gan_task

    gan_task.export_generator(
        Generator(mean, std, **PRESETS["dcgan_tiny_conditional"]["generator"]), zoo_dir, {}
    )
    out = tmp_path / "out"
    table = judges.run_cli(
        str(small_corpus), [str(zoo_dir / "generator" / "1")], out, count=15, command="x"
    )
    kinds = [
        "real",
        "blurred (sigma 1)",
        "blurred (sigma 2)",
        "blurred (sigma 3)",
        "white noise",
        "mean spectrum",
        "generator 1",
    ]
    assert list(table) == list(judges.JUDGES)
    for judge in judges.JUDGES:
        assert list(table[judge]["means"]) == kinds
        assert all(np.isfinite(v) for v in table[judge]["means"].values())
    # The evidence judges score each excerpt for its own class: a fake for
    # the class of the excerpt it was made from, a sample for its condition.
    valid = pipeline.load_split(songs, "valid")
    generator = zoo.load_generator(str(zoo_dir / "generator" / "1"))
    kinds, labels = judges.kinds_of_excerpts(train, valid, {"g": generator}, 16)
    _, y = pipeline.sample_excerpts(valid, 32, seed=0)
    np.testing.assert_array_equal(labels["real"], y[0::2])
    np.testing.assert_array_equal(labels["white noise"], y[1::2])
    np.testing.assert_array_equal(labels["g"], [0] * 8 + [1] * 8)
    assert list(kinds) == list(labels) and all(len(v) == 16 for v in kinds.values())
    # White noise is told from real excerpts by the two-sample classifier.
    assert table["c2st"]["means"]["white noise"] < table["c2st"]["means"]["real"]
    saved = json.loads((out / "judges.json").read_text())
    assert saved["table"] == table and saved["meta"]["count"] == 16
    assert (out / "judges.md").read_text() == judges.markdown(table)
    # An existing folder is refused unless replaced on purpose.
    with pytest.raises(Exception, match="overwrite"):
        judges.run_cli(str(small_corpus), [str(zoo_dir / "generator" / "1")], out, count=15)


def test_evidence_judges_need_one_label_per_excerpt(small_corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("VOCAL_XAI_CACHE", str(tmp_path / "cache"))
    songs = corpus_lib.read_corpus(small_corpus)
    train, test = (pipeline.load_split(songs, s) for s in ("train", "test"))
    x, y = pipeline.sample_excerpts(test, 6, seed=0)
    scores = judges.judges_on(train, test, 6, y)
    by_class = scores["class_evidence"](x)
    assert by_class.shape == (6,) and np.all((by_class >= 0) & (by_class <= 1))
    # Judged for the other class, an excerpt's class evidence is the complement.
    flipped = judges.judges_on(train, test, 6, 1 - y)["class_evidence"](x)
    np.testing.assert_allclose(by_class + flipped, 1.0)
    with pytest.raises(ParameterError, match="Expected 6 excerpts, one per label. Received: 4"):
        scores["voice_evidence"](x[:4])
