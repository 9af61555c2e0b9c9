"""Shared fixtures: quiet TF logs, small corpora. Plain helper functions are
in ``helpers``.

The suite runs in parallel processes (pytest-xdist, ``pytest.ini``). The
corpora of the session fixtures are built once per session, whichever
worker asks first, into a folder every worker shares (``built_once``)."""

import os

# Level 3: the workers import TensorFlow before pytest captures their output,
# and its CUDA plugins log errors on a machine without a GPU. Scripts the
# tests run get their own level (``helpers.script_env``).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


import pytest
from filelock import FileLock
from helpers import tone_song, write_filelists, write_song
from xdist.scheduler import LoadFileScheduling

from vocal_xai.data import corpus as corpus_lib

# The files that take longest (recipe runs and fresh-process serving checks),
# longest first, then the other files with slow tests, then the fast ones.
# The workers take whole files in this order (``FilesInCollectionOrder``), so
# the run ends on short files and neither worker waits long for the other.
LONGEST_FIRST = (
    "tests/recipes/test_train_gan.py",
    "tests/recipes/test_train_detector.py",
    "tests/test_serving_check.py",
    "tests/tools/test_explain_cli.py",
    "tests/test_readme.py",
    "tests/metrics/test_measures.py",
    "tests/tools/test_export_explainer.py",
    "tests/models/test_dcgan_guide.py",
    "tests/test_serving_examples.py",
    "tests/test_shipped_models.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}

    def path(item):
        return item.nodeid.split("::")[0]

    slow_files = {path(item) for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: (rank.get(path(item), len(rank)), path(item) not in slow_files))


class FilesInCollectionOrder(LoadFileScheduling):
    """``--dist loadfile`` that hands out the files in collection order:
    pytest-xdist's own sorts them by their number of tests, which sends long
    files of few tests last."""

    def _assign_work_unit(self, node):
        if not getattr(self, "_in_order", False):
            order = {}
            for nodeid in self.collection:
                order.setdefault(self._split_scope(nodeid), len(order))
            for scope in sorted(self.workqueue, key=order.__getitem__):
                self.workqueue.move_to_end(scope)
            self._in_order = True
        super()._assign_work_unit(node)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") == "loadfile":
        return FilesInCollectionOrder(config, log)
    return None


@pytest.fixture
def tiny_corpus(tmp_path):
    """Three 6-second songs, one per split; sing from 2 s to 4 s."""
    S = corpus_lib.Segment
    segments = (S(0.0, 2.0, False), S(2.0, 4.0, True), S(4.0, 6.0, False))
    for i, _split in enumerate(corpus_lib.SPLITS):
        write_song(tmp_path, f"s{i}", tone_song(6.0, seed=i), 22050, segments)
    write_filelists(tmp_path, {split: [f"s{i}"] for i, split in enumerate(corpus_lib.SPLITS)})
    return tmp_path


@pytest.fixture(scope="session")
def shared_tmp(tmp_path_factory, worker_id):
    """A folder of this test session that every worker shares (the parent of
    the workers' own temporary folders; the session's folder without
    workers)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


def built_once(folder, build, lock=None):
    """``build(folder)`` once per session across workers, under the file lock
    of ``lock`` (default: ``folder``); a marker beside ``folder`` records that
    it finished. Returns ``folder``."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    marker = folder.with_name(folder.name + ".built")
    with FileLock(str(lock or folder) + ".lock"):
        if not marker.is_file():
            build(folder)
            marker.touch()
    return folder


def synthetic_corpus(folder, **options):
    """``synthetic.make_corpus(folder, **options)`` once per session
    (``built_once``). Returns ``folder``."""
    from vocal_xai.data import synthetic

    return built_once(folder, lambda path: synthetic.make_corpus(path, **options))


@pytest.fixture(scope="session")
def default_corpus(shared_tmp):
    """A small corpus of the default synthetic version (seed 0): 8 training
    and 4 validation songs of 30 seconds, made as ``defaults.open_corpus``
    makes the default corpus, with fewer songs."""
    root = synthetic_corpus(
        shared_tmp / "default" / "synthetic",
        seed=0,
        split_sizes={"train": 8, "valid": 4, "test": 1},
        duration=30.0,
        workers=2,
        splits=("train", "valid"),
    )
    return corpus_lib.read_corpus(root, splits=("train", "valid"))


def small_synthetic_corpus(folder, version, seed, train=2, duration=8.0):
    """``train`` training songs and one valid and one test song of
    ``duration`` seconds, synthesised once per session into ``folder``."""
    return synthetic_corpus(
        folder,
        seed=seed,
        split_sizes={"train": train, "valid": 1, "test": 1},
        duration=duration,
        workers=1,
        version=version,
    )


@pytest.fixture(scope="session")
def small_corpus(shared_tmp):
    """Four 8-second synthetic songs: 2 train, 1 valid, 1 test (version 1,
    where every song has singing)."""
    return small_synthetic_corpus(shared_tmp / "small" / "corpus", version=1, seed=3)
