"""tools/sampled_probes.py as a user runs it."""

import pytest
from helpers import run_tool


def _run(*args, cwd):
    return run_tool("sampled_probes.py", *args, cwd=cwd)


@pytest.mark.slow
def test_bad_soundfont_and_existing_folder_are_one_line_errors(tmp_path):
    missing = _run(
        f"--out={tmp_path / 'probes'}", f"--soundfont={tmp_path / 'none.sf2'}", cwd=tmp_path
    )
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "none.sf2 is not a file" in missing.stderr or "fluidsynth program" in missing.stderr
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "kept.wav").write_bytes(b"x")
    taken = _run(f"--out={tmp_path / 'full'}", cwd=tmp_path)
    assert taken.returncode == 2 and "--overwrite" in taken.stderr
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["kept.wav"]
    assert not (tmp_path / "probes").exists()
