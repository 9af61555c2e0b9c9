"""Rank correlation and mean differences with bootstrap intervals, for
studies that compare a score against an independent measure.

``spearman_with_interval`` resamples pairs (setting, measure) with
replacement; ``example_difference`` resamples each side on its own.
"""

import numpy as np
import scipy.stats

from vocal_xai.errors import ParameterError


def _pearson_rows(a, b):
    """Pearson's r of each row of ``a`` with the same row of ``b``."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    return np.sum(a * b, axis=1) / np.sqrt(np.sum(a * a, axis=1) * np.sum(b * b, axis=1))


def spearman_with_interval(x, y, resamples=1000, seed=0, level=0.95):
    """Spearman's rho of ``x`` and ``y`` and a percentile bootstrap interval
    (pairs resampled with replacement; resamples with a constant side are
    skipped). NaN when ``x`` or ``y`` is constant.

    Returns:
        ``{"rho", "low", "high", "n"}``.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 3:
        raise ParameterError(
            f"Expected two 1-D arrays of equal length >= 3. Received: {x.shape}, {y.shape}"
        )
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"rho": float("nan"), "low": float("nan"), "high": float("nan"), "n": int(len(x))}
    rho = float(scipy.stats.spearmanr(x, y).statistic)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), (resamples, len(x)))
    xs, ys = x[idx], y[idx]
    varied = (np.ptp(xs, axis=1) > 0) & (np.ptp(ys, axis=1) > 0)
    values = _pearson_rows(
        scipy.stats.rankdata(xs[varied], axis=1), scipy.stats.rankdata(ys[varied], axis=1)
    )
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail]) if len(values) else (np.nan, np.nan)
    return {"rho": rho, "low": float(low), "high": float(high), "n": int(len(x))}


def example_difference(a, b, resamples=1000, seed=0, level=0.95):
    """Mean of ``a`` minus mean of ``b`` (per-example values) with a
    bootstrap interval (each side resampled on its own).

    Returns:
        ``{"difference", "low", "high"}``.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 1 or b.ndim != 1 or not len(a) or not len(b):
        raise ParameterError(f"Expected two non-empty 1-D arrays. Received: {a.shape}, {b.shape}")
    rng = np.random.default_rng(seed)
    diffs = [rng.choice(a, len(a)).mean() - rng.choice(b, len(b)).mean() for _ in range(resamples)]
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(diffs, [tail, 1.0 - tail]) if diffs else (np.nan, np.nan)
    return {"difference": float(a.mean() - b.mean()), "low": float(low), "high": float(high)}
