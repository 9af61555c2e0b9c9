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


def test_evaluate_is_the_mean_over_batches_of_the_eager_loss_and_metrics():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    optimizer = keras.optimizers.SGD(0.1)
    optimizer.build(model.trainable_variables)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(21, 4)).astype(np.float32), rng.normal(size=(21, 1)).astype(np.float32)

    def absolute(t, p):
        return tf.reduce_mean(tf.abs(t - p), axis=-1)

    trainer = training.Trainer(
        model,
        optimizer,
        keras.losses.MeanSquaredError(),
        tf.distribute.get_strategy(),
        8,
        metrics={"mae": absolute},
    )
    # Batches of 8, 8 and 5: each batch's mean, then the mean of those.
    logs = trainer.evaluate(tf.data.Dataset.from_tensor_slices((x, y)).batch(8))
    pred = model(x).numpy()
    batches = [slice(0, 8), slice(8, 16), slice(16, 21)]
    mse = np.mean([np.mean((pred[b] - y[b]) ** 2) for b in batches])
    mae = np.mean([np.mean(np.abs(pred[b] - y[b])) for b in batches])
    assert set(logs) == {"loss", "mae"}
    np.testing.assert_allclose([logs["loss"], logs["mae"]], [mse, mae], rtol=1e-6)
