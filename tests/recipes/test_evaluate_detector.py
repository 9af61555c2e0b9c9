"""recipes/evaluate_detector.py: any detector version on any corpus, as the
training recipe evaluates its own model."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from helpers import run_ok, script_env

from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import pipeline
from vocal_xai.models.detector import SVDNet, task

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_evaluate_a_version_on_a_corpus(small_corpus, tmp_path):
    songs = corpus_lib.read_corpus(small_corpus)
    model = SVDNet.from_preset(
        "svdnet_tiny", *pipeline.band_stats(pipeline.load_split(songs, "train").features)
    )
    version = task.export_detector(model, tmp_path / "zoo", {})
    out = tmp_path / "eval.json"
    cmd = [
        sys.executable,
        str(ROOT / "recipes" / "evaluate_detector.py"),
        f"--detector={version}",
        f"--data_dir={small_corpus}",
        "--real_recordings=",
        f"--out={out}",
    ]
    env = script_env(VOCAL_XAI_CACHE=str(tmp_path / "cache"))
    result = run_ok(cmd, env=env, cwd=tmp_path)
    report = json.loads(out.read_text())
    want = task.evaluate(model, songs)
    assert report["detector"] == str(version.resolve())
    assert report["metrics"]["threshold"] == want["threshold"]
    for split in ("valid", "test", "test_unfiltered"):
        assert np.isclose(report["metrics"][split]["error"], want[split]["error"], atol=1e-6)
    assert "real_recordings" not in report["metrics"] and "test " in result.stdout
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert again.returncode == 2 and "pass --overwrite" in again.stderr
