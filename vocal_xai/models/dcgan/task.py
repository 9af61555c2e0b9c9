"""Train, evaluate and export the conditional DCGAN: the logic behind
``recipes/train_gan.py``."""

import dataclasses
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf

from vocal_xai import cli, export, training
from vocal_xai.data import pipeline
from vocal_xai.errors import ParameterError
from vocal_xai.models.dcgan import evaluation
from vocal_xai.models.dcgan.conditional_dcgan import ConditionalDCGAN
from vocal_xai.models.dcgan.dcgan_backbone import Discriminator, Generator
from vocal_xai.models.dcgan.dcgan_presets import PRESETS
from vocal_xai.models.dcgan.serving import GeneratorServing

# ``assets.extra/generator.json``: the Keras architecture.
KERAS_NAME = "generator"


@dataclasses.dataclass
class GanConfig:
    """Hyper-parameters of the GAN training.

    Adam with betas (0.5, 0.999) as in DCGAN; the hinge loss plus the
    auxiliary class loss (weight ``aux_weight``) when the preset's
    discriminator has a class head; class-balanced real batches without
    augmentation (the GAN should learn the data as it is).
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
    seed: int = 0

    def __post_init__(self):
        for name in ("epochs", "steps_per_epoch", "batch_size"):
            if getattr(self, name) < 1:
                raise ParameterError(f"Expected {name} >= 1. Received: {name}={getattr(self, name)}")
        if self.preset not in PRESETS:
            raise ParameterError(f"Expected preset in {sorted(PRESETS)}. Received: preset={self.preset!r}")


def build(config, mean, std, strategy):
    """Build generator, discriminator and the compiled GAN under ``strategy``."""
    preset = PRESETS[config.preset]
    with strategy.scope():
        generator = Generator(mean, std, name="generator", **preset["generator"])
        discriminator = Discriminator(mean, std, name="discriminator", **preset["discriminator"])
        gan = ConditionalDCGAN(generator, discriminator, seed=config.seed)
        gan.compile(
            d_optimizer=keras.optimizers.Adam(config.d_learning_rate, config.beta_1, config.beta_2),
            g_optimizer=keras.optimizers.Adam(config.g_learning_rate, config.beta_1, config.beta_2),
            loss=config.loss,
            aux_weight=config.aux_weight,
        )
        gan.build_optimizers()
    return gan


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


def train(config, corpus, model_dir, strategy, cache_dir=None, verbose="auto"):
    """Train with checkpoints in ``model_dir``; resume from the latest one.

    Returns:
        (gan, info) where info holds timings and the final losses.
    """
    model_dir = pathlib.Path(model_dir)
    chief = training.is_chief(strategy)
    train_split = pipeline.load_split(corpus, "train", cache_dir)
    mean, std = pipeline.band_stats(train_split.features)
    gan = build(config, mean, std, strategy)
    checkpoint = training.ResumableCheckpoint(
        model_dir / "checkpoints",
        [gan.generator, gan.discriminator, gan],
        [gan.d_optimizer, gan.g_optimizer],
        chief=chief,
    )
    initial_epoch = checkpoint.restore()
    data = pipeline.excerpt_dataset(
        train_split,
        batch_size=config.batch_size,
        seed=config.seed,
        balance=True,
        start_step=initial_epoch * config.steps_per_epoch,
    )
    callbacks = [checkpoint]
    if chief:
        callbacks += [
            keras.callbacks.TensorBoard(str(model_dir / "logs")),
            SampleImages(model_dir / "logs" / "samples", gan.generator, seed=config.seed),
        ]
    start = time.time()
    history = {}
    if initial_epoch < config.epochs:
        history = gan.fit(
            training.shard_by_data(data),
            epochs=config.epochs,
            steps_per_epoch=config.steps_per_epoch,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=cli.progress_verbosity() if verbose == "auto" else verbose,
        ).history
    info = {
        "train_seconds_this_run": round(time.time() - start, 1),
        "resumed_from_epoch": initial_epoch,
        "replicas": int(strategy.num_replicas_in_sync),
        "final_logs": {k: float(v[-1]) for k, v in history.items()},
        "generator_parameters": int(gan.generator.count_params()),
        "discriminator_parameters": int(gan.discriminator.count_params()),
        "config": dataclasses.asdict(config),
    }
    return gan, info


def evaluate(generator, detector, corpus, cache_dir=None, num_samples=1000, seed=0):
    """The table of ``evaluation.evaluate_generator`` on the corpus."""
    train = pipeline.load_split(corpus, "train", cache_dir)
    valid = pipeline.load_split(corpus, "valid", cache_dir)
    return evaluation.evaluate_generator(generator, detector, train, valid, num_samples, seed)


def export_generator(generator, export_base, metadata, version=None):
    """Write ``<export_base>/generator/<version>/`` with the Keras
    architecture and metadata in ``assets.extra/``."""
    return export.export_keras(
        generator, GeneratorServing(generator), pathlib.Path(export_base) / "generator", KERAS_NAME, metadata, version
    )


def load_generator(version_dir):
    """The Keras generator shipped beside a SavedModel version."""
    return export.load_keras(version_dir, KERAS_NAME)
