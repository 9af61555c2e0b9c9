"""Train, evaluate and export the detector: the logic behind
``recipes/train_detector.py``."""

import dataclasses
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf

from vocal_xai import export, training, zoo
from vocal_xai.data import pipeline
from vocal_xai.errors import ParameterError
from vocal_xai.models import reproduction
from vocal_xai.models.detector import evaluation, history, levels, real_check
from vocal_xai.models.detector.serving import DetectorServing
from vocal_xai.models.detector.svdnet_backbone import SVDNet

# ``assets.extra/detector.json``: the Keras architecture.
KERAS_NAME = "detector"
# The learning curves are redrawn after an epoch once this many seconds have
# passed since the last drawing (and after the first and last epochs).
CURVE_SECONDS = 30.0


@dataclasses.dataclass
class TrainConfig:
    """Hyper-parameters; the defaults are the paper's except the length.

    The paper trains 20 epochs x 2000 batches on Jamendo (61 songs, about 4 h).
    On the default synthetic corpus one epoch is 150 batches, so that the
    learning-rate decay of x0.85 per epoch still runs over 20 epochs.
    """

    preset: str = "svdnet_paper"
    epochs: int = 20
    steps_per_epoch: int = 150
    batch_size: int = 32
    learning_rate: float = 0.01
    lr_decay: float = 0.85
    momentum: float = 0.95
    soft_target: float = 0.02
    balance: bool = False
    augment: bool = True
    # Train on excerpts at songs' ends too, padded as prediction pads them.
    pad_edges: bool = False
    validation_steps: int = 10
    seed: int = 0

    def __post_init__(self):
        for name in ("epochs", "steps_per_epoch", "batch_size"):
            if getattr(self, name) < 1:
                raise ParameterError(
                    f"Expected {name} >= 1. Received: {name}={getattr(self, name)}"
                )
        if not 0 <= self.soft_target < 0.5:
            raise ParameterError(
                f"Expected 0 <= soft_target < 0.5. Received: soft_target={self.soft_target}"
            )


def build(config, mean, std, strategy):
    """Build the detector, its training view, optimizer and loss under ``strategy``."""
    with strategy.scope():
        detector = SVDNet.from_preset(config.preset, mean, std)
        trainable = detector.logit_model()
        schedule = keras.optimizers.schedules.ExponentialDecay(
            config.learning_rate,
            decay_steps=config.steps_per_epoch,
            decay_rate=config.lr_decay,
            staircase=True,
        )
        optimizer = keras.optimizers.SGD(schedule, momentum=config.momentum, nesterov=True)
        optimizer.build(trainable.trainable_variables)
    # Soft targets 0.02/0.98 are label smoothing by 2 * 0.02.
    loss = keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=2 * config.soft_target)
    return detector, trainable, optimizer, loss


