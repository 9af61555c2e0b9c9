"""Helpers shared by the tests: corpora on disk, scripts run in a child
process, random model inputs."""

import pathlib

import numpy as np
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

    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=script_env()
    )
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
