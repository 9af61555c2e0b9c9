"""Progress bars in a log file (vocal_xai.progressbar)."""

import re

from vocal_xai import progressbar


def _lines(text):
    return [line for line in text.splitlines() if line.strip()]


def test_a_log_gets_a_line_every_interval_and_at_the_end(capsys):
    # Under pytest the output is not a terminal: the plain-line mode.
    bar = progressbar.bar(3, "stage", line_seconds=0.0)
    for _ in range(3):
        bar.add(1, values=[("loss", 2.0)])
    lines = _lines(capsys.readouterr().out)
    assert [line.split(" - ")[0] for line in lines] == ["1/3", "2/3", "3/3"]
    assert all(re.search(r" - \d+s - .*/stage - loss: 2\.0000$", line) for line in lines)


def test_a_short_run_gets_one_line_and_a_disabled_bar_none(capsys):
    bar = progressbar.bar(4, "song")
    for _ in range(4):
        bar.add(1)
    assert [line.split(" - ")[0] for line in _lines(capsys.readouterr().out)] == ["4/4"]
    quiet = progressbar.bar(4, "song", enabled=False)
    quiet.add(4)
    assert capsys.readouterr().out == ""


def test_interim_lines_leave_the_means_alone(capsys):
    bar = progressbar.bar(2, line_seconds=0.0)
    bar.update(1, values=[("loss", 1.0)])
    bar.update(2, values=[("loss", 3.0)])
    lines = _lines(capsys.readouterr().out)
    assert lines[0].endswith("loss: 1.0000") and lines[1].endswith("loss: 2.0000")
