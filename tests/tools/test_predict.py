import csv
import json
import logging
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from helpers import tone_song

from vocal_xai import predict, spectral
from vocal_xai.data.corpus import Segment, frame_labels
from vocal_xai.errors import ParameterError
from vocal_xai.models.detector import SVDNet, song, task

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("predict")
    rng = np.random.default_rng(0)
    model = SVDNet.from_preset("svdnet_tiny", rng.normal(-4, 1, 80), rng.uniform(0.5, 2, 80))
    version = task.export_detector(model, tmp / "zoo", {"metrics": {"threshold": 0.4}})
    wav = tmp / "a.wav"
    sf.write(wav, np.stack([tone_song(3.0, 44100), tone_song(3.0, 44100, seed=1)], 1), 44100)
    return model, version, wav, tmp


@pytest.mark.slow
def test_predictor_matches_per_excerpt_model(setup):
    model, _, wav, _ = setup
    p = predict.SongPredictor(model)(wav)
    n = spectral.num_frames(3 * 22050)
    assert p.probability.shape == (n,) and p.log_mel.shape == (n, 80)
    np.testing.assert_allclose(np.diff(p.times), 1 / 70, rtol=1e-9)
    slow = model.predict(song.padded_excerpts(p.log_mel), verbose=0)["probability"][:, 0]
    np.testing.assert_allclose(p.probability, slow, atol=1e-4)


def test_writers_and_plot(setup, tmp_path):
    model, _, wav, _ = setup
    p = predict.SongPredictor(model)(wav)
    rows = list(csv.DictReader(predict.write_predictions([p], tmp_path / "o.csv").open()))
    assert len(rows) == len(p.probability)
    assert float(rows[10]["time"]) == pytest.approx(p.times[10], abs=1e-5)
    assert float(rows[10]["probability"]) == pytest.approx(p.probability[10], abs=1e-6)
    data = json.loads(predict.write_predictions([p], tmp_path / "o.json").read_text())
    assert data[str(wav)]["frame_rate"] == pytest.approx(70.0)
    np.testing.assert_allclose(data[str(wav)]["probability"], p.probability, atol=1e-6)
    png = predict.plot_prediction(p, tmp_path / "fig.png", threshold=0.4)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_labels_beside_a_song_of_a_corpus(tmp_path, caplog):
    (tmp_path / "audio").mkdir()
    (tmp_path / "labels").mkdir()
    wav = tmp_path / "audio" / "s.wav"
    wav.touch()
    assert predict.labels_beside(wav) is None  # no label file
    (tmp_path / "labels" / "s.lab").write_text("0.0 1.0 nosing\n1.0 2.0 sing\n")
    assert predict.labels_beside(wav) == (Segment(0.0, 1.0, False), Segment(1.0, 2.0, True))
    loose = tmp_path / "s.wav"  # not in an audio/ folder
    loose.touch()
    assert predict.labels_beside(loose) is None
    (tmp_path / "labels" / "s.lab").write_text("0.0 1.0 humming\n")
    with caplog.at_level(logging.WARNING):
        assert predict.labels_beside(wav) is None
    assert "s.lab:1:" in caplog.text and "humming" in caplog.text


def test_label_agreement_and_a_figure_with_labels(tmp_path):
    n = 140  # 2 s at 70 frames/s; sung from 1 s on
    segments = (Segment(0.0, 1.0, False), Segment(1.0, 2.0, True))
    sung = np.flatnonzero(frame_labels(segments, n))
    assert 60 < len(sung) < 80
    probability = np.full(n, 0.1)
    probability[sung] = 0.9
    probability[sung[:14]] = 0.2  # 14 sung frames missed
    log_mel = np.random.default_rng(0).normal(-4, 1, (n, 80)).astype(np.float32)
    p = predict.Prediction(tmp_path / "s.wav", spectral.frame_times(n), probability, log_mel)
    assert predict.label_agreement(p, segments, 0.5) == pytest.approx((n - 14) / n)
    # Nothing called vocal: only the unsung frames agree.
    assert predict.label_agreement(p, segments, 0.95) == pytest.approx((n - len(sung)) / n)
    png = predict.plot_prediction(p, tmp_path / "fig.png", threshold=0.5, segments=segments)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_too_short_audio(setup, tmp_path):
    model, *_ = setup
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(500, np.float32), 22050)
    with pytest.raises(ParameterError, match="Received: 500 samples"):
        predict.SongPredictor(model)(short)


