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
