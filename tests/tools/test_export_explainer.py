"""tools/export_explainer.py: a new explainer version from two zoo models,
recording which versions it holds."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from helpers import run_ok, script_env

from vocal_xai import export
from vocal_xai.explain import selection
from vocal_xai.models.dcgan import PRESETS, Generator
from vocal_xai.models.dcgan import task as gan_task
from vocal_xai.models.detector import SVDNet
from vocal_xai.models.detector import task as detector_task

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_export_explainer_from_a_zoo(tmp_path, small_corpus):
    mean, std = np.full(80, -5.0), np.ones(80)
    zoo_root = tmp_path / "zoo"
    detector_task.export_detector(
        SVDNet.from_preset("svdnet_tiny", mean, std), zoo_root, {}, version=3
    )
    generator = Generator(mean, std, **PRESETS["dcgan_tiny_conditional"]["generator"])
    gan_task.export_generator(generator, zoo_root, {})
    gan_task.export_generator(generator, zoo_root, {})  # versions 1 and 2
    env = script_env(VOCAL_XAI_ZOO=str(zoo_root), VOCAL_XAI_CACHE=str(tmp_path / "cache"))
    data = [f"--data_dir={small_corpus}", "--reference_k=10"]
    # Nothing is written unless the user names where.
    refused = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "export_explainer.py")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "export_base" in refused.stderr
    assert not (zoo_root / "explainer").exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "zoo"
    ]
    out = run_ok(
        [
            sys.executable,
            str(ROOT / "tools" / "export_explainer.py"),
            f"--export_base={zoo_root}",
            *data,
        ],
        env=env,
        cwd=tmp_path,
    )
    assert f"Exported {zoo_root / 'explainer' / '1'}" in out.stdout
    meta = json.loads(
        (zoo_root / "explainer" / "1" / export.EXTRA / export.METADATA_FILE).read_text()
    )
    assert meta["generator"]["version"] == 2 and meta["detector"]["version"] == 3
    assert meta["max_steps"] == 2000 and meta["embedding"] == "embedding_8"
    reference = meta["reference"]
    assert reference["corpus"] == str(small_corpus) and reference["k"] == 10
    assert reference["neuron"] == "logit:0" and meta["selector"] == selection.DEFAULT_SELECTOR
    # The references are cached where tools/explain.py caches its own.
    assert len(list((tmp_path / "cache" / "reference").glob("reference-*.npz"))) == 2
    # A second export is a new version, never a rewrite; an older generator can be chosen.
    run_ok(
        [
            sys.executable,
            str(ROOT / "tools" / "export_explainer.py"),
            f"--generator={zoo_root / 'generator' / '1'}",
            f"--export_base={zoo_root}",
            "--selector=paper_1d",
            *data,
        ],
        env=env,
        cwd=tmp_path,
    )
    meta = json.loads(
        (zoo_root / "explainer" / "2" / export.EXTRA / export.METADATA_FILE).read_text()
    )
    assert meta["generator"]["version"] == 1 and meta["selector"] == "paper_1d"
    loaded = tf.saved_model.load(str(zoo_root / "explainer" / "2"))
    assert set(loaded.signatures) == {"serving_default", "from_latent"}
