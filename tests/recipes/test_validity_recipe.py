import json
import pathlib
import sys

import numpy as np
import pytest
import validity_study as validity
from helpers import run_ok, script_env

from vocal_xai import markdown
from vocal_xai.models.dcgan import PRESETS, Generator
from vocal_xai.models.dcgan import task as gan_task
from vocal_xai.models.detector import SVDNet
from vocal_xai.models.detector import task as detector_task

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_validity_recipe_writes_results_and_the_docs_block(small_corpus, tmp_path):
    mean, std = np.full(80, -5.0), np.ones(80)
    detector_task.export_detector(
        SVDNet.from_preset("svdnet_tiny", mean, std), tmp_path / "zoo", {}
    )
    gan_task.export_generator(
        Generator(mean, std, **PRESETS["dcgan_tiny"]["generator"]), tmp_path / "zoo", {}
    )
    doc = tmp_path / "docs" / "validity.md"
    doc.parent.mkdir()
    doc.write_text(f"# Validity\n\n{validity.BEGIN}\n{validity.END}\n")
    out = tmp_path / "docs" / "validity"
    result = run_ok(
        [
            sys.executable,
            str(ROOT / "recipes" / "validity.py"),
            "--grid=tiny",
            f"--data_dir={small_corpus}",
            "--embedding=embedding_8",
            "--reference_k=20",
            "--bootstrap=20",
            f"--out={out}",
            f"--docs={doc}",
        ],
        env=script_env(VOCAL_XAI_ZOO=str(tmp_path / "zoo")),
        cwd=tmp_path,
    )
    results = json.loads((out / "results.json").read_text())
    # 9 latent and 9 input-space (lr, rp) pairs x 2 iteration counts x 2 directions.
    assert len(results["settings"]) == 72 and results["meta"]["seeds"] == 3
    assert (
        results["meta"]["command"].startswith("python ")
        and "--grid=tiny" in results["meta"]["command"]
    )
    block = markdown.block(doc, validity.BEGIN, validity.END)
    assert (out / "tables.md").read_text().strip() in block
    assert "![distance_vs_quality](validity/distance_vs_quality.png)" in block
    assert "Spearman" in result.stdout
