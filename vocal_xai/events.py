"""Scalars of a training, read back from its TensorBoard event files.

A training writes one event file per process into its log folder, and a
training resumed after a kill starts a new one. Read in the order they were
opened, the files give every scalar once per step (a step logged twice, by a
stretch that was killed before its checkpoint and by the one that redid it,
keeps its last value) and the stretches the training ran in.
"""

import dataclasses
import pathlib

import numpy as np
import tensorflow as tf

from vocal_xai.errors import ParameterError

EVENT_FILES = "events.out.tfevents.*"


@dataclasses.dataclass
class FileScalars:
    """The scalars of one event file.

    Attributes:
        opened: wall time (s since the epoch) of its first event.
        values: dict tag -> {step: (wall time, value)}.
    """

    opened: float
    values: dict


def _events(path):
    for record in tf.data.TFRecordDataset(str(path)):
        yield tf.compat.v1.Event.FromString(record.numpy())


def _number(value):
    if value.HasField("tensor"):
        return float(tf.make_ndarray(value.tensor))
    return float(value.simple_value)


def read_files(folder):
    """The scalars of every event file in ``folder``, in the order the files
    were opened (files without events are left out).

    Returns:
        list of ``FileScalars``.

    Raises:
        ParameterError: when ``folder`` holds no event file.
    """
    paths = sorted(pathlib.Path(folder).glob(EVENT_FILES))
    if not paths:
        raise ParameterError(f"Expected TensorBoard event files in {folder}. Received: none")
    files = []
    for path in paths:
        opened, values = None, {}
        for event in _events(path):
            opened = event.wall_time if opened is None else opened
            for value in event.summary.value:
                values.setdefault(value.tag, {})[int(event.step)] = (
                    event.wall_time,
                    _number(value),
                )
        if opened is not None:
            files.append(FileScalars(opened, values))
    files.sort(key=lambda f: f.opened)
    return files


def merge(files):
    """Every tag's values over ``files`` (``read_files``), a later file's
    value replacing an earlier one's at the same step.

    Returns:
        dict tag -> {step: (wall time, value)}.
    """
    merged = {}
    for f in files:
        for tag, by_step in f.values.items():
            merged.setdefault(tag, {}).update(by_step)
    return merged


def series(by_step):
    """One tag's ``{step: (wall time, value)}`` as (steps [int array], values
    [float array]), sorted by step."""
    steps = np.array(sorted(by_step), np.int64)
    return steps, np.array([by_step[s][1] for s in steps], np.float64)
