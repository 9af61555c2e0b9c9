"""The train_detector recipe end to end, with tiny settings: kill -9 and
resume under MirroredStrategy on two logical CPUs (with the learning curves
over both stretches), and two local workers."""

import json
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest
from helpers import kill_after_first_checkpoint, run_ok, script_env
from PIL import Image

from vocal_xai.models.detector import history, task

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECIPE = ROOT / "recipes" / "train_detector.py"
TINY = ["--preset=svdnet_tiny", "--batch_size=8", "--steps_per_epoch=6"]


@pytest.fixture(scope="module")
def corpus(small_corpus):
    return small_corpus


def _cmd(corpus, run_dir, *flags):
    return [
        sys.executable,
        str(RECIPE),
        f"--data_dir={corpus}",
        f"--model_dir={run_dir}",
        *TINY,
        *flags,
    ]  # exports to <model_dir>/export by default


def _weights(run_dir):
    return task.load_detector(run_dir / "export" / "detector" / "1").get_weights()


def _metrics(run_dir):
    return json.loads((run_dir / "metrics.json").read_text())


@pytest.mark.slow
def test_kill_and_resume_equals_uninterrupted_under_mirrored(corpus, tmp_path):
    # MirroredStrategy on two logical CPUs, 3 epochs of 12 batches.
    training = ["--epochs=3", "--steps_per_epoch=12", "--strategy=mirrored", "--logical_cpus=2"]
    straight = tmp_path / "straight"
    out = run_ok(_cmd(corpus, straight, *training))
    report = _metrics(straight)
    assert report["replicas"] == 2 and report["resumed_from_step"] == 0
    assert "Exported" in out.stdout
    # By default the repository's real recordings are checked at the fixed
    # threshold 0.5 and recorded beside the corpus metrics.
    real = report["metrics"]["real_recordings"]
    assert real["threshold"] == 0.5 and real["targets"] == 5 and len(real["recordings"]) == 8
    assert all(0.0 <= r["share_vocal"] <= 1.0 for r in real["recordings"])
    assert "targets met:" in out.stdout

    # Save after every step, and kill -9 once a checkpoint is complete (its
    # index file names it), while training goes on: the run dies mid-epoch.
    # An empty --real_recordings turns the check on real recordings off.
    killed = tmp_path / "killed"
    every_step = [*training, "--checkpoint_minutes=0", "--real_recordings="]
    kill_after_first_checkpoint(_cmd(corpus, killed, *every_step), killed / "checkpoints")
    assert not (killed / "metrics.json").exists()

    # The same command again resumes from the step it saved at and ends with
    # the same weights.
    run_ok(_cmd(corpus, killed, *every_step))
    resumed = _metrics(killed)
    assert 1 <= resumed["resumed_from_step"] < 24
    assert resumed["resumed_from_epoch"] == resumed["resumed_from_step"] // 12
    for a, b in zip(_weights(straight), _weights(killed)):
        np.testing.assert_array_equal(a, b)
    # The last epoch ran whole in both, so its mean loss is the same.
    assert report["final_logs"]["loss"] == resumed["final_logs"]["loss"]
    assert "real_recordings" not in resumed["metrics"]

    # The learning curves span both stretches of the killed run: one point
    # per epoch, the last the same as the uninterrupted run's.
    curves = {run: history.read(run) for run in (straight, killed)}
    for run in (straight, killed):
        np.testing.assert_array_equal(curves[run]["loss"][0], [12, 24, 36])
        assert set(curves[run]) >= {"val_accuracy", "val_frame_error", "learning_rate"}
        assert all(0.0 <= e <= 1.0 for e in curves[run]["val_frame_error"][1])
        with Image.open(run / "learning_curves.png") as image:
            assert image.width > 800
    assert curves[killed]["loss"][1][-1] == pytest.approx(curves[straight]["loss"][1][-1])


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.slow
def test_two_local_workers(corpus, tmp_path):
    run = tmp_path / "multi"
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(2)]}
    procs = []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        procs.append(
            subprocess.Popen(
                _cmd(
                    corpus,
                    run,
                    "--epochs=1",
                    "--strategy=multi_worker",
                    "--real_recordings=",
                    "--checkpoint_minutes=0",
                ),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=script_env(TF_CONFIG=tf_config),
            )
        )
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-3000:]
    report = _metrics(run)
    assert report["replicas"] == 2
    assert np.isfinite(report["final_logs"]["loss"])
    # Only the chief exports; the other worker keeps its own scratch files.
    assert (run / "export" / "detector" / "1" / "saved_model.pb").is_file()
    assert not (run / "export" / "detector" / "2").exists()
    assert (run / "cache-worker1").is_dir()
    # Workers save together, so only at the end of the epoch (6 batches),
    # even when asked to save after every step.
    assert sorted(p.name for p in (run / "checkpoints").glob("*.index")) == ["ckpt-6.index"]
