"""tools/plot_training.py as a user runs it, on a run still training."""

import pytest
import tensorflow as tf
from helpers import run_tool
from PIL import Image


def _run(*args, cwd):
    return run_tool("plot_training.py", *args, cwd=cwd)


@pytest.mark.slow
def test_draws_runs_and_refuses_bad_input_in_one_line(tmp_path):
    for name, loss in (("padded", 0.5), ("unpadded", 0.4)):
        writer = tf.summary.create_file_writer(str(tmp_path / name / "logs"))
        with writer.as_default():
            for step in (100, 200):
                tf.summary.scalar("loss", loss, step=step)
                tf.summary.scalar("val_accuracy", 1 - loss, step=step)
        writer.close()
    runs = f"--runs={tmp_path / 'padded'},{tmp_path / 'unpadded'}"
    done = _run(runs, "--out=curves.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "Wrote curves.png"
    with Image.open(tmp_path / "curves.png") as image:
        assert image.width > 1000

    taken = _run(runs, "--out=curves.png", cwd=tmp_path)
    missing = _run(f"--runs={tmp_path / 'nothing'}", "--out=other.png", cwd=tmp_path)
    for result, words in ((taken, "--overwrite"), (missing, "nothing' (runs=")):
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert words in result.stderr
    assert not (tmp_path / "other.png").exists()
