"""Realism judges and their check on known fakes."""

import numpy as np
import pytest

from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import pipeline, synthetic
from vocal_xai.errors import ParameterError
from vocal_xai.metrics import realism


def _roughness(x):
    """Mean squared second difference along time and bands."""
    return float(np.mean(np.diff(x, 2, axis=1) ** 2) + np.mean(np.diff(x, 2, axis=2) ** 2))


def test_known_fakes():
    rng = np.random.default_rng(0)
    mean, std = rng.normal(-5, 1, 80), rng.uniform(0.5, 2, 80)
    x = (mean + std * rng.standard_normal((6, 115, 80))).astype(np.float32)
    fakes = realism.known_fakes(x, mean, std, seed=1)
    assert list(fakes) == [
        "blurred (sigma 1)",
        "blurred (sigma 2)",
        "blurred (sigma 3)",
        "white noise",
        "mean spectrum",
    ]
    assert all(v.shape == x.shape and v.dtype == np.float32 for v in fakes.values())
    # Wider blurs leave less fine structure; the mean is kept.
    rough = [_roughness(x)] + [_roughness(fakes[f"blurred (sigma {w})"]) for w in (1, 2, 3)]
    assert all(a > 2 * b for a, b in zip(rough, rough[1:])), rough
    np.testing.assert_allclose(fakes["blurred (sigma 2)"].mean(), x.mean(), atol=1e-3)
    # Noise has the bands' statistics; the mean spectrum barely moves.
    noise = fakes["white noise"].reshape(-1, 80)
    np.testing.assert_allclose(noise.mean(axis=0), mean, atol=0.2 * std.max())
    np.testing.assert_allclose(noise.std(axis=0), std, rtol=0.1)
    flat = fakes["mean spectrum"].reshape(-1, 80)
    np.testing.assert_allclose(flat.std(axis=0), 0.01 * std, rtol=0.1)
    with pytest.raises(ParameterError, match=r"shape=\(115, 80\)"):
        realism.known_fakes(x[0], mean, std)


def test_interleave_deals_the_kinds_in_turn():
    kinds = {"a": np.zeros((3, 4, 5)), "b": np.ones((3, 4, 5))}
    x, names = realism.interleave(kinds)
    assert names == ["a", "b"] * 3
    np.testing.assert_array_equal(x[:, 0, 0], [0, 1, 0, 1, 0, 1])
    with pytest.raises(ParameterError, match="as many excerpts of every kind"):
        realism.interleave({"a": np.zeros((3, 4, 5)), "b": np.zeros((2, 4, 5))})


def test_judge_table_means_per_kind_and_whether_real_comes_first():
    kinds = {"real": np.full((4, 3, 3), 2.0), "fake": np.full((4, 3, 3), 1.0)}
    table = realism.judge_table(
        {"level": lambda x: x.mean(axis=(1, 2)), "negated": lambda x: -x.mean(axis=(1, 2))},
        kinds,
    )
    assert table == {
        "level": {"means": {"real": 2.0, "fake": 1.0}, "real_first": True},
        "negated": {"means": {"real": -2.0, "fake": -1.0}, "real_first": False},
    }
    with pytest.raises(ParameterError, match="a kind named 'real'"):
        realism.judge_table({}, {"fake": kinds["fake"]})


@pytest.mark.slow
def test_the_two_sample_judge_puts_real_first(tmp_path):
    """Real excerpts against the known fakes of other real excerpts: the
    C2ST judge scores real highest, and every fake well below it."""
    root = synthetic.make_corpus(
        tmp_path / "corpus",
        seed=0,
        split_sizes={"train": 2, "valid": 1, "test": 1},
        duration=8.0,
        workers=1,
        version=1,
        splits=("train",),
    )
    train = pipeline.load_split(corpus_lib.read_corpus(root, splits=("train",)), "train")
    x, _ = pipeline.sample_excerpts(train, 640, seed=0)
    # Distinct draws in song order: one in eight real, one in eight the
    # fakes' sources, the rest the judge's real side.
    real, sources = x[0::8], x[1::8]
    reference = x[np.arange(len(x)) % 8 >= 2]
    mean, std = pipeline.band_stats(train.features)
    kinds = {"real": real, **realism.known_fakes(sources, mean, std)}
    assert len(reference) == sum(len(v) for v in kinds.values())

    def judge(examples):
        return realism.c2st_realism(reference, examples)[0]

    table = realism.judge_table({"c2st": judge}, kinds)["c2st"]
    assert table["real_first"], table
    means = table["means"]
    assert means["real"] > 0.3
    assert all(means[k] < means["real"] - 0.15 for k in kinds if k != "real"), means


def test_period_two_energy_sees_a_checkerboard():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(64, 116, 80)).cumsum(axis=1) * 0.1
    same = rng.normal(size=(64, 116, 80)).cumsum(axis=1) * 0.1
    ratio = realism.period_two_energy(real, same)
    assert ratio["time"] == pytest.approx(1.0, abs=0.1)
    assert ratio["frequency"] == pytest.approx(1.0, abs=0.1)
    # A checkerboard of period 2 frames adds energy on the time-Nyquist row
    # only.
    checker = same + 0.5 * (-1.0) ** np.arange(116)[None, :, None]
    ratio = realism.period_two_energy(real, checker)
    assert ratio["time"] > 3.0 and ratio["frequency"] == pytest.approx(1.0, abs=0.1)
    # Blur removes it: less than real.
    blurred = realism.known_fakes(real, np.zeros(80), np.ones(80))["blurred (sigma 2)"]
    assert realism.period_two_energy(real, blurred)["time"] < 0.5
    with pytest.raises(ParameterError, match=r"Received: \(58, 80\)"):
        realism.period_two_energy(real, real[:, ::2])
