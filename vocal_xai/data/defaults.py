"""The corpus a recipe uses: a real one, or the synthetic default."""

import logging
import os
import pathlib
import shutil

from vocal_xai.data import corpus as corpus_lib


def open_corpus(data_dir, default_dir, skip_undecodable=False, seed=0):
    """Read ``data_dir``; when it is None, read (making it first if needed) the
    synthetic default corpus at ``default_dir``.

    The synthetic corpus is written to a temporary folder and renamed into
    place, so a killed run never leaves half a corpus behind.
    """
    if data_dir is None:
        default_dir = pathlib.Path(default_dir)
        if not default_dir.is_dir():
            from vocal_xai.data import synthetic

            tmp = default_dir.with_name(default_dir.name + f".tmp-{os.getpid()}")
            if tmp.exists():
                shutil.rmtree(tmp)
            logging.info("Making the synthetic default corpus in %s", default_dir)
            synthetic.make_corpus(tmp, seed=seed)
            try:
                os.rename(tmp, default_dir)
            except OSError:
                if not default_dir.is_dir():
                    raise
                shutil.rmtree(tmp)  # another process made it first
        data_dir = default_dir
    return corpus_lib.read_corpus(data_dir, skip_undecodable=skip_undecodable)
