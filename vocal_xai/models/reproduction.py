"""Reproduction checks of published models.

A model card's figures come from whole corpora, which take many minutes to
synthesise and score again. So when a model trained on a synthetic corpus is
published, the same evaluation also runs on a small corpus of the same
version and seed (``CHECK_SPLIT_SIZES`` songs per split, numbered as in a
corpus of that size), and the figures go into the version's metadata under
``"check"``, with the record that remakes the corpus. Anyone can recompute
them in about a minute (``run_check``): the tests of the shipped models do,
for the newest versions. The card's own figures stay reproducible with the
commands on the card.
"""

import pathlib
import tempfile

from vocal_xai.data import corpus, synthetic

CHECK_SPLIT_SIZES = {"train": 4, "valid": 4, "test": 4}
CHECK_DURATION = 15.0


def corpus_record(version, splits, seed=0):
    """The record of a check corpus: synthetic corpus ``version`` and
    ``seed``, ``CHECK_SPLIT_SIZES`` songs per split, only ``splits`` written.
    A JSON-ready dict."""
    return {
        "version": int(version),
        "seed": int(seed),
        "split_sizes": dict(CHECK_SPLIT_SIZES),
        "duration": CHECK_DURATION,
        "splits": [s for s in corpus.SPLITS if s in splits],
    }


def make_check_corpus(record, folder):
    """Write the check corpus of ``record`` into ``folder``.

    Returns:
        ``corpus.Corpus`` of the record's splits.
    """
    splits = tuple(record["splits"])
    synthetic.make_corpus(
        folder,
        seed=record["seed"],
        split_sizes=record["split_sizes"],
        duration=record["duration"],
        version=record["version"],
        splits=splits,
    )
    return corpus.read_corpus(folder, splits=splits)


def run_check(record, compute):
    """``compute(songs)`` on the check corpus of ``record``, made in a
    temporary folder that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="vocal_xai_check_") as tmp:
        return compute(make_check_corpus(record, pathlib.Path(tmp) / "corpus"))
