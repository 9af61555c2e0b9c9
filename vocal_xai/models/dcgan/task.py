"""Train, evaluate and export the conditional DCGAN: the logic behind
``recipes/train_gan.py``."""

import csv
import dataclasses
import json
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf

from vocal_xai import cache, cli, export, outputs, training, zoo
from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import defaults, pipeline, synthetic
from vocal_xai.errors import ParameterError
from vocal_xai.models import reproduction
from vocal_xai.models.dcgan import augment, evaluation
from vocal_xai.models.dcgan import history as gan_history
from vocal_xai.models.dcgan.conditional_dcgan import ConditionalDCGAN, EMAUpdate
from vocal_xai.models.dcgan.dcgan_backbone import Discriminator, Generator
from vocal_xai.models.dcgan.dcgan_presets import PRESETS
from vocal_xai.models.dcgan.serving import GeneratorServing
from vocal_xai.models.detector import task as detector_task
from vocal_xai.models.detector.svdnet_backbone import SVDNet

# The stabilisers and class guide a preset without a ``training`` entry
# trains with.
STABILISERS_OFF = {
    "ema_decay": 0.0,
    "r1_gamma": 0.0,
    "augment": "",
    "guide_steps": 0,
    "guide_weight": 0.0,
}

# The class guide: an SVDNet of this preset, trained with the detector's
# recipe (its augmentation, soft targets and learning-rate decay) on
# class-balanced batches, as the GAN sees them, for ``guide_steps`` batches
# in GUIDE_EPOCHS epochs, under <model_dir>/guide.
GUIDE_PRESET = "svdnet_guide"
GUIDE_EPOCHS = 10

# ``assets.extra/generator.json``: the Keras architecture.
KERAS_NAME = "generator"


@dataclasses.dataclass
class GanConfig:
    """Hyper-parameters of the GAN training.

    Adam with betas (0.5, 0.999) as in DCGAN; the hinge loss plus the
    auxiliary class loss (weight ``aux_weight``) when the preset's
    discriminator has a class head; class-balanced real batches, never
    augmented themselves (the GAN should learn the data as it is).

    ``ema_decay``, ``r1_gamma`` and ``augment`` (the stabilisers of
    ``ConditionalDCGAN``), ``guide_steps`` (batches of the class guide's
    training; 0: no guide) and ``guide_weight`` (its loss weight in L_G)
    default to the preset's ``training`` entry, else off.
    """

    preset: str = "dcgan_conditional"
    epochs: int = 40
    steps_per_epoch: int = 250
    batch_size: int = 32
    d_learning_rate: float = 2e-4
    g_learning_rate: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    loss: str = "hinge"
    aux_weight: float = 1.0
    ema_decay: float = None
    r1_gamma: float = None
    augment: str = None
    guide_steps: int = None
    guide_weight: float = None
    seed: int = 0

    def __post_init__(self):
        for name in ("epochs", "steps_per_epoch", "batch_size"):
            if getattr(self, name) < 1:
                raise ParameterError(
                    f"Expected {name} >= 1. Received: {name}={getattr(self, name)}"
                )
        if self.preset not in PRESETS:
            raise ParameterError(
                f"Expected preset in {sorted(PRESETS)}. Received: preset={self.preset!r}"
            )
        training = {**STABILISERS_OFF, **PRESETS[self.preset].get("training", {})}
        for name, value in training.items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if not 0.0 <= self.ema_decay < 1.0:
            raise ParameterError(
                f"Expected 0 <= ema_decay < 1. Received: ema_decay={self.ema_decay}"
            )
        if not self.r1_gamma >= 0:
            raise ParameterError(f"Expected r1_gamma >= 0. Received: r1_gamma={self.r1_gamma}")
        if self.guide_steps < 0 or (self.guide_steps and self.guide_steps < GUIDE_EPOCHS):
            raise ParameterError(
                f"Expected guide_steps = 0 (no guide) or >= {GUIDE_EPOCHS}. "
                f"Received: guide_steps={self.guide_steps}"
            )
        if not self.guide_weight >= 0:
            raise ParameterError(
                f"Expected guide_weight >= 0. Received: guide_weight={self.guide_weight}"
            )
        if self.guide_weight > 0 and not self.guide_steps:
            raise ParameterError(
                "Expected guide_steps > 0 when guide_weight > 0 (the guide must be trained). "
                f"Received: guide_steps={self.guide_steps}, guide_weight={self.guide_weight}"
            )
        augment.parse_policy(self.augment)


