import keras
import numpy as np
import pytest

from vocal_xai.data import pipeline
from vocal_xai.errors import ParameterError
from vocal_xai.explain import selection
from vocal_xai.metrics import frechet
from vocal_xai.models.detector import SVDNet


@pytest.fixture(scope="module")
def probe_and_split():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    detector = SVDNet.from_preset("svdnet_tiny", np.full(80, -5.0), np.ones(80))
    probe = keras.Model(
        detector.input, {n: detector.get_layer(n).output for n in ("logit", "embedding_8")}
    )
    feats = rng.normal(-5, 2, (600, 80)).astype(np.float32)
    split = pipeline.SplitFeatures(["a"], [feats], [np.zeros(600, np.int32)])
    return probe, split


@pytest.mark.parametrize("direction", ["max", "min"])
def test_reference_takes_the_extreme_excerpts(probe_and_split, direction):
    probe, split = probe_and_split
    ref = selection.reference(probe, split, "logit", 0, "embedding_8", direction, k=20, stride=5)
    frames, _, centres = pipeline.concat_split(split, pipeline.HALF)
    idx = centres[::5, None] + np.arange(-57, 58)[None, :]
    acts, embs = selection.probe_excerpts(probe, frames[idx], "logit", 0, "embedding_8")
    expected = np.sort(acts)[-20:] if direction == "max" else np.sort(acts)[:20]
    np.testing.assert_allclose(np.sort(ref.activations), expected, rtol=1e-6)
    assert ref.stats.count == 20 and ref.stats.mean.shape == (8,)


def test_reference_cache(tmp_path, probe_and_split):
    probe, split = probe_and_split
    calls = []

    def compute():
        calls.append(1)
        return selection.reference(probe, split, "logit", 0, "embedding_8", "max", k=10)

    key = {"detector": "x/1", "k": 10}
    a, path = selection.cached_reference(tmp_path, key, compute)
    b, path2 = selection.cached_reference(tmp_path, key, compute)
    assert len(calls) == 1 and path == path2 and path.is_file()
    np.testing.assert_array_equal(a.stats.covariance, b.stats.covariance)
    selection.cached_reference(tmp_path, {**key, "k": 11}, compute)
    assert len(calls) == 2


def test_score_and_interval():
    rng = np.random.default_rng(1)
    ref = selection.Reference(
        frechet.gaussian_stats(rng.normal(size=(300, 6))), rng.normal(3, 1, 300)
    )
    near = selection.score(rng.normal(size=(50, 6)), rng.normal(3, 1, 50), ref, resamples=100)
    far = selection.score(rng.normal(2, 1, size=(50, 6)), rng.normal(30, 1, 50), ref, resamples=100)
    assert near["distance"] < far["distance"]
    assert (
        near["distance_low"] <= near["distance"] * 1.5
        and near["distance_low"] < near["distance_high"]
    )
    assert far["distance_low"] > near["distance_high"]  # the intervals separate
    assert far["distance_1d"] == pytest.approx(
        (far["mean_activation"] - ref.activations.mean()) ** 2 + 0.0, rel=0.1
    )


def test_rank_orders_by_distance():
    rows = [
        {"distance": 3.0, "learning_rate": 0.1},
        {"distance": 1.0, "learning_rate": 0.01},
        {"distance": 2.0, "learning_rate": 0.001},
    ]
    ranked = selection.rank(rows)
    assert [r["distance"] for r in ranked] == [1.0, 2.0, 3.0]
    assert [r["rank_distance"] for r in ranked] == [1, 2, 3]


def test_bad_reference_arguments(probe_and_split):
    probe, split = probe_and_split
    with pytest.raises(ParameterError, match="k=1"):
        selection.reference(probe, split, "logit", 0, "embedding_8", "max", k=1)
    with pytest.raises(ParameterError, match="direction='up'"):
        selection.reference(probe, split, "logit", 0, "embedding_8", "up", k=5)


def _coverage(method_interval, trials=100):
    """Share of trials whose interval holds the true distance between
    N(m, S) and a reference N(0, I) known exactly, from 40 examples in 3-D."""
    import scipy.linalg

    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 3))
    cov = a @ a.T / 3 + 0.5 * np.eye(3)
    mean = np.array([0.5, -0.3, 0.2])
    true = mean @ mean + np.trace(cov + np.eye(3) - 2.0 * scipy.linalg.sqrtm(cov).real)
    ref = selection.Reference(frechet.GaussianStats(np.zeros(3), np.eye(3), 10**6), np.zeros(2))
    hits = 0
    for t in range(trials):
        low, high = method_interval(rng.multivariate_normal(mean, cov, 40), ref, t)
        hits += low <= true <= high
    return hits / trials


@pytest.mark.slow
def test_bootstrap_interval_covers_the_true_distance_at_its_nominal_rate():
    import scipy.stats

    def percentile(x, ref, seed):
        stat = lambda i, axis=-1: frechet.frechet_distance_to_samples(  # noqa: E731
            x[np.moveaxis(i, axis, -1)], ref.stats.mean, ref.stats.covariance
        ).numpy()
        res = scipy.stats.bootstrap(
            (np.arange(len(x)),),
            stat,
            n_resamples=200,
            vectorized=True,
            method="percentile",
            random_state=np.random.default_rng(seed),
        )
        return res.confidence_interval

    basic = _coverage(lambda x, ref, seed: selection.bootstrap_interval(x, ref, 200, seed))
    # The distance of 40 examples is biased upwards; a percentile interval
    # inherits the bias twice and misses the true distance far too often.
    assert 0.89 <= basic <= 0.99
    assert _coverage(percentile) < basic - 0.08


def test_no_resamples_give_no_interval_and_no_interval_column():
    rng = np.random.default_rng(2)
    ref = selection.Reference(
        frechet.gaussian_stats(rng.normal(size=(300, 4))), rng.normal(size=300)
    )
    row = selection.score(rng.normal(size=(20, 4)), rng.normal(size=20), ref, resamples=0)
    assert np.isnan(row["distance_low"]) and np.isnan(row["distance_high"])
    low, high = selection.bootstrap_interval(rng.normal(size=(20, 4)), ref, resamples=100)
    assert 0.0 <= low < high