def train(
    config, corpus, model_dir, strategy, cache_dir=None, verbose=True, checkpoint_minutes=10.0
):
    """Train with checkpoints in ``model_dir``; resume from the latest one.

    A checkpoint is saved after every epoch and, within an epoch, once
    ``checkpoint_minutes`` of wall time have passed since the last one (None:
    at epoch ends only; 0: after every step). After every epoch the chief
    logs the frame error on the whole valid songs at 0.5 (``val_frame_error``)
    beside the excerpt validation. It redraws
    ``<model_dir>/learning_curves.png`` from the run's logs (``history``),
    over every stretch so far, after the first and last epochs and after any
    epoch that ends ``CURVE_SECONDS`` or more after the last drawing.

    Returns:
        (detector, info) where info holds the statistics and timings.
    """
    model_dir = pathlib.Path(model_dir)
    chief = training.is_chief(strategy)
    train_split = pipeline.load_split(corpus, "train", cache_dir, progress=True)
    valid_split = pipeline.load_split(corpus, "valid", cache_dir, progress=True)
    mean, std = pipeline.band_stats(train_split.features)
    detector, trainable, optimizer, loss = build(config, mean, std, strategy)

    every = None if checkpoint_minutes is None else 60.0 * checkpoint_minutes
    checkpoint = training.ResumableCheckpoint(
        model_dir / "checkpoints", [detector], [optimizer], chief=chief, every_seconds=every
    )
    initial_epoch = checkpoint.restore()
    # The optimizer counts the steps done, also those of an epoch saved midway.
    initial_step = int(optimizer.iterations.numpy())
    augmentation = pipeline.PAPER_AUGMENTATION if config.augment else None
    data = pipeline.excerpt_dataset(
        train_split,
        batch_size=config.batch_size,
        seed=config.seed,
        balance=config.balance,
        augmentation=augmentation,
        start_step=initial_step,
        pad_edges=config.pad_edges,
    )
    valid = pipeline.excerpt_dataset(valid_split, config.batch_size, seed=config.seed + 1)
    valid = valid.take(config.validation_steps)
    trainer = training.Trainer(
        trainable,
        optimizer,
        loss,
        strategy,
        config.batch_size,
        metrics={"accuracy": _accuracy},
    )

    def draw_curves(epochs_done):
        history.plot_learning_curves(
            {model_dir.name: history.read(model_dir)},
            model_dir / history.FIGURE,
            title=f"{config.preset}, batch {config.batch_size}: "
            f"{epochs_done} of {config.epochs} epochs",
        )

    start = time.time()
    logs = trainer.fit(
        data,
        epochs=config.epochs,
        steps_per_epoch=config.steps_per_epoch,
        initial_step=initial_step,
        checkpoint=checkpoint,
        log_dir=model_dir / "logs",
        validation_data=valid,
        verbose=verbose,
        validation_fn=lambda: {"val_frame_error": evaluation.frame_error(detector, valid_split)},
        after_epoch=training.throttled(draw_curves, CURVE_SECONDS, config.epochs),
    )
    info = {
        "train_seconds_this_run": round(time.time() - start, 1),
        "resumed_from_epoch": initial_epoch,
        "resumed_from_step": initial_step,
        "replicas": int(strategy.num_replicas_in_sync),
        "final_logs": logs,
        "train_frames": train_split.num_frames,
        "train_songs": len(train_split.names),
        "config": dataclasses.asdict(config),
    }
    return detector, info


def load_checkpoint(model_dir, train_split, preset="svdnet_paper"):
    """The detector of a training run's latest checkpoint, as it stands
    mid-training: to check a run before it ends, on data it may be judged on.

    Args:
        model_dir: the ``--model_dir`` of ``recipes/train_detector.py``.
        train_split: ``SplitFeatures`` of the corpus's train split, whose
            band statistics the run baked into its detector.
        preset: the run's model preset.

    Returns:
        (detector, the checkpoint's path, the epochs it had finished).

    Raises:
        ParameterError: when ``model_dir`` holds no checkpoint.
    """
    directory, latest = training.run_checkpoint(model_dir)
    mean, std = pipeline.band_stats(train_split.features)
    detector = SVDNet.from_preset(preset, mean, std)
    epochs = training.ResumableCheckpoint(directory, [detector], []).restore(latest)
    return detector, latest, epochs


def excerpt_error(detector, split, per_class=2000, seed=0, batch_size=256):
    """Share of excerpts of each class the detector gets wrong at
    probability 0.5 (logit 0), without median filtering: up to ``per_class``
    distinct excerpts of each class of ``split``, drawn with ``seed``.

    Returns:
        dict class name (``non_vocal``, ``vocal``) -> error in [0, 1].
    """
    logit_model = detector.logit_model()
    errors = {}
    for label, name in enumerate(("non_vocal", "vocal")):
        count = min(per_class, pipeline.available_excerpts(split, label))
        excerpts, _ = pipeline.sample_excerpts(split, count, label=label, seed=seed + label)
        logits = logit_model.predict(excerpts, batch_size=batch_size, verbose=0).reshape(-1)
        errors[name] = float(np.mean((logits > 0) != bool(label)))
    return errors


def _accuracy(labels, logits):
    """Per-example 0/1 correctness of logits thresholded at 0."""
    labels = tf.cast(tf.reshape(labels, [-1]), tf.float32)
    predicted = tf.cast(tf.reshape(logits, [-1]) > 0.0, tf.float32)
    return tf.cast(tf.equal(labels, predicted), tf.float32)


