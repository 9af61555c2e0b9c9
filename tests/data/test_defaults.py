"""Tests of the corpus a recipe uses by default."""

import pytest

from vocal_xai.data import defaults, synthetic
from vocal_xai.errors import ParameterError


@pytest.mark.slow
def test_an_existing_default_corpus_must_hold_the_version_asked_for(tmp_path):
    root = synthetic.make_corpus(
        tmp_path / "corpus",
        seed=0,
        split_sizes={"train": 1, "valid": 1, "test": 1},
        duration=6.0,
        workers=1,
    )
    assert synthetic.corpus_info(root)["version"] == synthetic.DEFAULT_VERSION == 2
    songs = defaults.open_corpus(None, root)
    assert [s.name for s in songs.splits["test"]] == ["song002"]
    with pytest.raises(
        ParameterError, match=r"version 1 with seed 0\. Received: version 2, seed 0"
    ):
        defaults.open_corpus(None, root, version=1)
    with pytest.raises(
        ParameterError, match=r"version 2 with seed 5\. Received: version 2, seed 0"
    ):
        defaults.open_corpus(None, root, seed=5)


@pytest.mark.slow
def test_a_version_1_folder_has_no_info_file_and_counts_as_version_1(tmp_path):
    root = synthetic.make_corpus(
        tmp_path / "v1",
        seed=0,
        split_sizes={"train": 1, "valid": 0, "test": 0},
        duration=6.0,
        workers=1,
        version=1,
    )
    assert synthetic.corpus_info(root) is None
    with pytest.raises(ParameterError, match="Received: version 1, seed unrecorded"):
        defaults.open_corpus(None, root)


def test_a_given_corpus_is_read_as_it_is_and_no_default_is_made(tiny_corpus, tmp_path):
    default_dir = tmp_path / "default"
    corpus = defaults.open_corpus(tiny_corpus, default_dir)
    assert [s.name for s in corpus.songs("train")] == ["s0"]
    assert [s.name for s in corpus.songs("test")] == ["s2"]
    assert not default_dir.exists()


@pytest.mark.slow
def test_splits_are_made_when_asked_for_and_end_as_a_whole_corpus(tmp_path, monkeypatch):
    from vocal_xai.data.synthetic import v2

    monkeypatch.setattr(v2, "DEFAULT_SPLIT_SIZES", {"train": 1, "valid": 1, "test": 1})
    root = tmp_path / "cache" / "synthetic-v2"
    songs = defaults.open_corpus(None, root, version=2, splits=("valid",))
    assert list(songs.splits) == ["valid"] and [s.name for s in songs.songs("valid")] == ["song001"]
    assert sorted(p.name for p in (root / "filelists").iterdir()) == ["valid"]
    assert synthetic.corpus_info(root)["splits"] == ["valid"]
    valid_audio = (root / "audio" / "song001.flac").stat()

    # A split asked for later joins the folder; the valid song stays as it is.
    songs = defaults.open_corpus(None, root, version=2, splits=("train", "valid"))
    assert [s.name for s in songs.songs("train")] == ["song000"]
    assert (root / "audio" / "song001.flac").stat().st_mtime_ns == valid_audio.st_mtime_ns
    assert synthetic.corpus_info(root)["splits"] == ["train", "valid"]

    # Every split: the same files, byte for byte, as the corpus made whole.
    defaults.open_corpus(None, root, version=2)
    whole = synthetic.make_corpus(tmp_path / "whole", seed=0, version=2, workers=1)
    files = sorted(p.relative_to(whole) for p in whole.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert "splits" not in synthetic.corpus_info(root)
    for name in files:
        assert (root / name).read_bytes() == (whole / name).read_bytes(), name
