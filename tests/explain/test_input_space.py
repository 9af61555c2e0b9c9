import keras
import numpy as np
import pytest
import tensorflow as tf

from vocal_xai import spectral
from vocal_xai.errors import ParameterError
from vocal_xai.explain import input_space, objectives
from vocal_xai.models.detector import SVDNet


@pytest.fixture(scope="module")
def detector():
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(0)
    return SVDNet.from_preset("svdnet_tiny", rng.normal(-5, 1, 80), rng.uniform(1, 2, 80))


@pytest.fixture(scope="module")
def param(detector):
    return input_space.InputParameterisation(detector)


def _rows(n, lr=0.05, rp=0.01):
    return (
        input_space.initial_inputs(range(n)),
        np.full(n, lr, np.float32),
        np.full(n, rp, np.float32),
    )


def test_initial_inputs_are_seeded_and_small():
    u = input_space.initial_inputs([5, 6, 5], scale=0.1)
    assert u.shape == (3, 115, 80) and u.dtype == np.float32
    np.testing.assert_array_equal(u[0], u[2])
    np.testing.assert_allclose(
        u[1], 0.1 * tf.random.stateless_normal([115, 80], seed=[6, 1]).numpy()
    )
    assert abs(u.std() - 0.1) < 0.005


def test_total_variation_known_values():
    assert input_space.total_variation(tf.zeros([2, 115, 80])).numpy().tolist() == [0.0, 0.0]
    ramp = tf.tile(tf.range(115, dtype=tf.float32)[None, :, None], [1, 1, 80])  # +1 per frame
    np.testing.assert_allclose(input_space.total_variation(ramp).numpy(), [1.0])


def test_log_mel_is_mean_plus_scaled_input_above_the_floor(param):
    u = np.zeros((1, 115, 80), np.float32)
    u[0, 0, 0] = -1e6
    x = param.log_mel(u).numpy()
    np.testing.assert_allclose(x[0, 1], param.mean.numpy())
    assert x[0, 0, 0] == pytest.approx(spectral.LOG_MEL_MIN)


