"""Shared fixtures: quiet TF logs, small corpora. Plain helper functions are
in ``helpers``."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


import pytest
from helpers import tone_song, write_filelists, write_song

from vocal_xai.data import corpus as corpus_lib


@pytest.fixture
def tiny_corpus(tmp_path):
    """Three 6-second songs, one per split; sing from 2 s to 4 s."""
    S = corpus_lib.Segment
    segments = (S(0.0, 2.0, False), S(2.0, 4.0, True), S(4.0, 6.0, False))
    for i, _split in enumerate(corpus_lib.SPLITS):
        write_song(tmp_path, f"s{i}", tone_song(6.0, seed=i), 22050, segments)
    write_filelists(tmp_path, {split: [f"s{i}"] for i, split in enumerate(corpus_lib.SPLITS)})
    return tmp_path


@pytest.fixture(scope="session")
def default_corpus(tmp_path_factory):
    """The version 1 synthetic corpus (seed 0), as detectors 1-3 and generators
    1-2 were trained on."""
    from vocal_xai.data import defaults

    return defaults.open_corpus(None, tmp_path_factory.mktemp("default") / "synthetic", version=1)


@pytest.fixture(scope="session")
def evaluation_corpus(tmp_path_factory):
    """``evaluation_corpus(version)``: the whole synthetic corpus ``version``
    (seed 0), made once per session, for the cards of the models trained on
    it."""
    made = {}

    def get(version):
        if version not in made:
            from vocal_xai.data import corpus, synthetic

            root = synthetic.make_corpus(
                tmp_path_factory.mktemp(f"evaluation_v{version}"), seed=0, version=version
            )
            made[version] = corpus.read_corpus(root)
        return made[version]

    return get


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory):
    """Four 8-second synthetic songs: 2 train, 1 valid, 1 test (version 1,
    where every song has singing)."""
    from vocal_xai.data import synthetic

    path = tmp_path_factory.mktemp("small") / "corpus"
    synthetic.make_corpus(
        path,
        seed=3,
        split_sizes={"train": 2, "valid": 1, "test": 1},
        duration=8.0,
        workers=1,
        version=1,
    )
    return path
