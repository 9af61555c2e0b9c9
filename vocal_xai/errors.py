"""Errors raised by vocal_xai.

Every message states the constraint that was broken and the value received,
and, for files, names the file and the line.
"""

import numpy as np


class ParameterError(ValueError):
    """An argument is out of its allowed range or has the wrong form."""


def check_finite(x, name):
    """``x`` as an array; a ``ParameterError`` counting the non-finite values
    unless every value of it is finite."""
    x = np.asarray(x)
    if not np.all(np.isfinite(x)):
        raise ParameterError(
            f"Expected finite {name}. Received: {int(np.sum(~np.isfinite(x)))} non-finite values"
        )
    return x


class CorpusError(ValueError):
    """A corpus file is missing or malformed.

    Args:
        path: the offending file.
        message: the constraint broken and the value received.
        line: 1-based line number inside ``path``, when the fault is on a line.
    """

    def __init__(self, path, message, line=None):
        self.path = str(path)
        self.line = line
        self.reason = message
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}")


class AudioDecodeError(CorpusError):
    """An audio file exists but can't be decoded."""


# Appended to an undecodable file's error where a corpus is read.
SKIP_HINT = (
    "to leave undecodable files out with a warning, pass --skip_undecodable "
    "(skip_undecodable=True in Python)"
)
