"""The generator's resize-convolution upsampling (``upsampling="resize"``)."""

import keras
import numpy as np
import pytest
from helpers import random_band_stats, random_gan_inputs

from vocal_xai.errors import ParameterError
from vocal_xai.models.dcgan import PRESETS, Generator
from vocal_xai.models.dcgan.dcgan_backbone import UPSAMPLING

RESIZE_G = PRESETS["dcgan_tiny_resize"]["generator"]


def test_resize_presets_differ_from_the_conditional_ones_only_in_upsampling():
    for name, base in [
        ("dcgan_resize", "dcgan_conditional"),
        ("dcgan_tiny_resize", "dcgan_tiny_conditional"),
    ]:
        assert PRESETS[name]["generator"] == {
            **PRESETS[base]["generator"],
            "kernel_size": 3,
            "upsampling": "resize",
        }
        assert PRESETS[name]["discriminator"] == PRESETS[base]["discriminator"]


def test_each_block_resizes_then_convolves():
    keras.utils.set_random_seed(0)
    generator = Generator(*random_band_stats(), **RESIZE_G)
    assert not [l for l in generator.layers if isinstance(l, keras.layers.Conv2DTranspose)]
    names = [l.name for l in generator.layers]
    channels = 16
    for i in range(1, 5):
        channels //= 2
        resize, conv = generator.get_layer(f"up{i}_resize"), generator.get_layer(f"up{i}")
        assert isinstance(resize, keras.layers.UpSampling2D) and resize.interpolation == "nearest"
        assert tuple(resize.size) == (2, 2)
        assert (
            type(conv) is keras.layers.Conv2D
            and conv.strides == (1, 1)
            and conv.filters == channels
        )
        assert conv.kernel_size == (3, 3) and conv.padding == "same"
        assert names.index(f"up{i}_resize") < names.index(f"up{i}")
    # 8 x 5 doubled four times, then the centre 115 frames.
    assert tuple(generator.get_layer("up4").output.shape) == (None, 128, 80, 1)
    z, labels = random_gan_inputs(3, seed=1)
    out = generator({"z": z, "class": labels}, training=False).numpy()
    assert (
        out.shape == (3, 115, 80)
        and np.all(np.isfinite(out))
        and np.all(out >= np.log(1e-7) - 1e-5)
    )


def test_upsampling_config_round_trip_and_older_configs():
    keras.utils.set_random_seed(4)
    generator = Generator(*random_band_stats(), name="generator", **RESIZE_G)
    config = generator.get_config()
    assert config["upsampling"] == "resize"
    rebuilt = Generator.from_config(config)
    rebuilt.set_weights(generator.get_weights())
    z, labels = random_gan_inputs(2, seed=5)
    np.testing.assert_array_equal(
        rebuilt({"z": z, "class": labels}).numpy(), generator({"z": z, "class": labels}).numpy()
    )
    # Configs written before the option (generator versions 1-2) transpose.
    older = Generator(
        *random_band_stats(), **PRESETS["dcgan_tiny_conditional"]["generator"]
    ).get_config()
    del older["upsampling"]
    assert Generator.from_config(older).upsampling == "transpose"


def test_unknown_upsampling_is_refused():
    assert UPSAMPLING == ("transpose", "resize")
    with pytest.raises(
        ParameterError,
        match=r"upsampling in \('transpose', 'resize'\). Received: upsampling='bilinear'",
    ):
        Generator(*random_band_stats(), **{**RESIZE_G, "upsampling": "bilinear"})
