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


def _killed_after_step_6(tmp_path):
    """From a run of two epochs of 4 steps that saved every step into
    ``tmp_path/all``: a folder holding only step 6's save, as if the run was
    killed there, in its second epoch."""
    saved = sorted(int(p.stem.split("-")[1]) for p in (tmp_path / "all").glob("ckpt-*.index"))
    assert saved == list(range(1, 9))
    killed = tmp_path / "killed"
    killed.mkdir()
    for path in (tmp_path / "all").glob("ckpt-6.*"):
        (killed / path.name).write_bytes(path.read_bytes())
    # The index file naming the latest checkpoint, as TF writes it.
    (killed / "checkpoint").write_text(
        'model_checkpoint_path: "ckpt-6"\nall_model_checkpoint_paths: "ckpt-6"\n'
    )
    return killed


def test_a_run_saved_mid_epoch_resumes_at_that_step_with_the_same_weights(tmp_path, capsys):
    # Two epochs of 4 steps, saving after every step and keeping every save.
    model, optimizer, trainer = _linear_trainer()
    checkpoint = training.ResumableCheckpoint(
        tmp_path / "all", [model], [optimizer], max_to_keep=None, every_seconds=0
    )
    trainer.fit(_step_indexed_batches(0), 2, 4, checkpoint=checkpoint, verbose=False)
    straight = model.get_weights()
    killed = _killed_after_step_6(tmp_path)

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


def _fit(folder, epochs, **checkpoint_options):
    """A fresh linear model fit by ``fit_resumable`` to the end of epoch
    ``epochs`` of 4 steps, with checkpoints in ``folder``.

    Returns:
        (model, history, epochs done at the start, step at the start, the
        steps the data were asked to start from).
    """
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.set_weights([np.full((4, 1), 0.1, np.float32), np.zeros(1, np.float32)])
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9), "mse")
    model.optimizer.build(model.trainable_variables)
    checkpoint = training.ResumableCheckpoint(
        folder, [model], [model.optimizer], **checkpoint_options
    )
    started = []
    history, epoch, step = training.fit_resumable(
        model,
        lambda s: started.append(s) or _step_indexed_batches(s),
        checkpoint,
        model.optimizer.iterations,
        epochs,
        4,
        verbose=0,
    )
    return model, history, epoch, step, started


def test_a_keras_fit_saved_mid_epoch_resumes_at_that_step_with_the_same_weights(tmp_path):
    # Two epochs of 4 steps, saving after every step and keeping every save.
    model, history, epoch, step, started = _fit(
        tmp_path / "all", 2, max_to_keep=None, every_seconds=0
    )
    straight = model.get_weights()
    assert (epoch, step, started, len(history["loss"])) == (0, 0, [0], 2)
    killed = _killed_after_step_6(tmp_path)

    model, history, epoch, step, started = _fit(killed, 2, every_seconds=0)
    # It ran the last two steps of epoch 2 from step 6's batch, and nothing else.
    assert (epoch, step, started) == (1, 6, [6])
    assert int(model.optimizer.iterations.numpy()) == 8
    for a, b in zip(straight, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(history["loss"]) == 1 and np.isfinite(history["loss"][0])
    assert tf.train.latest_checkpoint(str(killed)).endswith("ckpt-8")

    # A finished run trains no further.
    model, history, epoch, step, started = _fit(killed, 2)
    assert (history, epoch, step, started) == ({}, 2, 8, [])
    for a, b in zip(straight, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_keras_fit_resumed_at_an_epoch_end_runs_whole_epochs(tmp_path):
    straight = _fit(tmp_path / "straight", 3)[0].get_weights()
    resumed = tmp_path / "resumed"
    _fit(resumed, 1)
    model, history, epoch, step, started = _fit(resumed, 3, every_seconds=3600)
    assert (epoch, step, started, len(history["loss"])) == (1, 4, [4], 2)
    for a, b in zip(straight, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # No save within an epoch before its interval: epoch ends only, by step.
    assert sorted(p.name for p in resumed.glob("ckpt-*.index")) == ["ckpt-12.index", "ckpt-8.index"]


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


def test_an_exact_restore_refuses_models_smaller_than_the_saved_ones(tmp_path):
    model, optimizer, trainer = _linear_trainer()
    trainer.fit(_step_indexed_batches(0), 1, 4, verbose=False)
    training.ResumableCheckpoint(tmp_path, [model], [optimizer]).save(1, 4)
    latest = tf.train.latest_checkpoint(str(tmp_path))
    # Without the optimizer, its saved values find no variable: a plain
    # restore loads the model alone, an exact one refuses.
    bare, _, _ = _linear_trainer()
    assert training.ResumableCheckpoint(tmp_path, [bare], []).restore(latest) == 1
    for a, b in zip(model.get_weights(), bare.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(AssertionError, match="Unresolved object"):
        training.ResumableCheckpoint(tmp_path, [bare], []).restore(latest, exact=True)
    again, optimizer_again, _ = _linear_trainer()
    assert (
        training.ResumableCheckpoint(tmp_path, [again], [optimizer_again]).restore(
            latest, exact=True
        )
        == 1
    )
