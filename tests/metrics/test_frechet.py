"""Tests for the float64 Fréchet distance, against a scipy reference."""

import pathlib
import sys

import keras
import numpy as np
import pytest
import scipy.linalg
import tensorflow as tf
from embedding_model import LinearEmbedding
from helpers import run_ok

from vocal_xai.errors import ParameterError
from vocal_xai.metrics import frechet


def _scipy_frechet(mu1, sigma1, mu2, sigma2):
    """The pytorch-fid formula: sqrtm of the non-symmetric product, real part."""
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    diff = mu1 - mu2
    return diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean)


def _mixing(rng, d):
    """A well-conditioned, non-diagonal mixing matrix [d, d]."""
    return rng.standard_normal((d, d)) / np.sqrt(d) + np.eye(d)


def _samples(rng, n, d, mixing=None, shift=0.0):
    """Correlated Gaussian samples [n, d] with mean ``shift`` in every dimension."""
    mixing = _mixing(rng, d) if mixing is None else mixing
    return rng.standard_normal((n, d)) @ mixing.T + shift


def _numpy_stats(x):
    return np.mean(x, axis=0), np.cov(x, rowvar=False, ddof=1)


@pytest.mark.parametrize("d, n", [(8, 32), (8, 200), (32, 128), (64, 256), (64, 640)])
def test_matches_scipy_formula(d, n):
    rng = np.random.default_rng(d + n)
    mu1, s1 = _numpy_stats(_samples(rng, n, d))
    mu2, s2 = _numpy_stats(_samples(rng, n, d, shift=0.3))
    expected = _scipy_frechet(mu1, s1, mu2, s2)
    got = frechet.frechet_distance(mu1, s1, mu2, s2)
    assert got.dtype == tf.float64
    assert expected > 1.0
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


def test_float32_inputs_give_float64_result():
    rng = np.random.default_rng(1)
    mu1, s1 = _numpy_stats(_samples(rng, 128, 16))
    mu2, s2 = _numpy_stats(_samples(rng, 128, 16, shift=1.0))
    got = frechet.frechet_distance(*(v.astype(np.float32) for v in (mu1, s1, mu2, s2)))
    expected = _scipy_frechet(
        *(v.astype(np.float32).astype(np.float64) for v in (mu1, s1, mu2, s2))
    )
    assert got.dtype == tf.float64
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("n, d", [(20, 64), (5, 32), (64, 64), (256, 64)])
def test_samples_form_matches_full_form(n, d):
    rng = np.random.default_rng(n * d)
    reference = frechet.gaussian_stats(_samples(rng, 4 * d, d))
    x = _samples(rng, n, d, shift=0.5)
    fitted = frechet.gaussian_stats(x)
    full = frechet.distance_between(fitted, reference)
    small = frechet.frechet_distance_to_samples(x, reference.mean, reference.covariance)
    assert small.dtype == tf.float64
    assert full > 1.0
    np.testing.assert_allclose(small.numpy(), full, rtol=1e-6)


def test_a_batch_equals_one_call_each():
    """Three fits (one singular: fewer samples than dimensions) against one
    reference, in one call, and a batch on both sides."""
    rng = np.random.default_rng(7)
    d = 12
    fits = [
        _numpy_stats(_samples(rng, n, d, shift=s)) for n, s in ((200, 0.0), (50, 0.4), (8, 1.0))
    ]
    mu_ref, s_ref = _numpy_stats(_samples(rng, 300, d, shift=0.2))
    alone = [float(frechet.frechet_distance(mu, s, mu_ref, s_ref)) for mu, s in fits]
    means, covariances = (np.stack(parts) for parts in zip(*fits))
    batched = frechet.frechet_distance(means, covariances, mu_ref, s_ref)
    assert batched.shape == (3,) and batched.dtype == tf.float64
    np.testing.assert_allclose(batched.numpy(), alone, rtol=1e-10)
    both = frechet.frechet_distance(means[:2], covariances[:2], means[1:], covariances[1:])
    expected = [float(frechet.frechet_distance(*fits[i], *fits[i + 1])) for i in range(2)]
    np.testing.assert_allclose(both.numpy(), expected, rtol=1e-10)