def build(config, mean, std, strategy, class_guide=None):
    """Build generator, discriminator and the compiled GAN under ``strategy``
    (``class_guide``: see ``train_guide``)."""
    preset = PRESETS[config.preset]
    with strategy.scope():
        generator = Generator(mean, std, name="generator", **preset["generator"])
        discriminator = Discriminator(mean, std, name="discriminator", **preset["discriminator"])
        gan = ConditionalDCGAN(
            generator,
            discriminator,
            seed=config.seed,
            ema_decay=config.ema_decay,
            class_guide=class_guide,
        )
        gan.compile(
            d_optimizer=keras.optimizers.Adam(config.d_learning_rate, config.beta_1, config.beta_2),
            g_optimizer=keras.optimizers.Adam(config.g_learning_rate, config.beta_1, config.beta_2),
            loss=config.loss,
            aux_weight=config.aux_weight,
            r1_gamma=config.r1_gamma,
            augment_policy=config.augment,
            guide_weight=config.guide_weight,
        )
        gan.build_optimizers()
    return gan


def train_guide(
    config, corpus, model_dir, strategy, cache_dir=None, verbose="auto", checkpoint_minutes=10.0
):
    """Train the class guide of ``config`` (or restore the finished one)
    under ``<model_dir>/guide``: an SVDNet of ``GUIDE_PRESET`` trained on
    class-balanced batches of the train split with the detector's recipe, for
    ``config.guide_steps`` batches. It resumes from its own checkpoint, like the GAN
    (saved at epoch ends and every ``checkpoint_minutes`` within one).

    Returns:
        (the guide's logit model, frozen, or None when ``guide_steps`` is 0;
        info: steps, seconds and its frame error on the valid split at
        probability 0.5, without median filtering).
    """
    if not config.guide_steps:
        return None, None
    guide_config = detector_task.TrainConfig(
        preset=GUIDE_PRESET,
        epochs=GUIDE_EPOCHS,
        steps_per_epoch=config.guide_steps // GUIDE_EPOCHS,
        batch_size=config.batch_size,
        balance=True,
        seed=config.seed,
    )
    verbose = cli.progress_verbosity() if verbose == "auto" else verbose
    guide, info = detector_task.train(
        guide_config,
        corpus,
        pathlib.Path(model_dir) / "guide",
        strategy,
        cache_dir,
        verbose=bool(verbose),
        checkpoint_minutes=checkpoint_minutes,
    )
    valid = pipeline.load_split(corpus, "valid", cache_dir, progress=True)
    error = detector_task.excerpt_error(guide, valid, seed=config.seed)
    return _frozen_logits(guide), {
        "preset": GUIDE_PRESET,
        "steps": guide_config.epochs * guide_config.steps_per_epoch,
        "train_seconds_this_run": info["train_seconds_this_run"],
        "valid_excerpt_error": error,
    }


def _frozen_logits(guide):
    """The guide's logit model, frozen: what the GAN's generator loss calls."""
    guide = guide.logit_model()
    guide.trainable = False
    return guide


def load_checkpoint(model_dir, config, train_split, checkpoint=None):
    """The generator of a training run's latest checkpoint (or of
    ``checkpoint``), as it stands mid-training (its weight average when the
    run keeps one): to judge a run before it ends, or to compare its
    checkpoints. Nothing is trained; the class guide's weights come from the
    same checkpoint.

    Args:
        model_dir: the ``--model_dir`` of ``recipes/train_gan.py``.
        config: the run's ``GanConfig`` (its preset and stabilisers shape
            the models).
        train_split: ``SplitFeatures`` of the train split the run trained
            on, whose band statistics it baked into its models.
        checkpoint: a checkpoint's path (``<folder>/ckpt-N``, as TF names
            it) to restore instead of the latest one in ``model_dir``.

    Returns:
        (generator, the checkpoint's path, the generator steps it had done).

    Raises:
        ParameterError: when ``model_dir`` holds no checkpoint, when
            ``checkpoint`` names none, or for a checkpoint whose variables
            don't fit ``config``'s models.
    """
    if checkpoint is None:
        directory, latest = training.run_checkpoint(model_dir)
    else:
        latest = str(checkpoint)
        if not pathlib.Path(latest + ".index").is_file():
            raise ParameterError(
                "Expected checkpoint to name a TF checkpoint (its prefix, such as "
                f"<folder>/ckpt-2000). Received: checkpoint={latest!r}, with no {latest}.index"
            )
        directory = pathlib.Path(latest).parent
    mean, std = pipeline.band_stats(train_split.features)
    guide = None
    if config.guide_steps:
        guide = _frozen_logits(SVDNet.from_preset(GUIDE_PRESET, mean, std))
    gan = build(config, mean, std, tf.distribute.get_strategy(), guide)
    checkpoint = training.ResumableCheckpoint(
        directory, [gan.generator, gan.discriminator, gan], [gan.d_optimizer, gan.g_optimizer]
    )
    try:
        checkpoint.restore(latest, exact=True)
    except (AssertionError, ValueError, tf.errors.InvalidArgumentError) as error:
        raise ParameterError(
            f"Expected a checkpoint of preset {config.preset!r} with its stabilisers "
            f"(ema_decay={config.ema_decay}, guide_steps={config.guide_steps}). "
            f"Received: {latest}, which does not fit ({type(error).__name__})"
        ) from error
    return gan.sampler, latest, int(gan.g_optimizer.iterations.numpy())


