"""Bootstrap intervals of any statistic of one or more independent samples.

``scipy.stats.bootstrap`` does the resampling; the samples can be arrays of
any rank (rows are the observations), because it resamples row indices and
the statistic reads the rows it is given. Each sample is resampled on its
own (the samples are independent), with a fixed seed.

A statistic may return several values (a vector): they are computed on the
same resamples, so one pass serves several related figures.

Statistics that are biased at finite sample size, such as the Fréchet
distance, are biased further in a resample (a resample repeats rows), so
their percentile intervals can lie wholly above the estimate. For them the
"centred" method shifts the percentile interval by the resamples' mean bias
(their mean minus the estimate): it gives the spread of the estimate at this
sample size around the estimate, and leaves the estimate's own bias as it
is (compare such statistics at equal sample sizes).
"""

import dataclasses

import numpy as np
import scipy.stats

from vocal_xai.errors import ParameterError

METHODS = ("percentile", "basic", "centred")


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A statistic with its bootstrap interval.

    Attributes:
        value: the statistic of the samples as given.
        low, high: the interval's bounds.
        confidence: the interval's coverage, e.g. 0.95.
    """

    value: float
    low: float
    high: float
    confidence: float = 0.95

    def to_dict(self):
        return {"value": self.value, "low": self.low, "high": self.high}

    def format(self, spec=".3f"):
        """``value [low, high]`` with ``spec`` applied to each number."""
        return f"{self.value:{spec}} [{self.low:{spec}}, {self.high:{spec}}]"


def bootstrap_interval(
    statistic, samples, resamples=1000, confidence=0.95, seed=0, method="percentile"
):
    """The bootstrap interval of ``statistic(*samples)``.

    Args:
        statistic: a function of the samples (arrays of the same ranks as
            ``samples``, rows resampled) to a float, or to a vector of
            floats.
        samples: a sequence of arrays, each with at least 2 rows.
            [shape=(n_i, ...)]
        resamples: bootstrap resamples, >= 10.
        confidence: coverage of the interval, in (0, 1).
        seed: seed of the resampling.
        method: "percentile", "basic" (reflected about the estimate) or
            "centred" (shifted by the resamples' mean bias).

    Returns:
        (low, high): floats, or float64 arrays for a vector statistic.

    Raises:
        ParameterError: for an invalid argument.
    """
    samples = [np.asarray(s) for s in samples]
    if not samples or any(s.ndim < 1 or len(s) < 2 for s in samples):
        raise ParameterError(
            "Expected one or more samples of at least 2 rows. "
            f"Received: rows={[len(s) if s.ndim else 0 for s in samples]}"
        )
    if int(resamples) != resamples or resamples < 10:
        raise ParameterError(f"Expected resamples >= 10. Received: resamples={resamples!r}")
    if not 0.0 < confidence < 1.0:
        raise ParameterError(f"Expected 0 < confidence < 1. Received: confidence={confidence!r}")
    if method not in METHODS:
        raise ParameterError(f"Expected method in {list(METHODS)}. Received: method={method!r}")

    def on_rows(*indices):
        return statistic(*(s[i] for s, i in zip(samples, indices)))

    result = scipy.stats.bootstrap(
        tuple(np.arange(len(s)) for s in samples),
        on_rows,
        n_resamples=int(resamples),
        vectorized=False,
        paired=False,
        confidence_level=confidence,
        method="percentile" if method == "centred" else method,
        random_state=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval
    if method == "centred":
        shift = np.mean(result.bootstrap_distribution, axis=-1) - np.asarray(
            statistic(*samples), np.float64
        )
        low, high = low - shift, high - shift
    if np.ndim(low) == 0:
        return float(low), float(high)
    return np.asarray(low, np.float64), np.asarray(high, np.float64)


def estimate(statistic, samples, resamples=1000, confidence=0.95, seed=0, method="percentile"):
    """``statistic(*samples)`` with its bootstrap interval, as an ``Estimate``
    (arguments as in ``bootstrap_interval``)."""
    samples = [np.asarray(s) for s in samples]
    low, high = bootstrap_interval(statistic, samples, resamples, confidence, seed, method)
    return Estimate(float(statistic(*samples)), low, high, confidence)


def estimates(
    statistic, samples, names, resamples=1000, confidence=0.95, seed=0, method="percentile"
):
    """Several statistics of the same samples, each with its interval, from
    one set of resamples.

    Args:
        statistic: a function of the samples to a vector of ``len(names)``
            floats.
        names: what each entry of the vector is.
        Others as in ``bootstrap_interval``.

    Returns:
        dict name -> ``Estimate``, in the order of ``names``.
    """
    samples = [np.asarray(s) for s in samples]
    values = np.asarray(statistic(*samples), np.float64)
    if values.shape != (len(names),):
        raise ParameterError(
            f"Expected the statistic to give {len(names)} values ({list(names)}). "
            f"Received: shape={values.shape}"
        )
    low, high = bootstrap_interval(
        lambda *s: np.asarray(statistic(*s), np.float64),
        samples,
        resamples,
        confidence,
        seed,
        method,
    )
    return {
        name: Estimate(float(v), float(lo), float(hi), confidence)
        for name, v, lo, hi in zip(names, values, low, high)
    }
