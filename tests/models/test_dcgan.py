import json
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import random_band_stats, random_gan_inputs, random_log_mel

from vocal_xai import export, spectral
from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import pipeline, synthetic
from vocal_xai.errors import ParameterError
from vocal_xai.layers import CropFrames, FloorLogMel, Standardize
from vocal_xai.models.dcgan import (
    PRESETS,
    ConditionalDCGAN,
    Discriminator,
    Generator,
    evaluation,
    task,
)
from vocal_xai.models.detector import SVDNet

TINY_G = PRESETS["dcgan_tiny"]["generator"]
TINY_D = PRESETS["dcgan_tiny"]["discriminator"]
FLOOR = np.float32(spectral.LOG_MEL_MIN)


def _gan(seed=0, mean_std=None, d_learning_rate=2e-4, g_learning_rate=2e-4, loss="hinge"):
    keras.utils.set_random_seed(seed)
    mean, std = mean_std if mean_std is not None else random_band_stats()
    gan = ConditionalDCGAN(
        Generator(mean, std, **TINY_G), Discriminator(mean, std, **TINY_D), seed=seed
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(d_learning_rate, 0.5, 0.999),
        g_optimizer=keras.optimizers.Adam(g_learning_rate, 0.5, 0.999),
        loss=loss,
    )
    gan.build_optimizers()
    return gan


# Generator.


def test_generator_shape_floor_and_conditioning():
    keras.utils.set_random_seed(0)
    generator = Generator(*random_band_stats(), **TINY_G)
    z, _ = random_gan_inputs(4)
    out0 = generator({"z": z, "class": tf.zeros([4], tf.int32)}, training=False)
    out1 = generator({"z": z, "class": tf.ones([4], tf.int32)}, training=False)
    assert tuple(out0.shape) == (4, 115, 80) and out0.dtype == tf.float32
    assert float(tf.reduce_min(out0)) >= FLOOR and float(tf.reduce_min(out1)) >= FLOOR
    assert float(tf.reduce_max(tf.abs(out0 - out1))) > 1e-4
    again = generator({"z": z, "class": tf.zeros([4], tf.int32)}, training=False)
    np.testing.assert_array_equal(again.numpy(), out0.numpy())
    # Different latents give different excerpts.
    other, _ = random_gan_inputs(4, seed=1)
    out2 = generator({"z": other, "class": tf.zeros([4], tf.int32)}, training=False)
    assert float(tf.reduce_max(tf.abs(out2 - out0))) > 1e-4


def test_generator_works_in_standardised_units():
    keras.utils.set_random_seed(0)
    mean, std = random_band_stats(1)
    mean[:10] = -30.0  # below the floor: these bands come out floored
    generator = Generator(mean, std, **TINY_G)
    layer = generator.get_layer("to_log_mel")
    kernel, bias = layer.get_weights()
    z, labels = random_gan_inputs(3)

    # A zero standardised output is the band mean, floored.
    layer.set_weights([np.zeros_like(kernel), np.zeros_like(bias)])
    out = generator({"z": z, "class": labels}, training=False).numpy()
    want = np.maximum(mean.astype(np.float32), FLOOR)
    np.testing.assert_array_equal(out, np.broadcast_to(want, (3, 115, 80)))
    assert np.all(out[..., :10] == FLOOR)

    # A standardised output of 1.5 is one and a half band stds above the mean.
    layer.set_weights([np.zeros_like(kernel), np.full_like(bias, 1.5)])
    out = generator({"z": z, "class": labels}, training=False).numpy()
    want = np.maximum(mean + 1.5 * std, spectral.LOG_MEL_MIN)
    np.testing.assert_allclose(out, np.broadcast_to(want, (3, 115, 80)), rtol=0, atol=1e-5)