def test_zero_for_identical_statistics():
    rng = np.random.default_rng(2)
    x = _samples(rng, 256, 64, shift=2.0)
    mu, sigma = _numpy_stats(x)
    assert abs(float(frechet.frechet_distance(mu, sigma, mu, sigma))) <= 1e-9
    assert abs(float(frechet.frechet_distance_to_samples(x, mu, sigma))) <= 1e-9
    # Rank-deficient covariance (n < d).
    y = _samples(rng, 10, 64)
    mu, sigma = _numpy_stats(y)
    assert abs(float(frechet.frechet_distance(mu, sigma, mu, sigma))) <= 1e-9
    assert abs(float(frechet.frechet_distance_to_samples(y, mu, sigma))) <= 1e-9


def test_symmetric():
    rng = np.random.default_rng(3)
    mu1, s1 = _numpy_stats(_samples(rng, 200, 32))
    mu2, s2 = _numpy_stats(_samples(rng, 100, 32, shift=-0.4))
    forward = float(frechet.frechet_distance(mu1, s1, mu2, s2))
    backward = float(frechet.frechet_distance(mu2, s2, mu1, s1))
    assert forward > 1.0
    np.testing.assert_allclose(forward, backward, rtol=1e-9)


def test_grows_with_mean_shift():
    rng = np.random.default_rng(4)
    d = 32
    mu1, s1 = _numpy_stats(_samples(rng, 200, d))
    _, s2 = _numpy_stats(_samples(rng, 200, d))
    direction = rng.standard_normal(d)
    shifts = [0.0, 0.1, 0.5, 1.0, 2.0, 5.0]
    values = [float(frechet.frechet_distance(mu1, s1, mu1 + t * direction, s2)) for t in shifts]
    assert all(a < b for a, b in zip(values, values[1:]))
    # The mean term adds exactly ||t * direction||^2.
    for t, value in zip(shifts, values):
        np.testing.assert_allclose(
            value - values[0], t**2 * direction @ direction, rtol=1e-9, atol=1e-9
        )


