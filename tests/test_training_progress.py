"""The training loop: progress output in a log file (plain lines, no ANSI
codes), evaluation, and checkpoints within an epoch."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from vocal_xai import training
from vocal_xai.errors import ParameterError
from vocal_xai.models.detector import history


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


def test_validation_fn_and_after_epoch_run_once_per_epoch(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    optimizer = keras.optimizers.SGD(0.1)
    optimizer.build(model.trainable_variables)
    data = (
        tf.data.Dataset.from_tensor_slices(
            (np.ones((8, 4), np.float32), np.zeros((8, 1), np.float32))
        )
        .batch(8)
        .repeat()
    )
    trainer = training.Trainer(
        model, optimizer, keras.losses.MeanSquaredError(), tf.distribute.get_strategy(), 8
    )
    seen = []

    def after_epoch(epochs_done):
        steps, losses = history.read(tmp_path)["loss"]
        seen.append((epochs_done, steps.tolist(), len(losses)))

    logs = trainer.fit(
        data,
        epochs=3,
        steps_per_epoch=2,
        log_dir=tmp_path / "logs",
        validation_fn=lambda: {"val_calls": float(len(seen) + 1)},
        after_epoch=after_epoch,
        verbose=False,
    )
    assert seen == [(1, [2], 1), (2, [2, 4], 2), (3, [2, 4, 6], 3)]
    scalars = history.read(tmp_path)
    assert scalars["loss"][1][-1] == pytest.approx(logs["loss"])
    # The extra validation figures join each epoch's logs.
    np.testing.assert_array_equal(scalars["val_calls"][1], [1.0, 2.0, 3.0])
    assert logs["val_calls"] == 3.0


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


def _step_indexed_batches(start):
    """Batch i of an endless stream depends on i alone, like the corpus streams."""

    def batch(i):
        x = tf.random.stateless_normal([8, 4], tf.stack([i, tf.constant(0, tf.int64)]))
        return x, tf.reduce_sum(x, axis=1, keepdims=True)

    return tf.data.Dataset.range(start, 2**62).map(batch)


def _linear_trainer():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.set_weights([np.full((4, 1), 0.1, np.float32), np.zeros(1, np.float32)])
    optimizer = keras.optimizers.SGD(0.05, momentum=0.9)
    optimizer.build(model.trainable_variables)
    strategy = tf.distribute.get_strategy()
    trainer = training.Trainer(model, optimizer, keras.losses.MeanSquaredError(), strategy, 8)
    return model, optimizer, trainer


def test_a_run_saved_mid_epoch_resumes_at_that_step_with_the_same_weights(tmp_path, capsys):
    # Two epochs of 4 steps, saving after every step and keeping every save.
    model, optimizer, trainer = _linear_trainer()
    checkpoint = training.ResumableCheckpoint(
        tmp_path / "all", [model], [optimizer], max_to_keep=None, every_seconds=0
    )
    trainer.fit(_step_indexed_batches(0), 2, 4, checkpoint=checkpoint, verbose=False)
    straight = model.get_weights()
    saved = sorted(int(p.stem.split("-")[1]) for p in (tmp_path / "all").glob("ckpt-*.index"))
    assert saved == list(range(1, 9))

    # Pretend the run was killed after step 6, in its second epoch.
    killed = tmp_path / "killed"
    killed.mkdir()
    for path in (tmp_path / "all").glob("ckpt-6.*"):
        (killed / path.name).write_bytes(path.read_bytes())
    # The index file naming the latest checkpoint, as TF writes it.
    (killed / "checkpoint").write_text(
        'model_checkpoint_path: "ckpt-6"\nall_model_checkpoint_paths: "ckpt-6"\n'
    )

    model, optimizer, trainer = _linear_trainer()
    resumed = training.ResumableCheckpoint(killed, [model], [optimizer], every_seconds=0)
    assert resumed.restore() == 1
    assert int(optimizer.iterations.numpy()) == 6
    capsys.readouterr()
    logs = trainer.fit(_step_indexed_batches(6), 2, 4, initial_step=6, checkpoint=resumed)
    for a, b in zip(straight, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(logs["loss"])
    # The progress bar of the resumed epoch shows the mean of the steps run,
    # the epoch's logged loss.
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 2/2" and lines[1].startswith("4/4")
    assert f"loss: {logs['loss']:.4f}" in lines[1]
    assert tf.train.latest_checkpoint(str(killed)).endswith("ckpt-8")


def test_checkpoints_within_epochs_wait_for_their_interval(tmp_path):
    model, optimizer, trainer = _linear_trainer()
    checkpoint = training.ResumableCheckpoint(
        tmp_path, [model], [optimizer], max_to_keep=None, every_seconds=3600
    )
    trainer.fit(_step_indexed_batches(0), 2, 4, checkpoint=checkpoint, verbose=False)
    # An hour never passed: only the ends of the two epochs were saved.
    assert sorted(p.name for p in tmp_path.glob("ckpt-*.index")) == ["ckpt-4.index", "ckpt-8.index"]
    with pytest.raises(ParameterError, match="every_seconds >= 0"):
        training.ResumableCheckpoint(tmp_path, [model], [optimizer], every_seconds=-1)


def test_throttled_runs_first_last_and_once_the_interval_has_passed():
    now = [0.0]
    drawn = []
    after_epoch = training.throttled(drawn.append, 30.0, last_epoch=6, clock=lambda: now[0])
    for epochs_done, seconds in [(1, 10.0), (2, 10.0), (3, 15.0), (4, 10.0), (5, 5.0), (6, 0.0)]:
        after_epoch(epochs_done)
        now[0] += seconds
    # Epoch 1 always; epoch 4 ends 35 s after it; epoch 5 only 10 s after 4;
    # epoch 6, the last, always.
    assert drawn == [1, 4, 6]
