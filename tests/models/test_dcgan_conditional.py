"""Class-conditional BatchNorm in the generator, the auxiliary class head of
the discriminator, and the AC-GAN losses of ``ConditionalDCGAN``."""

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import random_band_stats, random_gan_inputs, random_log_mel

from vocal_xai.errors import ParameterError
from vocal_xai.models.dcgan import PRESETS, ConditionalDCGAN, Discriminator, Generator
from vocal_xai.models.dcgan.dcgan_backbone import ConditionalBatchNorm

TINY_G = PRESETS["dcgan_tiny"]["generator"]
TINY_D = PRESETS["dcgan_tiny"]["discriminator"]
COND_G = PRESETS["dcgan_tiny_conditional"]["generator"]
COND_D = PRESETS["dcgan_tiny_conditional"]["discriminator"]
NORM_NAMES = ["project_bn", "up1_bn", "up2_bn", "up3_bn", "up4_bn"]


def _set_state(layer, mean, var, gamma, beta):
    """Set a ConditionalBatchNorm's moving statistics and per-class affine."""
    layer.norm.moving_mean.assign(mean.astype(np.float32))
    layer.norm.moving_variance.assign(var.astype(np.float32))
    layer.gamma.assign(gamma.astype(np.float32))
    layer.beta.assign(beta.astype(np.float32))


def _bce_from_logits(labels, logits):
    """Mean binary cross-entropy, in float64."""
    s, y = np.asarray(logits, np.float64), np.asarray(labels, np.float64)
    return float(np.mean(np.maximum(s, 0) - s * y + np.log1p(np.exp(-np.abs(s)))))


def _sigmoid(s):
    return 1.0 / (1.0 + np.exp(-np.asarray(s, np.float64)))


def _copy(model):
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    return clone


def _unwrapped(model, name):
    """The layer called ``name``, or the layer a wrapper around it holds."""
    for layer in model.layers:
        inner = getattr(layer, "layer", layer)
        if inner.name == name:
            return inner
    raise KeyError(name)


def _by_path(model):
    return {v.path: v.numpy() for v in model.weights}


# ConditionalBatchNorm.


def _normalise(x, mean, var, eps, labels, gamma, beta):
    """``gamma[c] * (x - mean) / sqrt(var + eps) + beta[c]`` in float64."""
    x = np.asarray(x, np.float64)
    shape = (-1,) + (1,) * (x.ndim - 2) + (x.shape[-1],)
    g = gamma[np.asarray(labels)].reshape(shape)
    b = beta[np.asarray(labels)].reshape(shape)
    return g * (x - mean) / np.sqrt(var + eps) + b


@pytest.mark.parametrize("shape", [(5, 3, 4, 6), (5, 6)], ids=["rank4", "rank2"])
def test_conditional_batch_norm_inference(shape):
    rng = np.random.default_rng(0)
    channels = shape[-1]
    x = rng.normal(2.0, 3.0, shape).astype(np.float32)
    labels = np.array([0, 1, 1, 0, 1], np.int32)
    layer = ConditionalBatchNorm(2, epsilon=1e-2)
    layer([x, labels])  # build
    mean = rng.normal(0.0, 2.0, channels)
    var = rng.uniform(0.5, 4.0, channels)
    gamma = rng.uniform(0.5, 2.0, (2, channels))
    beta = rng.normal(0.0, 1.0, (2, channels))
    _set_state(layer, mean, var, gamma, beta)
    assert tuple(layer.gamma.shape) == (2, channels) and tuple(layer.beta.shape) == (2, channels)

    want = _normalise(x, mean, var, 1e-2, labels, gamma, beta)
    for training in (False, None):
        out = layer([x, tf.constant(labels)], training=training).numpy()
        assert out.shape == shape and out.dtype == np.float32
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    # Each row uses the scale and offset of its own class: swapping the
    # labels of two rows changes those rows only.
    swapped = labels.copy()
    swapped[[0, 1]] = swapped[[1, 0]]
    out = layer([x, tf.constant(swapped)], training=False).numpy()
    np.testing.assert_allclose(
        out, _normalise(x, mean, var, 1e-2, swapped, gamma, beta), rtol=1e-5, atol=1e-5
    )
    assert np.max(np.abs(out[:2] - want[:2])) > 1e-2
    np.testing.assert_array_equal(out[2:], layer([x, labels], training=False).numpy()[2:])
    # Inference does not touch the moving statistics.
    np.testing.assert_allclose(layer.norm.moving_mean.numpy(), mean, rtol=1e-6)
    np.testing.assert_allclose(layer.norm.moving_variance.numpy(), var, rtol=1e-6)


