"""Tests of what every command-line program shares (vocal_xai.cli)."""

import os
import subprocess
import sys

import pytest

from vocal_xai import cli

SCRIPT = r"""
from absl import flags
from vocal_xai import cli
from vocal_xai.errors import ParameterError

flags.DEFINE_float("rate", 0.1, "A learning rate.")
cli.define_corpus_version()
cli.define_checkpoint_minutes()
FLAGS = flags.FLAGS


def main(argv):
    import tensorflow as tf

    if FLAGS.rate <= 0:
        raise ParameterError(f"Expected rate > 0. Received: rate={FLAGS.rate}")
    print("sum", float(tf.reduce_sum(tf.ones(3)) * FLAGS.rate))


if __name__ == "__main__":
    cli.run(main)
"""


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "tool.py"
    path.write_text(SCRIPT)
    return path


def _run(script, *args):
    """Run the script as a user would: without the tests' own TensorFlow log
    level (``conftest``)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["tool"], 0),
        (["tool", "--verbosity=1"], 1),
        (["tool", "-v", "2"], 2),
        (["tool", "--verbosity", "x"], 0),
    ],
)
def test_verbosity_reads_absl_flag(argv, expected):
    assert cli.verbosity(argv) == expected


def test_progress_bars_are_plain_when_output_is_not_a_terminal(monkeypatch):
    class Pipe:
        def isatty(self):
            return False

    class Terminal:
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdout", Pipe())
    assert cli.progress_verbosity() == 2 and cli.progress_verbosity(False) == 0
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert cli.progress_verbosity() == 1


@pytest.mark.slow
def test_a_normal_run_prints_no_tensorflow_log_lines(script):
    result = _run(script, "--rate=2")
    assert result.returncode == 0 and result.stdout.strip() == "sum 6.0"
    assert result.stderr.strip() == "", result.stderr
    loud = _run(script, "--rate=2", "--verbosity=1")
    assert loud.returncode == 0 and "Unable to register cuFFT factory" in loud.stderr


LATE_IMPORT = r"""
import sys
from vocal_xai import cli

cli.quiet_logs()
assert "tensorflow" not in sys.modules  # nothing paid before it is needed
import tensorflow as tf

loaders = type(tf.__loader__).__name__, type(tf.__spec__.loader).__name__
print(*loaders, float(tf.reduce_sum(tf.ones(2))))
"""


@pytest.mark.slow
def test_tensorflow_is_imported_when_needed_and_quietly(tmp_path):
    path = tmp_path / "late.py"
    path.write_text(LATE_IMPORT)
    result = _run(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["SourceFileLoader", "SourceFileLoader", "2.0"]
    assert result.stderr.strip() == "", result.stderr


def test_help_exits_zero_and_lists_the_flags(script):
    result = _run(script, "--help")
    assert result.returncode == 0 and "--rate" in result.stdout
    # The shared corpus flag belongs to the program that defines it.
    assert "--corpus_version: <1|2|3|4|5|6>" in result.stdout
    assert "5: detector 7, not shipped; 6: detector 8, not shipped" in " ".join(
        result.stdout.split()
    )
    assert "--checkpoint_minutes: Also save a checkpoint within an epoch" in result.stdout
    assert "(default: '10.0')" in result.stdout.split("--checkpoint_minutes")[1]


def test_the_checkpoint_flag_takes_no_negative_minutes(script):
    result = _run(script, "--checkpoint_minutes=-1")
    assert result.returncode == 1
    assert "--checkpoint_minutes=-1: -1.0 is not a non-negative number" in result.stderr


def test_the_corpus_flag_takes_every_version_and_no_other(script):
    from vocal_xai.data import synthetic

    assert cli.corpus_versions.NUMBERS == tuple(sorted(synthetic.VERSIONS))
    assert cli.corpus_versions.DEFAULT == synthetic.DEFAULT_VERSION
    result = _run(script, "--corpus_version=7")
    assert result.returncode == 1
    assert "--corpus_version=7: value should be one of <1|2|3|4|5|6>" in result.stderr


@pytest.mark.slow
def test_a_user_error_is_one_line_and_exit_2(script):
    result = _run(script, "--rate=-1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: Expected rate > 0. Received: rate=-1.0"]
    traced = _run(script, "--rate=-1", "--verbosity=1")
    assert (
        traced.returncode != 0
        and "Traceback" in traced.stderr
        and "ParameterError" in traced.stderr
    )


def test_library_log_records_are_dropped_and_the_projects_kept():
    import logging

    def record(path, level=logging.INFO):
        return logging.LogRecord("x", level, path, 1, "message", None, None)

    keep = cli.LibraryLogFilter()
    assert not keep.filter(
        record("/venv/lib/python3.11/site-packages/tensorflow/python/saved_model/save.py")
    )
    assert not keep.filter(
        record("/venv/lib/site-packages/keras/src/utils/io_utils.py", logging.WARNING)
    )
    assert keep.filter(record("/venv/lib/site-packages/tensorflow/python/x.py", logging.ERROR))
    assert keep.filter(record("/repo/vocal_xai/training.py"))