def test_inverse_standardize_undoes_standardize():
    mean, std = random_band_stats(2)
    x = np.random.default_rng(3).normal(-4.0, 3.0, (2, 115, 80)).astype(np.float32)
    forward = Standardize(mean, std)
    inverse = Standardize(mean, std, invert=True)
    np.testing.assert_allclose(forward(x).numpy(), (x - mean) / std, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(inverse(forward(x)).numpy(), x, rtol=0, atol=1e-5)
    np.testing.assert_allclose(forward(inverse(x)).numpy(), x, rtol=0, atol=1e-5)


# Layers.


def test_crop_frames_keeps_the_centre():
    x = np.arange(2 * 128 * 3, dtype=np.float32).reshape(2, 128, 3)
    out = CropFrames(115)(x).numpy()
    np.testing.assert_array_equal(out, x[:, 6:121])
    odd = np.arange(9, dtype=np.float32).reshape(1, 9)
    np.testing.assert_array_equal(CropFrames(4)(odd).numpy(), [[2, 3, 4, 5]])
    np.testing.assert_array_equal(CropFrames(9)(odd).numpy(), odd)
    assert CropFrames(115).compute_output_shape((None, 128, 80)) == (None, 115, 80)
    with pytest.raises(ParameterError, match="frames=0"):
        CropFrames(0)


def test_floor_log_mel():
    x = np.array([[-30.0, -16.2, spectral.LOG_MEL_MIN, -16.0, 0.0, 3.5]], np.float32)
    out = FloorLogMel()(x).numpy()
    np.testing.assert_array_equal(out, [[FLOOR, FLOOR, FLOOR, -16.0, 0.0, 3.5]])


def test_layers_round_trip_through_config():
    x = np.random.default_rng(4).normal(-10.0, 5.0, (2, 128, 80)).astype(np.float32)
    mean, std = random_band_stats(5)
    layers = [
        CropFrames(115, name="crop"),
        FloorLogMel(name="floor"),
        Standardize(mean, std, invert=True, name="destandardize"),
    ]
    for layer in layers:
        clone = layer.__class__.from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
        np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())
        revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
        assert type(revived) is type(layer) and revived.name == layer.name
        np.testing.assert_array_equal(revived(x).numpy(), layer(x).numpy())
    assert layers[2].get_config()["invert"] is True
    np.testing.assert_allclose(layers[2].get_config()["std"], std)


# Discriminator.


def _unwrapped(model, name):
    """The layer called ``name``, or the layer a wrapper around it holds."""
    for layer in model.layers:
        inner = getattr(layer, "layer", layer)
        if inner.name == name:
            return inner
    raise KeyError(name)


def test_discriminator_shape_and_class_projection():
    keras.utils.set_random_seed(0)
    discriminator = Discriminator(*random_band_stats(), **TINY_D)
    x = random_log_mel(5)
    logit0 = discriminator({"log_mel": x, "class": tf.zeros([5], tf.int32)}).numpy()
    logit1 = discriminator({"log_mel": x, "class": tf.ones([5], tf.int32)}).numpy()
    assert logit0.shape == (5,) and logit0.dtype == np.float32
    assert np.all(np.isfinite(logit0)) and np.max(np.abs(logit0 - logit1)) > 1e-5

    # The logit is w . h + b + embed(class) . h.
    features = keras.Model(discriminator.inputs, discriminator.get_layer("features_act").output)
    critic = _unwrapped(discriminator, "critic")
    for label, logit in [(0, logit0), (1, logit1)]:
        h = features({"log_mel": x, "class": tf.fill([5], label)}).numpy()
        w, b = critic.kernel.numpy(), critic.bias.numpy()
        table = discriminator.get_layer("projection").embedding.get_weights()[0]
        want = h @ w[:, 0] + b[0] + h @ table[label]
        np.testing.assert_allclose(logit, want, rtol=1e-5, atol=1e-5)

    # Without the projection, the class does not change the logit.
    projection = discriminator.get_layer("projection")
    projection.set_weights([np.zeros_like(v) for v in projection.get_weights()])
    logit0 = discriminator({"log_mel": x, "class": tf.zeros([5], tf.int32)}).numpy()
    logit1 = discriminator({"log_mel": x, "class": tf.ones([5], tf.int32)}).numpy()
    np.testing.assert_array_equal(logit0, logit1)


