"""Progress bars for long work, on a terminal and in a log file.

On a terminal the bar is Keras's live one. When the output is a file or a
pipe (a run under ``nohup``), Keras prints one plain line when the work is
done; ``bar`` also prints that line, with the count so far, whenever
``line_seconds`` have passed since the last one, so that a log shows where
a long run is.
"""

import time

import keras

from vocal_xai import cli

LINE_SECONDS = 300.0


class LineProgbar(keras.utils.Progbar):
    """``keras.utils.Progbar`` that, in its plain-line mode (``verbose=2``),
    also prints its line every ``line_seconds`` before the end."""

    def __init__(self, target, line_seconds=LINE_SECONDS, **kwargs):
        super().__init__(target, **kwargs)
        self.line_seconds = float(line_seconds)
        self._last_line = time.time()

    def update(self, current, values=None, finalize=None):
        super().update(current, values, finalize)
        if self.verbose != 2 or self.target is None or current >= self.target:
            return
        now = time.time()
        if now - self._last_line >= self.line_seconds:
            self._last_line = now
            # The plain line Keras prints at the end, for the count so far
            # (no values: the means stay as they are).
            super().update(current, None, finalize=True)


def bar(target, unit_name="step", enabled=True, line_seconds=LINE_SECONDS):
    """A progress bar over ``target`` units: live on a terminal, a plain line
    every ``line_seconds`` and at the end in a file, none if not ``enabled``
    (``cli.progress_verbosity``)."""
    return LineProgbar(
        target,
        line_seconds=line_seconds,
        unit_name=unit_name,
        verbose=cli.progress_verbosity(enabled),
    )