@pytest.mark.parametrize("shape", [(6, 3, 4, 5), (6, 5)], ids=["rank4", "rank2"])
def test_conditional_batch_norm_training_uses_batch_statistics(shape):
    rng = np.random.default_rng(1)
    channels = shape[-1]
    x = rng.normal(rng.normal(0, 3, channels), rng.uniform(0.5, 3, channels), shape).astype(
        np.float32
    )
    labels = np.array([1, 0, 0, 1, 1, 0], np.int32)
    layer = ConditionalBatchNorm(2, momentum=0.8, epsilon=1e-3)
    layer([x, labels])
    mean0, var0 = rng.normal(0.0, 1.0, channels), rng.uniform(0.5, 2.0, channels)
    gamma = rng.uniform(0.5, 2.0, (2, channels))
    beta = rng.normal(0.0, 1.0, (2, channels))
    _set_state(layer, mean0, var0, gamma, beta)

    out = layer([x, tf.constant(labels)], training=True).numpy()
    axes = tuple(range(len(shape) - 1))
    batch_mean = x.astype(np.float64).mean(axis=axes)
    batch_var = x.astype(np.float64).var(axis=axes)  # biased, as BatchNorm
    np.testing.assert_allclose(
        out, _normalise(x, batch_mean, batch_var, 1e-3, labels, gamma, beta), rtol=1e-4, atol=1e-4
    )
    # Not the moving statistics.
    moving = _normalise(x, mean0, var0, 1e-3, labels, gamma, beta)
    assert np.max(np.abs(out - moving)) > 0.1
    # The moving statistics moved towards the batch statistics.
    np.testing.assert_allclose(
        layer.norm.moving_mean.numpy(), 0.8 * mean0 + 0.2 * batch_mean, rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        layer.norm.moving_variance.numpy(), 0.8 * var0 + 0.2 * batch_var, rtol=1e-4, atol=1e-5
    )
    # Per-class parameters are trainable, the statistics are not.
    assert {v.path.split("/")[-1] for v in layer.trainable_weights} == {"gamma", "beta"}
    assert {v.path.split("/")[-1] for v in layer.non_trainable_weights} == {
        "moving_mean",
        "moving_variance",
    }


def test_conditional_batch_norm_config_round_trip():
    rng = np.random.default_rng(2)
    x = rng.normal(0.0, 2.0, (4, 2, 3, 5)).astype(np.float32)
    labels = tf.constant([0, 1, 2, 1], tf.int32)
    layer = ConditionalBatchNorm(3, momentum=0.7, epsilon=0.05, name="cbn")
    layer([x, labels])
    layer.set_weights(
        [
            rng.normal(1.0, 0.5, w.shape).astype(np.float32)
            if w.ndim == 2
            else rng.uniform(0.5, 2.0, w.shape).astype(np.float32)
            for w in layer.get_weights()
        ]
    )
    config = layer.get_config()
    assert config["num_classes"] == 3 and config["momentum"] == 0.7 and config["epsilon"] == 0.05
    assert config["name"] == "cbn"
    for clone in [
        ConditionalBatchNorm.from_config(config),
        keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer)),
    ]:
        assert type(clone) is ConditionalBatchNorm and clone.get_config() == config
        assert clone.norm.momentum == 0.7 and clone.norm.epsilon == 0.05
        clone([x, labels])
        clone.set_weights(layer.get_weights())
        np.testing.assert_array_equal(
            clone([x, labels], training=False).numpy(), layer([x, labels], training=False).numpy()
        )
    assert layer.compute_output_shape([(None, 2, 3, 5), (None,)]) == (None, 2, 3, 5)
    with pytest.raises(ParameterError, match="num_classes >= 1. Received: num_classes=0"):
        ConditionalBatchNorm(0)


# Generator with conditional BatchNorm.


def test_presets():
    for name, base in [
        ("dcgan_conditional", "dcgan_small"),
        ("dcgan_tiny_conditional", "dcgan_tiny"),
    ]:
        preset = PRESETS[name]
        assert preset["generator"] == {**PRESETS[base]["generator"], "conditional_norm": True}
        assert preset["discriminator"] == {**PRESETS[base]["discriminator"], "aux_classifier": True}


