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
def evaluation_corpus(tmp_path_factory):
    """``evaluation_corpus(version, splits)``: the splits ``splits`` of the
    synthetic corpus ``version`` (seed 0, the version's default sizes and
    duration), for the cards of the models trained on it. Each split's songs
    are made once per session, byte for byte and numbered as in the whole
    corpus (``make_corpus(splits=...)``), into one folder per version; the
    ``Corpus`` holds only the splits asked for, so reading another raises."""
    roots, made = {}, {}

    def get(version, splits=corpus_lib.SPLITS):
        from vocal_xai.data import synthetic

        splits = tuple(s for s in corpus_lib.SPLITS if s in splits)
        if version not in roots:
            roots[version] = tmp_path_factory.mktemp(f"evaluation_v{version}") / "synthetic"
            made[version] = set()
        missing = tuple(s for s in splits if s not in made[version])
        if missing:
            synthetic.make_corpus(
                roots[version], seed=0, version=version, splits=missing, workers=2
            )
            made[version].update(missing)
        return corpus_lib.read_corpus(roots[version], splits=splits)

    return get


@pytest.fixture(scope="session")
def default_corpus(evaluation_corpus):
    """The train and valid splits of the version 1 synthetic corpus (seed 0),
    as detectors 1-3 and generators 1-2 were trained on: what a generator is
    judged on. The same files as ``defaults.open_corpus`` makes."""
    return evaluation_corpus(1, ("train", "valid"))


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
