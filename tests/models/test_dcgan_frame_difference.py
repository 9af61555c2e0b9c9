"""The discriminator's frame-difference channel (``frame_difference=True``)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import compiled_gan, random_band_stats, random_gan_inputs, random_log_mel

from vocal_xai.models.dcgan import PRESETS, Discriminator, Generator
from vocal_xai.models.dcgan.dcgan_backbone import FrameDifference

DELTA_D = PRESETS["dcgan_tiny_delta"]["discriminator"]


def test_delta_presets_differ_from_the_resize_ones_only_in_the_discriminator_input():
    for name, base in [
        ("dcgan_guided_resize_delta", "dcgan_guided_resize"),
        ("dcgan_tiny_delta", "dcgan_tiny_resize"),
    ]:
        assert PRESETS[name]["discriminator"] == {
            **PRESETS[base]["discriminator"],
            "frame_difference": True,
        }
        rest = {k: v for k, v in PRESETS[name].items() if k != "discriminator"}
        assert rest == {k: v for k, v in PRESETS[base].items() if k != "discriminator"}


def test_frame_difference_values():
    x = np.arange(2 * 4 * 3, dtype="float32").reshape(2, 4, 3, 1) ** 2
    out = keras.ops.convert_to_numpy(FrameDifference()(x))
    assert out.shape == (2, 4, 3, 2)
    np.testing.assert_array_equal(out[..., 0], x[..., 0])
    np.testing.assert_array_equal(out[:, 0, :, 1], 0.0)
    np.testing.assert_array_equal(out[:, 1:, :, 1], x[:, 1:, :, 0] - x[:, :-1, :, 0])
    assert FrameDifference().compute_output_shape((None, 115, 80, 1)) == (None, 115, 80, 2)


def test_the_first_convolution_sees_both_channels():
    keras.utils.set_random_seed(0)
    stats = random_band_stats()
    discriminator = Discriminator(*stats, **DELTA_D)
    plain = Discriminator(*stats, **{**DELTA_D, "frame_difference": False})
    assert discriminator.get_layer("down1_sn").layer.kernel.shape[2] == 2
    assert plain.get_layer("down1_sn").layer.kernel.shape[2] == 1
    # A constant excerpt has no frame-to-frame change: zeroing the kernel's
    # difference slice leaves its logits as they are; a moving one changes them.
    generator = Generator(*stats, **PRESETS["dcgan_tiny_delta"]["generator"])
    z, labels = random_gan_inputs(3, seed=2)
    moving = generator({"z": z, "class": labels}).numpy()
    labels = labels.numpy()
    still = np.repeat(moving[:, :1], moving.shape[1], axis=1)
    kernel = discriminator.get_layer("down1_sn").layer.kernel
    before = [
        discriminator({"log_mel": x, "class": labels})["logit"].numpy() for x in (still, moving)
    ]
    kernel.assign(keras.ops.concatenate([kernel[..., :1, :], kernel[..., 1:, :] * 0], axis=2))
    after = [
        discriminator({"log_mel": x, "class": labels})["logit"].numpy() for x in (still, moving)
    ]
    np.testing.assert_allclose(after[0], before[0], rtol=1e-5, atol=1e-6)
    assert np.max(np.abs(after[1] - before[1])) > 1e-4


def test_config_round_trip_and_older_configs():
    keras.utils.set_random_seed(3)
    discriminator = Discriminator(*random_band_stats(), name="discriminator", **DELTA_D)
    config = discriminator.get_config()
    assert config["frame_difference"] is True
    rebuilt = Discriminator.from_config(config)
    rebuilt.set_weights(discriminator.get_weights())
    labels = np.array([0, 1], "int32")
    x = np.random.default_rng(0).normal(-5, 2, (2, 115, 80)).astype("float32")
    np.testing.assert_array_equal(
        rebuilt({"log_mel": x, "class": labels})["logit"].numpy(),
        discriminator({"log_mel": x, "class": labels})["logit"].numpy(),
    )
    # Configs written before the option have no difference channel.
    del config["frame_difference"]
    assert Discriminator.from_config(config).frame_difference is False


@pytest.mark.slow
def test_a_training_step_with_r1_and_augmentation_updates_the_difference_weights():
    gan = compiled_gan("dcgan_tiny_delta", r1_gamma=1.0, augment_policy="shift,cutout")
    kernel = gan.discriminator.get_layer("down1_sn").layer.kernel
    before = keras.ops.convert_to_numpy(kernel)[..., 1, :].copy()
    logs = gan.train_step((random_log_mel(8, seed=2), tf.constant([0, 1] * 4, tf.int32)))
    assert all(np.isfinite(float(v)) for v in logs.values()) and float(logs["r1"]) > 0
    assert np.max(np.abs(keras.ops.convert_to_numpy(kernel)[..., 1, :] - before)) > 0