def test_spectral_normalization_matches_keras_and_keeps_a_zero_kernel():
    from vocal_xai.models.dcgan.dcgan_backbone import SpectralNormalization

    x = tf.constant(np.random.default_rng(0).normal(size=(4, 6)), tf.float32)
    layers = []
    for cls in (keras.layers.SpectralNormalization, SpectralNormalization):
        keras.utils.set_random_seed(1)
        layer = cls(keras.layers.Dense(3), power_iterations=2)
        layers.append(layer)
        outputs = [layer(x, training=True).numpy() for _ in range(3)]
        outputs.append(layer(x, training=False).numpy())
        layer.outputs_seen = outputs
    ours, theirs = layers[1], layers[0]
    for a, b in zip(
        ours.outputs_seen + ours.get_weights(), theirs.outputs_seen + theirs.get_weights()
    ):
        np.testing.assert_array_equal(a, b)
    # The kernel's largest singular value is 1 after a training call.
    assert np.linalg.svd(ours.kernel.numpy(), compute_uv=False)[0] == pytest.approx(1.0, abs=1e-3)

    # An all-zero kernel and its vector stay as they are, and nothing is NaN.
    ours.kernel.assign(tf.zeros_like(ours.kernel))
    u = ours.vector_u.numpy()
    y = ours(x, training=True).numpy()
    assert not np.any(ours.kernel.numpy()) and np.array_equal(ours.vector_u.numpy(), u)
    np.testing.assert_array_equal(y, np.broadcast_to(ours.layer.bias.numpy(), y.shape))


# Serialisation and arguments of both players.


@pytest.mark.slow
def test_config_round_trip_and_keras_file(tmp_path):
    keras.utils.set_random_seed(0)
    mean, std = random_band_stats()
    generator = Generator(mean, std, name="generator", **TINY_G)
    discriminator = Discriminator(mean, std, name="discriminator", **TINY_D)
    z, labels = random_gan_inputs(3)
    x = random_log_mel(3)
    g_in = {"z": z, "class": labels}
    d_in = {"log_mel": x, "class": labels}

    g_config = generator.get_config()
    assert g_config["base_channels"] == 16 and g_config["class_dim"] == 4
    assert g_config["latent_dim"] == 128 and len(g_config["mean"]) == 80
    d_config = discriminator.get_config()
    assert d_config["base_channels"] == 4 and d_config["class_dim"] == 8
    for model, config, inputs in [(generator, g_config, g_in), (discriminator, d_config, d_in)]:
        clone = model.__class__.from_config(config)
        assert clone.get_config() == config
        clone.set_weights(model.get_weights())
        np.testing.assert_array_equal(
            clone(inputs, training=False).numpy(), model(inputs, training=False).numpy()
        )
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        assert type(loaded) is type(model) and loaded.get_config() == config
        np.testing.assert_array_equal(
            loaded(inputs, training=False).numpy(), model(inputs, training=False).numpy()
        )


@pytest.mark.parametrize(
    "cls, kwargs, pattern",
    [
        (Generator, {"base_channels": 24}, "divisible by 16. Received: base_channels=24"),
        (Generator, {"base_channels": 0}, "base_channels >= 1. Received: base_channels=0"),
        (Generator, {"kernel_size": 0}, "kernel_size >= 1. Received: kernel_size=0"),
        (Generator, {"class_dim": 0}, "class_dim=0"),
        (Generator, {"latent_dim": 0}, "latent_dim=0"),
        (Discriminator, {"base_channels": 0}, "base_channels=0"),
        (Discriminator, {"kernel_size": 0}, "kernel_size >= 1. Received: kernel_size=0"),
        (Discriminator, {"class_dim": -1}, "class_dim=-1"),
    ],
)
def test_bad_arguments(cls, kwargs, pattern):
    preset = TINY_G if cls is Generator else TINY_D
    with pytest.raises(ParameterError, match=pattern):
        cls(*random_band_stats(), **{**preset, **kwargs})


