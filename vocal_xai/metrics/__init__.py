"""Distribution metrics and two-sample tests on log-mel excerpts and
embeddings, shared by models and explain (and importing neither).

- ``frechet``: the Fréchet distance between Gaussian fits of embeddings, in
  float64, and ``FrechetStatistics``, their streaming mean and covariance as
  a ``keras.metrics.Metric``.
- ``measures``: measures of excerpts that do not use the detector: realism
  and class evidence from real neighbours, and voice cues.
- ``c2st``: the classifier two-sample test, a realism measure that does not
  use the detector.
- ``realism``: the two-sample test as a per-example realism judge, and the
  check on known fakes (blurs, noise, the mean spectrum) every judge must pass.
- ``selectors``: candidate scores for choosing an explanation setting from
  its examples (Fréchet variants, kernel distance, k-NN manifold measures).
- ``layers``: the Fréchet distance to a fixed reference as a Keras layer.
- ``bootstrap``: percentile intervals of any statistic of one or more
  samples.
"""

from vocal_xai.metrics.bootstrap import Estimate, bootstrap_interval, estimate, estimates
from vocal_xai.metrics.c2st import C2STConfig, C2STResult, classifier_two_sample_test
from vocal_xai.metrics.frechet import (
    FrechetStatistics,
    GaussianStats,
    distance_between,
    frechet_distance,
    frechet_distance_1d,
    frechet_distance_to_samples,
    gaussian_stats,
)
from vocal_xai.metrics.measures import Judge, build_judge, voice_cues

__all__ = [
    "C2STConfig",
    "C2STResult",
    "Estimate",
    "FrechetStatistics",
    "GaussianStats",
    "Judge",
    "bootstrap_interval",
    "build_judge",
    "classifier_two_sample_test",
    "distance_between",
    "estimate",
    "estimates",
    "frechet_distance",
    "frechet_distance_1d",
    "frechet_distance_to_samples",
    "gaussian_stats",
    "voice_cues",
]
