"""Song-level evaluation of a detector, as in Schlueter & Grill (2015):
frame-wise probabilities over whole songs, a 56-frame median filter, the
threshold picked on the validation split, then error, precision, recall and
F1 on the test split."""

import dataclasses
import weakref

import numpy as np
import scipy.ndimage
import tensorflow as tf

from vocal_xai.errors import ParameterError
from vocal_xai.models.detector import song

MEDIAN_FRAMES = 56

# One compiled whole-song pass per model, kept while the model lives, so that
# evaluating after every epoch traces once rather than every time.
_SONG_PROBABILITY_FNS = weakref.WeakKeyDictionary()


def song_probabilities(model, features):
    """Vocal probability of every frame of every song.

    Args:
        model: an ``SVDNet``.
        features: raw log-mel per song. [shape=(frames, 80)] each

    Returns:
        list of float32 arrays. [shape=(frames,)] each
    """
    run = _SONG_PROBABILITY_FNS.get(model)
    if run is None:
        # A weak reference, so that the cached function does not keep its key alive.
        ref = weakref.ref(model)
        run = tf.function(
            lambda x: song.song_outputs(ref(), x)["probability"], reduce_retracing=True
        )
        _SONG_PROBABILITY_FNS[model] = run
    return [run(tf.convert_to_tensor(f[None]))[0].numpy() for f in features]


def frame_error(model, split, threshold=0.5):
    """The share of frames of ``split`` (``SplitFeatures``) misclassified at
    ``threshold``, over whole songs, without the median filter: the figure a
    training can afford after every epoch."""
    probabilities = np.concatenate(song_probabilities(model, split.features))
    return binary_metrics(probabilities > threshold, np.concatenate(split.labels))["error"]


def median_smooth(probabilities, size=MEDIAN_FRAMES):
    """Median filter over ``size`` frames (edges repeat the nearest frame)."""
    if size < 1:
        raise ParameterError(f"Expected size >= 1. Received: size={size}")
    return scipy.ndimage.median_filter(np.asarray(probabilities), size=size, mode="nearest")


def binary_metrics(predictions, labels):
    """Error rate, precision, recall and F1 of 0/1 predictions."""
    p = np.asarray(predictions).astype(bool)
    y = np.asarray(labels).astype(bool)
    if p.shape != y.shape or p.size == 0:
        raise ParameterError(f"Expected equal non-empty shapes. Received: {p.shape} and {y.shape}")
    tp = int(np.sum(p & y))
    fp = int(np.sum(p & ~y))
    fn = int(np.sum(~p & y))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "error": float(np.mean(p != y)),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "frames": int(p.size),
    }


def pick_threshold(probabilities, labels, grid=None):
    """The threshold in ``grid`` with the lowest error (the smallest on ties)."""
    p = np.asarray(probabilities)
    y = np.asarray(labels).astype(bool)
    grid = np.linspace(0.0, 1.0, 1001) if grid is None else np.asarray(grid)
    errors = [np.mean((p > t) != y) for t in grid]
    return float(grid[int(np.argmin(errors))])


@dataclasses.dataclass(frozen=True)
class Decisions:
    """A detector's frame probabilities on the test songs, and the threshold
    picked on the valid songs after the median filter."""

    threshold: float
    median_frames: int
    valid: dict  # binary_metrics of the filtered valid songs at the threshold
    test_raw: list  # float32 probabilities per test song [shape=(frames,)]
    test_filtered: list  # the same after the median filter

    def calls(self):
        """0/1 decisions per test song, filtered, at the threshold."""
        return [p > self.threshold for p in self.test_filtered]


def decide(model, valid, test, median_frames=MEDIAN_FRAMES):
    """Probabilities over whole songs, the median filter, and the threshold
    with the lowest error on ``valid`` (both ``SplitFeatures``): ``Decisions``."""

    def filtered(split):
        probs = song_probabilities(model, split.features)
        return probs, [median_smooth(p, median_frames) for p in probs]

    _, valid_filtered = filtered(valid)
    valid_all, valid_labels = np.concatenate(valid_filtered), np.concatenate(valid.labels)
    threshold = pick_threshold(valid_all, valid_labels)
    test_raw, test_filtered = filtered(test)
    return Decisions(
        threshold=threshold,
        median_frames=median_frames,
        valid=binary_metrics(valid_all > threshold, valid_labels),
        test_raw=test_raw,
        test_filtered=test_filtered,
    )


def decision_metrics(decisions, test_labels):
    """The metrics of ``decisions`` (``decide``) against the test songs'
    labels: the threshold, and raw and median-filtered test metrics."""
    labels = np.concatenate(test_labels)
    return {
        "threshold": decisions.threshold,
        "median_frames": decisions.median_frames,
        "valid": decisions.valid,
        "test": binary_metrics(np.concatenate(decisions.calls()), labels),
        "test_unfiltered": binary_metrics(
            np.concatenate(decisions.test_raw) > decisions.threshold, labels
        ),
    }


def evaluate(model, valid, test, median_frames=MEDIAN_FRAMES):
    """Threshold on ``valid``, metrics on ``test`` (both ``SplitFeatures``).

    Returns:
        dict with the threshold, and raw and median-filtered test metrics.
    """
    return decision_metrics(decide(model, valid, test, median_frames), test.labels)