def test_bad_statistics():
    with pytest.raises(ParameterError, match="std > 0"):
        Generator(np.zeros(80), np.zeros(80), **TINY_G)
    with pytest.raises(ParameterError, match=r"std.shape=\(79,\)"):
        Discriminator(np.zeros(80), np.ones(79), **TINY_D)


# The training wrapper.


def test_compile_rejects_unknown_loss():
    mean, std = random_band_stats()
    gan = ConditionalDCGAN(Generator(mean, std, **TINY_G), Discriminator(mean, std, **TINY_D))
    with pytest.raises(ParameterError, match="loss='wasserstein'"):
        gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), loss="wasserstein")


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["hinge", "non_saturating"])
def test_train_step_updates_both_players(loss):
    gan = _gan(loss=loss)
    real = random_log_mel(8, seed=1)
    labels = tf.constant([0, 1] * 4, tf.int32)
    # A copy of D in training mode, as the step calls it before its update.
    d_copy = Discriminator.from_config(gan.discriminator.get_config())
    d_copy.set_weights(gan.discriminator.get_weights())
    real_logits = d_copy({"log_mel": real, "class": labels}, training=True).numpy()
    g_before = [v.numpy() for v in gan.generator.trainable_variables]
    d_before = [v.numpy() for v in gan.discriminator.trainable_variables]

    logs = {k: float(v) for k, v in gan.train_step((real, labels)).items()}

    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v) for v in logs.values())
    # d_real is the mean real logit of D before its update.
    assert logs["d_real"] == pytest.approx(float(np.mean(real_logits)), abs=1e-5)
    if loss == "hinge":
        # At initialisation every logit is inside (-1, 1), so both hinges are linear.
        assert np.all(np.abs(real_logits) < 1) and abs(logs["d_fake"]) < 1
        assert logs["d_loss"] == pytest.approx(2 - logs["d_real"] + logs["d_fake"], abs=1e-4)
    else:
        softplus = np.log1p(np.exp(-real_logits))
        assert logs["d_loss"] > np.mean(softplus) and logs["g_loss"] > 0
    for before, variables in [
        (g_before, gan.generator.trainable_variables),
        (d_before, gan.discriminator.trainable_variables),
    ]:
        unchanged = [v.path for b, v in zip(before, variables) if np.array_equal(b, v.numpy())]
        # In the linear regime of both hinges, the critic bias gets -1 + 1 = 0.
        allowed = [
            p
            for p in unchanged
            if loss == "hinge" and p.startswith("critic") and p.endswith("bias")
        ]
        assert unchanged == allowed


@pytest.mark.slow
def test_hinge_training_separates_real_from_fake():
    # Real excerpts are flat and 8 band stds above the mean the generator
    # starts from: a few steps of D should tell them apart.
    gan = _gan(seed=3, mean_std=(np.full(80, -10.0), np.ones(80)), d_learning_rate=2e-3)
    real = tf.fill([8, 115, 80], -2.0)
    labels = tf.constant([0, 1] * 4, tf.int32)
    z, _ = random_gan_inputs(8, seed=9)

    def gap():
        fake = gan.generator({"z": z, "class": labels}, training=False)
        real_logits = gan.discriminator({"log_mel": real, "class": labels}).numpy()
        fake_logits = gan.discriminator({"log_mel": fake, "class": labels}).numpy()
        return real_logits.min() - fake_logits.max(), real_logits.mean() - fake_logits.mean()

    before = gap()
    for _ in range(6):
        logs = gan.train_step((real, labels))
    after = gap()
    assert after[0] > 0, (before, after)
    assert after[1] > 1.0 and after[1] > before[1] + 1.0, (before, after)
    assert float(logs["d_real"]) > float(logs["d_fake"])


def _train_weights(seed, steps=3):
    gan = _gan(seed=seed)
    real = random_log_mel(8, seed=2)
    labels = tf.constant([0, 1, 1, 0, 1, 0, 0, 1], tf.int32)
    for _ in range(steps):
        gan.train_step((real, labels))
    return gan.generator.get_weights() + gan.discriminator.get_weights()