class SampleImages(keras.callbacks.Callback):
    """Log generated spectrograms of both classes to TensorBoard each epoch,
    from fixed latents, so progress can be watched."""

    def __init__(self, log_dir, generator, per_class=3, seed=0):
        super().__init__()
        self.writer = tf.summary.create_file_writer(str(log_dir))
        self.generator = generator
        z = np.random.default_rng(seed).standard_normal((2 * per_class, generator.latent_dim))
        self.z = tf.constant(z, tf.float32)
        self.labels = tf.constant([0] * per_class + [1] * per_class, tf.int32)

    def on_epoch_end(self, epoch, logs=None):
        x = self.generator({"z": self.z, "class": self.labels}, training=False)
        # Frequency upwards, scaled to [0, 1] over the top 80 dB (9.2 nats).
        image = tf.transpose(x, [0, 2, 1])[:, ::-1, :, None]
        top = tf.reduce_max(image, axis=[1, 2, 3], keepdims=True)
        image = tf.clip_by_value((image - (top - 9.2)) / 9.2, 0.0, 1.0)
        with self.writer.as_default(step=epoch + 1):
            tf.summary.image("samples (first half non-vocal, then vocal)", image, max_outputs=6)
        self.writer.flush()


def train(
    config, corpus, model_dir, strategy, cache_dir=None, verbose="auto", checkpoint_minutes=10.0
):
    """Train with checkpoints in ``model_dir``; resume from the latest one.

    A checkpoint is saved after every epoch and, within an epoch, once
    ``checkpoint_minutes`` of wall time have passed since the last one (None:
    at epoch ends only; 0: after every step); a run saved midway resumes at
    the step it was saved at.

    Returns:
        (gan, info) where info holds timings, the final losses and
        ``epochs_done``; ``gan.sampler`` is the generator to evaluate and
        export. A run that trained also draws ``learning_curves.png`` into
        ``model_dir``, over every stretch so far.
    """
    model_dir = pathlib.Path(model_dir)
    chief = training.is_chief(strategy)
    train_split = pipeline.load_split(corpus, "train", cache_dir, progress=True)
    mean, std = pipeline.band_stats(train_split.features)
    class_guide, guide_info = train_guide(
        config, corpus, model_dir, strategy, cache_dir, verbose, checkpoint_minutes
    )
    gan = build(config, mean, std, strategy, class_guide)
    every = None if checkpoint_minutes is None else 60.0 * checkpoint_minutes
    checkpoint = training.ResumableCheckpoint(
        model_dir / "checkpoints",
        [gan.generator, gan.discriminator, gan],
        [gan.d_optimizer, gan.g_optimizer],
        chief=chief,
        every_seconds=every,
    )

    def data_from(step):
        return training.shard_by_data(
            pipeline.excerpt_dataset(
                train_split,
                batch_size=config.batch_size,
                seed=config.seed,
                balance=True,
                start_step=step,
            )
        )

    # The average steps after every batch, before a save within the epoch.
    callbacks = [EMAUpdate(gan)] if gan.ema_generator is not None else []
    if chief:
        callbacks += [
            keras.callbacks.TensorBoard(str(model_dir / "logs")),
            SampleImages(model_dir / "logs" / "samples", gan.sampler, seed=config.seed),
        ]
    start = time.time()
    # One generator step per training step: its optimizer counts the steps.
    history, initial_epoch, initial_step = training.fit_resumable(
        gan,
        data_from,
        checkpoint,
        gan.g_optimizer.iterations,
        config.epochs,
        config.steps_per_epoch,
        callbacks,
        verbose=cli.progress_verbosity() if verbose == "auto" else verbose,
    )
    if chief and history:
        scalars, _ = gan_history.read(model_dir / "logs")
        gan_history.plot_learning_curves(
            scalars,
            model_dir / "learning_curves.png",
            config.steps_per_epoch,
            title=f"{config.preset}, batch {config.batch_size}",
        )
    info = {
        "train_seconds_this_run": round(time.time() - start, 1),
        "epochs_done": max(initial_epoch, config.epochs),
        "resumed_from_epoch": initial_epoch,
        "resumed_from_step": initial_step,
        "replicas": int(strategy.num_replicas_in_sync),
        "final_logs": {k: float(v[-1]) for k, v in history.items()},
        "generator_parameters": int(gan.generator.count_params()),
        "discriminator_parameters": int(gan.discriminator.count_params()),
        "config": dataclasses.asdict(config),
    }
    if guide_info is not None:
        info["guide"] = guide_info
    return gan, info


