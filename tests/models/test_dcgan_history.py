"""A GAN training's history from its TensorBoard logs: losses per epoch
across stretches, the stretches themselves, the learning-curve figure."""

import time

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from vocal_xai.errors import ParameterError
from vocal_xai.models.dcgan import history


def _stretch(log_dir, epochs, values, pause=0.0):
    """One process's log: ``epochs`` (0-based steps as Keras writes them)."""
    writer = tf.summary.create_file_writer(str(log_dir / "train"))
    with writer.as_default():
        for epoch, value in zip(epochs, values):
            time.sleep(pause)
            tf.summary.scalar("epoch_d_loss", value, step=epoch)
            tf.summary.scalar("epoch_g_loss", -value, step=epoch)
            tf.summary.scalar("epoch_learning_rate", 0.001, step=epoch)
    writer.close()


@pytest.mark.slow
def test_stretches_and_losses_across_a_resumed_training(tmp_path):
    _stretch(tmp_path, [0, 1, 2], [1.0, 0.9, 0.8], pause=0.01)
    time.sleep(1.1)  # event file names carry the second they were opened
    # Killed after epoch 3 was logged but before its checkpoint: the next
    # stretch redoes epoch 3.
    _stretch(tmp_path, [2, 3], [0.7, 0.6], pause=0.01)
    scalars, stretches = history.read(tmp_path)
    assert set(scalars) == {"d_loss", "g_loss"}  # the unused learning rate is left out
    epochs, values = scalars["d_loss"]
    np.testing.assert_array_equal(epochs, [1, 2, 3, 4])
    np.testing.assert_allclose(values, [1.0, 0.9, 0.7, 0.6], rtol=1e-6)  # the redone epoch's value
    np.testing.assert_allclose(scalars["g_loss"][1], -values, rtol=1e-6)
    assert [(s.first_epoch, s.last_epoch, s.epochs) for s in stretches] == [(1, 3, 3), (3, 4, 2)]
    assert stretches[0].started < stretches[0].ended <= stretches[1].started
    table = history.stretch_table(stretches, steps_per_epoch=500).splitlines()
    assert len(table) == 4
    assert "| 1 |" in table[2] and "| 1-3 | 1,500 |" in table[2] and "| 3-4 | 1,000 |" in table[3]


def test_learning_curves_figure(tmp_path):
    _stretch(tmp_path, range(5), np.linspace(1.0, 0.5, 5))
    scalars, _ = history.read(tmp_path)
    path = history.plot_learning_curves(scalars, tmp_path / "curves.png", steps_per_epoch=100)
    with Image.open(path) as image:
        assert image.width > 400 and image.height > 200


def test_no_logs_and_no_losses(tmp_path):
    with pytest.raises(ParameterError, match="Expected TensorBoard event files"):
        history.read(tmp_path)
    with pytest.raises(ParameterError, match="Expected GAN losses"):
        history.plot_learning_curves(
            {"accuracy": (np.arange(1, 3), np.ones(2))}, tmp_path / "x.png", 10
        )