@pytest.mark.slow
def test_same_seed_gives_same_weights():
    first, second = _train_weights(7), _train_weights(7)
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    other = _train_weights(8, steps=1)
    assert any(a.shape == b.shape and not np.array_equal(a, b) for a, b in zip(first, other))


@pytest.mark.slow
def test_gan_config_round_trip():
    gan = _gan(seed=4)
    config = gan.get_config()
    clone = ConditionalDCGAN.from_config(config)
    assert clone.seed == 4 and clone.latent_dim == 128
    assert clone.generator.get_config() == gan.generator.get_config()
    assert clone.discriminator.get_config() == gan.discriminator.get_config()


# Evaluation against real data.


def test_matched_noise_has_the_reference_band_statistics():
    rng = np.random.default_rng(0)
    band_mean = np.linspace(-12.0, -1.0, 80)
    band_std = np.linspace(0.5, 3.0, 80)
    reference = (band_mean + band_std * rng.standard_normal((200, 115, 80))).astype(np.float32)
    noise = evaluation.matched_noise(reference, 300, seed=1)
    assert noise.shape == (300, 115, 80) and noise.dtype == np.float32
    ref_mean, ref_std = reference.mean(axis=(0, 1)), reference.std(axis=(0, 1))
    # 34500 draws per band: the standard error is under 0.6 % of the std.
    np.testing.assert_allclose(noise.mean(axis=(0, 1)), ref_mean, rtol=0, atol=0.03 * ref_std.max())
    np.testing.assert_allclose(noise.std(axis=(0, 1)), ref_std, rtol=0.03)
    np.testing.assert_array_equal(noise, evaluation.matched_noise(reference, 300, seed=1))
    assert not np.array_equal(noise, evaluation.matched_noise(reference, 300, seed=2))


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "c"
    synthetic.make_corpus(
        path,
        seed=3,
        split_sizes={"train": 2, "valid": 1, "test": 1},
        duration=8.0,
        workers=1,
        version=1,
    )  # every song sings
    corpus = corpus_lib.read_corpus(path)
    train = pipeline.load_split(corpus, "train")
    valid = pipeline.load_split(corpus, "valid")
    return train, valid


@pytest.fixture(scope="module")
def detector(splits):
    train, _ = splits
    keras.utils.set_random_seed(0)
    return SVDNet.from_preset("svdnet_tiny", *pipeline.band_stats(train.features))


class RealExcerpts:
    """A stand-in generator whose samples are the real valid excerpts that
    ``evaluate_generator`` compares against."""

    latent_dim = 128

    def __init__(self, valid, count, seed):
        self.table = tf.constant(
            np.stack(
                [pipeline.sample_excerpts(valid, count, label=c, seed=seed)[0] for c in (0, 1)]
            )
        )

    def __call__(self, inputs, training=False):
        return tf.gather(self.table, inputs["class"][0])[: tf.shape(inputs["z"])[0]]


@pytest.mark.slow
def test_evaluate_generator_rows(splits, detector):
    train, valid = splits
    keras.utils.set_random_seed(0)
    train_mean, train_std = pipeline.band_stats(train.features)
    generator = Generator(train_mean, train_std, **TINY_G)
    report = evaluation.evaluate_generator(
        generator, detector, train, valid, num_samples=30, seed=0, resamples=50, c2st_floor=False
    )
    assert set(report) == {"non_vocal", "vocal", "class_matters", "cue_difference", "settings"}
    assert set(report["cue_difference"]) == {"generator", "real", "generator_over_real"}
    for name in evaluation.CLASS_NAMES.values():
        row = report[name]
        assert set(row) >= {
            "generator",
            "floor",
            "ceiling",
            "consistency",
            "samples",
            "frechet",
            "c2st",
            "class_evidence",
            "p_vocal_cues",
            "voice_cues",
        }
        assert row["samples"] == 30 and row["requested"] == 30
        for key in ("generator", "floor", "ceiling"):
            assert np.isfinite(row[key]) and row[key] >= 0
            # The flat figures are those of the default embedding, the last one.
            assert row[key] == row["frechet"][detector.embedding_names[-1]][key]["value"]
        assert set(row["frechet"]) == set(detector.embedding_names)
        assert 0.0 <= row["consistency"] <= 1.0
        assert row["ceiling"] > row["floor"]
        assert 0.0 <= row["c2st"]["accuracy"] <= 1.0 and row["c2st"]["examples"] == 60
        assert row["c2st_floor"] == {"skipped": "not asked for"}
    text = evaluation.format_report(report)
    for name in evaluation.CLASS_NAMES.values():
        row = report[name]
        assert (
            f"| {name} | {row['generator']:.3f} | {row['floor']:.3f} | {row['ceiling']:.1f} |"
            in text
        )
        assert f"{row['consistency']:.1%}" in text
        assert f"- {name}: 30 excerpts per row of 30 asked" in text
    assert f"for {report['class_matters']['value']:.1%}" in text


