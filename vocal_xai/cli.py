"""What every command-line program of the project shares: quiet logs, plain
progress bars when the output is not a terminal, ``--help`` that exits 0, and
user errors as one line.

A tool or recipe ends with ``cli.run(main)`` instead of absl's
``app.run(main)``. This module imports neither TensorFlow nor Keras, so that
it can set TensorFlow's log level before TensorFlow is first imported.
"""

import importlib.abc
import importlib.util
import logging
import os
import sys

from absl import app, flags

from vocal_xai.data import corpus_versions
from vocal_xai.errors import CorpusError, ParameterError

HELP_FLAGS = ("--help", "-h", "-?", "--helpshort", "--helpfull", "--helpxml")

# Packages whose Python log records below ERROR stay out of a normal run.
QUIET_PACKAGES = ("tensorflow", "tensorflow_io", "keras", "tf_keras", "tensorflow_probability")

# Errors that come from what the user gave: a flag's value, a file, a shape.
USER_ERRORS = (
    ParameterError,
    CorpusError,
    FileExistsError,
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
)


def verbosity(argv):
    """The value of absl's ``--verbosity`` (``-v``) flag in ``argv``, else 0."""
    for i, arg in enumerate(argv):
        for name in ("--verbosity", "-v"):
            value = None
            if arg.startswith(name + "="):
                value = arg[len(name) + 1 :]
            elif arg == name and i + 1 < len(argv):
                value = argv[i + 1]
            if value is not None:
                try:
                    return int(value)
                except ValueError:
                    return 0
    return 0


def quiet_logs(verbose=False):
    """Keep TensorFlow's C++ and Python logs (CUDA factories, grappler,
    oneDNN, tensorflow-io warnings) out of a normal run; ``verbose`` shows
    them. Call it before TensorFlow is imported; an explicit
    ``TF_CPP_MIN_LOG_LEVEL`` in the environment wins.

    Without ``verbose``, TensorFlow's first import, whenever the program
    makes it, runs with the process's stderr pointed at the null device: the
    CUDA plugins' "Unable to register ... factory" lines are written while
    TensorFlow loads, whatever the log level. A program that stops before
    it needs TensorFlow (a bad flag, a missing file) never pays its import.
    An import that fails still raises, with its Python message.
    """
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    if "tensorflow" not in sys.modules and not any(
        isinstance(finder, _QuietImport) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _QuietImport())


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, as the other finders do, and has it loaded
    with stderr pointed at the null device (``_QuietLoader``)."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader
        sys.stderr.flush()
        fd = sys.stderr.fileno()
        saved, null = os.dup(fd), os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, fd)
            self.loader.exec_module(module)
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            os.close(null)


class LibraryLogFilter(logging.Filter):
    """Drops log records below ERROR written by ``QUIET_PACKAGES`` (through
    Python's or absl's logging); the project's own records pass."""

    def filter(self, record):
        if record.levelno >= logging.ERROR:
            return True
        parts = os.path.normpath(record.pathname).split(os.sep)
        return not any(package in parts for package in QUIET_PACKAGES)


def _defining_program():
    """The module that called a ``define_*`` function of this module (the
    program itself when run as a script), for absl to file the flag under."""
    caller = sys._getframe(2).f_globals.get("__name__", "")
    return sys.argv[0] if caller == "__main__" else caller


def define_corpus_version(name="corpus_version", subject=None):
    """Define the enum flag ``name`` that picks a synthetic corpus version:
    every version is a choice, the default version is the default, and the
    help says what trained on each. The flag belongs to the calling
    program, so its ``--help`` lists it."""
    flags.DEFINE_enum(
        name,
        str(corpus_versions.DEFAULT),
        [str(n) for n in corpus_versions.NUMBERS],
        corpus_versions.flag_help(*([subject] if subject else [])),
        module_name=_defining_program(),
    )


def define_checkpoint_minutes():
    """Define ``--checkpoint_minutes``, the wall time between the saves a
    training recipe makes within an epoch. The flag belongs to the calling
    program, so its ``--help`` lists it."""
    flags.DEFINE_float(
        "checkpoint_minutes",
        10.0,
        "Also save a checkpoint within an epoch after this many minutes (0: every step; "
        "multi_worker saves at epoch ends only).",
        lower_bound=0.0,
        module_name=_defining_program(),
    )


def progress_verbosity(enabled=True):
    """The ``verbose`` value for ``keras.utils.Progbar`` and ``fit``: a live
    bar on a terminal (1), a single plain line per bar when the output is a
    file or a pipe (2, no ANSI codes), none when ``enabled`` is False (0)."""
    if not enabled:
        return 0
    return 1 if hasattr(sys.stdout, "isatty") and sys.stdout.isatty() else 2


def run(main, argv=None):
    """Run an absl ``main(argv)`` as a program.

    - ``--help`` (and absl's other help flags) print the flags and exit 0;
    - TensorFlow's logs stay quiet unless ``--verbosity`` is 1 or more;
    - a user error (``USER_ERRORS``) prints ``error: <message>`` on one line
      to stderr and exits 2; with ``--verbosity=1`` its traceback is shown.
    """
    argv = list(sys.argv if argv is None else argv)
    verbose = verbosity(argv) >= 1
    asked_help = any(arg in HELP_FLAGS for arg in argv[1:])
    if not asked_help:
        quiet_logs(verbose)

    def guarded(args):
        if not verbose:
            from absl import logging as absl_logging

            absl_logging.get_absl_handler().addFilter(LibraryLogFilter())
        try:
            return main(args)
        except USER_ERRORS as err:
            if verbose:
                raise
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)

    try:
        app.run(guarded, argv=argv)
    except SystemExit as done:
        if asked_help and done.code == 1:
            sys.exit(0)
        raise
