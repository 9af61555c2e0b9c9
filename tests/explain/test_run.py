import csv
import json
import pathlib

import keras
import numpy as np
import pytest

from vocal_xai.data import pipeline
from vocal_xai.errors import ParameterError
from vocal_xai.explain import report, run, selection
from vocal_xai.models.dcgan import PRESETS, Generator
from vocal_xai.models.detector import SVDNet


@pytest.fixture(scope="module")
def result():
    keras.utils.set_random_seed(2)
    rng = np.random.default_rng(0)
    mean, std = np.full(80, -5.0), np.ones(80)
    generator = Generator(mean, std, **PRESETS["dcgan_tiny"]["generator"])
    detector = SVDNet.from_preset("svdnet_tiny", mean, std)
    valid = pipeline.SplitFeatures(
        ["a"], [rng.normal(-5, 2, (500, 80)).astype(np.float32)], [np.zeros(500, np.int32)]
    )
    config = run.ExplainConfig(
        direction="max",
        learning_rates=(0.1, 0.001),
        rps=(0.1, 0.0),
        iterations=(2, 6),
        seeds=3,
        embedding="embedding_8",
        reference_k=20,
        bootstrap=20,
    )
    return run.explain(generator, detector, valid, config)


@pytest.mark.slow
def test_every_setting_is_ranked(result):
    assert len(result.ranking) == 2 * 2 * 2
    # Ranked by the default selector.
    scores = [r[selection.COLUMNS[selection.DEFAULT_SELECTOR]] for r in result.ranking]
    assert scores == sorted(scores)
    assert {(r["learning_rate"], r["rp"], r["iterations"]) for r in result.ranking} == set(
        result.examples
    )
    for r in result.ranking:
        assert r["distance_low"] <= r["distance_high"] and np.isfinite(r["distance_1d"])
        assert r["min_activation"] <= r["mean_activation"] <= r["max_activation"]
    assert result.selected is result.ranking[0]
    # Snapshot semantics: more iterations never lower the best activation.
    rows = {(r["learning_rate"], r["rp"], r["iterations"]): r for r in result.ranking}
    for lr in (0.1, 0.001):
        for rp in (0.1, 0.0):
            assert rows[(lr, rp, 6)]["max_activation"] >= rows[(lr, rp, 2)]["max_activation"] - 1e-6


@pytest.mark.slow
def test_outputs(result, tmp_path):
    paths = report.write_all(
        result, tmp_path, versions={"detector": "test"}, audio_count=2, griffin_lim_iterations=5
    )
    rows = list(csv.DictReader(open(paths["ranking"])))
    default_rank = "rank_" + selection.COLUMNS[selection.DEFAULT_SELECTOR]
    assert len(rows) == 8 and rows[0]["rank"] == "1" and rows[0][default_rank] == "1"
    assert set(report.RANKING_COLUMNS) <= set(rows[0])
    data = json.loads(paths["report"].read_text())
    assert data["selected"]["distance"] == pytest.approx(result.selected["distance"])
    # Every selector's pick, the default's reason, and the 1-D pick is the
    # setting of the smallest 1-D distance.
    assert data["selector"] == selection.DEFAULT_SELECTOR
    assert data["selector_reason"] == f"default: {selection.DEFAULT_REASON}"
    best_1d = min(result.ranking, key=lambda r: r["distance_1d"])
    assert data["picks"]["paper_1d"]["score"] == pytest.approx(best_1d["distance_1d"])
    assert data["picks"][selection.DEFAULT_SELECTOR]["rank"] == 1
    # 3 seeds: too few for recall and the extrapolated distance.
    assert set(data["picks"]) == set(selection.SELECTOR_NAMES) - {"recall", "frechet_infinity"}
    assert data["models"] == {"detector": "test"} and data["config"]["direction"] == "max"
    for key in ("examples_png", "curves_png", "heatmap_png"):
        assert paths[key].read_bytes()[:4] == b"\x89PNG"
    assert len(paths["audio"]) == 2 and len(paths["start_audio"]) == 2
    assert [pathlib.Path(a).name for a in paths["start_audio"]] == [
        "start_seed0.wav",
        "start_seed1.wav",
    ]
    # Each example's figure and the page that shows them.
    assert (tmp_path / "example_seed1.png").read_bytes()[:4] == b"\x89PNG"
    page = paths["html"].read_text()
    assert f"Score of every setting by {selection.DEFAULT_SELECTOR}" in page
    assert page.startswith("<!DOCTYPE html>") and "<h2>Each selector's pick</h2>" in page
    start, chosen = report.selected_activations(result)
    assert start.shape == chosen.shape == (3,)
    assert f"seed 1, selected (activation {chosen[1]:.3g})" in page
    assert np.load(tmp_path / "selected_log_mel.npy").shape == (3, 115, 80)
    assert np.load(tmp_path / "activation_trace.npy").shape == (7, 12)
    table = report.summary_table(result)
    assert "real reference (20 excerpts)" in table
    assert "Each selector's pick" in table and "density+activation" in table