@pytest.mark.slow
def test_evaluate_generator_scores_real_excerpts_as_perfect(splits, detector):
    train, valid = splits
    report = evaluation.evaluate_generator(
        RealExcerpts(valid, 30, seed=5),
        detector,
        train,
        valid,
        num_samples=30,
        seed=5,
        resamples=50,
        c2st_floor=False,
    )
    for label, name in evaluation.CLASS_NAMES.items():
        row = report[name]
        assert row["generator"] == pytest.approx(0.0, abs=1e-6)
        assert row["generator"] <= row["floor"]
        real, _ = pipeline.sample_excerpts(valid, 30, label=label, seed=5)
        _, probs = evaluation.detector_outputs(detector, real)
        assert row["consistency"] == pytest.approx(np.mean((probs > 0.5) == bool(label)))
        # Each generated excerpt is its real twin, in the same fold: one of
        # the two is always misjudged.
        assert row["c2st"]["accuracy"] == 0.5


# Export for TF Serving.

FRESH_LOAD = r"""
import sys
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
signature = loaded.signatures["serving_default"]
inputs = signature.structured_input_signature[1]
out = signature(z=tf.constant(np.load(sys.argv[2])), class_id=tf.constant(np.load(sys.argv[3])))
np.save(sys.argv[4], out["log_mel"].numpy())
print(sorted(inputs), sorted(out), inputs["z"].dtype.name, inputs["class_id"].dtype.name)
assert "vocal_xai" not in sys.modules and "tensorflow_io" not in sys.modules
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("zoo")
    keras.utils.set_random_seed(0)
    generator = Generator(*random_band_stats(), name="generator", **TINY_G)
    path = task.export_generator(generator, base, {"note": "test"})
    return generator, base, path


def _served_inputs(batch=5, seed=1):
    z, labels = random_gan_inputs(batch, seed=seed, labels=[0, 1, 1, 0, 1][:batch])
    return z.numpy(), labels.numpy()


@pytest.mark.slow
def test_export_layout(exported):
    generator, base, path = exported
    assert path == base / "generator" / "1"
    assert (path / "saved_model.pb").is_file() and (path / "variables").is_dir()
    assert (path / export.EXTRA / f"{task.KERAS_NAME}.json").is_file()
    assert not (path / export.EXTRA / f"{task.KERAS_NAME}.keras").exists()
    meta = json.loads((path / export.EXTRA / export.METADATA_FILE).read_text())
    assert meta == {"note": "test", "parameters": generator.count_params()}
    assert export.versions(base / "generator") == [1]
    assert not [p for p in (base / "generator").iterdir() if p.name.startswith(".tmp")]
    with pytest.raises(ParameterError, match="never overwritten"):
        task.export_generator(generator, base, {}, version=1)


@pytest.mark.slow
def test_fresh_process_matches_in_process_generator(exported, tmp_path):
    generator, _, path = exported
    z, labels = _served_inputs()
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "c.npy", labels)
    script = tmp_path / "load.py"
    script.write_text(FRESH_LOAD)
    result = subprocess.run(
        [
            sys.executable,
            str(script),
            str(path),
            str(tmp_path / "z.npy"),
            str(tmp_path / "c.npy"),
            str(tmp_path / "out.npy"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "['class_id', 'z'] ['log_mel'] float32 int32"
    want = generator({"z": tf.constant(z), "class": tf.constant(labels)}, training=False).numpy()
    served = np.load(tmp_path / "out.npy")
    assert served.shape == (5, 115, 80)
    np.testing.assert_allclose(served, want, rtol=0, atol=1e-5)


@pytest.mark.slow
def test_saved_model_cli_runs(exported, tmp_path):
    generator, _, path = exported
    z, labels = _served_inputs(batch=2, seed=2)
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "c.npy", labels)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tensorflow.python.tools.saved_model_cli",
            "run",
            "--dir",
            str(path),
            "--tag_set",
            "serve",
            "--signature_def",
            "serving_default",
            "--inputs",
            f"z={tmp_path / 'z.npy'};class_id={tmp_path / 'c.npy'}",
            "--outdir",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    served = np.load(tmp_path / "out" / "log_mel.npy")
    want = generator({"z": tf.constant(z), "class": tf.constant(labels)}, training=False).numpy()
    np.testing.assert_allclose(served, want, rtol=0, atol=1e-5)
    assert served.min() >= FLOOR


@pytest.mark.parametrize(
    "z_shape, class_id, pattern",
    [
        ((2, 100), [0, 1], r"z must have shape \[batch, 128\]"),
        ((2, 128), [0, 2], r"class_id must be 0 \(non-vocal\) or 1 \(vocal\)"),
        ((2, 128), [-1, 0], r"class_id must be 0 \(non-vocal\) or 1 \(vocal\)"),
        ((2, 128), [0, 1, 1], "class_id must have one entry per row"),
        ((128,), [0], r"z must have shape \[batch, 128\]; received a different rank"),
        ((0, 128), [], r"z must have shape \[batch, 128\]; received an empty batch"),
        ((2, 128), [[0], [1]], "class_id must have one entry per row"),
        ("nan", [0, 1], r"z must be finite \(no NaN or Inf\)"),
        ("inf", [0, 1], r"z must be finite \(no NaN or Inf\)"),
    ],
)
def test_signature_refuses_bad_input(exported, z_shape, class_id, pattern):
    _, _, path = exported
    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    if isinstance(z_shape, str):
        z = np.zeros((2, 128), np.float32)
        z[1, 5] = np.nan if z_shape == "nan" else -np.inf
        z = tf.constant(z)
    else:
        z = tf.zeros(z_shape)
    class_id = tf.constant(class_id, tf.int32)
    # The checks must run before the generator, on every call: were they not
    # ordered before it, the generator's own shape or index error could come
    # first on some calls.
    messages = []
    for _ in range(200):
        with pytest.raises(tf.errors.InvalidArgumentError) as error:
            signature(z=z, class_id=class_id)
        messages.append(str(error.value))
    unclear = [m for m in messages if not re.search(pattern, m)]
    assert not unclear, f"{len(unclear)}/200 calls gave another error, e.g.: {unclear[0][:400]}"


def test_keras_model_agrees_and_gives_gradients(exported):
    generator, _, path = exported
    keras_generator = task.load_generator(path)
    assert isinstance(keras_generator, Generator)
    assert keras_generator.get_config() == generator.get_config()
    z, labels = _served_inputs(seed=3)
    served = (
        tf.saved_model.load(str(path))
        .signatures["serving_default"](z=tf.constant(z), class_id=tf.constant(labels))["log_mel"]
        .numpy()
    )
    zt = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(zt)
        out = keras_generator({"z": zt, "class": tf.constant(labels)}, training=False)
        energy = tf.reduce_sum(out)
    np.testing.assert_allclose(out.numpy(), served, rtol=0, atol=1e-5)
    grad = tape.gradient(energy, zt)
    assert grad is not None and grad.shape == (5, 128)
    assert np.all(np.isfinite(grad.numpy())) and float(tf.reduce_max(tf.abs(grad))) > 0
    for got, want in zip(keras_generator.variables, generator.variables, strict=True):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.raises(ParameterError, match="Expected a Keras architecture at"):
        task.load_generator(path.parent)
