"""recipes/evaluate_detector.py: any detector version on any corpus, as the
training recipe evaluates its own model."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from helpers import run_ok, script_env

from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import pipeline
from vocal_xai.models.detector import SVDNet, task

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _command(tmp_path, *flags):
    """The recipe's command with ``flags``, no real recordings, its JSON to
    ``tmp_path/eval.json``, and an environment with a cache of its own."""
    cmd = [
        sys.executable,
        str(ROOT / "recipes" / "evaluate_detector.py"),
        *flags,
        "--real_recordings=",
        f"--out={tmp_path / 'eval.json'}",
    ]
    return cmd, script_env(VOCAL_XAI_CACHE=str(tmp_path / "cache"))


@pytest.mark.slow
def test_evaluate_a_version_on_a_corpus(small_corpus, tmp_path):
    songs = corpus_lib.read_corpus(small_corpus)
    model = SVDNet.from_preset(
        "svdnet_tiny", *pipeline.band_stats(pipeline.load_split(songs, "train").features)
    )
    version = task.export_detector(model, tmp_path / "zoo", {})
    out = tmp_path / "eval.json"
    cmd, env = _command(tmp_path, f"--detector={version}", f"--data_dir={small_corpus}")
    result = run_ok(cmd, env=env, cwd=tmp_path)
    report = json.loads(out.read_text())
    want = task.evaluate(model, songs)
    assert report["detector"] == str(version.resolve())
    assert report["metrics"]["threshold"] == want["threshold"]
    for split in ("valid", "test", "test_unfiltered"):
        assert np.isclose(report["metrics"][split]["error"], want[split]["error"], atol=1e-6)
    assert "real_recordings" not in report["metrics"] and "test " in result.stdout
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert again.returncode == 2 and "pass --overwrite" in again.stderr
    # --by_level needs the seed of a synthetic corpus; version 1 does not record it.
    cmd, env = _command(
        tmp_path, f"--detector={version}", f"--data_dir={small_corpus}", "--by_level"
    )
    refused = subprocess.run(cmd[:-1], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "synthetic.json: expected a synthetic corpus" in refused.stderr


def _checkpointed_run(songs, run_dir, epochs_done=3):
    """A tiny detector saved as a training run saves it: the model, its
    optimizer and the epochs done."""
    import keras

    from vocal_xai import training

    stats = pipeline.band_stats(pipeline.load_split(songs, "train").features)
    model = SVDNet.from_preset("svdnet_tiny", *stats)
    rng = np.random.default_rng(0)
    for v in model.trainable_variables:  # not the initial weights
        v.assign(v.numpy() + rng.normal(0.0, 0.05, v.shape).astype(np.float32))
    optimizer = keras.optimizers.SGD(0.01)
    optimizer.build(model.logit_model().trainable_variables)
    checkpoint = training.ResumableCheckpoint(run_dir / "checkpoints", [model], [optimizer])
    checkpoint.save(epochs_done, 1234)
    return model


def test_load_checkpoint_restores_the_runs_detector(small_corpus, tmp_path):
    from vocal_xai.errors import ParameterError

    songs = corpus_lib.read_corpus(small_corpus)
    model = _checkpointed_run(songs, tmp_path / "run")
    train = pipeline.load_split(songs, "train")
    restored, path, epochs = task.load_checkpoint(tmp_path / "run", train, "svdnet_tiny")
    assert pathlib.Path(path).name == "ckpt-1234" and epochs == 3
    for a, b in zip(model.variables, restored.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ParameterError, match="no checkpoint in"):
        task.load_checkpoint(tmp_path / "nothing", train, "svdnet_tiny")


@pytest.mark.slow
def test_evaluate_a_training_runs_latest_checkpoint(small_corpus, tmp_path):
    songs = corpus_lib.read_corpus(small_corpus)
    model = _checkpointed_run(songs, tmp_path / "run")
    out = tmp_path / "eval.json"
    cmd, env = _command(
        tmp_path,
        f"--model_dir={tmp_path / 'run'}",
        "--preset=svdnet_tiny",
        f"--data_dir={small_corpus}",
    )
    result = run_ok(cmd, env=env, cwd=tmp_path)
    report = json.loads(out.read_text())
    want = task.evaluate(model, songs)
    assert report["detector"].endswith("ckpt-1234 (3 epochs done)")
    assert "ckpt-1234 (3 epochs done)" in result.stdout
    for split in ("valid", "test"):
        assert np.isclose(report["metrics"][split]["error"], want[split]["error"], atol=1e-6)