def evaluate(generator, detector, corpus, cache_dir=None, num_samples=1000, seed=0, **kwargs):
    """The report of ``evaluation.evaluate`` on the corpus (a JSON-ready dict)."""
    return run_evaluation(
        generator, detector, corpus, cache_dir, num_samples, seed, **kwargs
    ).report


# The splits a generator is judged on: the training excerpts are the floor's
# other side, the valid ones the reference.
EVALUATED_SPLITS = ("train", "valid")
# The splits that can be the reference: the test split keeps the valid one
# clean when a choice (among a run's checkpoints, say) is made by the figures.
REFERENCE_SPLITS = ("valid", "test")


def _check_reference(reference):
    if reference not in REFERENCE_SPLITS:
        raise ParameterError(
            f"Expected reference in {list(REFERENCE_SPLITS)}. Received: reference={reference!r}"
        )


def run_evaluation(
    generator,
    detector,
    corpus,
    cache_dir=None,
    num_samples=5000,
    seed=0,
    reference="valid",
    **kwargs,
):
    """``evaluation.evaluate`` on the train split of ``corpus`` and its
    ``reference`` split (one of ``REFERENCE_SPLITS``), which the report's
    keys call ``valid`` and its settings name: a ``GeneratorEvaluation``."""
    _check_reference(reference)
    train = pipeline.load_split(corpus, "train", cache_dir, progress=True)
    valid = pipeline.load_split(corpus, reference, cache_dir, progress=True)
    return evaluation.evaluate(
        generator, detector, train, valid, num_samples, seed, reference_split=reference, **kwargs
    )