def test_generator_norm_layer_types():
    keras.utils.set_random_seed(0)
    mean, std = random_band_stats()
    conditional = Generator(mean, std, **COND_G)
    plain = Generator(mean, std, **TINY_G)
    assert conditional.conditional_norm is True and plain.conditional_norm is False
    channels = [16, 8, 4, 2, 1]
    for name, width in zip(NORM_NAMES, channels):
        layer = conditional.get_layer(name)
        assert type(layer) is ConditionalBatchNorm and layer.num_classes == 2
        assert tuple(layer.gamma.shape) == (2, width) and tuple(layer.beta.shape) == (2, width)
        assert type(plain.get_layer(name)) is keras.layers.BatchNormalization
    assert not [l for l in plain.layers if isinstance(l, ConditionalBatchNorm)]
    assert len([l for l in conditional.layers if isinstance(l, ConditionalBatchNorm)]) == 5
    assert not [l for l in conditional.layers if isinstance(l, keras.layers.BatchNormalization)]
    # The conditional model has, per block, 2 x channels more parameters than
    # the affine BatchNorm (two tables of 2 classes instead of one vector).
    assert conditional.count_params() - plain.count_params() == 2 * sum(channels)


def test_generator_class_acts_through_conditional_norm():
    keras.utils.set_random_seed(1)
    generator = Generator(*random_band_stats(), **COND_G)
    # Cut the other path of the class: the embedding concatenated with z.
    embedding = generator.get_layer("class_embedding")
    embedding.set_weights([np.zeros_like(w) for w in embedding.get_weights()])
    z, _ = random_gan_inputs(4, seed=2)
    zeros, ones = tf.zeros([4], tf.int32), tf.ones([4], tf.int32)

    def both(training=False):
        return (
            generator({"z": z, "class": zeros}, training=training).numpy(),
            generator({"z": z, "class": ones}, training=training).numpy(),
        )

    # Same scale and offset for both classes: the class has no effect.
    rng = np.random.default_rng(3)
    for name in NORM_NAMES:
        layer = generator.get_layer(name)
        row_g = rng.uniform(0.5, 1.5, layer.gamma.shape[1])
        row_b = rng.normal(0.0, 0.3, layer.beta.shape[1])
        layer.gamma.assign(np.stack([row_g, row_g]).astype(np.float32))
        layer.beta.assign(np.stack([row_b, row_b]).astype(np.float32))
    out0, out1 = both()
    np.testing.assert_array_equal(out0, out1)
    out0_t, out1_t = both(training=True)  # this also moves the moving statistics
    np.testing.assert_array_equal(out0_t, out1_t)
    out0, out1 = both()

    # Change the offset of class 1 in one block: class 1 changes, class 0 not.
    layer = generator.get_layer("up2_bn")
    beta = layer.beta.numpy()
    beta[1] += 1.0
    layer.beta.assign(beta)
    new0, new1 = both()
    np.testing.assert_array_equal(new0, out0)
    assert np.max(np.abs(new1 - out1)) > 1e-3 and np.max(np.abs(new1 - new0)) > 1e-3

    # And the scale of class 0 in the first block: now class 0 changes too.
    layer = generator.get_layer("project_bn")
    gamma = layer.gamma.numpy()
    gamma[0] *= 2.0
    layer.gamma.assign(gamma)
    last0, last1 = both()
    np.testing.assert_array_equal(last1, new1)
    assert np.max(np.abs(last0 - new0)) > 1e-3


def _perturb_generator(generator, seed):
    """Random per-class parameters and moving statistics away from 0 / 1."""
    rng = np.random.default_rng(seed)
    for name in NORM_NAMES:
        layer = generator.get_layer(name)
        layer.gamma.assign(rng.uniform(0.5, 1.5, layer.gamma.shape).astype(np.float32))
        layer.beta.assign(rng.normal(0.0, 0.3, layer.beta.shape).astype(np.float32))
        layer.norm.moving_mean.assign(
            rng.normal(0.0, 0.1, layer.norm.moving_mean.shape).astype(np.float32)
        )
        layer.norm.moving_variance.assign(
            rng.uniform(0.5, 2.0, layer.norm.moving_variance.shape).astype(np.float32)
        )


