"""The corpus a recipe uses: a real one, or the synthetic default."""

import logging
import os
import pathlib
import shutil

from vocal_xai.data import corpus as corpus_lib
from vocal_xai.errors import ParameterError


def open_corpus(data_dir, default_dir, skip_undecodable=False, seed=0, version=None):
    """Read ``data_dir``; when it is None, read (making it first if needed) the
    synthetic default corpus at ``default_dir``.

    The synthetic corpus is written to a temporary folder and renamed into
    place, so a killed run never leaves half a corpus behind. An existing
    ``default_dir`` must hold the requested version and seed.

    Args:
        data_dir: a corpus in the Jamendo layout, or None.
        default_dir: where the synthetic corpus is (or is made).
        skip_undecodable: skip audio that can't be decoded, with a warning.
        seed: seed of the synthetic corpus.
        version: synthetic corpus version; None for the default version.

    Raises:
        ParameterError: when ``default_dir`` holds another version or seed.
    """
    if data_dir is None:
        from vocal_xai.data import synthetic

        version = synthetic.DEFAULT_VERSION if version is None else version
        default_dir = pathlib.Path(default_dir)
        if not default_dir.is_dir():
            tmp = default_dir.with_name(default_dir.name + f".tmp-{os.getpid()}")
            if tmp.exists():
                shutil.rmtree(tmp)
            logging.info(
                "Making the synthetic default corpus (version %d) in %s", version, default_dir
            )
            synthetic.make_corpus(tmp, seed=seed, version=version)
            try:
                os.rename(tmp, default_dir)
            except OSError:
                if not default_dir.is_dir():
                    raise
                shutil.rmtree(tmp)  # another process made it first
        info = synthetic.corpus_info(default_dir) or {"version": 1}
        if info["version"] != version or info.get("seed", seed) != seed:
            raise ParameterError(
                f"Expected the synthetic corpus in {default_dir} to be version {version} with seed "
                f"{seed}. Received: version {info['version']}, "
                f"seed {info.get('seed', 'unrecorded')}; "
                "remove the folder or pass another one"
            )
        data_dir = default_dir
    return corpus_lib.read_corpus(data_dir, skip_undecodable=skip_undecodable)
