"""The classifier two-sample test on cases whose answer is known: real
against real, against blurred real and against noise."""

import numpy as np
import pytest
import scipy.ndimage

from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import pipeline, synthetic
from vocal_xai.errors import ParameterError
from vocal_xai.metrics import c2st

PER_SIDE = 100


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    """Two disjoint sets of real excerpts from the same songs, each in song
    order: the even and the odd draws of one sorted sample."""
    root = synthetic.make_corpus(
        tmp_path_factory.mktemp("c2st") / "corpus",
        seed=0,
        split_sizes={"train": 2, "valid": 1, "test": 1},
        duration=8.0,
        workers=1,
        version=1,
        splits=("train",),
    )
    train = pipeline.load_split(corpus_lib.read_corpus(root, splits=("train",)), "train")
    x, _ = pipeline.sample_excerpts(train, 2 * PER_SIDE, seed=0)
    return x[0::2], x[1::2]


@pytest.mark.slow
def test_real_against_real_is_chance(halves):
    a, b = halves
    result = c2st.classifier_two_sample_test(a, b)
    assert 0.4 <= result.accuracy <= 0.6
    low, high = result.interval
    assert low < 0.5 < high and high - low < 0.2
    assert result.p_value > 0.01
    assert result.examples == 2 * PER_SIDE
    assert result.real_scores.shape == result.generated_scores.shape == (PER_SIDE,)
    assert np.all((result.real_scores >= 0) & (result.real_scores <= 1))
    # The accuracy is the share of held-out scores on the right side of 0.5.
    right = np.sum(result.real_scores <= 0.5) + np.sum(result.generated_scores > 0.5)
    assert result.accuracy == pytest.approx(right / (2 * PER_SIDE))


@pytest.mark.slow
def test_blurred_real_is_told_apart(halves):
    a, b = halves
    blurred = scipy.ndimage.uniform_filter(b, size=(1, 3, 3))  # 3 frames x 3 bands
    result = c2st.classifier_two_sample_test(a, blurred)
    assert result.accuracy >= 0.8
    assert result.interval[0] > 0.6
    assert result.p_value < 1e-6
    assert np.mean(result.generated_scores) > np.mean(result.real_scores) + 0.3
    summary = result.to_dict()
    assert summary["accuracy"] == result.accuracy and summary["low"] == result.interval[0]
    assert summary["examples"] == 2 * PER_SIDE and summary["config"]["filters"] == [16, 32, 32]


@pytest.mark.slow
def test_noise_is_always_told_apart(halves):
    a, b = halves
    rng = np.random.default_rng(0)
    noise = (b.mean(axis=(0, 1)) + b.std(axis=(0, 1)) * rng.standard_normal(b.shape)).astype(
        np.float32
    )
    result = c2st.classifier_two_sample_test(a, noise)
    assert result.accuracy >= 0.97
    assert np.all(result.generated_scores > 0.5)


def test_folds_are_contiguous_blocks_dealt_in_turn():
    np.testing.assert_array_equal(c2st.fold_ids(7, 2), [0, 0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(c2st.fold_ids(6, 3), [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(c2st.fold_ids(8, 2, blocks=2), [0, 0, 1, 1, 0, 0, 1, 1])
    assert np.bincount(c2st.fold_ids(1000, 2, blocks=4)).tolist() == [500, 500]


def test_standardize_excerpts():
    x = np.random.default_rng(0).normal(-5.0, 3.0, (4, 115, 80))
    z = c2st.standardize_excerpts(x)
    np.testing.assert_allclose(z.mean(axis=(1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(1, 2)), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        c2st.standardize_excerpts(2 * x + 7), z, atol=1e-5
    )  # level and scale gone


@pytest.mark.slow
def test_same_seed_same_scores_from_a_reused_classifier():
    """The process keeps one classifier per shape and configuration; a test
    after another one, on other samples, scores as a new classifier does."""
    rng = np.random.default_rng(1)
    a = rng.normal(0, 1, (16, 24, 18)).astype(np.float32)
    b = rng.normal(0.3, 1, (16, 24, 18)).astype(np.float32)
    other = rng.normal(-1, 2, (20, 24, 18)).astype(np.float32)
    config = c2st.C2STConfig(epochs=2, batch_size=4)
    c2st._CLASSIFIERS.clear()
    fresh = c2st.classifier_two_sample_test(a, b, config)
    c2st.classifier_two_sample_test(other, other[::-1], config)
    assert len(c2st._CLASSIFIERS) == 1
    again = c2st.classifier_two_sample_test(a, b, config)
    np.testing.assert_allclose(again.real_scores, fresh.real_scores, rtol=0, atol=1e-6)
    np.testing.assert_allclose(again.generated_scores, fresh.generated_scores, rtol=0, atol=1e-6)
    assert again.accuracy == fresh.accuracy


@pytest.mark.parametrize(
    "real, generated, pattern",
    [
        (
            np.zeros((10, 20, 18)),
            np.zeros((9, 20, 18)),
            "same shape and number. Received: real.shape=.10, 20, 18.",
        ),
        (
            np.zeros((10, 20)),
            np.zeros((10, 20)),
            "Expected real of shape .n >= 2, frames >= 18, bands >= 18.. Received: shape=.10, 20.",
        ),
        (np.zeros((10, 20, 12)), np.zeros((10, 20, 12)), "Received: shape=.10, 20, 12."),
        (
            np.zeros((15, 20, 18)),
            np.zeros((15, 20, 18)),
            "Expected at least 16 examples per side for 2 folds of 4 blocks. Received: 15",
        ),
        (
            np.zeros((10, 20, 18)),
            np.full((10, 20, 18), np.nan),
            "Expected finite generated. Received: 3600 non-finite",
        ),
    ],
)
def test_bad_samples(real, generated, pattern):
    with pytest.raises(ParameterError, match=pattern):
        c2st.classifier_two_sample_test(real, generated)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"folds": 1}, "Expected folds >= 2. Received: folds=1"),
        ({"blocks": 0}, "Expected blocks >= 1. Received: blocks=0"),
        ({"epochs": 0}, "Expected epochs >= 1. Received: epochs=0"),
        ({"filters": (8, 16)}, "Expected 3 positive channel counts. Received: filters=.8, 16."),
        ({"learning_rate": 0.0}, "Expected learning_rate > 0. Received: learning_rate=0.0"),
    ],
)
def test_bad_config(kwargs, pattern):
    with pytest.raises(ParameterError, match=pattern):
        c2st.C2STConfig(**kwargs)


@pytest.mark.slow
def test_metrics_import_neither_models_nor_explain():
    import subprocess
    import sys

    code = (
        "import sys, vocal_xai.metrics; "
        "print(sorted(m for m in sys.modules "
        "if m.startswith(('vocal_xai.models', 'vocal_xai.explain'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
