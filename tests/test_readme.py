"""Every Python block of the README runs as it is written."""

import pathlib
import re
import subprocess
import sys

import pytest
from helpers import script_env

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
# The block of "Explain your own model" trains for a minute on the default
# corpus: tests/tools/test_own_detector.py runs it on a tiny corpus with a
# few training steps. Every other block runs here as it is written.
_TEXT = re.sub(r"\n## Explain your own model\n.*?(?=\n## )", "\n", README.read_text(), flags=re.S)
BLOCKS = re.findall(r"```python\n(.*?)```", _TEXT, flags=re.S)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 1


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, tmp_path):
    """Run block ``index`` in a fresh interpreter in an empty folder."""
    script = tmp_path / "block.py"
    script.write_text(BLOCKS[index])
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        env=script_env(VOCAL_XAI_CACHE=str(tmp_path / "cache")),
    )
    assert result.returncode == 0, result.stderr[-3000:]
