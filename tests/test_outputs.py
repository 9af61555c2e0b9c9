"""Outputs appear whole or not at all (vocal_xai.outputs)."""

import json
import os

import numpy as np
import pytest

from vocal_xai import outputs
from vocal_xai.errors import ParameterError


def test_a_run_replaces_its_folder_whole_or_leaves_it_alone(tmp_path):
    out = tmp_path / "run"
    with outputs.atomic_dir(out) as tmp:
        (tmp / "ranking.csv").write_text("new")
        assert not out.exists()
    assert sorted(p.name for p in out.iterdir()) == ["ranking.csv"]
    # A second run is refused unless told to overwrite, before it computes.
    with pytest.raises(
        ParameterError, match=r"Expected out to be a new or empty folder .*--overwrite.* holds 1"
    ):
        outputs.check_output_dir(out)
    # A run that dies leaves the previous outputs as they were, and no temporary files.
    with pytest.raises(RuntimeError):
        with outputs.atomic_dir(out, overwrite=True) as tmp:
            (tmp / "ranking.csv").write_text("half")
            raise RuntimeError("killed")
    assert (out / "ranking.csv").read_text() == "new"
    # A finished run replaces the old folder whole: no stale file survives.
    (out / "selected_seed7.wav").write_text("old")
    with outputs.atomic_dir(out, overwrite=True) as tmp:
        (tmp / "ranking.csv").write_text("newer")
    assert sorted(p.name for p in out.iterdir()) == ["ranking.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_files_are_written_whole_and_existing_ones_kept(tmp_path):
    path = tmp_path / "probs.csv"
    with outputs.atomic_file(path) as tmp:
        tmp.write_text("a")
    with pytest.raises(ParameterError, match="Expected out to be a new file"):
        outputs.check_output_file(path)
    with pytest.raises(RuntimeError):
        with outputs.atomic_file(path, overwrite=True) as tmp:
            tmp.write_text("b")
            raise RuntimeError
    assert path.read_text() == "a" and sorted(p.name for p in tmp_path.iterdir()) == ["probs.csv"]


def test_a_read_only_parent_is_refused(tmp_path, monkeypatch):
    # The permission test itself is the OS's (root may write anywhere): a
    # folder the process may not write into is refused before any work.
    monkeypatch.setattr(os, "access", lambda path, mode: str(path) != str(tmp_path / "locked"))
    (tmp_path / "locked").mkdir()
    with pytest.raises(
        ParameterError, match="Expected out in a folder that can be written.*locked is not writable"
    ):
        outputs.check_output_dir(tmp_path / "locked" / "run")
    assert outputs.check_output_dir(tmp_path / "free" / "run") == tmp_path / "free" / "run"


def test_a_file_where_a_folder_is_expected_is_refused(tmp_path):
    (tmp_path / "x").write_text("")
    with pytest.raises(ParameterError, match="Received: out='.*x' is a file"):
        outputs.check_output_dir(tmp_path / "x")


def test_json_is_written_whole_and_an_existing_file_only_replaced_when_asked(tmp_path):
    path = tmp_path / "sub" / "metrics.json"
    assert outputs.write_json(path, {"b": 1, "a": [0.5]}, sort_keys=True) == path
    assert path.read_text() == '{\n  "a": [\n    0.5\n  ],\n  "b": 1\n}\n'
    with pytest.raises(ParameterError, match="Expected out to be a new file"):
        outputs.write_json(path, {"c": 2})
    # An object JSON can't hold leaves the old file as it was, and no temporary.
    with pytest.raises(TypeError):
        outputs.write_json(path, {"c": object()}, overwrite=True)
    assert json.loads(path.read_text()) == {"a": [0.5], "b": 1}
    assert sorted(p.name for p in path.parent.iterdir()) == ["metrics.json"]
    outputs.write_json(path, {"c": 2}, overwrite=True)
    assert json.loads(path.read_text()) == {"c": 2}


def test_stages_are_reused_only_under_their_key_and_survive_a_torn_write(tmp_path):
    out = tmp_path / "study"
    stages = outputs.Stages(out, "key-a")
    assert stages.root == tmp_path / ".study.partial"
    assert stages.load("pair0-max") is None
    value = stages.save("pair0-max", {"rows": [1, np.float32(0.5)], "nan": float("nan")})
    assert value["rows"] == [1, 0.5] and np.isnan(value["nan"])
    again = outputs.Stages(out, "key-a").load("pair0-max")
    assert again["rows"] == [1, 0.5] and np.isnan(again["nan"])
    # Other models or settings give another key: the stage is computed again.
    assert outputs.Stages(out, "key-b").load("pair0-max") is None
    # A file cut short by a kill counts as not done.
    (stages.root / "pair0-min.json").write_text('{"key": "key-a", "val')
    assert stages.load("pair0-min") is None
    assert not out.exists()  # nothing is written into the output itself
    stages.clear()
    assert not stages.root.exists()
