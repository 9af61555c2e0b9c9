"""Rank correlation and mean differences with intervals."""

import numpy as np
import pytest

from vocal_xai.errors import ParameterError
from vocal_xai.metrics import rank


def test_spearman_known_values_and_intervals():
    x = np.arange(20.0)
    up = rank.spearman_with_interval(x, x**3, resamples=200)
    assert up["rho"] == pytest.approx(1.0) and up["low"] == pytest.approx(1.0) and up["n"] == 20
    down = rank.spearman_with_interval(x, -x, resamples=200)
    assert down["rho"] == pytest.approx(-1.0) and down["high"] == pytest.approx(-1.0)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=200), rng.normal(size=200)
    none = rank.spearman_with_interval(a, b, resamples=300)
    assert none["low"] < 0 < none["high"] and abs(none["rho"]) < 0.15
    # An interval narrows with more data.
    small = rank.spearman_with_interval(a[:20], a[:20] + b[:20], resamples=300)
    large = rank.spearman_with_interval(a, a + b, resamples=300)
    assert large["high"] - large["low"] < small["high"] - small["low"]
    assert np.isnan(rank.spearman_with_interval(x, np.ones(20))["rho"])
    with pytest.raises(ParameterError, match="length"):
        rank.spearman_with_interval([1, 2], [1, 2])


def test_example_difference():
    out = rank.example_difference(np.ones(50), np.zeros(40), resamples=100)
    assert out == {"difference": 1.0, "low": 1.0, "high": 1.0}
    rng = np.random.default_rng(0)
    out = rank.example_difference(rng.normal(0.5, 1, 400), rng.normal(0, 1, 400), resamples=500)
    assert out["low"] < 0.5 < out["high"] and out["low"] > 0


def test_example_difference_refuses_empty_sides():
    with pytest.raises(ParameterError, match="non-empty 1-D"):
        rank.example_difference([], [1.0, 2.0])
