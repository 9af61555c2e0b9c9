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


@pytest.mark.slow
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
        np.testing.assert_allclose(
            res.best_activation[s], res.activation[: k + 1].max(axis=0), rtol=1e-6
        )
    np.testing.assert_array_equal(res.best_z[0], z0)
    # The kept latent reproduces its activation.
    _, out = param(tf.constant(res.best_z[2]), tf.constant(c, tf.int32))
    np.testing.assert_allclose(
        out["logit"].numpy()[:, 0], res.best_activation[2], rtol=1e-4, atol=1e-4
    )


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_regularisation_shrinks_the_latent(param):
    z0, c, lr, _ = _rows(4, lr=0.1)
    weak = ascent.latent_ascent(param, z0, c, lr, np.full(4, 0.0), "max", snapshots=[40])
    strong = ascent.latent_ascent(param, z0, c, lr, np.full(4, 1.0), "max", snapshots=[40])
    assert np.all(strong.z_norm[-1] < weak.z_norm[-1])
    assert np.all(strong.z_norm[-1] < strong.z_norm[0])


@pytest.mark.slow
def test_chunks_give_identical_results(param):
    z0, c, lr, rp = _rows(7, lr=0.05)
    lr = lr * np.linspace(0.5, 2, 7)
    a = ascent.latent_ascent(param, z0, c, lr, rp, "min", snapshots=[3, 6], chunk_size=7)
    b = ascent.latent_ascent(param, z0, c, lr, rp, "min", snapshots=[3, 6], chunk_size=3)
    np.testing.assert_allclose(a.best_z, b.best_z, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.activation, b.activation, rtol=1e-5, atol=1e-6)
    again = ascent.latent_ascent(param, z0, c, lr, rp, "min", snapshots=[3, 6], chunk_size=3)
    np.testing.assert_array_equal(b.best_z, again.best_z)


@pytest.mark.slow
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


@pytest.mark.slow
def test_mixed_precision_agrees_with_float32(param):
    mixed = ascent.LatentParameterisation(
        param.generator, param.detector, precision="mixed_bfloat16"
    )
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


@pytest.mark.slow
def test_default_objective_is_the_old_formula(param):
    # Today's defaults against the formula the ascent used to hard-code,
    # written as a user's function of (z, outputs).
    z0, c, lr, rp = _rows(4, lr=0.1, rp=0.05)
    for direction in ("max", "min"):
        sign = tf.constant(np.full(4, ascent.DIRECTIONS[direction], np.float32))
        rp_t = tf.constant(rp, tf.float32)

        def old_formula(z, o, sign=sign, rp_t=rp_t):
            return sign * o["logit"][:, 0] - rp_t * tf.reduce_sum(tf.square(z), axis=-1)

        old = objectives.Objective(old_formula, "old formula")
        default = ascent.latent_ascent(param, z0, c, lr, rp, direction, snapshots=[5, 12])
        formula = ascent.latent_ascent(
            param, z0, c, lr, None, direction, snapshots=[5, 12], objective=old
        )
        for field in ("best_z", "best_activation", "activation", "z_norm", "grad_norm"):
            np.testing.assert_allclose(
                getattr(default, field), getattr(formula, field), rtol=1e-6, atol=1e-6
            )
        explicit = ascent.latent_ascent(
            param,
            z0,
            c,
            lr,
            rp,
            direction,
            snapshots=[5, 12],
            objective=objectives.paper(objectives.activation("logit", 0)),
        )
        np.testing.assert_array_equal(default.best_z, explicit.best_z)


@pytest.mark.slow
def test_same_name_different_weights_are_different_objectives(param):
    z0, c, lr, rp = _rows(4, lr=0.1, rp=0.01)
    target = objectives.activation("logit", 0)
    weak = objectives.paper(target) - 0.01 * objectives.total_variation(objectives.LOG_MEL)
    strong = objectives.paper(target) - 50.0 * objectives.total_variation(objectives.LOG_MEL)
    weak.name = strong.name = "regularised"

    def run(p, objective):
        return ascent.latent_ascent(p, z0, c, lr, rp, "max", snapshots=[10], objective=objective)

    shared = [run(param, weak), run(param, strong)]
    assert not np.allclose(shared[0].z_norm[-1], shared[1].z_norm[-1], rtol=1e-3)
    for objective, result in zip((weak, strong), shared):
        alone = ascent.LatentParameterisation(param.generator, param.detector)
        np.testing.assert_array_equal(run(alone, objective).best_z, result.best_z)
    # The same for users' functions that share a name, and for optimisers
    # that differ only in their configuration.
    mine = [
        objectives.Objective(
            lambda z, o, w=w: o["logit"][:, 0] - w * tf.reduce_sum(z * z, -1), "mine"
        )
        for w in (0.0, 5.0)
    ]
    first, second = (
        ascent.latent_ascent(param, z0, c, lr, None, "max", [10], objective=m) for m in mine
    )
    assert np.all(second.z_norm[-1] < first.z_norm[-1])
    adams = [keras.optimizers.Adam(0.1), keras.optimizers.Adam(0.1, beta_1=0.5)]
    first, second = (
        ascent.latent_ascent(param, z0, c, None, rp, "max", [10], optimizer=o) for o in adams
    )
    assert not np.allclose(first.z_norm[-1], second.z_norm[-1], rtol=1e-3)
    alone = ascent.LatentParameterisation(param.generator, param.detector)
    np.testing.assert_array_equal(
        ascent.latent_ascent(alone, z0, c, None, rp, "max", [10], optimizer=adams[1]).best_z,
        second.best_z,
    )


