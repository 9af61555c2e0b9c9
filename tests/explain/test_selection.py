import types

import keras
import numpy as np
import pytest

from vocal_xai.data import pipeline
from vocal_xai.errors import ParameterError
from vocal_xai.explain import selection
from vocal_xai.metrics import frechet, selectors
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
    assert ref.size == 20 and ref.mean.shape == (8,)


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
    assert a == b
    np.testing.assert_array_equal(a.covariance, b.covariance)
    selection.cached_reference(tmp_path, {**key, "k": 11}, compute)
    assert len(calls) == 2


def test_score_and_interval():
    rng = np.random.default_rng(1)
    ref = selection.Reference.from_samples(rng.normal(size=(300, 6)), rng.normal(3, 1, 300))
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


def _rows():
    """Three settings whose scores disagree: by distance the order is
    b, c, a; by the 1-D distance a, b, c."""
    rows = []
    for name, lr, distance, one_d, density, activation in [
        ("a", 0.1, 3.0, 0.5, -2.0, 9.0),
        ("b", 0.01, 1.0, 0.7, -1.0, 1.0),
        ("c", 0.001, 2.0, 0.9, -1.0, 5.0),
    ]:
        row = {key: float("nan") for key in selection.COLUMNS.values()}
        row.update(
            name=name,
            learning_rate=lr,
            rp=0.0,
            iterations=10,
            distance=distance,
            distance_1d=one_d,
            score_density=density,
            mean_activation=activation,
        )
        rows.append(row)
    return rows


def test_rank_orders_by_the_chosen_selector():
    ranked = selection.rank(_rows(), "max", "frechet")
    assert [r["name"] for r in ranked] == ["b", "c", "a"]
    assert [r["rank"] for r in ranked] == [1, 2, 3]
    assert [r["rank_distance"] for r in ranked] == [1, 2, 3]
    assert [r["rank_distance_1d"] for r in ranked] == [2, 3, 1]
    ranked = selection.rank(_rows(), "max", "paper_1d")
    assert [r["name"] for r in ranked] == ["a", "b", "c"]
    # Without a selector, the default orders them.
    default = selection.rank(_rows(), "max", selection.DEFAULT_SELECTOR)
    assert [r["name"] for r in selection.rank(_rows(), "max")] == [r["name"] for r in default]


@pytest.mark.parametrize("direction, order", [("max", ["a", "c", "b"]), ("min", ["b", "a", "c"])])
def test_density_plus_activation_sums_two_ranks(direction, order):
    ranked = selection.rank(_rows(), direction, "density+activation")
    scores = {r["name"]: r["score_density+activation"] for r in ranked}
    # density ranks: a 1, b and c share 2.5; activation ranks for max:
    # a 1, c 2, b 3 (for min: b 1, c 2, a 3).
    if direction == "max":
        assert scores == {"a": 2.0, "b": 5.5, "c": 4.5}
    else:
        assert scores == {"a": 4.0, "b": 3.5, "c": 4.5}
    assert [r["name"] for r in ranked] == order


def test_picks_name_each_selectors_best_setting():
    ranked = selection.rank(_rows(), "max", "frechet")
    picks = selection.picks(ranked)
    assert picks["frechet"]["learning_rate"] == 0.01 and picks["frechet"]["rank"] == 1
    assert picks["paper_1d"] == {
        "learning_rate": 0.1,
        "rp": 0.0,
        "iterations": 10,
        "score": 0.5,
        "rank": 3,
    }
    # Ties in density (b and c) go to the smaller learning rate.
    assert picks["density"]["learning_rate"] == 0.1
    # A score that is NaN everywhere has no pick.
    assert "kid" not in picks


def test_bad_selector_and_direction():
    with pytest.raises(ParameterError, match="selector='fid'"):
        selection.rank(_rows(), "max", "fid")
    with pytest.raises(ParameterError, match="direction='up'"):
        selection.rank(_rows(), "up")


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
    # The reference Gaussian is known exactly: only its mean and covariance
    # are read.
    ref = types.SimpleNamespace(mean=np.zeros(3), covariance=np.eye(3))
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
            x[np.moveaxis(i, axis, -1)], ref.mean, ref.covariance
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
    ref = selection.Reference.from_samples(rng.normal(size=(300, 4)), rng.normal(size=300))
    row = selection.score(rng.normal(size=(20, 4)), rng.normal(size=20), ref, resamples=0)
    assert np.isnan(row["distance_low"]) and np.isnan(row["distance_high"])
    low, high = selection.bootstrap_interval(rng.normal(size=(20, 4)), ref, resamples=100)
    assert 0.0 <= low < high


def test_score_gives_every_selector():
    rng = np.random.default_rng(3)
    ref = selection.Reference.from_samples(rng.normal(size=(100, 4)), rng.normal(size=100))
    x, a = rng.normal(size=(12, 4)), rng.normal(size=12)
    row = selection.score(x, a, ref, resamples=0)
    expected = selectors.score_all(x, a, ref)
    for name, key in selection.COLUMNS.items():
        if name != selection.COMBINED:
            assert row[key] == pytest.approx(expected[name], rel=1e-12, abs=1e-12)
    # Too few examples to extrapolate or for recall's k-NN: NaN, and every
    # other score is there.
    row = selection.score(x[:3], a[:3], ref, resamples=0)
    assert np.isnan(row["score_frechet_infinity"]) and np.isnan(row["score_recall"])
    assert np.isfinite(row["score_kid"]) and np.isfinite(row["score_density"])
