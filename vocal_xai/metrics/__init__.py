"""Distribution metrics and two-sample tests on log-mel excerpts and
embeddings, shared by models and explain (and importing neither).

- ``c2st``: the classifier two-sample test, a realism measure that does not
  use the detector.
- ``bootstrap``: percentile intervals of any statistic of one or more
  samples.
"""

from vocal_xai.metrics.bootstrap import Estimate, bootstrap_interval, estimate, estimates
from vocal_xai.metrics.c2st import C2STConfig, C2STResult, classifier_two_sample_test