@pytest.mark.slow
def test_composed_regularisers(param):
    z0, c, lr, rp = _rows(4, lr=0.1, rp=0.0)
    target = objectives.activation("logit", 0)
    # A user's callable composes like a built-in regulariser.
    built_in = objectives.paper(target) - 0.3 * objectives.l2()
    own = objectives.paper(target) + (lambda z, o: -0.3 * tf.reduce_sum(tf.square(z), axis=-1))
    a, b = (
        ascent.latent_ascent(param, z0, c, lr, rp, "max", [8], objective=o) for o in (built_in, own)
    )
    np.testing.assert_allclose(a.z_norm, b.z_norm, rtol=1e-5)
    # Total variation of the generated excerpt smooths it, with a per-row
    # weight: row by row, the same as a constant weight.
    tv = objectives.total_variation(objectives.LOG_MEL)
    weighted = objectives.paper(target) - objectives.per_row("tv") * tv
    rough = ascent.latent_ascent(
        param, z0, c, lr, rp, "max", [15], objective=weighted, rows={"tv": np.zeros(4)}
    )
    smooth = ascent.latent_ascent(
        param, z0, c, lr, rp, "max", [15], objective=weighted, rows={"tv": np.full(4, 100.0)}
    )
    constant = ascent.latent_ascent(
        param, z0, c, lr, rp, "max", [15], objective=objectives.paper(target) - 100.0 * tv
    )
    np.testing.assert_allclose(smooth.z_norm, constant.z_norm, rtol=1e-5)

    def tv_of(res):
        log_mel, _ = param(tf.constant(res.best_z[-1]), tf.constant(c, tf.int32))
        return objectives.total_variation_values(log_mel).numpy()

    assert np.all(tv_of(smooth) < tv_of(rough))
    with pytest.raises(ParameterError, match=r"Expected per-row values for \['tv'\]"):
        ascent.latent_ascent(param, z0, c, lr, rp, "max", [1], objective=weighted)
    with pytest.raises(ParameterError, match=r"rows without \['rp'\]"):
        ascent.latent_ascent(
            param, z0, c, lr, rp, "max", [1], objective=weighted, rows={"rp": rp, "tv": rp}
        )
    with pytest.raises(ParameterError, match=r"Expected per-row values for \['rp'\]"):
        ascent.latent_ascent(param, z0, c, lr, None, "max", [1])
    with pytest.raises(ParameterError, match=r"layers=\['conv9'\]"):
        ascent.latent_ascent(
            param, z0, c, lr, rp, "max", [1], objective=objectives.activation("conv9", 0)
        )


def _double_well_gradient(x):
    """Gradient of sum(0.3 x - (x^2 - 1)^2 / 4), a double well the
    trajectory depends on (only exactly rounded elementwise ops, so a row's
    gradient doesn't depend on the batch around it)."""
    return 0.3 - x * (x * x - 1.0)


