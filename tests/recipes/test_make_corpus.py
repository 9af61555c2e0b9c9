"""recipes/make_corpus.py: a corpus, or some of its splits."""

import json
import pathlib
import subprocess
import sys

import pytest
from helpers import run_ok, script_env

from vocal_xai.data import corpus as corpus_lib

RECIPE = pathlib.Path(__file__).resolve().parents[2] / "recipes" / "make_corpus.py"


@pytest.mark.slow
def test_only_the_splits_asked_for_are_written(tmp_path):
    out = tmp_path / "corpus"
    flags = ["--version=2", "--songs=1,1,1", "--workers=1", "--splits=test,valid"]
    result = run_ok([sys.executable, str(RECIPE), f"--out={out}", *flags])
    assert "Songs per split: valid 1, test 1" in result.stdout
    assert sorted(p.name for p in (out / "filelists").iterdir()) == ["test", "valid"]
    # Numbered as in the whole corpus: train's song000 is not written.
    assert sorted(p.name for p in (out / "audio").iterdir()) == ["song001.flac", "song002.flac"]
    assert json.loads((out / "synthetic.json").read_text())["splits"] == ["valid", "test"]
    songs = corpus_lib.read_corpus(out, splits=("valid", "test"))
    assert [s.name for s in songs.songs("test")] == ["song002"]

    bad = subprocess.run(
        [sys.executable, str(RECIPE), f"--out={tmp_path / 'bad'}", "--splits=valid,tests"],
        capture_output=True,
        text=True,
        env=script_env(),
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "Expected splits to be a non-empty subset" in bad.stderr and "tests" in bad.stderr
    assert not (tmp_path / "bad").exists()
