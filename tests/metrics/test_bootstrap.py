import numpy as np
import pytest

from vocal_xai.errors import ParameterError
from vocal_xai.metrics import bootstrap


def test_interval_of_a_mean_matches_the_normal_theory():
    x = np.random.default_rng(0).normal(3.0, 2.0, 2000)
    est = bootstrap.estimate(np.mean, [x], resamples=2000, seed=0)
    half = 1.96 * x.std(ddof=1) / np.sqrt(len(x))
    assert est.value == pytest.approx(x.mean())
    assert est.low < est.value < est.high
    assert est.low == pytest.approx(x.mean() - half, abs=0.2 * half)
    assert est.high == pytest.approx(x.mean() + half, abs=0.2 * half)
    assert est.to_dict() == {"value": est.value, "low": est.low, "high": est.high}
    assert est.format(".2f") == f"{est.value:.2f} [{est.low:.2f}, {est.high:.2f}]"


def test_two_independent_samples_of_rows():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.0, 1.0, (500, 3)), rng.normal(1.0, 1.0, (300, 3))

    def stat(x, y):
        return float(np.linalg.norm(x.mean(0) - y.mean(0)))

    est = bootstrap.estimate(stat, [a, b], resamples=500, seed=2)
    assert est.low < est.value < est.high
    assert est.low > 1.4 and est.high < 2.1  # the true distance is sqrt(3) = 1.73
    # Seeded: the same interval again, another with another seed.
    assert bootstrap.estimate(stat, [a, b], resamples=500, seed=2) == est
    assert bootstrap.estimate(stat, [a, b], resamples=500, seed=3) != est


def test_wider_at_higher_confidence_and_basic_method():
    x = np.random.default_rng(4).exponential(1.0, 400)
    narrow = bootstrap.bootstrap_interval(np.mean, [x], confidence=0.5)
    wide = bootstrap.bootstrap_interval(np.mean, [x], confidence=0.99)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]
    low, high = bootstrap.bootstrap_interval(np.mean, [x], method="percentile", seed=5)
    basic = bootstrap.bootstrap_interval(np.mean, [x], method="basic", seed=5)
    # The basic interval is the percentile one reflected about the estimate.
    assert basic[0] == pytest.approx(2 * x.mean() - high) and basic[1] == pytest.approx(
        2 * x.mean() - low
    )


def test_several_statistics_share_the_resamples():
    x = np.random.default_rng(6).normal(2.0, 1.0, 300)
    both = bootstrap.estimates(
        lambda v: [v.mean(), 2 * v.mean()], [x], ["mean", "double"], resamples=300
    )
    assert list(both) == ["mean", "double"]
    assert both["mean"] == bootstrap.estimate(np.mean, [x], resamples=300)
    for key in ("value", "low", "high"):
        assert getattr(both["double"], key) == pytest.approx(2 * getattr(both["mean"], key))
    with pytest.raises(
        ParameterError, match="Expected the statistic to give 3 values .* Received: shape=.2,."
    ):
        bootstrap.estimates(lambda v: [v.mean(), v.std()], [x], ["a", "b", "c"])


def test_centred_interval_brackets_a_biased_statistic():
    # The variance with ddof=0 of 20 values: biased low, more so in a resample.
    x = np.random.default_rng(7).normal(0.0, 1.0, 20)
    value = x.var()
    low, high = bootstrap.bootstrap_interval(
        np.var, [x], resamples=2000, method="percentile", seed=1
    )
    c_low, c_high = bootstrap.bootstrap_interval(
        np.var, [x], resamples=2000, method="centred", seed=1
    )
    assert c_low < value < c_high
    assert c_high - c_low == pytest.approx(high - low)  # the same spread, shifted up by the bias
    assert c_low > low


def test_a_constant_statistic_has_a_point_interval():
    est = bootstrap.estimate(np.mean, [np.ones(50)], resamples=100)
    assert (est.value, est.low, est.high) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    "samples, kwargs, pattern",
    [
        ([np.ones(1)], {}, "Expected one or more samples of at least 2 rows. Received: rows=.1."),
        ([], {}, "Received: rows=..$"),
        ([np.ones(5)], {"resamples": 5}, "Expected resamples >= 10. Received: resamples=5"),
        (
            [np.ones(5)],
            {"confidence": 1.0},
            "Expected 0 < confidence < 1. Received: confidence=1.0",
        ),
        (
            [np.ones(5)],
            {"method": "BCa"},
            "Expected method in .'percentile', 'basic', 'centred'.. Received: method='BCa'",
        ),
    ],
)
def test_bad_arguments(samples, kwargs, pattern):
    with pytest.raises(ParameterError, match=pattern):
        bootstrap.bootstrap_interval(np.mean, samples, **kwargs)