def test_grows_with_covariance_scale():
    rng = np.random.default_rng(5)
    mu, sigma = _numpy_stats(_samples(rng, 256, 64))
    scales = [1.0, 1.2, 1.5, 2.0, 4.0, 9.0]
    values = [float(frechet.frechet_distance(mu, sigma, mu, c * sigma)) for c in scales]
    assert all(a < b for a, b in zip(values, values[1:]))
    # Closed form for N(mu, S) vs N(mu, cS): (1 - sqrt(c))^2 tr S.
    expected = [(1.0 - np.sqrt(c)) ** 2 * np.trace(sigma) for c in scales]
    np.testing.assert_allclose(values, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("n, d", [(10, 64), (6, 96), (3, 128)])
def test_singular_covariances_finite_and_match_samples_form(n, d):
    rng = np.random.default_rng(n + d)
    mixing = _mixing(rng, d)
    x = _samples(rng, n, d, mixing)
    y = _samples(rng, n, d, mixing, shift=0.2)
    a, b = frechet.gaussian_stats(x), frechet.gaussian_stats(y)
    assert np.linalg.matrix_rank(a.covariance) == n - 1
    full = frechet.distance_between(a, b)
    assert np.isfinite(full) and full >= 0.0
    np.testing.assert_allclose(
        frechet.frechet_distance_to_samples(x, b.mean, b.covariance).numpy(), full, rtol=1e-6
    )
    np.testing.assert_allclose(
        frechet.frechet_distance_to_samples(y, a.mean, a.covariance).numpy(), full, rtol=1e-6
    )


def test_singular_covariances_where_scipy_sqrtm_is_complex():
    # Large-scale embeddings, n < d on both sides: here scipy 1.13's
    # sqrtm(s1 @ s2) is complex, with imaginary diagonal parts above the
    # 1e-3 that pytorch-fid tolerates.
    rng = np.random.default_rng(0)
    d, n = 96, 6
    mixing = rng.standard_normal((d, d)) / np.sqrt(d)
    x = 1e3 * rng.standard_normal((n, d)) @ mixing
    y = 1e3 * rng.standard_normal((n, d)) @ mixing
    a, b = frechet.gaussian_stats(x), frechet.gaussian_stats(y)
    full = frechet.distance_between(a, b)
    assert np.isfinite(full) and full > 0.0
    small = frechet.frechet_distance_to_samples(x, b.mean, b.covariance).numpy()
    np.testing.assert_allclose(small, full, rtol=1e-6)


def test_1d_matches_numpy_and_full_form():
    rng = np.random.default_rng(6)
    a = rng.normal(1.0, 2.0, size=40)
    b = rng.normal(-0.5, 0.7, size=25)
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    got = frechet.frechet_distance_1d(a, b)
    assert got.dtype == tf.float64
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    full = frechet.frechet_distance([a.mean()], [[a.var(ddof=1)]], [b.mean()], [[b.var(ddof=1)]])
    np.testing.assert_allclose(full.numpy(), expected, rtol=1e-9)
    # Any input shape is flattened.
    np.testing.assert_allclose(
        frechet.frechet_distance_1d(a.reshape(8, 5), b[:, None]).numpy(), expected, rtol=1e-12
    )


def test_streaming_statistics_match_numpy():
    rng = np.random.default_rng(7)
    x = _samples(rng, 50, 16, shift=3.0)
    acc = frechet.FrechetStatistics(16)
    for start, stop in [(0, 7), (7, 20), (20, 21), (21, 50)]:
        acc.update_state(x[start:stop])
    stats = acc.stats()
    mean, cov = _numpy_stats(x)
    assert stats.count == 50
    np.testing.assert_allclose(stats.mean, mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(stats.covariance, cov, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(stats.covariance, stats.covariance.T)


def test_merge_equals_single_accumulator():
    rng = np.random.default_rng(8)
    x1 = _samples(rng, 30, 12)
    x2 = _samples(rng, 17, 12, shift=-1.0)
    first, second, whole = (frechet.FrechetStatistics(12) for _ in range(3))
    first.update_state(x1[:10])
    first.update_state(x1[10:])
    second.update_state(x2)
    first.merge_state([second])
    whole.update_state(np.concatenate([x1, x2]))
    merged, expected = first.stats(), whole.stats()
    assert merged.count == expected.count == 47
    np.testing.assert_allclose(merged.mean, expected.mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(merged.covariance, expected.covariance, rtol=1e-12, atol=1e-12)
    # The other accumulator is unchanged.
    np.testing.assert_allclose(second.stats().mean, x2.mean(axis=0), rtol=1e-12)


def test_reset_state():
    rng = np.random.default_rng(9)
    acc = frechet.FrechetStatistics(8)
    acc.update_state(_samples(rng, 20, 8, shift=5.0))
    acc.reset_state()
    with pytest.raises(ParameterError, match="Received: 0"):
        acc.stats()
    x = _samples(rng, 15, 8)
    acc.update_state(x)
    stats = acc.stats()
    mean, cov = _numpy_stats(x)
    assert stats.count == 15
    np.testing.assert_allclose(stats.mean, mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(stats.covariance, cov, rtol=1e-10, atol=1e-12)


def test_float64_accumulation_with_large_mean_offset():
    rng = np.random.default_rng(10)
    n, d = 200, 8
    x = rng.standard_normal((n, d)) @ _mixing(rng, d).T + 1e4
    acc = frechet.FrechetStatistics(d)
    for chunk in np.array_split(x, 4):
        acc.update_state(chunk)
    _, cov = _numpy_stats(x)
    scale = np.abs(cov).max()
    # The same sum-of-outer-products formula in float32 is far off.
    x32 = x.astype(np.float32)
    mean32 = x32.sum(axis=0) / np.float32(n)
    cov32 = (x32.T @ x32 - np.float32(n) * np.outer(mean32, mean32)) / np.float32(n - 1)
    assert np.abs(cov32 - cov).max() / scale > 0.1
    assert np.abs(acc.stats().covariance - cov).max() / scale < 1e-6


def test_gaussian_stats_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(11)
    stats = frechet.gaussian_stats(_samples(rng, 40, 10, shift=1.5))
    path = tmp_path / "reference.npz"
    stats.save(path)
    loaded = frechet.GaussianStats.load(path)
    assert loaded.count == 40 and isinstance(loaded.count, int)
    np.testing.assert_array_equal(loaded.mean, stats.mean)
    np.testing.assert_array_equal(loaded.covariance, stats.covariance)
    assert loaded.mean.dtype == loaded.covariance.dtype == np.float64


def test_distance_between():
    rng = np.random.default_rng(12)
    a = frechet.gaussian_stats(_samples(rng, 120, 24))
    b = frechet.gaussian_stats(_samples(rng, 90, 24, shift=0.7))
    got = frechet.distance_between(a, b)
    assert isinstance(got, float)
    np.testing.assert_allclose(
        got, _scipy_frechet(a.mean, a.covariance, b.mean, b.covariance), rtol=1e-6
    )
    assert abs(frechet.distance_between(a, a)) <= 1e-9


@pytest.mark.parametrize(
    "args",
    [
        (np.zeros(4), np.eye(4), np.zeros(5), np.eye(5)),
        (np.zeros(4), np.eye(5), np.zeros(4), np.eye(4)),
        (np.zeros(4), np.eye(4), np.zeros(4), np.zeros((4, 3))),
        (np.zeros((4, 1)), np.eye(4), np.zeros(4), np.eye(4)),
        (np.zeros(4), np.zeros(4), np.zeros(4), np.eye(4)),
        (np.zeros((3, 4)), np.stack([np.eye(4)] * 2), np.zeros(4), np.eye(4)),
    ],
)
def test_frechet_distance_rejects_bad_shapes(args):
    with pytest.raises(ParameterError, match="Received:"):
        frechet.frechet_distance(*args)


@pytest.mark.parametrize("samples", [np.zeros((10, 5)), np.zeros(4), np.zeros((1, 4))])
def test_samples_form_rejects_bad_samples(samples):
    with pytest.raises(ParameterError, match="Received:"):
        frechet.frechet_distance_to_samples(samples, np.zeros(4), np.eye(4))


def test_samples_form_rejects_bad_reference():
    with pytest.raises(ParameterError, match="Received:"):
        frechet.frechet_distance_to_samples(np.zeros((10, 4)), np.zeros(4), np.eye(3))


@pytest.mark.parametrize("a, b", [([1.0], [1.0, 2.0]), ([1.0, 2.0], [3.0])])
def test_1d_rejects_fewer_than_two_values(a, b):
    with pytest.raises(ParameterError, match="Received:"):
        frechet.frechet_distance_1d(a, b)


@pytest.mark.parametrize("dim", [0, -3])
def test_statistics_reject_bad_dim(dim):
    with pytest.raises(ParameterError, match="Received: dim="):
        frechet.FrechetStatistics(dim)


def test_statistics_reject_mismatches_and_too_few_samples():
    acc = frechet.FrechetStatistics(4)
    with pytest.raises(ParameterError, match="Received:"):
        acc.update_state(np.zeros((3, 5)))
    with pytest.raises(ParameterError, match="Received:"):
        acc.update_state(np.zeros(4))
    with pytest.raises(ParameterError, match="Received: dim=3"):
        acc.merge_state([frechet.FrechetStatistics(3)])
    acc.update_state(np.ones((1, 4)))
    with pytest.raises(ParameterError, match="Received: 1"):
        acc.stats()
    with pytest.raises(ParameterError, match="Received:"):
        frechet.gaussian_stats(np.zeros((1, 4)))


def test_stats_save_load_without_suffix(tmp_path):
    stats = frechet.gaussian_stats(np.random.default_rng(0).normal(size=(30, 4)))
    stats.save(tmp_path / "stats")
    again = frechet.GaussianStats.load(tmp_path / "stats")
    np.testing.assert_array_equal(again.covariance, stats.covariance)
    assert again.count == 30


def test_distance_to_samples_scores_each_set_of_a_batch_alone():
    rng = np.random.default_rng(4)
    mu, a = rng.normal(size=5), rng.normal(size=(5, 5))
    sigma = a @ a.T + np.eye(5)
    sets = rng.normal(size=(3, 2, 12, 5))
    batched = frechet.frechet_distance_to_samples(sets, mu, sigma).numpy()
    assert batched.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            single = float(frechet.frechet_distance_to_samples(sets[i, j], mu, sigma))
            assert batched[i, j] == pytest.approx(single, rel=1e-12)


# ------------------------------------------------- FrechetStatistics as a Keras metric


def _linear_embeddings(model, x):
    kernel, bias = (w.numpy() for w in model.embed.weights)
    return x @ kernel + bias


def test_metric_in_model_evaluate_matches_numpy():
    rng = np.random.default_rng(20)
    # Keras feeds float arrays as float32: inputs that float32 holds exactly.
    x = rng.normal(size=(61, 6)).astype(np.float32).astype(np.float64)
    model = LinearEmbedding(5)
    model.compile(jit_compile=False)
    got = model.evaluate(x, batch_size=8, return_dict=True, verbose=0)
    assert model.traced_in_graph is True
    embeddings = _linear_embeddings(model, x)
    np.testing.assert_allclose(np.asarray(got["mean"]), embeddings.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(
        np.asarray(got["covariance"]), np.cov(embeddings, rowvar=False, ddof=1), rtol=1e-10
    )
    # evaluate starts from a reset state: the same statistics again.
    again = model.evaluate(x, batch_size=16, return_dict=True, verbose=0)
    np.testing.assert_allclose(
        np.asarray(again["covariance"]), np.asarray(got["covariance"]), rtol=1e-10
    )
    assert model.embedding_stats.stats().count == 61


def test_update_state_and_result_in_a_tf_function():
    rng = np.random.default_rng(21)
    x = _samples(rng, 45, 7, shift=-2.0)
    acc = frechet.FrechetStatistics(7)

    @tf.function(input_signature=[tf.TensorSpec([None, 7], tf.float32)])
    def step(batch):
        acc.update_state(batch)
        return acc.result()

    for chunk in np.array_split(x.astype(np.float32), 4):
        result = step(tf.constant(chunk))
    x32 = x.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(result["mean"].numpy(), x32.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(result["covariance"].numpy(), np.cov(x32, rowvar=False), rtol=1e-10)
    assert result["mean"].dtype == result["covariance"].dtype == tf.float64


def test_result_is_nan_below_two_samples():
    acc = frechet.FrechetStatistics(3)
    assert np.all(np.isnan(acc.result()["mean"].numpy()))
    acc.update_state(np.array([[1.0, 2.0, 3.0]]))
    result = acc.result()
    np.testing.assert_array_equal(result["mean"].numpy(), [1.0, 2.0, 3.0])
    assert np.all(np.isnan(result["covariance"].numpy()))
    acc.update_state(np.array([[3.0, 2.0, 1.0]]))
    expected = np.cov([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], rowvar=False)
    np.testing.assert_allclose(acc.result()["covariance"].numpy(), expected, rtol=1e-12)


def test_merge_state_of_several_metrics_equals_one_over_the_concatenation():
    rng = np.random.default_rng(22)
    parts = [_samples(rng, n, 9, shift=s) for n, s in ((13, 0.0), (29, 4.0), (2, -3.0))]
    metrics = [frechet.FrechetStatistics(9) for _ in parts]
    for metric, part in zip(metrics, parts):
        metric.update_state(part)
    metrics[0].merge_state(metrics[1:])
    merged = metrics[0].result()
    whole = np.concatenate(parts)
    assert float(metrics[0].count.numpy()) == 44.0
    np.testing.assert_allclose(merged["mean"].numpy(), whole.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(
        merged["covariance"].numpy(), np.cov(whole, rowvar=False), rtol=1e-10
    )
    # The merged-in metrics keep their own state.
    np.testing.assert_allclose(metrics[2].stats().mean, parts[2].mean(axis=0), rtol=1e-12)


def test_sample_weight_are_frequency_weights():
    rng = np.random.default_rng(23)
    x = _samples(rng, 30, 4, shift=1.0)
    counts = rng.integers(0, 4, size=30)
    weighted = frechet.FrechetStatistics(4)
    weighted.update_state(x, sample_weight=counts[:, None].astype(np.float32))
    repeated = frechet.gaussian_stats(np.repeat(x, counts, axis=0))
    stats = weighted.stats()
    assert stats.count == counts.sum()
    np.testing.assert_allclose(stats.mean, repeated.mean, rtol=1e-10)
    np.testing.assert_allclose(stats.covariance, repeated.covariance, rtol=1e-10)
    np.testing.assert_allclose(
        stats.covariance, np.cov(x, rowvar=False, fweights=counts), rtol=1e-10
    )


def test_metric_rejects_bad_shapes_in_graph_mode_too():
    acc = frechet.FrechetStatistics(4)

    # Without autograph, as in Keras's own step functions (autograph would
    # wrap any error raised while tracing in a StagingError).
    @tf.function(input_signature=[tf.TensorSpec([None, 5], tf.float32)], autograph=False)
    def wrong_width(batch):
        acc.update_state(batch)

    expected = r"Expected embeddings \[batch, 4\]. Received: shape=\(None, 5\)"
    with pytest.raises(ParameterError, match=expected):
        wrong_width(tf.zeros([2, 5]))
    with pytest.raises(ParameterError, match="Received: sample_weight.shape=\\(3, 2\\)"):
        acc.update_state(np.zeros((3, 4)), sample_weight=np.ones((3, 2)))
    with pytest.raises(ParameterError, match="Received: sample_weight.shape=\\(2,\\)"):
        acc.update_state(np.zeros((3, 4)), sample_weight=np.ones(2))
    with pytest.raises(ParameterError, match="Received: list"):
        acc.merge_state([[1.0]])
    with pytest.raises(ParameterError, match="Received: dim=2.5"):
        frechet.FrechetStatistics(2.5)
    assert float(acc.count.numpy()) == 0.0


def test_metric_config_round_trip():
    acc = frechet.FrechetStatistics(6, name="reference_stats")
    assert acc.get_config() == {"dim": 6, "name": "reference_stats"}
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(acc))
    assert isinstance(again, frechet.FrechetStatistics)
    assert (again.dim, again.name) == (6, "reference_stats")
    assert [v.shape for v in again.variables] == [(), (6,), (6, 6)]
    assert all(v.dtype == "float64" for v in again.variables)


MIRRORED = """
import sys

import numpy as np

from vocal_xai import training

training.split_cpu(2)

import keras
import tensorflow as tf

from vocal_xai.metrics import frechet

x = np.load(sys.argv[1])
strategy = training.get_strategy("mirrored")
assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync

# A custom loop: update_state on each replica, inside a tf.function.
with strategy.scope():
    metric = frechet.FrechetStatistics(x.shape[1])
dataset = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(x).batch(8))


@tf.function
def step(batch):
    strategy.run(metric.update_state, args=(batch,))


for batch in dataset:
    step(batch)
loop = metric.stats()
replica_counts = [float(v.numpy()) for v in strategy.experimental_local_results(metric.count.value)]


# Model.evaluate of a float64 linear embedding under the strategy.
sys.path.insert(0, sys.argv[3])
from embedding_model import LinearEmbedding

with strategy.scope():
    model = LinearEmbedding(3, seed=1)
    model.compile(jit_compile=False)
    evaluated = model.evaluate(x, batch_size=8, return_dict=True, verbose=0)
kernel, bias = (w.numpy() for w in model.embed.weights)
np.savez(
    sys.argv[2], loop_mean=loop.mean, loop_covariance=loop.covariance, loop_count=loop.count,
    replica_counts=replica_counts, eval_mean=np.asarray(evaluated["mean"]),
    eval_covariance=np.asarray(evaluated["covariance"]),
    eval_count=model.embedding_stats.stats().count,
    embeddings=x @ kernel + bias,
)
"""


@pytest.mark.slow
def test_metric_under_mirrored_strategy_on_two_logical_cpus(tmp_path):
    rng = np.random.default_rng(24)
    # 57 = 7 batches of 8 and one of 1: a replica gets an empty last batch.
    x = _samples(rng, 57, 6, shift=2.5).astype(np.float32).astype(np.float64)
    np.save(tmp_path / "x.npy", x)
    script = tmp_path / "mirrored.py"
    script.write_text(MIRRORED)
    here = pathlib.Path(__file__).resolve().parent
    run_ok(
        [sys.executable, str(script), str(tmp_path / "x.npy"), str(tmp_path / "out.npz"), str(here)]
    )
    with np.load(tmp_path / "out.npz") as out:
        out = dict(out)
    eager = frechet.gaussian_stats(x)
    # The custom loop: both replicas hold the statistics of every batch.
    np.testing.assert_array_equal(out["replica_counts"], [57.0, 57.0])
    assert int(out["loop_count"]) == 57
    np.testing.assert_allclose(out["loop_mean"], eager.mean, rtol=1e-10)
    np.testing.assert_allclose(out["loop_covariance"], eager.covariance, rtol=1e-10)
    # Model.evaluate: the statistics of the embeddings of all 57 rows.
    embedded = frechet.gaussian_stats(out["embeddings"])
    assert int(out["eval_count"]) == 57
    np.testing.assert_allclose(out["eval_mean"], embedded.mean, rtol=1e-10)
    np.testing.assert_allclose(out["eval_covariance"], embedded.covariance, rtol=1e-10)
