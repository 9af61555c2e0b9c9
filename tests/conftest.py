"""Shared fixtures: quiet TF logs, fixed seeds, small corpora."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pathlib

import numpy as np
import pytest
import soundfile as sf

from vocal_xai.data import corpus as corpus_lib


def write_song(root, name, audio, rate, segments, fmt="flac", subtype="PCM_16"):
    """Write one song of a Jamendo-layout corpus under ``root``."""
    root = pathlib.Path(root)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    (root / "labels").mkdir(parents=True, exist_ok=True)
    sf.write(root / "audio" / f"{name}.{fmt}", audio, rate, subtype=subtype)
    (root / "labels" / f"{name}.lab").write_text(corpus_lib.format_lab(segments))


def write_filelists(root, splits):
    root = pathlib.Path(root)
    (root / "filelists").mkdir(parents=True, exist_ok=True)
    for split, names in splits.items():
        (root / "filelists" / split).write_text("".join(n + "\n" for n in names))


def tone_song(seconds, rate=22050, seed=0, freq=440.0):
    """A tone plus a little noise, float32 [samples]."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(t.size)).astype(
        np.float32
    )


@pytest.fixture
def tiny_corpus(tmp_path):
    """Three 6-second songs, one per split; sing from 2 s to 4 s."""
    S = corpus_lib.Segment
    segments = (S(0.0, 2.0, False), S(2.0, 4.0, True), S(4.0, 6.0, False))
    for i, split in enumerate(corpus_lib.SPLITS):
        write_song(tmp_path, f"s{i}", tone_song(6.0, seed=i), 22050, segments)
    write_filelists(tmp_path, {split: [f"s{i}"] for i, split in enumerate(corpus_lib.SPLITS)})
    return tmp_path


@pytest.fixture(scope="session")
def default_corpus(tmp_path_factory):
    """The synthetic default corpus (seed 0), as the shipped models were trained on."""
    from vocal_xai.data import defaults

    return defaults.open_corpus(None, tmp_path_factory.mktemp("default") / "synthetic")