@pytest.mark.slow
@pytest.mark.parametrize(
    "keras_optimizer, fused",
    [
        (lambda lr: keras.optimizers.Adam(lr), ascent.FusedAdam()),
        (
            lambda lr: keras.optimizers.Adam(lr, beta_1=0.5, beta_2=0.9, epsilon=1e-4),
            ascent.FusedAdam(beta_1=0.5, beta_2=0.9, epsilon=1e-4),
        ),
        (lambda lr: keras.optimizers.SGD(lr), ascent.FusedSGD()),
        (lambda lr: keras.optimizers.SGD(lr, momentum=0.9), ascent.FusedSGD(momentum=0.9)),
        (
            lambda lr: keras.optimizers.SGD(lr, momentum=0.5, nesterov=True),
            ascent.FusedSGD(momentum=0.5, nesterov=True),
        ),
    ],
)
def test_fused_update_matches_keras_step_for_step(keras_optimizer, fused):
    # One fused batch, a learning rate per row, against one Keras optimiser
    # per learning rate minimising -objective: the same parameters at every
    # one of 20 steps.
    rates = np.array([0.3, 0.1, 0.01, 0.001], np.float32)
    x0 = tf.random.stateless_normal([len(rates), 3, 5], seed=[7, 0])
    x, slots, fused_path = x0, fused.slots(x0), []
    for t in range(20):
        x, slots = fused.apply(
            x, _double_well_gradient(x), slots, tf.constant(t), tf.constant(rates)
        )
        fused_path.append(x.numpy())
    for row, rate in enumerate(rates):
        variable = tf.Variable(x0[row : row + 1])
        optimizer = keras_optimizer(float(rate))
        for t in range(20):
            optimizer.apply_gradients(
                [(-_double_well_gradient(tf.convert_to_tensor(variable)), variable)]
            )
            np.testing.assert_allclose(variable.numpy()[0], fused_path[t][row], rtol=0, atol=1e-6)
    converted = ascent.fused_optimizer(keras_optimizer(0.02))
    assert converted.config_key == fused.config_key and converted.learning_rate == pytest.approx(
        0.02
    )


def test_keras_optimizer_in_the_ascent(param):
    z0, c, _, rp = _rows(3, rp=0.1)
    own_rate = ascent.latent_ascent(
        param, z0, c, None, rp, "max", [6], optimizer=keras.optimizers.Adam(0.05)
    )
    per_row = ascent.latent_ascent(param, z0, c, np.full(3, 0.05), rp, "max", [6], optimizer="adam")
    np.testing.assert_array_equal(own_rate.best_z, per_row.best_z)
    for bad, match in [
        (keras.optimizers.AdamW(0.01), "AdamW"),
        (keras.optimizers.RMSprop(0.01), "RMSprop"),
        (keras.optimizers.Adam(0.01, clipnorm=1.0), "clipnorm"),
        (keras.optimizers.Adam(0.01, amsgrad=True), "amsgrad"),
        (
            keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)),
            "constant learning rate",
        ),
    ]:
        with pytest.raises(ParameterError, match=match):
            ascent.latent_ascent(param, z0, c, None, rp, "max", [1], optimizer=bad)


def test_composed_objective_values_and_keys():
    z = tf.constant([[1.0, 2.0, 4.0], [0.0, 3.0, 3.0]])
    outputs = {"logit": tf.constant([[0.5], [-1.0]]), objectives.LOG_MEL: tf.ones([2, 4, 3])}
    rows = {objectives.SIGN: tf.constant([1.0, -1.0]), objectives.RP: tf.constant([0.1, 0.5])}
    a = objectives.activation("logit", 0)
    paper = objectives.paper(a)
    np.testing.assert_allclose(paper(z, outputs, rows), [0.5 - 0.1 * 21, 1.0 - 0.5 * 18], rtol=1e-6)
    assert paper.rows == (objectives.RP, objectives.SIGN) and paper.layers == ("logit",)
    with pytest.raises(ParameterError, match=r"per-row values for \['rp', 'sign'\]"):
        paper(z, outputs)
    np.testing.assert_allclose(
        objectives.total_variation()(z, outputs), [(1 + 2) / 2, (3 + 0) / 2], rtol=1e-6
    )
    np.testing.assert_allclose(
        objectives.total_variation(objectives.LOG_MEL)(z, outputs), [0.0, 0.0]
    )
    np.testing.assert_allclose(objectives.l2(mean=True)(z, outputs), [7.0, 6.0], rtol=1e-6)
    np.testing.assert_allclose((a * a - a * 2.0)(z, outputs), [0.25 - 1.0, 1.0 + 2.0], rtol=1e-6)
    # Keys: structure and constants, never names.
    assert (a - 0.1 * objectives.l2()).key == (objectives.activation() - 0.1 * objectives.l2()).key
    assert (a - 0.1 * objectives.l2()).key != (a - 0.2 * objectives.l2()).key
    assert (a - 0.1 * objectives.l2()).key != (a - 0.1 * objectives.total_variation()).key
    assert (a + objectives.l2()).key != (objectives.l2() + a).key
    w = np.array([1.0, 0.0], np.float32)
    assert (w * a).key == (w.copy() * a).key != (np.array([0.0, 1.0], np.float32) * a).key
    with pytest.raises(ParameterError, match="Received: str"):
        a * "x"