def test_config_validation():
    assert run.ExplainConfig(direction="min").condition == "non_vocal"
    assert run.ExplainConfig.from_grid("paper").seeds == 50
    # The paper grid: 9 (lr, rp) pairs x 50 seeds, each run to 1000
    # iterations once (100 and 500 are snapshots), not 27 x 50 x 1000.
    assert run.ExplainConfig.from_grid("paper").latent_iterations == 9 * 50 * 1000
    with pytest.raises(ParameterError, match="grid='huge'"):
        run.ExplainConfig.from_grid("huge")
    with pytest.raises(ParameterError, match="condition='loud'"):
        run.ExplainConfig(condition="loud")
    with pytest.raises(ParameterError, match="seeds=1"):
        run.ExplainConfig(seeds=1)
    with pytest.raises(ParameterError, match="LAYER:UNIT"):
        run.ExplainConfig(neuron="logit")


def test_detector_checked_before_anything_runs():
    detector = SVDNet.from_preset("svdnet_tiny", np.full(80, -5.0), np.ones(80))
    checked, config = run.checked_detector(detector, run.ExplainConfig(neuron="embedding_16:15"))
    assert checked is detector and config.embedding == "embedding_8"  # the last embedding
    with pytest.raises(
        ParameterError, match=r"Expected unit in \[0, 0\] for layer 'logit' .*Received: unit=5"
    ):
        run.checked_detector(detector, run.ExplainConfig(neuron="logit:5"))
    with pytest.raises(
        ParameterError, match=r"embedding_8 \[0, 7\].*Received: embedding='embedding_64'"
    ):
        run.checked_detector(detector, run.ExplainConfig(embedding="embedding_64"))
    with pytest.raises(
        ParameterError,
        match=r"one vector per excerpt.*Received: embedding='conv1' "
        r"\(shape per excerpt \(113, 78, 4\)\)",
    ):
        run.checked_detector(detector, run.ExplainConfig(embedding="conv1"))


@pytest.mark.slow
def test_report_html_renders_in_chromium(result, tmp_path):
    from helpers import chromium_path, open_in_chromium

    chromium_path()
    paths = report.write_all(result, tmp_path, audio_count=2, griffin_lim_iterations=2)
    status = open_in_chromium(paths["html"], tmp_path / "screenshot.png")
    # Every image and every audio file the page names loads.
    images = {s["src"] for s in status["images"]}
    assert images == {
        "examples.png",
        "curves.png",
        "distance_heatmap.png",
        "example_seed0.png",
        "example_seed1.png",
    }
    assert all(s["ok"] for s in status["images"]), status["images"]
    assert [s["src"] for s in status["audio"]] == [
        "start_seed0.wav",
        "selected_seed0.wav",
        "start_seed1.wav",
        "selected_seed1.wav",
    ]
    for s in status["audio"]:
        # Excerpts of 115 frames at 70 frames per second.
        assert s["ok"] and s["duration"] == pytest.approx(115 / 70, abs=0.05), s
    # The screenshot is the page, drawn: wide, tall and not blank.
    from PIL import Image

    with Image.open(tmp_path / "screenshot.png") as shot:
        pixels = np.asarray(shot.convert("L"), np.float64)
    assert pixels.shape[1] == 1280 and pixels.shape[0] > 1500 and pixels.std() > 20


@pytest.mark.slow
def test_the_heatmap_shows_the_ranking_selectors_score(result, tmp_path):
    import dataclasses

    import matplotlib.image

    # density scores are negative: a linear scale, not a log one.
    images = []
    for selector in ("density", "paper_1d"):
        ranked = dataclasses.replace(
            result, config=dataclasses.replace(result.config, selector=selector)
        )
        images.append(matplotlib.image.imread(report.plot_heatmap(ranked, tmp_path / "h.png")))
    # One panel per iteration count (2 here), each selector's own numbers.
    assert images[0].shape == images[1].shape and images[0].shape[:2] == (306, 648)
    assert not np.array_equal(images[0], images[1])