def test_conditional_generator_keras_file_round_trip(tmp_path):
    keras.utils.set_random_seed(2)
    generator = Generator(*random_band_stats(), name="generator", **COND_G)
    _perturb_generator(generator, seed=4)
    z, labels = random_gan_inputs(5, seed=5, labels=[0, 1, 1, 0, 1])
    inputs = {"z": z, "class": labels}
    want = generator(inputs, training=False).numpy()

    config = generator.get_config()
    assert config["conditional_norm"] is True
    clone = Generator.from_config(config)
    assert clone.get_config() == config
    clone.set_weights(generator.get_weights())
    np.testing.assert_array_equal(clone(inputs, training=False).numpy(), want)

    path = tmp_path / "generator.keras"
    generator.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is Generator and loaded.get_config() == config
    for name in NORM_NAMES:
        assert type(loaded.get_layer(name)) is ConditionalBatchNorm
        for a, b in zip(
            loaded.get_layer(name).get_weights(), generator.get_layer(name).get_weights()
        ):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded(inputs, training=False).numpy(), want)
    # The class really matters in the reloaded copy.
    flipped = loaded({"z": z, "class": 1 - labels}, training=False).numpy()
    assert np.max(np.abs(flipped - want)) > 1e-3


def test_generator_config_without_conditional_norm_is_version_1(tmp_path):
    keras.utils.set_random_seed(3)
    mean, std = random_band_stats()
    old = Generator(mean, std, name="generator", **TINY_G)
    z, labels = random_gan_inputs(3, seed=6)
    inputs = {"z": z, "class": labels}
    want = old(inputs, training=False).numpy()

    config = old.get_config()
    del config["conditional_norm"]  # as generator version 1 was written
    rebuilt = Generator.from_config(config)
    assert rebuilt.conditional_norm is False
    assert not [l for l in rebuilt.layers if isinstance(l, ConditionalBatchNorm)]
    for name in NORM_NAMES:
        assert type(rebuilt.get_layer(name)) is keras.layers.BatchNormalization
    assert [v.path for v in rebuilt.weights] == [v.path for v in old.weights]
    assert [tuple(v.shape) for v in rebuilt.weights] == [tuple(v.shape) for v in old.weights]
    rebuilt.set_weights(old.get_weights())
    np.testing.assert_array_equal(rebuilt(inputs, training=False).numpy(), want)

    # A .keras file whose config lacks the key loads as the old architecture.
    path = tmp_path / "new.keras"
    old.save(path)
    legacy = tmp_path / "legacy.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(legacy, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "config.json":
                file_config = json.loads(data)
                assert file_config["config"].pop("conditional_norm") is False
                data = json.dumps(file_config).encode()
            dst.writestr(item, data)
    loaded = keras.models.load_model(legacy)
    assert type(loaded) is Generator and loaded.conditional_norm is False
    assert not [l for l in loaded.layers if isinstance(l, ConditionalBatchNorm)]
    np.testing.assert_array_equal(loaded(inputs, training=False).numpy(), want)


# Discriminator with the auxiliary class head.


def test_discriminator_aux_classifier_outputs():
    keras.utils.set_random_seed(4)
    mean, std = random_band_stats()
    aux = Discriminator(mean, std, **COND_D)
    plain = Discriminator(mean, std, **{**COND_D, "aux_classifier": False})
    assert aux.aux_classifier is True and plain.aux_classifier is False
    # The shared layers come first; the head adds its own variables only.
    shared = {v.path for v in plain.weights}
    extra = [v.path for v in aux.weights if v.path not in shared]
    assert shared <= {v.path for v in aux.weights}
    assert sorted(extra) == [
        "classifier_sn/classifier/bias",
        "classifier_sn/classifier/kernel",
        "classifier_sn/vector_u",
    ]
    aux_weights = _by_path(aux)
    plain.set_weights([aux_weights[v.path] for v in plain.weights])
    classifier = _unwrapped(aux, "classifier")
    classifier.bias.assign([0.3])

    x = random_log_mel(5, seed=1)
    labels = tf.constant([0, 1, 1, 0, 0], tf.int32)
    out = aux({"log_mel": x, "class": labels})
    assert isinstance(out, dict) and set(out) == {"logit", "class_logit"}
    for value in out.values():
        assert tuple(value.shape) == (5,) and value.dtype == tf.float32
        assert np.all(np.isfinite(value.numpy()))
    bare = plain({"log_mel": x, "class": labels})
    assert not isinstance(bare, dict) and tuple(bare.shape) == (5,)
    # The head leaves the adversarial logit alone ...
    np.testing.assert_array_equal(out["logit"].numpy(), bare.numpy())
    # ... and is a linear map of the shared features, blind to the class input.
    features = keras.Model(aux.inputs, aux.get_layer("features_act").output)
    h = features({"log_mel": x, "class": labels}).numpy()
    want = h @ classifier.kernel.numpy()[:, 0] + 0.3
    np.testing.assert_allclose(out["class_logit"].numpy(), want, rtol=1e-5, atol=1e-5)
    other = aux({"log_mel": x, "class": 1 - labels})
    np.testing.assert_array_equal(other["class_logit"].numpy(), out["class_logit"].numpy())
    assert np.max(np.abs(other["logit"].numpy() - out["logit"].numpy())) > 1e-6