def evaluate(detector, corpus, cache_dir=None, real_recordings=None, by_level=False):
    """Song-level metrics: threshold on valid, errors on test.

    With a folder of ``real_recordings`` (see ``real_check``), the metrics
    also hold ``real_recordings``: each recording's share of frames called
    vocal at the fixed threshold ``real_check.DEFAULT_THRESHOLD`` (never the
    threshold picked on valid, and never picked on the recordings), and the
    verdict against its target. Without one the metrics are unchanged.

    With ``by_level`` (a synthetic corpus only), they also hold
    ``test_by_level``: the test split's missed vocal frames by the singer's
    level against the accompaniment (``levels.misses_by_level``, as dicts;
    an open end of a bin is None), and ``test_by_kind``: the test split's
    errors by the kind of voice of each song (``levels.errors_by_kind``).
    """
    valid = pipeline.load_split(corpus, "valid", cache_dir, progress=True)
    test = pipeline.load_split(corpus, "test", cache_dir, progress=True)
    decisions = evaluation.decide(detector, valid, test)
    metrics = evaluation.decision_metrics(decisions, test.labels)
    if by_level:
        made = levels.synthesize_again(corpus, "test", progress=True)
        songs = [made[name] for name in test.names]
        calls = decisions.calls()
        rows = levels.misses_by_level(calls, test.labels, [levels.song_levels(m) for m in songs])
        metrics["test_by_level"] = [levels.row_dict(r) for r in rows]
        rows = levels.errors_by_kind(calls, test.labels, [m.voice_kind for m in songs])
        metrics["test_by_kind"] = [dataclasses.asdict(r) for r in rows]
    if real_recordings is not None:
        threshold = real_check.DEFAULT_THRESHOLD
        results = real_check.check(detector, real_recordings, threshold)
        metrics["real_recordings"] = real_check.report(results, threshold, real_recordings)
    return metrics


def reproduction_check(detector, record):
    """``evaluate`` on the check corpus of ``record``
    (``reproduction.corpus_record`` with the valid and test splits): a
    JSON-ready dict with the record and the metrics."""
    metrics = reproduction.run_check(record, lambda songs: evaluate(detector, songs))
    return {"corpus": record, "metrics": metrics}


def publish(version_dir, export_base, version=None):
    """Publish an exported detector (a version folder that
    ``recipes/train_detector.py`` wrote) as a new version under
    ``<export_base>/detector/`` (``saved_models``: the zoo), unchanged, with its
    metadata. A detector trained on a synthetic corpus also gets its
    ``reproduction_check`` in the metadata, under ``"check"``.

    Returns:
        The new version folder.

    Raises:
        ParameterError: if ``version_dir`` holds no exported detector.
    """
    detector, metadata = load_detector(version_dir), zoo.metadata(version_dir)
    info = metadata.get("synthetic_corpus")
    if info is not None:
        record = reproduction.corpus_record(info["version"], ("valid", "test"), info["seed"])
        metadata["check"] = reproduction_check(detector, record)
    return export_detector(detector, export_base, metadata, version)


def export_detector(detector, export_base, metadata, version=None):
    """Write ``<export_base>/detector/<version>/`` with the Keras
    architecture and metadata in ``assets.extra/``."""
    return export.export_keras(
        detector,
        DetectorServing(detector),
        pathlib.Path(export_base) / "detector",
        KERAS_NAME,
        metadata,
        version,
    )


def load_detector(version_dir):
    """The Keras detector shipped beside a SavedModel version."""
    return export.load_keras(version_dir, KERAS_NAME)


def print_metrics(metrics):
    """Print the evaluation as a small table."""
    print(
        f"threshold {metrics['threshold']:.3f} (picked on valid), median filter "
        f"{metrics['median_frames']} frames"
    )
    print(f"{'split':<18}{'error':>8}{'precision':>11}{'recall':>8}{'F1':>8}{'frames':>9}")
    for key in ("valid", "test", "test_unfiltered"):
        m = metrics[key]
        print(
            f"{key:<18}{m['error']:>8.2%}{m['precision']:>11.3f}{m['recall']:>8.3f}"
            f"{m['f1']:>8.3f}{m['frames']:>9d}"
        )
    if "test_by_level" in metrics:
        print("test vocal frames missed, by the singer's level against the rest of the mix:")
        print(levels.format_table([levels.LevelRow.from_dict(r) for r in metrics["test_by_level"]]))
    if "test_by_kind" in metrics:
        print("test errors, by the kind of voice of each song:")
        print(levels.format_kind_table([levels.KindRow(**r) for r in metrics["test_by_kind"]]))
    real = metrics.get("real_recordings")
    if real is not None:
        print(f"recordings of {real['folder']}, threshold {real['threshold']:.2f} (fixed):")
        results = [real_check.RecordingResult(**r) for r in real["recordings"]]
        print(real_check.format_table(results))
