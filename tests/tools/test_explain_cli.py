import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from vocal_xai.models.dcgan import PRESETS, Generator
from vocal_xai.models.dcgan import task as gan_task
from vocal_xai.models.detector import SVDNet
from vocal_xai.models.detector import task as detector_task

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def zoo_and_corpus(tmp_path_factory, small_corpus):
    tmp = tmp_path_factory.mktemp("explain")
    mean, std = np.full(80, -5.0), np.ones(80)
    detector_task.export_detector(SVDNet.from_preset("svdnet_tiny", mean, std), tmp / "zoo", {})
    gan_task.export_generator(Generator(mean, std, **PRESETS["dcgan_tiny"]["generator"]), tmp / "zoo", {})
    return tmp, small_corpus


def test_explain_cli_writes_every_output(zoo_and_corpus, tmp_path):
    tmp, corpus = zoo_and_corpus
    env = dict(os.environ, VOCAL_XAI_ZOO=str(tmp / "zoo"), TF_CPP_MIN_LOG_LEVEL="2")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "explain.py"), "--direction=min", f"--data_dir={corpus}",
         "--learning_rates=0.1,0.01", "--rps=0.01", "--iterations=2,4", "--seeds=3",
         "--embedding=embedding_8", "--reference_k=10", "--bootstrap=10", f"--out={out}"],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["direction"] == "min" and report["config"]["condition"] == "non_vocal"
    assert len(report["ranking"]) == 4
    assert report["selected"]["distance"] == min(r["distance"] for r in report["ranking"])
    for name in ("ranking.csv", "examples.png", "curves.png", "distance_heatmap.png",
                 "selected_log_mel.npy", "activation_trace.npy", "selected_seed0.wav"):
        assert (out / name).is_file(), name
    assert "Selected: lr" in result.stdout
    # The reference statistics were cached beside the detector.
    assert list((tmp / "zoo" / "detector" / ".reference-cache").glob("reference-*.npz"))
