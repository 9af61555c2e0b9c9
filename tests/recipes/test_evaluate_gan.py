"""recipes/evaluate_gan.py end to end on a tiny generator and a small
corpus whose splits hold fewer excerpts than asked."""

import json
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import run_ok, script_env

from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import pipeline
from vocal_xai.errors import ParameterError
from vocal_xai.models.dcgan import PRESETS, Generator, evaluation
from vocal_xai.models.dcgan import task as gan_task
from vocal_xai.models.detector import SVDNet
from vocal_xai.models.detector import task as detector_task

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECIPE = ROOT / "recipes" / "evaluate_gan.py"
FAST = ["--resamples=20", "--c2st_samples=16"]


@pytest.fixture(scope="module")
def models(small_corpus, tmp_path_factory):
    """A tiny detector and a tiny generator whose metadata names the corpus."""
    train = pipeline.load_split(corpus_lib.read_corpus(small_corpus), "train")
    stats = pipeline.band_stats(train.features)
    zoo = tmp_path_factory.mktemp("zoo")
    keras.utils.set_random_seed(0)
    detector = detector_task.export_detector(SVDNet.from_preset("svdnet_tiny", *stats), zoo, {})
    generator = Generator(*stats, **PRESETS["dcgan_tiny_conditional"]["generator"])
    version = gan_task.export_generator(
        generator, zoo, {"corpus": str(small_corpus), "corpus_version": 1}
    )
    return detector, version


@pytest.mark.slow
def test_evaluates_with_all_there_is(small_corpus, models, tmp_path):
    detector, generator = models
    out = tmp_path / "evaluated"
    result = run_ok(
        [
            sys.executable,
            str(RECIPE),
            f"--generator={generator}",
            f"--detector={detector}",
            "--samples=5000",
            f"--out={out}",
            f"--cache_dir={tmp_path / 'cache'}",
            *FAST,
        ]
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "c2st_scores.csv",
        "evaluation.json",
        "evaluation.md",
        "samples.png",
    ]
    saved = json.loads((out / "evaluation.json").read_text())
    assert saved["corpus"] == str(small_corpus)
    assert "the corpus the generator's metadata names" in saved["corpus_note"]
    assert (
        saved["generator"]["path"] == str(generator.resolve())
        and saved["generator"]["version"] == 1
    )
    songs = corpus_lib.read_corpus(small_corpus)
    valid, train = pipeline.load_split(songs, "valid"), pipeline.load_split(songs, "train")
    for label, name in evaluation.CLASS_NAMES.items():
        row = saved["evaluation"][name]
        available = {
            "valid": pipeline.available_excerpts(valid, label),
            "train": pipeline.available_excerpts(train, label),
        }
        assert row["available"] == available and row["requested"] == 5000
        assert row["samples"] == min(available.values()) < 5000
        assert row["c2st"]["samples"] == 16 and 0.0 <= row["c2st"]["accuracy"] <= 1.0
        assert set(row["period_two_energy"]) == {"time", "frequency"}
        assert all(v > 0 for v in row["period_two_energy"].values())
        for rows in row["frechet"].values():
            assert all(
                np.isfinite(e["value"]) and e["low"] <= e["value"] <= e["high"]
                for e in rows.values()
            )
    assert f"Corpus: {small_corpus}, the corpus the generator's metadata names" in result.stdout
    assert "(fewer than asked: all there is)" in result.stdout
    assert "Checkerboard: spectral energy at a period of 2" in (out / "evaluation.md").read_text()
    assert f"Wrote {out}" in result.stdout


@pytest.mark.slow
def test_refuses_an_existing_out_before_any_work(models, tmp_path):
    detector, generator = models
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = subprocess.run(
        [
            sys.executable,
            str(RECIPE),
            f"--generator={generator}",
            f"--detector={detector}",
            f"--out={out}",
            "--data_dir=/nonexistent",
        ],
        capture_output=True,
        text=True,
        env=script_env(),
    )
    assert result.returncode == 2
    assert (
        "error: Expected out to be a new or empty folder (or pass --overwrite to replace it)"
        in result.stderr
    )
    assert (out / "keep.txt").read_text() == "mine" and len(list(out.iterdir())) == 1


def test_a_run_needs_its_corpus_and_excludes_a_version(models, tmp_path):
    detector, generator = models
    with pytest.raises(ParameterError, match="Expected --data_dir, the corpus the run trained on"):
        gan_task.evaluate_generator_cli(
            None, detector, None, tmp_path / "out", model_dir=tmp_path / "run"
        )
    assert not (tmp_path / "out").exists()
    result = subprocess.run(
        [
            sys.executable,
            str(RECIPE),
            f"--generator={generator}",
            f"--model_dir={tmp_path / 'run'}",
            f"--out={tmp_path / 'out'}",
        ],
        capture_output=True,
        text=True,
        env=script_env(),
    )
    assert result.returncode == 1
    assert "generator, model_dir" in result.stderr and not (tmp_path / "out").exists()