def test_discriminator_aux_classifier_config_round_trip(tmp_path):
    keras.utils.set_random_seed(5)
    discriminator = Discriminator(*random_band_stats(), name="discriminator", **COND_D)
    _unwrapped(discriminator, "classifier").bias.assign([-0.2])
    x = random_log_mel(3, seed=2)
    inputs = {"log_mel": x, "class": tf.constant([1, 0, 1], tf.int32)}
    want = discriminator(inputs, training=False)

    config = discriminator.get_config()
    assert config["aux_classifier"] is True and config["spectral_norm"] is True
    clone = Discriminator.from_config(config)
    assert clone.get_config() == config and clone.aux_classifier is True
    clone.set_weights(discriminator.get_weights())
    got = clone(inputs, training=False)
    for key in ("logit", "class_logit"):
        np.testing.assert_array_equal(got[key].numpy(), want[key].numpy())

    path = tmp_path / "discriminator.keras"
    discriminator.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is Discriminator and loaded.get_config() == config
    got = loaded(inputs, training=False)
    for key in ("logit", "class_logit"):
        np.testing.assert_array_equal(got[key].numpy(), want[key].numpy())

    # Without the key (as written before the head existed): no head.
    old = dict(config)
    del old["aux_classifier"]
    legacy = Discriminator.from_config(old)
    assert legacy.aux_classifier is False
    assert not isinstance(legacy(inputs, training=False), dict)


# The training wrapper with the AC-GAN losses.


def _gan(seed=0, aux_weight=1.0, d_optimizer=None, g_optimizer=None, models=None):
    keras.utils.set_random_seed(seed)
    mean, std = random_band_stats()
    generator, discriminator = models or (
        Generator(mean, std, **COND_G),
        Discriminator(mean, std, **COND_D),
    )
    gan = ConditionalDCGAN(generator, discriminator, seed=seed)
    gan.compile(
        d_optimizer=d_optimizer or keras.optimizers.Adam(2e-4, 0.5, 0.999),
        g_optimizer=g_optimizer or keras.optimizers.Adam(2e-4, 0.5, 0.999),
        aux_weight=aux_weight,
    )
    gan.build_optimizers()
    return gan


REAL = random_log_mel(8, seed=1)
LABELS = tf.constant([1, 1, 0, 1, 1, 1, 0, 1], tf.int32)  # unbalanced: a clear class gradient


@pytest.mark.slow
def test_train_step_logs_d_aux_of_the_real_batch_before_the_step():
    gan = _gan(seed=0)
    assert gan.has_aux and gan.aux_weight == 1.0
    # A copy of D, called in training mode as the step calls it first.
    d_copy = _copy(gan.discriminator)
    before = d_copy({"log_mel": REAL, "class": LABELS}, training=True)
    real_logits, real_class = before["logit"].numpy(), before["class_logit"].numpy()
    d_before = _by_path(gan.discriminator)

    logs = {k: float(v) for k, v in gan.train_step((REAL, LABELS)).items()}

    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake", "d_aux", "g_aux"}
    assert all(np.isfinite(v) for v in logs.values())
    assert logs["d_aux"] == pytest.approx(_bce_from_logits(LABELS.numpy(), real_class), abs=1e-5)
    assert logs["d_real"] == pytest.approx(float(np.mean(real_logits)), abs=1e-5)
    # d_loss stays the hinge loss alone (linear regime at initialisation).
    assert np.all(np.abs(real_logits) < 1) and abs(logs["d_fake"]) < 1
    assert logs["d_loss"] == pytest.approx(2 - logs["d_real"] + logs["d_fake"], abs=1e-4)
    assert logs["g_aux"] > 0
    # The class head was trained.
    d_after = _by_path(gan.discriminator)
    assert not np.array_equal(
        d_after["classifier_sn/classifier/bias"], d_before["classifier_sn/classifier/bias"]
    )