@pytest.mark.slow
def test_cli(setup, tmp_path):
    model, version, wav, tmp = setup
    env = dict(os.environ, VOCAL_XAI_ZOO=str(tmp / "zoo"), TF_CPP_MIN_LOG_LEVEL="2")
    # The same audio as a song of a corpus in the Jamendo layout, with labels.
    (tmp_path / "corpus" / "audio").mkdir(parents=True)
    (tmp_path / "corpus" / "labels").mkdir()
    in_corpus = tmp_path / "corpus" / "audio" / "b.wav"
    in_corpus.write_bytes(wav.read_bytes())
    (tmp_path / "corpus" / "labels" / "b.lab").write_text("0.0 1.5 nosing\n1.5 3.0 sing\n")
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "predict.py"),
            str(wav),
            str(wav),
            str(in_corpus),
            f"--out={tmp_path / 'p.json'}",
            f"--plot={tmp_path / 'f.png'}",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "f-a.png").is_file()
    data = json.loads((tmp_path / "p.json").read_text())
    expected = predict.SongPredictor(model)(wav).probability
    np.testing.assert_allclose(data[str(wav)]["probability"], expected, atol=1e-5)
    assert "above threshold" in out.stdout
    # The version's threshold (0.4), against the labels beside the corpus song.
    agreement = predict.label_agreement(
        predict.SongPredictor(model)(in_corpus), predict.labels_beside(in_corpus), 0.4
    )
    assert out.stdout.count("agree with its labels") == 1
    assert f"  {agreement:.1%} of frames agree with its labels" in out.stdout
    assert (tmp_path / "f-b.png").is_file()


@pytest.mark.slow
def test_cli_checks_outputs_first_and_records_the_detector(setup, tmp_path):
    model, version, wav, tmp = setup
    env = dict(os.environ, VOCAL_XAI_ZOO=str(tmp / "zoo"))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    cmd = [
        sys.executable,
        str(ROOT / "tools" / "predict.py"),
        str(wav),
        f"--out={tmp_path / 'p.csv'}",
    ]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stderr.strip() == ""  # no TensorFlow log lines
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert {row["detector"] for row in rows} == {str(version.resolve())}
    assert f"Detector: {version.resolve()}, version {version.name}" in first.stdout
    # An existing output is refused before any work, in one line, and kept.
    before = (tmp_path / "p.csv").read_bytes()
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1
    assert "pass --overwrite" in again.stderr and (tmp_path / "p.csv").read_bytes() == before
    assert (
        subprocess.run(cmd + ["--overwrite"], capture_output=True, env=env, cwd=tmp_path).returncode
        == 0
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv"]


@pytest.mark.slow
def test_cli_refuses_audio_with_nan_in_one_line(setup, tmp_path):
    _, _, _, tmp = setup
    bad = tmp_path / "nan.wav"
    data = np.zeros(22050, np.float32)
    data[100] = np.nan
    sf.write(bad, data, 22050, subtype="FLOAT")
    env = dict(os.environ, VOCAL_XAI_ZOO=str(tmp / "zoo"))
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "predict.py"), str(bad)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {bad}: expected finite samples; received 1 NaN or infinite samples at 22050 Hz, "
        "the first at 0.005 s: repair the file (e.g. replace them by 0) or leave it out"
    ]
