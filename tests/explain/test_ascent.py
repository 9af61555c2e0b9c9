import keras
import numpy as np
import pytest
import tensorflow as tf

from vocal_xai.errors import ParameterError
from vocal_xai.explain import ascent, objectives
from vocal_xai.models.dcgan import PRESETS, Generator
from vocal_xai.models.detector import SVDNet


@pytest.fixture(scope="module")
def param():
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(0)
    mean, std = rng.normal(-5, 1, 80), rng.uniform(1, 2, 80)
    generator = Generator(mean, std, **PRESETS["dcgan_tiny"]["generator"])
    detector = SVDNet.from_preset("svdnet_tiny", mean, std)
    return ascent.LatentParameterisation(generator, detector)


def _rows(n, lr=0.05, rp=0.01, seed0=0):
    z0 = ascent.initial_latents(range(seed0, seed0 + n))
    return z0, np.array([1, 0] * (n // 2) + [1] * (n % 2)), np.full(n, lr), np.full(n, rp)


def test_initial_latents_are_seeded_normals():
    z = ascent.initial_latents([3, 4, 3])
    np.testing.assert_array_equal(z[0], z[2])
    np.testing.assert_array_equal(z[1], tf.random.stateless_normal([128], seed=[4, 0]).numpy())
    assert z.dtype == np.float32 and not np.array_equal(z[0], z[1])
    big = ascent.initial_latents(range(200))
    assert abs(big.mean()) < 0.02 and abs(big.std() - 1) < 0.02


@pytest.mark.parametrize("direction", ["max", "min"])
def test_objective_moves_the_activation(param, direction):
    z0, c, lr, rp = _rows(6, lr=0.1, rp=0.0)
    res = ascent.latent_ascent(param, z0, c, lr, rp, direction, snapshots=[30])
    start, end = res.activation[0], res.best_activation[0]
    sign = 1 if direction == "max" else -1
    assert np.all(sign * (end - start) > 0)
    assert np.mean(sign * (res.activation[-1] - start)) > 0.5 * np.mean(sign * (end - start))


def test_snapshots_keep_the_best_so_far(param):
    z0, c, lr, rp = _rows(4, lr=0.2)
    res = ascent.latent_ascent(param, z0, c, lr, rp, "max", snapshots=[0, 5, 20])
    assert res.best_z.shape == (3, 4, 128) and res.activation.shape == (21, 4)
    for s, k in enumerate(res.snapshots):
        np.testing.assert_allclose(res.best_activation[s], res.activation[: k + 1].max(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(res.best_z[0], z0)
    # The kept latent reproduces its activation.
    _, out = param(tf.constant(res.best_z[2]), tf.constant(c, tf.int32))
    np.testing.assert_allclose(out["logit"].numpy()[:, 0], res.best_activation[2], rtol=1e-4, atol=1e-4)


def test_fused_adam_matches_keras_adam(param):
    z0, c, lr, rp = _rows(3, lr=0.05, rp=0.1)
    steps = 8
    res = ascent.latent_ascent(param, z0, c, lr, rp, "max", snapshots=[steps])
    # The same ascent with keras.optimizers.Adam, minimising -objective.
    z = tf.Variable(z0)
    opt = keras.optimizers.Adam(learning_rate=0.05)
    target = objectives.activation("logit", 0)
    objective = target - 0.1 * objectives.l2()
    trace = []
    for _ in range(steps + 1):
        with tf.GradientTape() as tape:
            _, out = param(z, tf.constant(c, tf.int32))
            loss = -tf.reduce_sum(objective(z, out))
        trace.append(target(z, out).numpy())
        opt.apply_gradients([(tape.gradient(loss, z), z)])
    np.testing.assert_allclose(res.activation, np.stack(trace), rtol=1e-4, atol=1e-5)


def test_sgd_step_and_per_row_learning_rates(param):
    z0, c, _, rp = _rows(2)
    lr = np.array([0.0, 0.01])
    res = ascent.latent_ascent(param, z0, c, lr, rp, "max", snapshots=[1], optimizer="sgd")
    # Row 0 (lr 0) never moves; row 1 takes z0 + lr * gradient.
    assert res.z_norm[0, 0] == res.z_norm[1, 0]
    z = tf.constant(z0)
    with tf.GradientTape() as tape:
        tape.watch(z)
        _, out = param(z, tf.constant(c, tf.int32))
        total = tf.reduce_sum(out["logit"][:, 0] - rp[0] * tf.reduce_sum(z * z, axis=1))
    grad = tape.gradient(total, z).numpy()
    np.testing.assert_allclose(res.grad_norm[0], np.linalg.norm(grad, axis=1), rtol=1e-5)
    np.testing.assert_allclose(res.z_norm[1, 1], np.linalg.norm(z0[1] + 0.01 * grad[1]), rtol=1e-5)


def test_regularisation_shrinks_the_latent(param):
    z0, c, lr, _ = _rows(4, lr=0.1)
    weak = ascent.latent_ascent(param, z0, c, lr, np.full(4, 0.0), "max", snapshots=[40])
    strong = ascent.latent_ascent(param, z0, c, lr, np.full(4, 1.0), "max", snapshots=[40])
    assert np.all(strong.z_norm[-1] < weak.z_norm[-1])
    assert np.all(strong.z_norm[-1] < strong.z_norm[0])


def test_chunks_give_identical_results(param):
    z0, c, lr, rp = _rows(7, lr=0.05)
    lr = lr * np.linspace(0.5, 2, 7)
    a = ascent.latent_ascent(param, z0, c, lr, rp, "min", snapshots=[3, 6], chunk_size=7)
    b = ascent.latent_ascent(param, z0, c, lr, rp, "min", snapshots=[3, 6], chunk_size=3)
    np.testing.assert_allclose(a.best_z, b.best_z, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.activation, b.activation, rtol=1e-5, atol=1e-6)
    again = ascent.latent_ascent(param, z0, c, lr, rp, "min", snapshots=[3, 6], chunk_size=3)
    np.testing.assert_array_equal(b.best_z, again.best_z)


def test_other_layer_and_unit(param):
    z0, c, lr, rp = _rows(2, lr=0.1, rp=0.0)
    target = objectives.activation("embedding_8", 3)
    res = ascent.latent_ascent(param, z0, c, lr, rp, "max", snapshots=[10], target=target)
    _, out = param(tf.constant(z0), tf.constant(c, tf.int32))
    np.testing.assert_allclose(res.activation[0], out["embedding_8"].numpy()[:, 3], rtol=1e-5)
    assert np.all(res.best_activation[0] >= res.activation[0])


def test_objective_algebra():
    z = tf.constant([[1.0, 2.0], [0.0, 3.0]])
    outputs = {"logit": tf.constant([[0.5], [-1.0]])}
    a = objectives.activation("logit", 0)
    combo = 2 * a - 0.1 * objectives.l2() + 1
    np.testing.assert_allclose(combo(z, outputs), [2 * 0.5 - 0.5 + 1, -2.0 - 0.9 + 1], rtol=1e-6)
    np.testing.assert_allclose((-a)(z, outputs), [-0.5, 1.0])
    per_row = tf.constant([1.0, 0.0]) * objectives.l2()
    np.testing.assert_allclose(per_row(z, outputs), [5.0, 0.0])
    assert combo.layers == ("logit",)
    assert objectives.parse_neuron("embedding_64:12") == ("embedding_64", 12)


@pytest.mark.parametrize("text", ["logit", "logit:x", ":3", "a:-1"])
def test_bad_neuron(text):
    with pytest.raises(ParameterError, match="LAYER:UNIT"):
        objectives.parse_neuron(text)


def test_bad_arguments(param):
    z0, c, lr, rp = _rows(2)
    with pytest.raises(ParameterError, match="direction='up'"):
        ascent.latent_ascent(param, z0, c, lr, rp, "up", snapshots=[1])
    with pytest.raises(ParameterError, match="optimizer='rmsprop'"):
        ascent.latent_ascent(param, z0, c, lr, rp, "max", snapshots=[1], optimizer="rmsprop")
    with pytest.raises(ParameterError, match=r"z0.shape=\(2, 128\)"):
        ascent.latent_ascent(param, z0, c[:1], lr, rp, "max", snapshots=[1])
    with pytest.raises(ParameterError, match="layer='conv9'"):
        ascent.LatentParameterisation(param.generator, param.detector, layers=["conv9"])


def test_mixed_precision_agrees_with_float32(param):
    mixed = ascent.LatentParameterisation(param.generator, param.detector, precision="mixed_bfloat16")
    assert mixed.detector.get_layer("conv2").compute_dtype == "bfloat16"
    assert mixed.detector.get_layer("conv2").kernel.dtype == "float32"
    z0, c, lr, rp = _rows(4, lr=0.1, rp=0.0)
    _, exact = param(tf.constant(z0), tf.constant(c, tf.int32))
    log_mel, approx = mixed(tf.constant(z0), tf.constant(c, tf.int32))
    assert log_mel.dtype == tf.float32 and approx["logit"].dtype == tf.float32
    scale = float(tf.reduce_max(tf.abs(exact["logit"]))) + 1e-3
    np.testing.assert_allclose(approx["logit"], exact["logit"], atol=0.05 * scale + 0.02)
    res = ascent.latent_ascent(mixed, z0, c, lr, rp, "max", snapshots=[20])
    assert np.all(res.best_activation[0] > res.activation[0])
    with pytest.raises(ParameterError, match="precision='fp8'"):
        ascent.LatentParameterisation(param.generator, param.detector, precision="fp8")
