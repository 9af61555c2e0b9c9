import keras
import numpy as np
import pytest
from helpers import random_band_stats

from vocal_xai.errors import ParameterError
from vocal_xai.layers import Standardize
from vocal_xai.models.detector import PRESETS, SVDNet


def test_paper_preset_matches_the_paper():
    model = SVDNet.from_preset("svdnet_paper", *random_band_stats())
    # 640 + 18464 + 36992 + 73792 + 4928*256+256 + 256*64+64 + 65
    assert model.count_params() == 1_408_225
    assert model.get_layer("flatten").output.shape[-1] == 4928
    out = model(np.zeros((3, 115, 80), np.float32))
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "logit": (3, 1),
        "probability": (3, 1),
        "embedding_256": (3, 256),
        "embedding_64": (3, 64),
    }
    assert model.get_layer("conv1_act").negative_slope == pytest.approx(0.01)
    assert model.get_layer("dropout1").rate == 0.5


def test_standardisation_is_baked_in():
    mean, std = random_band_stats(1)
    model = SVDNet.from_preset("svdnet_tiny", mean, std)
    plain = SVDNet.from_preset("svdnet_tiny", np.zeros(80), np.ones(80))
    plain.set_weights(model.get_weights())
    x = np.random.default_rng(2).normal(-4, 2, (4, 115, 80)).astype(np.float32)
    got = model(x)["logit"].numpy()
    want = plain(((x - mean) / std).astype(np.float32))["logit"].numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model(x)["probability"].numpy(), 1 / (1 + np.exp(-got)), rtol=1e-5)


def test_config_round_trip_and_keras_file(tmp_path):
    model = SVDNet.from_preset("svdnet_tiny", *random_band_stats())
    config = model.get_config()
    assert config["dense_units"] == [16, 8] and len(config["mean"]) == 80
    clone = SVDNet.from_config(config)
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(-4, 2, (2, 115, 80)).astype(np.float32)
    np.testing.assert_allclose(clone(x)["logit"], model(x)["logit"], atol=1e-6)
    path = tmp_path / "d.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, SVDNet)
    np.testing.assert_allclose(loaded(x)["embedding_8"], model(x)["embedding_8"], atol=1e-6)


def test_logit_model_shares_weights():
    model = SVDNet.from_preset("svdnet_tiny", *random_band_stats())
    train_view = model.logit_model()
    x = np.random.default_rng(0).normal(-4, 2, (2, 115, 80)).astype(np.float32)
    np.testing.assert_allclose(train_view(x), model(x)["logit"], atol=1e-6)
    assert len(train_view.trainable_weights) == len(model.trainable_weights)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"conv_filters": (4, 4, 8)}, "four positive filter counts"),
        ({"dense_units": (8, 8)}, "distinct positive dense units"),
        ({"dropout": 1.0}, "dropout=1.0"),
    ],
)
def test_bad_arguments(kwargs, pattern):
    with pytest.raises(ParameterError, match=pattern):
        SVDNet(*random_band_stats(), **{**PRESETS["svdnet_tiny"], **kwargs})


def test_bad_preset_and_stats():
    with pytest.raises(ParameterError, match="preset='huge'"):
        SVDNet.from_preset("huge", *random_band_stats())
    with pytest.raises(ParameterError, match="std > 0"):
        Standardize(np.zeros(80), np.zeros(80))
    with pytest.raises(ParameterError, match=r"mean.shape=\(80,\), std.shape=\(79,\)"):
        Standardize(np.zeros(80), np.ones(79))
