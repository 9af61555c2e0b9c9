"""``training.distribute_batches``: under MirroredStrategy each replica reads
the same slice of every global batch as through
``experimental_distribute_dataset``, from its own pipeline."""

import json
import sys

import pytest
from helpers import run_ok

SCRIPT = r"""
import json
import sys

from vocal_xai import training

strategy = training.prepare("mirrored", 0, 2)

import numpy as np
import tensorflow as tf


def global_batches(batch):
    def make(i):
        x = tf.random.stateless_uniform([batch, 3], tf.stack([i, 0]))
        return x, tf.range(batch) + tf.cast(i, tf.int32) * 100

    return tf.data.Dataset.counter().map(make)


def local(value):
    return [t.numpy().tolist() for t in strategy.experimental_local_results(value)]


def first(distributed, n=3):
    it = iter(distributed)
    return [tf.nest.map_structure(local, next(it)) for _ in range(n)]


out = {}
for batch in (8, 7):
    ours = training.distribute_batches(strategy, global_batches(batch))
    theirs = strategy.experimental_distribute_dataset(
        training.shard_by_data(global_batches(batch))
    )
    out[batch] = {
        "kind": type(ours).__name__,
        "same": first(ours) == first(theirs),
        "sizes": [len(r) for r in first(ours, 1)[0][1]],
    }
# A dataset of dicts keeps its structure.
dicts = global_batches(8).map(lambda x, y: {"x": x, "y": y})
element = next(iter(training.distribute_batches(strategy, dicts)))
out["dict_keys"] = sorted(element)
json.dump(out, open(sys.argv[1], "w"))
"""


@pytest.mark.slow
def test_replicas_read_the_slices_of_experimental_distribute_dataset(tmp_path):
    script = tmp_path / "distribute.py"
    script.write_text(SCRIPT)
    run_ok([sys.executable, str(script), str(tmp_path / "out.json")])
    out = json.loads((tmp_path / "out.json").read_text())
    # 8 rows: two replicas of 4, each from its own pipeline.
    assert out["8"] == {"kind": "DistributedDatasetsFromFunction", "same": True, "sizes": [4, 4]}
    # 7 rows, which two replicas don't divide: experimental_distribute_dataset.
    assert out["7"]["kind"] == "DistributedDataset" and out["7"]["same"]
    assert out["dict_keys"] == ["x", "y"]
