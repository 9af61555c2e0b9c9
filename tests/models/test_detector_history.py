"""A detector training's learning curves from its TensorBoard logs: the
scalars over every stretch of a resumed run, the figure of one or several
runs, and tools/plot_training.py's checks."""

import time

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from vocal_xai import events
from vocal_xai.errors import ParameterError
from vocal_xai.models.detector import history


def _stretch(model_dir, steps, losses):
    """One process's log, written as ``training.Trainer`` writes it."""
    writer = tf.summary.create_file_writer(str(model_dir / history.LOGS))
    with writer.as_default():
        for step, loss in zip(steps, losses):
            tf.summary.scalar("loss", loss, step=step)
            tf.summary.scalar("accuracy", 1.0 - loss, step=step)
            tf.summary.scalar("val_loss", loss + 0.1, step=step)
            tf.summary.scalar("val_accuracy", 0.9 - loss, step=step)
            tf.summary.scalar("val_frame_error", loss / 4, step=step)
            tf.summary.scalar("learning_rate", 0.01 * 0.85 ** (step // 100), step=step)
    writer.close()


def test_a_resumed_run_reads_as_one_with_the_redone_epoch_s_last_value(tmp_path):
    _stretch(tmp_path, [100, 200], [0.6, 0.5])
    time.sleep(1.1)  # event file names carry the second they were opened
    # Killed in epoch 3 after logging it but before its checkpoint at the
    # end of the epoch: the next stretch logs epoch 3 again.
    _stretch(tmp_path, [300, 400], [0.45, 0.4])
    _stretch(tmp_path, [], [])  # a stretch killed before its first epoch
    time.sleep(1.1)
    _stretch(tmp_path, [300, 400], [0.44, 0.35])
    scalars = history.read(tmp_path)
    assert set(scalars) == {
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "val_frame_error",
        "learning_rate",
    }
    steps, losses = scalars["loss"]
    np.testing.assert_array_equal(steps, [100, 200, 300, 400])
    np.testing.assert_allclose(losses, [0.6, 0.5, 0.44, 0.35], rtol=1e-6)
    np.testing.assert_allclose(scalars["val_accuracy"][1], 0.9 - losses, rtol=1e-5)
    files = events.read_files(tmp_path / history.LOGS)
    logged = [sorted(f.values.get("loss", {})) for f in files]
    assert logged == [[100, 200], [300, 400], [], [300, 400]]


def test_figure_of_two_runs(tmp_path):
    _stretch(tmp_path / "a", [100, 200, 300], [0.6, 0.5, 0.4])
    _stretch(tmp_path / "b", [100, 200], [0.7, 0.65])
    runs = {"a": history.read(tmp_path / "a"), "b": history.read(tmp_path / "b")}
    path = history.plot_learning_curves(runs, tmp_path / "curves.png", title="two runs")
    with Image.open(path) as image:
        assert image.width > 1000 and image.height > 250
        # Two runs in two colours: more than a grey-scale figure.
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "curves.png"]


def test_bad_runs_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="Expected TensorBoard event files in"):
        history.read(tmp_path)
    with pytest.raises(ParameterError, match="a loss or an accuracy .* run 'gan'"):
        history.plot_learning_curves(
            {"gan": {"d_loss": (np.array([1]), np.array([0.5]))}}, tmp_path / "x.png"
        )
    with pytest.raises(ParameterError, match="at least one run"):
        history.plot_learning_curves({}, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_run_folders_are_labelled_by_name_or_by_path(tmp_path, monkeypatch):
    for run in ("x/run", "y/run", "z/other"):
        _stretch(tmp_path / run, [10], [0.5])
    drawn = {}
    monkeypatch.setattr(
        history, "plot_learning_curves", lambda runs, out, title: drawn.update(runs) or out
    )
    folders = [tmp_path / "x/run", tmp_path / "y/run", tmp_path / "z/other"]
    out = history.plot_run_folders(folders, tmp_path / "curves.png")
    assert out == tmp_path / "curves.png"
    assert list(drawn) == [str(tmp_path / "x/run"), str(tmp_path / "y/run"), "other"]


def test_run_folders_check_the_output_and_every_folder_first(tmp_path):
    _stretch(tmp_path / "run", [10], [0.5])
    (tmp_path / "taken.png").write_bytes(b"kept")
    with pytest.raises(ParameterError, match="--overwrite"):
        history.plot_run_folders([tmp_path / "run"], tmp_path / "taken.png")
    assert (tmp_path / "taken.png").read_bytes() == b"kept"
    with pytest.raises(ParameterError, match=r"'.*/empty' \(runs=.*\) has none"):
        history.plot_run_folders([tmp_path / "run", tmp_path / "empty"], tmp_path / "new.png")
    assert not (tmp_path / "new.png").exists()
    out = history.plot_run_folders([tmp_path / "run"], tmp_path / "taken.png", overwrite=True)
    with Image.open(out) as image:
        assert image.format == "PNG"
