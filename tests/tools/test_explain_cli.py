import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from vocal_xai.explain import selection
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
    gan_task.export_generator(
        Generator(mean, std, **PRESETS["dcgan_tiny"]["generator"]), tmp / "zoo", {}
    )
    return tmp, small_corpus


def _explain(tmp, corpus, cwd, *flags, seeds=3):
    env = dict(os.environ, VOCAL_XAI_ZOO=str(tmp / "zoo"), VOCAL_XAI_CACHE=str(cwd / "cache"))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "explain.py"),
            "--direction=min",
            f"--data_dir={corpus}",
            "--learning_rates=0.1,0.01",
            "--rps=0.01",
            "--iterations=2,4",
            f"--seeds={seeds}",
            "--embedding=embedding_8",
            "--reference_k=10",
            "--bootstrap=10",
            "--griffin_lim_iterations=2",
            *flags,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def first_run(zoo_and_corpus, tmp_path_factory):
    """One run with the default flags into ``out`` of its own working folder
    (which then holds ``cache`` and ``out``): the folder and the result."""
    tmp, corpus = zoo_and_corpus
    cwd = tmp_path_factory.mktemp("first_run")
    return cwd, _explain(tmp, corpus, cwd, f"--out={cwd / 'out'}")


@pytest.mark.slow
def test_explain_cli_writes_every_output(zoo_and_corpus, first_run):
    tmp, _ = zoo_and_corpus
    cwd, result = first_run
    out = cwd / "out"
    assert result.returncode == 0, result.stderr[-3000:]
    # A normal run prints no TensorFlow log lines.
    assert (
        "cuFFT" not in result.stderr
        and "oneDNN" not in result.stderr
        and "\x1b[" not in result.stdout
    )
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["direction"] == "min" and report["config"]["condition"] == "non_vocal"
    assert len(report["ranking"]) == 4
    # The default selector orders the ranking.
    column = selection.COLUMNS[selection.DEFAULT_SELECTOR]
    assert report["selected"][column] == min(r[column] for r in report["ranking"])
    for name in (
        "ranking.csv",
        "examples.png",
        "curves.png",
        "distance_heatmap.png",
        "selected_log_mel.npy",
        "activation_trace.npy",
        "selected_seed0.wav",
    ):
        assert (out / name).is_file(), name
    assert "Selected: lr" in result.stdout
    # The models used are printed and recorded, with their versions.
    assert f"Detector: {tmp / 'zoo' / 'detector' / '1'}, version 1" in result.stdout
    assert report["models"]["detector_version"] == 1 and report["models"]["generator_version"] == 1
    assert len(report["models"]["detector_content"]) == 16
    # The reference statistics are cached in the user cache, not beside the
    # models, and nothing else is written into the working folder.
    assert list((cwd / "cache" / "reference").glob("reference-*.npz"))
    assert not (tmp / "zoo" / "detector" / ".reference-cache").exists()
    assert sorted(p.name for p in cwd.iterdir()) == ["cache", "out"]


@pytest.mark.slow
def test_explain_cli_never_mixes_runs(zoo_and_corpus, first_run, tmp_path):
    tmp, corpus = zoo_and_corpus
    # A copy of the first run's working folder, as that run left it.
    first_dir, first = first_run
    assert first.returncode == 0, first.stderr[-3000:]
    shutil.copytree(first_dir, tmp_path, dirs_exist_ok=True)
    out = tmp_path / "out"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # An existing folder is refused before any work, in one line.
    again = _explain(tmp, corpus, tmp_path, f"--out={out}", seeds=2)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        f"error: Expected out to be a new or empty folder (or pass --overwrite to replace it). "
        f"Received: out={str(out)!r} holds {len(before)} entries"
    ]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # With --overwrite the folder is replaced whole: no file of the old run
    # survives (the third seed's audio), and no temporary folder is left.
    redo = _explain(
        tmp, corpus, tmp_path, f"--out={out}", "--overwrite", "--selector=frechet", seeds=2
    )
    assert redo.returncode == 0, redo.stderr[-3000:]
    assert not (out / "selected_seed2.wav").exists() and (out / "selected_seed1.wav").is_file()
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["seeds"] == 2
    # The embedding distance, chosen by flag, orders the ranking.
    assert report["selector"] == "frechet" and "chosen by --selector" in report["selector_reason"]
    assert report["selected"]["distance"] == min(r["distance"] for r in report["ranking"])
    assert "Settings ranked by frechet" in redo.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "out"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "flag, message",
    [
        (
            "--learning_rates=abc",
            "Expected --learning_rates to be a comma-separated list of numbers > 0",
        ),
        ("--rps=-1", "Expected --rps to be a comma-separated list of numbers >= 0"),
    ],
)
def test_explain_cli_refuses_bad_lists_in_one_line(zoo_and_corpus, tmp_path, flag, message):
    tmp, corpus = zoo_and_corpus
    result = _explain(tmp, corpus, tmp_path, flag, f"--out={tmp_path / 'out'}")
    assert result.returncode != 0 and message in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_explain_cli_help_exits_zero():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "explain.py"), "--help"],
        capture_output=True,
        text=True,
    )
    assert (
        result.returncode == 0 and "--direction" in result.stdout and "--overwrite" in result.stdout
    )
    # --selector offers every selector of the library, and defaults to its default.
    # (absl wraps the list of choices across lines, inside words.)
    unwrapped = re.sub(r"\n\s+", "", result.stdout)
    offered = unwrapped.split("--selector: <", 1)[1].split(">", 1)[0].split("|")
    assert offered == list(selection.SELECTOR_NAMES)
    assert f"(default: '{selection.DEFAULT_SELECTOR}')" in result.stdout.split("--selector", 1)[1]
