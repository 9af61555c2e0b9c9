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

            root = synthetic.make_corpus(tmp_path_factory.mktemp(f"evaluation_v{version}"), seed=0, version=version)
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
        path, seed=3, split_sizes={"train": 2, "valid": 1, "test": 1}, duration=8.0, workers=1, version=1
    )
    return path


def script_env(**extra):
    """Environment of a script run by a test: quiet TF, fixed hash seed."""
    import os

    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0", **extra)


def run_ok(cmd, **kwargs):
    """Run ``cmd``; fail the test with the end of stderr unless it exits 0."""
    import subprocess

    kwargs.setdefault("env", script_env())
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def kill_after_first_checkpoint(cmd, checkpoint_dir, timeout=300):
    """Start ``cmd`` and kill -9 it as soon as a complete checkpoint exists
    (the index file that names it is written last), while it still runs."""
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=script_env())
    deadline = time.time() + timeout
    while not (pathlib.Path(checkpoint_dir) / "checkpoint").exists():
        assert proc.poll() is None, "the run ended before its first checkpoint"
        assert time.time() < deadline, "no checkpoint before the timeout"
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def random_band_stats(seed=0):
    """Plausible per-band log-mel mean and std for building small models."""
    rng = np.random.default_rng(seed)
    return rng.normal(-4.0, 1.0, 80), rng.uniform(0.5, 2.0, 80)


def random_gan_inputs(batch, seed=0, labels=None):
    """(z [batch, 128], class [batch]) tensors; classes alternate unless given."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    z = tf.constant(rng.standard_normal((batch, 128)), tf.float32)
    labels = np.arange(batch) % 2 if labels is None else labels
    return z, tf.constant(labels, tf.int32)


def random_log_mel(batch, seed=0):
    """Random raw log-mel excerpts [batch, 115, 80]."""
    import tensorflow as tf

    x = np.random.default_rng(seed).normal(-4.0, 2.0, (batch, 115, 80))
    return tf.constant(x, tf.float32)