@pytest.mark.slow
@pytest.mark.parametrize("direction", ["max", "min"])
def test_ascent_moves_the_activation_and_snapshots_are_iterates(param, direction):
    u0, lr, rp = _rows(4)
    result = input_space.input_ascent(param, u0, lr, rp, direction, (0, 3, 8), jitter=0)
    assert result.inputs.shape == (3, 4, 115, 80)
    np.testing.assert_array_equal(result.inputs[0], u0)  # 0 steps: the start
    start = param(tf.constant(u0))[1]["logit"].numpy()[:, 0]
    end = param(tf.constant(result.inputs[-1]))[1]["logit"].numpy()[:, 0]
    sign = 1 if direction == "max" else -1
    assert np.all(sign * (end - start) > 0)
    # Without jitter the traced activation at step 8 is the last snapshot's.
    np.testing.assert_allclose(result.activation[8], end, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(result.log_mel, param.log_mel(result.inputs).numpy())


def test_regularisers_pull_the_input_to_the_mean_and_smooth_it(param):
    u0, lr, _ = _rows(2, lr=0.05)
    u0 = u0 * 20.0  # a loud, rough start
    weak = input_space.input_ascent(
        param, u0, lr, np.full(2, 0.0, np.float32), "max", (20,), jitter=0
    )
    strong = input_space.input_ascent(
        param, u0, lr, np.full(2, 1e4, np.float32), "max", (20,), jitter=0
    )
    assert np.mean(strong.inputs[-1] ** 2) < 0.5 * np.mean(weak.inputs[-1] ** 2)

    def tv(u):
        return input_space.total_variation(tf.constant(u)).numpy()

    assert np.all(tv(strong.inputs[-1]) < tv(weak.inputs[-1]))


@pytest.mark.slow
def test_same_seed_same_result_and_jitter_changes_it(param):
    u0, lr, rp = _rows(3)
    a = input_space.input_ascent(param, u0, lr, rp, "max", (5,), jitter=2, seed=7, chunk_size=2)
    b = input_space.input_ascent(param, u0, lr, rp, "max", (5,), jitter=2, seed=7, chunk_size=3)
    c = input_space.input_ascent(param, u0, lr, rp, "max", (5,), jitter=2, seed=8)
    np.testing.assert_allclose(
        a.inputs, b.inputs, atol=1e-4
    )  # chunking: last-bit kernel differences
    assert not np.allclose(a.inputs, c.inputs)


@pytest.mark.slow
def test_other_target_and_bad_arguments(param):
    u0, lr, rp = _rows(2)
    target = objectives.activation("embedding_8", 3)
    out = input_space.input_ascent(param, u0, lr, rp, "max", (4,), target=target, jitter=0)
    before = param(tf.constant(u0))[1]["embedding_8"].numpy()[:, 3]
    after = param(tf.constant(out.inputs[-1]))[1]["embedding_8"].numpy()[:, 3]
    assert np.all(after >= before)
    with pytest.raises(ParameterError, match="direction"):
        input_space.input_ascent(param, u0, lr, rp, "up", (4,))
    with pytest.raises(ParameterError, match="u0"):
        input_space.input_ascent(param, u0[:, :100], lr, rp, "max", (4,))
    with pytest.raises(ParameterError, match="iteration"):
        input_space.input_ascent(param, u0, lr, rp, "max", (-1,))
    with pytest.raises(ParameterError, match="jitter"):
        input_space.input_ascent(param, u0, lr, rp, "max", (4,), jitter=-1)
    with pytest.raises(ParameterError, match="optimizer"):
        input_space.input_ascent(param, u0, lr, rp, "max", (4,), optimizer="rmsprop")


@pytest.mark.slow
def test_default_objective_is_the_old_formula(param):
    u0, lr, rp = _rows(3, rp=0.5)
    u0 = u0 * 10.0
    sign, rp_t = tf.constant([1.0, 1.0, 1.0]), tf.constant(rp)
    old = objectives.Objective(
        lambda u, o: (
            sign * o["logit"][:, 0]
            - rp_t * (tf.reduce_mean(tf.square(u), axis=[1, 2]) + input_space.total_variation(u))
        ),
        "old formula",
    )
    default = input_space.input_ascent(param, u0, lr, rp, "max", (3, 6), jitter=2, seed=1)
    formula = input_space.input_ascent(
        param, u0, lr, None, "max", (3, 6), jitter=2, seed=1, objective=old
    )
    np.testing.assert_allclose(default.inputs, formula.inputs, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(default.activation, formula.activation, rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_composed_objective_and_keras_optimizer(param, detector):
    u0, _, _ = _rows(2)
    u0 = u0 * 20.0
    target = objectives.activation("logit", 0)
    # Only total variation, weighted per row, with Keras SGD and momentum.
    objective = target - objectives.per_row("tv") * objectives.total_variation()
    out = input_space.input_ascent(
        param,
        u0,
        None,
        None,
        "max",
        (10,),
        jitter=0,
        optimizer=keras.optimizers.SGD(0.5, momentum=0.9),
        objective=objective,
        rows={"tv": np.array([0.0, 100.0], np.float32)},
    )
    tv = input_space.total_variation(out.inputs[-1]).numpy()
    assert tv[1] < 0.75 * input_space.total_variation(u0).numpy()[1]
    assert tv[1] < tv[0]
    # Same name, different weight: different results, each as computed alone.
    strong, weak = (
        target - 100.0 * objectives.l2(mean=True),
        target - 0.0 * objectives.l2(mean=True),
    )
    strong.name = weak.name = "same"
    lr = np.full(2, 0.05, np.float32)
    results = [
        input_space.input_ascent(param, u0, lr, None, "max", (5,), jitter=0, objective=o)
        for o in (strong, weak)
    ]
    assert np.mean(results[0].inputs ** 2) < 0.9 * np.mean(results[1].inputs ** 2)
    alone = input_space.InputParameterisation(detector)
    np.testing.assert_array_equal(
        input_space.input_ascent(alone, u0, lr, None, "max", (5,), jitter=0, objective=weak).inputs,
        results[1].inputs,
    )
