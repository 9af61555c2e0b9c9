"""The training loop's progress output in a log file: plain lines, no ANSI codes."""

import keras
import numpy as np
import tensorflow as tf

from vocal_xai import training


def test_progress_written_to_a_file_has_no_terminal_codes(capsys):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    optimizer = keras.optimizers.SGD(0.1)
    optimizer.build(model.trainable_variables)
    strategy = tf.distribute.get_strategy()
    x, y = (
        np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32),
        np.zeros((32, 1), np.float32),
    )
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(8).repeat()
    trainer = training.Trainer(model, optimizer, keras.losses.MeanSquaredError(), strategy, 8)
    logs = trainer.fit(data, epochs=2, steps_per_epoch=4)
    out = capsys.readouterr().out
    assert "\x1b[" not in out and "\b" not in out
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines[0] == "Epoch 1/2" and "4/4" in lines[1] and "loss" in lines[1]
    assert np.isfinite(logs["loss"])