@pytest.mark.slow
def test_g_aux_is_the_class_loss_of_the_generated_batch():
    # With a frozen D (learning rate 0), the G step sees D as it was, apart
    # from the spectral-norm power iterations of its training-mode calls.
    gan = _gan(seed=1, d_optimizer=keras.optimizers.SGD(0.0))
    g_copy, d_copy = _copy(gan.generator), _copy(gan.discriminator)
    seeds = keras.random.SeedGenerator(1)
    z_d = keras.random.normal((8, 128), seed=seeds)
    z_g = keras.random.normal((8, 128), seed=seeds)
    fake_d = g_copy({"z": z_d, "class": LABELS}, training=True)
    d_copy({"log_mel": REAL, "class": LABELS}, training=True)
    d_copy({"log_mel": fake_d, "class": LABELS}, training=True)
    fake_g = g_copy({"z": z_g, "class": LABELS}, training=True)
    out = d_copy({"log_mel": fake_g, "class": LABELS}, training=True)

    logs = {k: float(v) for k, v in gan.train_step((REAL, LABELS)).items()}

    assert logs["g_aux"] == pytest.approx(
        _bce_from_logits(LABELS.numpy(), out["class_logit"].numpy()), abs=1e-5
    )
    assert logs["g_loss"] == pytest.approx(-float(np.mean(out["logit"].numpy())), abs=1e-5)
    # The class loss of the fakes is not the class loss of the real batch.
    assert abs(logs["g_aux"] - logs["d_aux"]) > 1e-4


def _sgd_step(aux_weight, models):
    gan = _gan(
        seed=2,
        aux_weight=aux_weight,
        models=models,
        d_optimizer=keras.optimizers.SGD(0.1),
        g_optimizer=keras.optimizers.SGD(0.1),
    )
    gan.train_step((REAL, LABELS))
    return _by_path(gan.discriminator), _by_path(gan.generator)


@pytest.mark.slow
def test_aux_weight_weighs_the_class_losses():
    keras.utils.set_random_seed(2)
    mean, std = random_band_stats()
    g0, d0 = Generator(mean, std, **COND_G), Discriminator(mean, std, **COND_D)
    head = [v.path for v in d0.weights if v.path.startswith("classifier_sn/")]
    real_class = _copy(d0)({"log_mel": REAL, "class": LABELS}, training=True)["class_logit"].numpy()

    def fresh(aux=True):
        d = Discriminator(mean, std, **{**COND_D, "aux_classifier": aux})
        start = _by_path(d0)
        d.set_weights([start[v.path] for v in d.weights])
        return _copy(g0), d

    plain_d, plain_g = _sgd_step(1.0, fresh(aux=False))  # no head: aux_weight has no effect
    steps = {w: _sgd_step(w, fresh()) for w in (0.0, 1.0, 2.0)}

    # aux_weight = 0 is the plain hinge GAN: same D (shared layers) and G.
    d_zero, g_zero = steps[0.0]
    assert set(d_zero) == set(plain_d) | set(head)
    for path, value in plain_d.items():
        np.testing.assert_allclose(d_zero[path], value, rtol=1e-6, atol=1e-7, err_msg=path)
    for path, value in plain_g.items():
        np.testing.assert_allclose(g_zero[path], value, rtol=1e-6, atol=1e-7, err_msg=path)
    start = _by_path(d0)
    np.testing.assert_array_equal(
        d_zero["classifier_sn/classifier/bias"], start["classifier_sn/classifier/bias"]
    )

    # The head's bias gets -lr * w * mean(sigmoid(s) - y) from the real batch only.
    grad = np.mean(_sigmoid(real_class) - LABELS.numpy())
    assert abs(grad) > 0.1
    for w in (1.0, 2.0):
        bias = steps[w][0]["classifier_sn/classifier/bias"]
        np.testing.assert_allclose(
            bias - start["classifier_sn/classifier/bias"], [-0.1 * w * grad], rtol=1e-4, atol=1e-7
        )

    # Every bias of D moves by -lr * (hinge gradient + w * class gradient),
    # linear in w; the generator gets the class loss of its fakes too.
    biases = [p for p in plain_d if p.endswith("bias")]
    for path in biases:
        delta = {w: steps[w][0][path] - start[path] for w in steps}
        np.testing.assert_allclose(
            delta[2.0] - delta[0.0],
            2 * (delta[1.0] - delta[0.0]),
            rtol=1e-3,
            atol=1e-6,
            err_msg=path,
        )
    assert (
        max(np.max(np.abs(steps[1.0][0][p] - d_zero[p])) for p in biases if "features" in p) > 1e-6
    )
    assert max(np.max(np.abs(steps[1.0][1][p] - g_zero[p])) for p in g_zero) > 1e-5


