"""The GAN's class guide: a frozen classifier of real excerpts whose
cross-entropy on generated excerpts joins the generator's loss."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import random_band_stats, random_gan_inputs

from vocal_xai import training
from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import pipeline
from vocal_xai.errors import ParameterError
from vocal_xai.models.dcgan import PRESETS, ConditionalDCGAN, Discriminator, Generator, task
from vocal_xai.models.detector import SVDNet
from vocal_xai.models.detector import task as detector_task

TINY = PRESETS["dcgan_tiny_conditional"]
HIGH_BANDS = 40  # the toy guide calls an excerpt vocal when its upper bands are loud


def _toy_guide(offset):
    """logit = mean log-mel of the upper 40 bands - offset: a classifier the
    generator can satisfy by raising or lowering its upper bands."""
    log_mel = keras.Input((115, 80))
    logit = keras.layers.Lambda(
        lambda x: tf.reduce_mean(x[:, :, HIGH_BANDS:], axis=(1, 2)) - offset
    )(log_mel)
    return keras.Model(log_mel, logit)


def _gan(guide=None, guide_weight=0.0, seed=0):
    keras.utils.set_random_seed(seed)
    mean, std = random_band_stats()
    gan = ConditionalDCGAN(
        Generator(mean, std, **TINY["generator"]),
        Discriminator(mean, std, **TINY["discriminator"]),
        seed=seed,
        class_guide=guide,
    )
    gan.compile(
        keras.optimizers.Adam(2e-3, 0.5, 0.999),
        keras.optimizers.Adam(2e-3, 0.5, 0.999),
        guide_weight=guide_weight,
    )
    gan.build_optimizers()
    return gan, mean


def _class_gap(gan, guide):
    """Mean guide logit of G(z, vocal) minus that of G(z, non-vocal), same z."""
    z, _ = random_gan_inputs(64, seed=9)
    logits = [
        guide(gan.generator({"z": z, "class": tf.fill([64], c)}, training=False)).numpy().mean()
        for c in (0, 1)
    ]
    return float(logits[1] - logits[0])


@pytest.mark.slow
def test_the_guide_loss_pulls_the_classes_apart_along_the_guide():
    # Real batches with no class difference: only the guide tells the classes
    # apart, so without it the generator has no reason to separate them.
    gaps = {}
    for weight in (0.0, 5.0):
        mean = random_band_stats()[0]
        guide = _toy_guide(offset=float(np.mean(mean[HIGH_BANDS:])))
        gan, mean = _gan(guide, weight)
        train_step = tf.function(gan.train_step, autograph=False)
        rng = np.random.default_rng(1)
        for _step in range(80):
            real = mean + rng.normal(0, 1, (16, 115, 80)).astype(np.float32)
            logs = train_step((tf.constant(real, tf.float32), tf.constant([0, 1] * 8, tf.int32)))
        gaps[weight] = _class_gap(gan, guide)
        assert ("g_guide" in logs) == (weight > 0)
    assert gaps[5.0] > 0.1 and gaps[5.0] > 10 * abs(gaps[0.0]), gaps


@pytest.mark.slow
def test_g_guide_is_the_guides_cross_entropy_on_the_generated_batch():
    guide = _toy_guide(offset=-3.0)
    gan, _ = _gan(guide, guide_weight=1.0)
    # Replay the generator step's draws: the seed generator's state before
    # the step, advanced past the discriminator's draw.
    state = gan.seed_generator.state.numpy().copy()
    real = tf.zeros((8, 115, 80)) - 5.0
    labels = tf.constant([0, 1] * 4, tf.int32)
    generator = Generator.from_config(gan.generator.get_config())
    generator.set_weights(gan.generator.get_weights())
    replay = keras.random.SeedGenerator(0)
    replay.state.assign(state)
    keras.random.normal((8, 128), seed=replay)  # the discriminator step's z
    z = keras.random.normal((8, 128), seed=replay)
    fake = generator({"z": z, "class": labels}, training=True)
    logits = guide(fake).numpy()
    y = labels.numpy()
    expected = float(np.mean(np.logaddexp(0, logits) - y * logits))
    logs = gan.train_step((real, labels))
    assert float(logs["g_guide"]) == pytest.approx(expected, rel=1e-4)


@pytest.mark.slow
def test_the_guide_is_frozen_and_not_in_the_gan_config():
    dense_guide = keras.Sequential(
        [keras.Input((115, 80)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    before = dense_guide.get_weights()
    gan, _ = _gan(dense_guide, guide_weight=1.0)
    gan.train_step((tf.zeros((4, 115, 80)) - 5.0, tf.constant([0, 1, 0, 1], tf.int32)))
    assert not dense_guide.trainable
    for a, b in zip(before, dense_guide.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert "class_guide" not in gan.get_config()


@pytest.mark.slow
def test_bad_guide_settings():
    with pytest.raises(ParameterError, match="guide_weight=1.0, no guide"):
        _gan(None, guide_weight=1.0)
    with pytest.raises(ParameterError, match="guide_weight=-1"):
        _gan(_toy_guide(0.0), guide_weight=-1.0)
    with pytest.raises(ParameterError, match="guide_steps=5"):
        task.GanConfig(preset="dcgan_tiny", guide_steps=5, guide_weight=1.0)
    with pytest.raises(ParameterError, match="guide_steps=0, guide_weight=1.0"):
        task.GanConfig(preset="dcgan_tiny", guide_weight=1.0)
    # Presets without a guide train without one; the guided preset has one.
    assert (
        task.GanConfig(preset="dcgan_stable").guide_steps,
        task.GanConfig(preset="dcgan_stable").guide_weight,
    ) == (0, 0)
    assert task.GanConfig(preset="dcgan_guided").guide_steps == 10000


@pytest.mark.slow
def test_train_guide_learns_the_classes_and_resumes_finished(small_corpus, tmp_path):
    corpus = corpus_lib.read_corpus(small_corpus)
    config = task.GanConfig(preset="dcgan_tiny_guided", guide_steps=100, batch_size=16)
    strategy = training.prepare("default", 0)
    guide, info = task.train_guide(config, corpus, tmp_path, strategy, verbose=0)
    assert info["steps"] == 100 and info["preset"] == task.GUIDE_PRESET
    assert not guide.trainable
    # Its error on the valid split, per class (``excerpt_error``).
    assert set(info["valid_excerpt_error"]) == {"non_vocal", "vocal"}
    assert all(0 <= e <= 1 for e in info["valid_excerpt_error"].values())
    # A second call restores the finished guide instead of training again.
    again, info_again = task.train_guide(config, corpus, tmp_path, strategy, verbose=0)
    assert info_again["valid_excerpt_error"] == info["valid_excerpt_error"]
    for a, b in zip(guide.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    valid = pipeline.load_split(corpus, "valid")
    x, _ = pipeline.sample_excerpts(valid, 4, seed=0)
    np.testing.assert_allclose(guide(x).numpy(), again(x).numpy(), rtol=1e-6)


@pytest.mark.slow
def test_excerpt_error_counts_each_class_apart(small_corpus):
    corpus = corpus_lib.read_corpus(small_corpus)
    valid = pipeline.load_split(corpus, "valid")
    model = SVDNet.from_preset("svdnet_tiny", *random_band_stats())
    logit = model.get_layer("logit")
    kernel, bias = logit.get_weights()
    logit.set_weights([np.zeros_like(kernel), np.full_like(bias, 10.0)])  # always vocal
    assert detector_task.excerpt_error(model, valid, per_class=50) == {
        "non_vocal": 1.0,
        "vocal": 0.0,
    }
    logit.set_weights([np.zeros_like(kernel), np.full_like(bias, -10.0)])  # never vocal
    assert detector_task.excerpt_error(model, valid, per_class=50) == {
        "non_vocal": 0.0,
        "vocal": 1.0,
    }
