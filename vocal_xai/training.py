"""Training plumbing shared by the recipes: determinism, tf.distribute
strategies, and checkpoints that survive ``kill -9``.

A checkpoint holds every variable of the models and optimizers, including the
dropout seed-generator states that ``tf.train.Checkpoint`` would not find on
its own, plus the number of finished epochs. Data streams are indexed by the
global step, so a run that resumes from epoch ``e`` sees the same batches as
one that never stopped, and (with op determinism on) ends with the same
weights. ``Trainer`` also saves within an epoch, every few minutes of wall
time, and resumes from the step it saved at: a long epoch killed near its end
costs minutes, not the epoch.
"""

import logging
import os
import pathlib
import tempfile
import time

import keras
import tensorflow as tf

from vocal_xai import progressbar
from vocal_xai.errors import ParameterError

STRATEGIES = ("default", "mirrored", "multi_worker")


def set_deterministic(seed):
    """Seed Python, numpy and TF, and make TF ops deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def split_cpu(num_devices):
    """Split the host CPU into ``num_devices`` logical devices.

    Must run before TF initialises its devices. Used to try MirroredStrategy on
    a machine without GPUs.
    """
    if num_devices < 1:
        raise ParameterError(f"Expected num_devices >= 1. Received: num_devices={num_devices}")
    if num_devices == 1:
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * num_devices
    )


def get_strategy(name):
    """A tf.distribute strategy by name.

    - ``default``: the default (single device) strategy.
    - ``mirrored``: all GPUs, or else all logical CPU devices.
    - ``multi_worker``: MultiWorkerMirroredStrategy configured by TF_CONFIG.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ParameterError(
                "Expected the TF_CONFIG environment variable for strategy='multi_worker'. "
                "Received: TF_CONFIG unset"
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ParameterError(f"Expected strategy in {STRATEGIES}. Received: strategy={name!r}")


def prepare(strategy_name, seed, logical_cpus=1):
    """Split the CPU if asked, make runs deterministic, return the strategy.

    The first call of a training recipe: devices must be configured before TF
    initialises them.
    """
    split_cpu(logical_cpus)
    set_deterministic(seed)
    return get_strategy(strategy_name)


def is_chief(strategy):
    """True unless this process is a non-chief worker of a multi-worker run."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def worker_folder(name, strategy):
    """``name`` for the chief, ``name-<task><id>`` for other workers, so
    workers sharing a file system don't write the same files."""
    if is_chief(strategy):
        return name
    resolver = strategy.cluster_resolver
    return f"{name}-{resolver.task_type}{resolver.task_id}"


def shard_by_data(dataset):
    """Let tf.distribute shard a generated (file-less) dataset by element."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def distribute_batches(strategy, dataset):
    """``dataset`` of global batches as the distributed dataset of
    ``strategy``: each replica gets its slice of every global batch.

    Under MirroredStrategy every replica reads its slice from its own copy of
    the pipeline, the slice ``experimental_distribute_dataset`` would give it,
    without tf.data's autotuning. Freeing the iterator of
    ``experimental_distribute_dataset`` there at times blocks the process,
    idle, until an autotuning thread wakes: 2-26 s after 3-15 s of iteration,
    at whatever moment the garbage collector frees it (a training then stalls
    in its export or evaluation). Other strategies, and global batches of a
    size the replicas do not divide, go through
    ``experimental_distribute_dataset`` (sharded by element), as does a
    dataset given to Keras's ``fit``, which takes no other distributed
    dataset.
    """
    replicas = strategy.num_replicas_in_sync
    batch = tf.nest.flatten(dataset.element_spec)[0].shape[0]
    if (
        not isinstance(strategy, tf.distribute.MirroredStrategy)
        or replicas == 1
        or batch is None
        or batch % replicas
    ):
        return strategy.experimental_distribute_dataset(shard_by_data(dataset))
    size = batch // replicas
    options = tf.data.Options()
    options.autotune.enabled = False

    def replica_dataset(context):
        start = context.input_pipeline_id * size

        def own_slice(*parts):
            parts = tf.nest.map_structure(lambda t: t[start : start + size], parts)
            return parts if len(parts) > 1 else parts[0]

        return dataset.map(own_slice).with_options(options)

    return strategy.distribute_datasets_from_function(
        replica_dataset,
        tf.distribute.InputOptions(
            experimental_replication_mode=tf.distribute.InputReplicationMode.PER_REPLICA,
            experimental_fetch_to_device=False,
        ),
    )


class ResumableCheckpoint(keras.callbacks.Callback):
    """Save every variable at the end of each epoch; restore on start-up.

    TF writes the checkpoint files first and the index that names the latest
    one last, so a process killed mid-save leaves the previous checkpoint
    intact. Non-chief workers write to a scratch folder, as tf.distribute
    requires every worker to take part in a save.

    Args:
        directory: checkpoint folder.
        models: models whose variables are saved (weights and seed states).
        optimizers: optimizers whose variables are saved; their ``iterations``
            count the steps done, which is where a run saved within an epoch
            resumes.
        chief: whether this process writes the real checkpoint.
        max_to_keep: checkpoints kept.
        every_seconds: also save within an epoch once this much wall time has
            passed since the last save (``Trainer`` and ``FitSaver``, not under
            MultiWorkerMirroredStrategy; None: at epoch ends only, 0: after
            every step).
    """

    def __init__(
        self, directory, models, optimizers, chief=True, max_to_keep=2, every_seconds=None
    ):
        super().__init__()
        if every_seconds is not None and every_seconds < 0:
            raise ParameterError(
                f"Expected every_seconds >= 0 or None. Received: every_seconds={every_seconds}"
            )
        self.directory = pathlib.Path(directory)
        self.every_seconds = every_seconds
        self._epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epochs_done")
        variables = {}
        for i, model in enumerate(models):
            variables[f"model{i}"] = [v.value for v in model.variables]
        for i, optimizer in enumerate(optimizers):
            variables[f"optimizer{i}"] = [v.value for v in optimizer.variables]
        self._checkpoint = tf.train.Checkpoint(epoch=self._epoch, **variables)
        write_dir = (
            self.directory if chief else pathlib.Path(tempfile.mkdtemp(prefix="ckpt-worker-"))
        )
        self._manager = tf.train.CheckpointManager(
            self._checkpoint, str(write_dir), max_to_keep=max_to_keep
        )
        self._read_dir = self.directory
        self._last_save = time.monotonic()

    def restore(self, path=None, exact=False):
        """Restore checkpoint ``path`` (default: the latest); return the number
        of finished epochs (0 when there is none yet). ``exact``: also require
        that every value in the checkpoint found a variable (else an
        AssertionError), so that models smaller than the saved ones fail."""
        latest = path or tf.train.latest_checkpoint(str(self._read_dir))
        if latest is None:
            return 0
        status = self._checkpoint.restore(latest)
        if exact:
            status.assert_consumed()
        status.assert_existing_objects_matched()
        epochs = int(self._epoch.numpy())
        logging.info("Restored %s after %d epoch(s).", latest, epochs)
        return epochs

    def save(self, epochs_done, number):
        """Save now as checkpoint ``number``, with ``epochs_done`` finished epochs."""
        self._epoch.assign(epochs_done)
        self._manager.save(checkpoint_number=number)
        self._last_save = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        self.save(epoch + 1, epoch + 1)

    def due(self):
        """Whether ``every_seconds`` have passed since the last save."""
        return (
            self.every_seconds is not None
            and time.monotonic() - self._last_save >= self.every_seconds
        )

    def on_step_end(self, epochs_done, steps_done):
        """Save within an epoch if ``every_seconds`` have passed since the last
        save; checkpoints are then numbered by ``steps_done``."""
        if self.due():
            self.save(epochs_done, steps_done)


def run_checkpoint(model_dir):
    """A training run's checkpoint folder (``<model_dir>/checkpoints``) and
    the path of its latest checkpoint.

    Raises:
        ParameterError: when the folder holds no checkpoint.
    """
    directory = pathlib.Path(model_dir) / "checkpoints"
    latest = tf.train.latest_checkpoint(str(directory))
    if latest is None:
        raise ParameterError(
            f"Expected a training run with checkpoints. Received: no checkpoint in {directory}"
        )
    return directory, latest


def saves_within_epochs(strategy):
    """Whether a run under ``strategy`` may save within epochs: every worker
    must take part in a save, and their clocks disagree on when minutes have
    passed, so several workers save at epoch ends only."""
    return not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


class FitSaver(keras.callbacks.Callback):
    """``checkpoint`` (a ``ResumableCheckpoint``) as a callback of Keras
    ``fit``: a save at each epoch's end and, once the checkpoint's
    ``every_seconds`` have passed, after a step within an epoch. Saves are
    numbered by the global step, which the variable ``step`` counts (an
    optimizer's ``iterations``)."""

    def __init__(self, checkpoint, step, steps_per_epoch, within_epochs=True):
        super().__init__()
        self.checkpoint = checkpoint
        self.step = step
        self.steps_per_epoch = steps_per_epoch
        self.within_epochs = within_epochs
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        # The step is read only when a save is due; an epoch's end saves itself.
        if not (self.within_epochs and self.checkpoint.due()):
            return
        steps = int(self.step.numpy())
        if steps % self.steps_per_epoch:
            self.checkpoint.save(self._epoch, steps)

    def on_epoch_end(self, epoch, logs=None):
        self.checkpoint.save(epoch + 1, (epoch + 1) * self.steps_per_epoch)


def fit_resumable(
    model, dataset_from, checkpoint, step, epochs, steps_per_epoch, callbacks=(), verbose="auto"
):
    """Keras ``fit`` of ``model`` to the end of epoch ``epochs``, from the
    latest save of ``checkpoint``, mid-epoch if it was saved there.

    A run saved within an epoch first runs the rest of that epoch (whose
    logs then average the steps run since, as ``Trainer`` does), then the
    epochs after it.

    Args:
        model: a compiled Keras model whose variables ``checkpoint`` holds.
        dataset_from: ``fn(global_step)`` -> the training data from that step on.
        checkpoint: a ``ResumableCheckpoint``; saved by a ``FitSaver``, the
            last of the callbacks.
        step: the variable that counts the global steps done (an optimizer's
            ``iterations``).
        epochs, steps_per_epoch: the schedule.
        callbacks: the other callbacks of ``fit``.
        verbose: ``fit``'s ``verbose``.

    Returns:
        (the history of the last ``fit`` call, {} when nothing was left to
        train; the epochs done at the start; the global step at the start).
    """
    initial_epoch = checkpoint.restore()
    initial_step = int(step.numpy())
    saver = FitSaver(
        checkpoint, step, steps_per_epoch, saves_within_epochs(model.distribute_strategy)
    )
    callbacks = [*callbacks, saver]

    def fit(first_epoch, last_epoch, start_step, steps):
        return model.fit(
            dataset_from(start_step),
            epochs=last_epoch,
            steps_per_epoch=steps,
            initial_epoch=first_epoch,
            callbacks=callbacks,
            verbose=verbose,
        ).history

    history = {}
    epoch = initial_epoch
    first = initial_step - epoch * steps_per_epoch
    # A run saved midway, with the same steps per epoch, ends that epoch first.
    if epoch < epochs and 0 < first < steps_per_epoch:
        history = fit(epoch, epoch + 1, initial_step, steps_per_epoch - first)
        epoch += 1
    if epoch < epochs:
        history = fit(epoch, epochs, epoch * steps_per_epoch, steps_per_epoch)
    return history, initial_epoch, initial_step


def throttled(fn, seconds, last_epoch, clock=time.monotonic):
    """``fn(epochs_done)`` as an ``after_epoch`` of ``Trainer.fit`` that runs
    after the first epoch, then once ``seconds`` have passed since it last
    ran, and always after epoch ``last_epoch``: a figure redrawn after each of
    many short epochs would cost more than the epochs."""
    last = None

    def after_epoch(epochs_done):
        nonlocal last
        if epochs_done < last_epoch and last is not None and clock() - last < seconds:
            return
        fn(epochs_done)
        last = clock()

    return after_epoch


class Trainer:
    """A distributed training loop for a model with one output and one loss.

    Keras's ``fit`` does not run under MultiWorkerMirroredStrategy in Keras 3,
    so every strategy goes through this loop: one ``tf.function`` step run on
    every replica with ``strategy.run``, the loss averaged over the global
    batch, a Keras progress bar, TensorBoard scalars and a checkpoint after
    every epoch (and within epochs, if the checkpoint asks). A run resumes
    from the global step the optimizer counted, mid-epoch if it was saved
    there; that epoch's logs then average the steps run since.

    Args:
        model: the Keras model to train (built under ``strategy.scope()``).
        optimizer: a built Keras optimizer.
        loss: a Keras loss; its reduction is replaced by none.
        strategy: a tf.distribute strategy.
        global_batch_size: examples per step over all replicas.
        metrics: dict of name -> fn(y_true, y_pred) -> per-example values,
            averaged like the loss.
    """

    def __init__(self, model, optimizer, loss, strategy, global_batch_size, metrics=None):
        self.model = model
        self.optimizer = optimizer
        self.strategy = strategy
        self.global_batch_size = global_batch_size
        loss_config = loss.get_config()
        loss_config["reduction"] = None
        self._loss = loss.__class__.from_config(loss_config)
        self._metrics = dict(metrics or {})
        self._train_step = tf.function(self._distributed_step)
        self._eval_step = tf.function(self._eval_batch, reduce_retracing=True)

    def _replica_step(self, x, y):
        with tf.GradientTape() as tape:
            pred = self.model(x, training=True)
            per_example = self._loss(y, pred)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=self.global_batch_size)
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))
        logs = {"loss": loss}
        for name, fn in self._metrics.items():
            logs[name] = tf.nn.compute_average_loss(
                fn(y, pred), global_batch_size=self.global_batch_size
            )
        return logs

    def _distributed_step(self, iterator):
        x, y = next(iterator)
        logs = self.strategy.run(self._replica_step, args=(x, y))
        return {k: self.strategy.reduce("SUM", v, axis=None) for k, v in logs.items()}

    def _eval_batch(self, x, y):
        pred = self.model(x, training=False)
        logs = {"loss": tf.reduce_mean(self._loss(y, pred))}
        logs.update({k: tf.reduce_mean(fn(y, pred)) for k, fn in self._metrics.items()})
        return logs

    def evaluate(self, dataset):
        """Mean loss and metrics of the model (inference mode) over ``dataset``,
        each batch in one compiled step."""
        totals, batches = {}, 0
        for x, y in dataset:
            logs = self._eval_step(x, y)
            for k, v in logs.items():
                totals[k] = totals.get(k, 0.0) + float(v)
            batches += 1
        return {k: v / max(batches, 1) for k, v in totals.items()}

    def fit(
        self,
        dataset,
        epochs,
        steps_per_epoch,
        initial_step=0,
        checkpoint=None,
        log_dir=None,
        validation_data=None,
        verbose=True,
        validation_fn=None,
        after_epoch=None,
    ):
        """Train from global step ``initial_step`` to the end of epoch ``epochs``;
        return the last epoch's logs. ``dataset`` must start at ``initial_step``.
        On the chief, ``validation_fn()`` adds figures (dict name -> float) to
        each epoch's logs, and ``after_epoch(epochs_done)`` runs once the
        epoch's scalars and checkpoint are written."""
        chief = is_chief(self.strategy)
        initial_epoch = initial_step // steps_per_epoch
        within_epochs = checkpoint is not None and saves_within_epochs(self.strategy)
        iterator = iter(distribute_batches(self.strategy, dataset))
        writer = tf.summary.create_file_writer(str(log_dir)) if (log_dir and chief) else None
        logs = {}
        for epoch in range(initial_epoch, epochs):
            if verbose and chief:
                print(f"Epoch {epoch + 1}/{epochs}")
            bar = progressbar.bar(steps_per_epoch, "step", verbose and chief)
            first = initial_step - epoch * steps_per_epoch if epoch == initial_epoch else 0
            if first:
                # The bar's means start at the step resumed from, as the logs' do.
                bar.update(first)
            sums = {}
            for step in range(first, steps_per_epoch):
                step_logs = {k: float(v) for k, v in self._train_step(iterator).items()}
                for k, v in step_logs.items():
                    sums[k] = sums.get(k, 0.0) + v
                bar.update(step + 1, [(k, v) for k, v in step_logs.items()])
                if within_epochs and step + 1 < steps_per_epoch:
                    checkpoint.on_step_end(epoch, epoch * steps_per_epoch + step + 1)
            logs = {k: v / (steps_per_epoch - first) for k, v in sums.items()}
            if validation_data is not None:
                logs.update({f"val_{k}": v for k, v in self.evaluate(validation_data).items()})
            if validation_fn is not None and chief:
                logs.update(validation_fn())
            if verbose and chief:
                print("  " + "  ".join(f"{k}={v:.4f}" for k, v in sorted(logs.items())))
            if writer is not None:
                with writer.as_default(step=(epoch + 1) * steps_per_epoch):
                    for k, v in logs.items():
                        tf.summary.scalar(k, v)
                    tf.summary.scalar("learning_rate", float(self.optimizer.learning_rate))
                writer.flush()
            if checkpoint is not None:
                checkpoint.save(epoch + 1, (epoch + 1) * steps_per_epoch)
            if after_epoch is not None and chief:
                after_epoch(epoch + 1)
        return logs
