"""recipes/corpus_cues.py: what separates a corpus's classes, without a detector."""

import json
import pathlib
import sys

import pytest
from helpers import run_ok, script_env

from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import pipeline
from vocal_xai.explain import cues

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_table_is_the_library_s_on_the_split(small_corpus, tmp_path):
    out = tmp_path / "cues.json"
    cmd = [
        sys.executable,
        str(ROOT / "recipes" / "corpus_cues.py"),
        f"--data_dir={small_corpus}",
        "--split=train",
        f"--out={out}",
    ]
    result = run_ok(cmd, env=script_env(VOCAL_XAI_CACHE=str(tmp_path / "cache")), cwd=tmp_path)
    report = json.loads(out.read_text())
    split = pipeline.load_split(corpus_lib.read_corpus(small_corpus, splits=("train",)), "train")
    want = cues.class_separation(*cues.split_excerpts(split))
    assert report["split"] == "train" and report["stride"] == 35
    assert set(report["cues"]) == set(want)
    for cue, row in want.items():
        assert report["cues"][cue]["auc"] == pytest.approx(row["auc"], abs=1e-12)
        assert f"| {cue} | {row['auc']:.2f} |" in result.stdout
