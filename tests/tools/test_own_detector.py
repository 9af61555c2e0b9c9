"""The worked example of README.md's "Explain your own model", shortened: its
Python block runs as written on a tiny corpus with a few training steps, then
the tools take the .keras file it saves."""

import json
import pathlib
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import run_ok, script_env

from vocal_xai import spectral, zoo
from vocal_xai.data import audio, synthetic
from vocal_xai.errors import ParameterError
from vocal_xai.explain import run
from vocal_xai.models.detector import song

ROOT = pathlib.Path(__file__).resolve().parents[2]
README_TRAINING = "steps_per_epoch=1000, epochs=3"


def readme_example():
    """The Python block of README.md's "Explain your own model"."""
    section = (
        (ROOT / "README.md")
        .read_text()
        .split("\n## Explain your own model\n", 1)[1]
        .split("\n## ", 1)[0]
    )
    return re.findall(r"```python\n(.*?)```", section, re.S)[0]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder with a tiny default corpus (seed 0) where the example looks
    for it (the user cache folder, here ``cache/``), and the detector the
    example trains there."""
    tmp = tmp_path_factory.mktemp("own_detector")
    synthetic.make_corpus(
        corpus_dir(tmp),
        seed=0,
        split_sizes={"train": 2, "valid": 1, "test": 1},
        duration=8.0,
        workers=1,
    )
    code = readme_example()
    assert README_TRAINING in code
    (tmp / "train.py").write_text(code.replace(README_TRAINING, "steps_per_epoch=3, epochs=1"))
    result = run_ok(
        [sys.executable, "train.py"], cwd=tmp, env=script_env(VOCAL_XAI_CACHE=str(tmp / "cache"))
    )
    assert re.search(r"mean P\(vocal\) [01]\.\d\d over 557 frames", result.stdout)
    return tmp


def corpus_dir(workdir):
    return workdir / "cache" / "corpora" / f"synthetic-v{synthetic.DEFAULT_VERSION}"


def explain(workdir, *flags):
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "explain.py"),
            "--detector=my_detector.keras",
            *flags,
        ],
        capture_output=True,
        text=True,
        env=script_env(VOCAL_XAI_CACHE=str(workdir / "cache")),
        cwd=workdir,
    )


@pytest.mark.slow
def test_explain_the_keras_file(workdir):
    out = workdir / "out"
    corpus = corpus_dir(workdir)
    result = explain(
        workdir,
        "--direction=max",
        "--learning_rates=0.01",
        "--rps=0.01",
        "--iterations=5",
        "--seeds=2",
        "--reference_k=20",
        "--bootstrap=0",
        "--audio_examples=1",
        "--griffin_lim_iterations=2",
        f"--data_dir={corpus}",
        f"--out={out}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # One example as audio: its explanation and its starting point.
    assert sorted(p.name for p in out.glob("*.wav")) == ["selected_seed0.wav", "start_seed0.wav"]
    report = json.loads((out / "report.json").read_text())
    assert report["models"]["detector"] == "my_detector.keras"
    assert (report["config"]["neuron"], report["config"]["embedding"]) == ("logit:0", "hidden")
    assert report["reference"]["count"] == 20
    (row,) = report["ranking"]
    assert (row["learning_rate"], row["rp"], row["iterations"]) == (0.01, 0.01, 5)
    assert (
        np.isfinite(row["distance"]) and row["distance"] >= 0.0 and np.isfinite(row["distance_1d"])
    )
    # The kept examples are the best seen along each trajectory; their logits
    # are the probability's clipped log-odds.
    trace = np.load(out / "activation_trace.npy")
    assert trace.shape == (6, 2) and np.all(np.abs(trace) <= 16.12)
    np.testing.assert_allclose(row["max_activation"], trace.max(axis=0).max(), atol=1e-3)
    np.testing.assert_allclose(row["min_activation"], trace.max(axis=0).min(), atol=1e-3)
    assert (out / "ranking.csv").read_text().count("\n") == 2
    assert "distance over hidden" in result.stdout
    # The reference statistics are cached in the user cache, keyed by the file's content.
    (cached,) = (workdir / "cache" / "reference").glob("reference-*.json")
    assert json.loads(cached.read_text())["detector"] == str(
        (workdir / "my_detector.keras").resolve()
    )


@pytest.mark.slow
def test_a_wrong_neuron_stops_before_anything_runs(workdir):
    # Neither the generator nor the corpus exists: the check comes first.
    result = explain(
        workdir,
        "--neuron=logit:5",
        "--generator=no_such_generator",
        "--data_dir=no_such_corpus",
        f"--out={workdir / 'never'}",
    )
    assert result.returncode == 2 and not (workdir / "never").exists()
    assert result.stderr.strip().splitlines() == [
        "error: Expected unit in [0, 0] for layer 'logit' (1 unit per excerpt). Received: unit=5"
    ]
    detector = zoo.load_detector(str(workdir / "my_detector.keras"))
    with pytest.raises(
        ParameterError, match=r"conv2d \[0, 141023\].* hidden \[0, 63\].* Received: layer='conv9'"
    ):
        run.checked_detector(detector, run.ExplainConfig(neuron="conv9:0"))


@pytest.mark.slow
def test_predict_the_keras_file(workdir):
    path = corpus_dir(workdir) / "audio" / "song003.flac"
    run_ok(
        [
            sys.executable,
            str(ROOT / "tools" / "predict.py"),
            str(path),
            "--detector=my_detector.keras",
            f"--out={workdir / 'p.json'}",
        ],
        cwd=workdir,
    )
    probability = np.array(json.loads((workdir / "p.json").read_text())[str(path)]["probability"])
    # Sliding windows: the model itself on the excerpt centred on each frame.
    log_mel = spectral.log_mel(audio.load_audio(path)).numpy()
    assert probability.shape == (len(log_mel),)
    frames = [0, 300, len(log_mel) - 1]
    model = keras.models.load_model(workdir / "my_detector.keras")
    want = model(song.padded_excerpts(log_mel).numpy()[frames]).numpy()[:, 0]
    np.testing.assert_allclose(probability[frames], want, atol=1e-5)