@pytest.mark.parametrize("aux_weight", [-0.5, -1e-3, float("nan")])
def test_compile_rejects_bad_aux_weight(aux_weight):
    mean, std = random_band_stats()
    gan = ConditionalDCGAN(Generator(mean, std, **COND_G), Discriminator(mean, std, **COND_D))
    with pytest.raises(ParameterError, match=f"aux_weight >= 0. Received: aux_weight={aux_weight}"):
        gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), aux_weight=aux_weight)


@pytest.mark.slow
def test_fit_runs_compiled_and_reports_aux_metrics():
    gan = _gan(seed=3)
    data = tf.data.Dataset.from_tensor_slices((REAL, LABELS)).batch(4).repeat()
    history = gan.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake", "d_aux", "g_aux"}
    for values in history.history.values():
        assert len(values) == 1 and np.isfinite(values[0])
    # A model with a class head round-trips through the GAN config.
    clone = ConditionalDCGAN.from_config(gan.get_config())
    assert clone.has_aux and clone.discriminator.aux_classifier and clone.generator.conditional_norm


def test_class_table_gradients_reach_the_optimizers_dense_and_summed_by_row():
    from vocal_xai.models.dcgan.conditional_dcgan import dense_gradients

    generator = Generator(*random_band_stats(), **COND_G)
    z, labels = random_gan_inputs(6, labels=[0, 1, 1, 0, 1, 1])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(generator({"z": z, "class": labels}, training=True))
    sparse = tape.gradient(loss, generator.trainable_variables)
    assert any(isinstance(g, tf.IndexedSlices) for g in sparse)
    dense = dense_gradients(sparse)
    assert not any(isinstance(g, tf.IndexedSlices) for g in dense)
    for s, d, v in zip(sparse, dense, generator.trainable_variables, strict=True):
        assert d.shape == v.shape
        if isinstance(s, tf.IndexedSlices):
            # Each row holds the sum of the slices of that row (duplicates add up).
            expected = np.zeros(v.shape, np.float32)
            np.add.at(expected, s.indices.numpy(), s.values.numpy())
            np.testing.assert_allclose(d.numpy(), expected, rtol=1e-6, atol=1e-6)
        else:
            assert d is s


def test_adam_moves_a_repeated_table_row_by_its_summed_gradient():
    from vocal_xai.models.dcgan.conditional_dcgan import dense_gradients

    rows = tf.constant([0, 1, 1, 0, 1, 1])
    weights = tf.constant(np.arange(18, dtype=np.float32).reshape(6, 3))

    def train(lookup, prepare):
        table = keras.Variable(np.arange(6, dtype=np.float32).reshape(2, 3))
        optimizer = keras.optimizers.Adam(0.1, 0.5, 0.999)
        optimizer.build([table])
        for step in range(3):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(lookup(table) * (weights + step))
            optimizer.apply_gradients(zip(prepare([tape.gradient(loss, table)]), [table]))
        return table.numpy()

    # The reference: the same lookup as a one-hot product, whose gradient is dense.
    reference = train(lambda t: tf.one_hot(rows, 2) @ t, lambda grads: grads)
    looked_up = train(lambda t: tf.gather(t, rows), dense_gradients)
    np.testing.assert_allclose(looked_up, reference, rtol=1e-6)
    # Every gradient component is positive: Adam steps about lr per step.
    np.testing.assert_allclose(reference, np.arange(6).reshape(2, 3) - 0.3, atol=0.01)