def write_evaluation(result, folder, extra):
    """Write an evaluation into ``folder``: ``evaluation.json`` (``extra``
    plus the report under ``"evaluation"``), ``evaluation.md`` (its tables),
    ``samples.png`` (``evaluation.plot_evaluation``) and ``c2st_scores.csv``
    (every held-out C2ST score: class, side, row, probability of being
    generated; a generated row is the index of its z).

    Returns:
        dict file kind -> path.
    """
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": folder / "evaluation.json",
        "markdown": folder / "evaluation.md",
        "figure": folder / "samples.png",
        "scores": folder / "c2st_scores.csv",
    }
    outputs.write_json(
        paths["json"], {**extra, "evaluation": result.report}, overwrite=True, sort_keys=True
    )
    paths["markdown"].write_text(evaluation.format_report(result.report) + "\n")
    evaluation.plot_evaluation(result, paths["figure"])
    with open(paths["scores"], "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["class", "side", "row", "p_generated"])
        for name, test in result.c2st.items():
            if test is None:
                continue
            for row, p in zip(result.c2st_real_index[name], test.real_scores):
                writer.writerow([name, "real", int(row), f"{p:.6f}"])
            for row, p in enumerate(test.generated_scores):
                writer.writerow([name, "generated", row, f"{p:.6f}"])
    return paths


def evaluation_corpus(generator_dir, data_dir=None, cache_dir=None, splits=EVALUATED_SPLITS):
    """The corpus to judge a generator against, and why.

    ``data_dir`` if given; else the corpus the generator's metadata names,
    when that folder exists; else the synthetic corpus of the version the
    metadata records (``corpus_version``), or of the default version, made in
    the user cache folder if missing. Only ``splits`` are read.

    Returns:
        (``corpus.Corpus``, a sentence saying which corpus and why).
    """
    if data_dir is not None:
        return defaults.open_corpus(data_dir, None, splits=splits), f"{data_dir} (--data_dir)"
    metadata = zoo.metadata(generator_dir)
    named, version = metadata.get("corpus"), metadata.get("corpus_version")
    if named and pathlib.Path(named).is_dir():
        return (
            corpus_lib.read_corpus(named, splits=splits),
            f"{named}, the corpus the generator's metadata names",
        )
    reason = "the version its metadata records"
    if version is None:
        version = synthetic.DEFAULT_VERSION
        reason = (
            "the default version: its metadata records none; "
            "pass --data_dir for the corpus it was trained on"
        )
    folder = cache.synthetic_corpus_dir(version, cache_dir)
    found = (
        "" if not named else f"the generator's metadata names {named}, which is not a folder here; "
    )
    return (
        defaults.open_corpus(None, folder, version=version, splits=splits),
        f"{folder}: {found}the synthetic corpus version {version}, {reason}",
    )


def evaluate_generator_cli(
    generator,
    detector,
    data_dir,
    out,
    num_samples=5000,
    seed=0,
    overwrite=False,
    cache_dir=None,
    model_dir=None,
    preset="dcgan_conditional",
    checkpoint=None,
    reference="valid",
    **kwargs,
):
    """Judge any generator version, or a training run's latest checkpoint
    (or another of its checkpoints), and write ``out`` whole (the logic
    behind ``recipes/evaluate_gan.py``).

    ``out`` and the models are checked before any work. Writes the files of
    ``write_evaluation`` into ``out`` through ``outputs.atomic_dir``.

    Args:
        generator: zoo name or version folder of the generator (None with
            ``model_dir``).
        detector: zoo name or path of the detector that judges it.
        data_dir: corpus in the Jamendo layout, or None: for a version see
            ``evaluation_corpus``; for a run, the synthetic corpus the recipe
            made in ``<model_dir>/corpus``.
        out: output folder, new or empty unless ``overwrite``.
        num_samples: excerpts per row asked for.
        seed: seed of every draw.
        cache_dir: user cache folder override.
        model_dir: a run of ``recipes/train_gan.py``: judge the generator of
            its latest checkpoint (``load_checkpoint``) instead of a version.
        preset: with ``model_dir``, the run's preset (its stabilisers are
            the preset's).
        checkpoint: with ``model_dir``, the checkpoint to judge instead of
            the latest (see ``load_checkpoint``).
        reference: the split the samples are judged against, one of
            ``REFERENCE_SPLITS``: ``"test"`` when the figures choose among
            checkpoints, so that the valid split stays unseen by the choice.
        kwargs: passed to ``evaluation.evaluate``.

    Returns:
        (out folder, ``GeneratorEvaluation``).
    """
    out = outputs.check_output_dir(out, overwrite)
    _check_reference(reference)
    if checkpoint is not None and model_dir is None:
        raise ParameterError(
            f"Expected --model_dir with --checkpoint. Received: checkpoint={checkpoint!r} alone"
        )
    splits = ("train", reference)
    detector_path = zoo.resolve_detector(detector)
    features = cache.user_cache_dir(cache_dir) / "features"
    if model_dir is None:
        generator_dir = zoo.resolve(generator)
        print(f"Generator: {generator_dir.resolve()}")
        corpus, why = evaluation_corpus(generator_dir, data_dir, cache_dir, splits)
        model = load_generator(generator_dir)
        extra = {"generator": zoo.describe_model(generator_dir)}
    else:
        made = pathlib.Path(model_dir) / "corpus"
        if data_dir is None and not made.is_dir():
            raise ParameterError(
                "Expected --data_dir, the corpus the run trained on, or the corpus the recipe "
                f"made in {made}. Received: neither"
            )
        folder = data_dir or made
        corpus = corpus_lib.read_corpus(folder, splits=splits)
        why = f"{folder}, the corpus the run trained on"
        train = pipeline.load_split(corpus, "train", features, progress=True)
        model, path, steps = load_checkpoint(model_dir, GanConfig(preset=preset), train, checkpoint)
        path = pathlib.Path(path).resolve()
        print(f"Generator: {path} ({steps} steps done)")
        extra = {"checkpoint": str(path), "steps_done": steps, "preset": preset}
    print(f"Detector: {detector_path.resolve()}")
    print(f"Corpus: {why}; reference: its {reference} split")
    judge = zoo.load_detector(str(detector_path))
    result = run_evaluation(
        model, judge, corpus, features, num_samples, seed, reference=reference, **kwargs
    )
    extra = {
        **extra,
        "detector": zoo.describe_model(detector_path),
        "corpus": str(corpus.root),
        "corpus_note": why,
        "reference_split": reference,
    }
    with outputs.atomic_dir(out, overwrite) as tmp:
        write_evaluation(result, tmp, extra)
    return out, result


def export_once(generator, export_base, metadata, model_dir, epoch):
    """Export the generator trained to ``epoch`` unless ``model_dir``
    already exported it (``<model_dir>/exported.json`` names that version),
    so that a rerun after a finished training only evaluates.

    Returns:
        (version folder, whether it was written now).
    """
    marker = pathlib.Path(model_dir) / "exported.json"
    if marker.is_file():
        done = json.loads(marker.read_text())
        if done.get("epoch") == epoch and pathlib.Path(done.get("version_dir", "")).is_dir():
            return pathlib.Path(done["version_dir"]), False
    version_dir = export_generator(generator, export_base, metadata)
    outputs.write_json(
        marker,
        {"version_dir": str(version_dir), "epoch": int(epoch)},
        overwrite=True,
        sort_keys=True,
    )
    return version_dir, True


def publish(model_dir, export_base, version=None):
    """Export a finished, evaluated run's generator as a new version under
    ``<export_base>/generator/`` (``saved_models``: the zoo), with the run's
    ``evaluation.json`` (its training record and the evaluation) as its
    metadata, so that the published version carries the figures it was
    judged by. The run's own export is the generator published, unchanged.
    A generator trained on a synthetic corpus also gets its
    ``reproduction_check`` in the metadata, under ``"check"``.

    Returns:
        The new version folder.

    Raises:
        ParameterError: if the run has no export or no evaluation of that
            export (run ``recipes/train_gan.py`` to the end first).
    """
    model_dir = pathlib.Path(model_dir)
    marker, report = model_dir / "exported.json", model_dir / "evaluation.json"
    if not marker.is_file():
        raise ParameterError(
            f"Expected a finished run with {marker}. Received: model_dir={model_dir}"
        )
    exported = pathlib.Path(json.loads(marker.read_text())["version_dir"])
    if not report.is_file():
        raise ParameterError(f"Expected the run's evaluation in {report}. Received: none")
    metadata = json.loads(report.read_text())
    if pathlib.Path(metadata.get("export", "")).resolve() != exported.resolve():
        raise ParameterError(
            f"Expected {report} to evaluate the run's export {exported}. "
            f"Received: export={metadata.get('export')!r}"
        )
    generator, corpus_version = load_generator(exported), metadata.get("corpus_version")
    if corpus_version is not None:
        info = synthetic.corpus_info(metadata["corpus"]) if metadata.get("corpus") else None
        record = reproduction.corpus_record(
            corpus_version, ("train", "valid"), (info or {}).get("seed", 0)
        )
        options = {**CHECK_OPTIONS, "seed": metadata["config"]["seed"]}
        detector = zoo.load_detector(metadata["detector"])
        metadata["check"] = reproduction_check(generator, detector, record, options)
    return export_generator(generator, export_base, metadata, version)


# The reproduction check: the recorded figures only, on few samples.
CHECK_OPTIONS = {"num_samples": 500, "resamples": 10, "c2st_samples": 0, "measures": False}
CHECK_FIGURES = ("samples", "generator", "floor", "ceiling", "consistency")


def reproduction_check(generator, detector, record, options):
    """``evaluate`` with ``options`` (keyword arguments, such as
    ``CHECK_OPTIONS`` and a seed) on the check corpus of ``record``
    (``reproduction.corpus_record`` with the train and valid splits): a
    JSON-ready dict with the record, the options and each class's
    ``CHECK_FIGURES``."""
    report = reproduction.run_check(
        record, lambda songs: evaluate(generator, detector, songs, **options)
    )
    return {
        "corpus": record,
        "options": dict(options),
        "evaluation": {
            name: {key: row[key] for key in CHECK_FIGURES}
            for name, row in evaluation.class_rows(report).items()
        },
    }


def export_generator(generator, export_base, metadata, version=None):
    """Write ``<export_base>/generator/<version>/`` with the Keras
    architecture and metadata in ``assets.extra/``."""
    return export.export_keras(
        generator,
        GeneratorServing(generator),
        pathlib.Path(export_base) / "generator",
        KERAS_NAME,
        metadata,
        version,
    )


def load_generator(version_dir):
    """The Keras generator shipped beside a SavedModel version."""
    return export.load_keras(version_dir, KERAS_NAME)
