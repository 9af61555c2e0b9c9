"""The GAN's stabilisers: DiffAugment, the R1 penalty and the generator's
weight average."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import compiled_gan, random_band_stats, random_gan_inputs, random_log_mel

from vocal_xai import training
from vocal_xai.errors import ParameterError
from vocal_xai.models.dcgan import (
    PRESETS,
    ConditionalDCGAN,
    Discriminator,
    augment,
    task,
)
from vocal_xai.models.dcgan.conditional_dcgan import EMAUpdate

TINY = PRESETS["dcgan_tiny_conditional"]


def _gan(seed=0, ema_decay=0.0, r1_gamma=0.0, augment_policy="", learning_rate=2e-4):
    return compiled_gan(
        seed=seed,
        ema_decay=ema_decay,
        r1_gamma=r1_gamma,
        augment_policy=augment_policy,
        learning_rate=learning_rate,
    )


# DiffAugment.


def test_shift_rolls_each_excerpt_in_time_within_its_range():
    x = random_log_mel(16, seed=3)
    y = augment.shift_time(x, keras.random.SeedGenerator(0)).numpy()
    x = x.numpy()
    most = int(115 * augment.SHIFT_FRACTION)
    shifts = []
    for a, b in zip(x, y):
        found = [s for s in range(-most, most + 1) if np.array_equal(np.roll(a, s, axis=0), b)]
        assert len(found) == 1
        shifts.append(found[0])
    assert len(set(shifts)) > 4  # each excerpt draws its own shift


def test_cutout_fills_one_rectangle_with_the_excerpt_mean():
    x = random_log_mel(8, seed=4).numpy()
    y = augment.cutout(tf.constant(x), keras.random.SeedGenerator(1)).numpy()
    height, width = int(115 * augment.CUTOUT_FRACTION), int(80 * augment.CUTOUT_FRACTION)
    for a, b in zip(x, y):
        changed = np.argwhere(a != b)
        (t0, f0), (t1, f1) = changed.min(axis=0), changed.max(axis=0)
        assert (t1 - t0 + 1, f1 - f0 + 1) == (height, width)
        np.testing.assert_allclose(b[t0 : t1 + 1, f0 : f1 + 1], a.mean(), rtol=1e-5)
        outside = np.ones_like(a, bool)
        outside[t0 : t1 + 1, f0 : f1 + 1] = False
        np.testing.assert_array_equal(a[outside], b[outside])


def test_level_adds_one_bounded_offset_per_excerpt():
    x = random_log_mel(32, seed=5)
    offsets = (augment.level(x, keras.random.SeedGenerator(2)) - x).numpy()
    per_excerpt = offsets[:, :1, :1]
    np.testing.assert_allclose(offsets, np.broadcast_to(per_excerpt, offsets.shape), atol=1e-5)
    assert np.all(np.abs(per_excerpt) <= augment.LEVEL_NATS) and np.std(per_excerpt) > 0.1


def test_gradients_flow_through_every_augmentation():
    x = random_log_mel(4, seed=6)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = augment.diff_augment(x, augment.POLICIES, keras.random.SeedGenerator(3))
        total = tf.reduce_sum(y)
    grad = tape.gradient(total, x).numpy()
    # Shift and level pass each value on once; cutout replaces the cut values
    # by the mean, which takes cut / size from every value.
    cut, size = 28 * 20, 115 * 80
    np.testing.assert_allclose(grad.sum(axis=(1, 2)), size, rtol=1e-4)
    for g in grad:
        inside = np.isclose(g, cut / size, rtol=1e-4)
        assert np.sum(inside) == cut
        np.testing.assert_allclose(g[~inside], 1 + cut / size, rtol=1e-4)


def test_policy_parsing():
    assert augment.parse_policy("shift, cutout") == ("shift", "cutout")
    assert augment.parse_policy("") == () and augment.parse_policy(None) == ()
    with pytest.raises(ParameterError, match=r"policy='shift,flip'"):
        augment.parse_policy("shift,flip")


@pytest.mark.slow
def test_augmented_training_never_augments_the_generator_output():
    gan = _gan(augment_policy="shift,cutout,level")
    z, labels = random_gan_inputs(4, seed=1)
    first = gan.sampler({"z": z, "class": labels}, training=False).numpy()
    second = gan.sampler({"z": z, "class": labels}, training=False).numpy()
    np.testing.assert_array_equal(first, second)
    logs = gan.train_step((random_log_mel(8, seed=2), tf.constant([0, 1] * 4, tf.int32)))
    assert all(np.isfinite(float(v)) for v in logs.values())


# R1.


@pytest.mark.slow
def test_r1_is_the_squared_input_gradient_of_the_real_logits():
    gan = _gan(r1_gamma=10.0)
    real = random_log_mel(8, seed=1)
    labels = tf.constant([0, 1] * 4, tf.int32)
    copy = Discriminator.from_config(gan.discriminator.get_config())
    copy.set_weights(gan.discriminator.get_weights())
    with tf.GradientTape() as tape:
        tape.watch(real)
        total = tf.reduce_sum(copy({"log_mel": real, "class": labels}, training=True)["logit"])
    expected = float(np.mean(np.sum(tape.gradient(total, real).numpy() ** 2, axis=(1, 2))))
    logs = gan.train_step((real, labels))
    assert set(logs) >= {"r1", "d_loss"}
    assert float(logs["r1"]) == pytest.approx(expected, rel=1e-3)
    assert expected > 0


@pytest.mark.slow
def test_r1_shrinks_the_discriminator_gradient():
    # Same data, same seeds: the penalised discriminator ends with the
    # smaller input gradient at the real excerpts (after 5 steps a quarter of
    # the other's, after 10 steps 0.29).
    real = random_log_mel(8, seed=1)
    labels = tf.constant([0, 1] * 4, tf.int32)
    norms = {}
    for gamma in (0.0, 3000.0):
        gan = _gan(seed=2, r1_gamma=gamma, learning_rate=2e-3)
        for _ in range(5):
            gan.train_step((real, labels))
        with tf.GradientTape() as tape:
            tape.watch(real)
            total = tf.reduce_sum(
                gan.discriminator({"log_mel": real, "class": labels}, training=True)["logit"]
            )
        norms[gamma] = float(np.mean(np.sum(tape.gradient(total, real).numpy() ** 2, axis=(1, 2))))
    assert norms[3000.0] < 0.5 * norms[0.0], norms


@pytest.mark.slow
def test_bad_stabilisers():
    with pytest.raises(ParameterError, match="r1_gamma=-1"):
        _gan(r1_gamma=-1.0)
    with pytest.raises(ParameterError, match="ema_decay=1.0"):
        _gan(ema_decay=1.0)
    with pytest.raises(ParameterError, match="policy='blur'"):
        _gan(augment_policy="blur")


# The generator's weight average.


def test_sampler_is_the_generator_without_an_average():
    gan = _gan()
    assert gan.ema_generator is None and gan.sampler is gan.generator


@pytest.mark.slow
def test_average_follows_the_generator_with_a_warm_up():
    gan = _gan(ema_decay=0.999, learning_rate=1e-2)
    assert gan.sampler is gan.ema_generator and gan.ema_generator is not gan.generator
    start = [w.numpy() for w in gan.generator.weights]
    for a, b in zip(start, gan.ema_generator.weights):
        np.testing.assert_array_equal(a, b.numpy())
    gan.train_step((random_log_mel(8, seed=1), tf.constant([0, 1] * 4, tf.int32)))
    gan.update_ema()
    # After step t = 1 the decay is min(0.999, 2 / 11).
    decay = 2.0 / 11.0
    moved = 0
    for a, w, e in zip(start, gan.generator.weights, gan.ema_generator.weights):
        np.testing.assert_allclose(
            e.numpy(), decay * a + (1 - decay) * w.numpy(), rtol=1e-5, atol=1e-6
        )
        moved += not np.array_equal(a, w.numpy())
    assert moved > 5


@pytest.mark.slow
def test_fit_steps_the_average_and_a_checkpoint_keeps_it(tmp_path):
    gan = _gan(ema_decay=0.99, learning_rate=1e-2)
    real = random_log_mel(16, seed=3)
    labels = tf.constant([0, 1] * 8, tf.int32)
    data = tf.data.Dataset.from_tensors((real[:8], labels[:8])).repeat()
    checkpoint = training.ResumableCheckpoint(
        tmp_path, [gan.generator, gan.discriminator, gan], [gan.d_optimizer, gan.g_optimizer]
    )
    before = [w.numpy() for w in gan.ema_generator.weights]
    gan.fit(data, epochs=1, steps_per_epoch=3, callbacks=[EMAUpdate(gan), checkpoint], verbose=0)
    after = [w.numpy() for w in gan.ema_generator.weights]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    # The average is neither the start nor the trained generator.
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(after, gan.generator.weights))

    fresh = _gan(ema_decay=0.99, seed=1)
    restored = training.ResumableCheckpoint(
        tmp_path,
        [fresh.generator, fresh.discriminator, fresh],
        [fresh.d_optimizer, fresh.g_optimizer],
    )
    assert restored.restore() == 1
    for a, b in zip(after, fresh.ema_generator.weights):
        np.testing.assert_array_equal(a, b.numpy())


def test_config_takes_the_preset_stabilisers_unless_given():
    stable = task.GanConfig(preset="dcgan_stable")
    assert (stable.ema_decay, stable.r1_gamma, stable.augment) == (0.999, 10.0, "shift,cutout")
    mine = task.GanConfig(preset="dcgan_stable", ema_decay=0.0, augment="")
    assert (mine.ema_decay, mine.r1_gamma, mine.augment) == (0.0, 10.0, "")
    plain = task.GanConfig(preset="dcgan_conditional")
    assert (plain.ema_decay, plain.r1_gamma, plain.augment) == (0.0, 0.0, "")
    with pytest.raises(ParameterError, match="flip"):
        task.GanConfig(augment="flip")
    gan = task.build(
        task.GanConfig(preset="dcgan_tiny_stable"),
        *random_band_stats(),
        tf.distribute.get_strategy(),
    )
    assert (
        gan.ema_decay == 0.9
        and gan.r1_gamma == 1.0
        and gan.augment_policy == ("shift", "cutout", "level")
    )


def test_gan_config_round_trip_keeps_the_decay():
    gan = _gan(ema_decay=0.5)
    clone = ConditionalDCGAN.from_config(gan.get_config())
    assert clone.ema_decay == 0.5 and clone.ema_generator is not None
