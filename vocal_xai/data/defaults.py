"""The corpus a recipe uses: a real one, or the synthetic default."""

import logging
import os
import pathlib
import shutil

from vocal_xai.data import corpus as corpus_lib
from vocal_xai.errors import ParameterError


def open_corpus(
    data_dir, default_dir, skip_undecodable=False, seed=0, version=None, splits=corpus_lib.SPLITS
):
    """Read the ``splits`` of ``data_dir``; when it is None, read (making them
    first if needed) those of the synthetic default corpus at ``default_dir``.

    Only the splits asked for are made: a first explanation, which reads the
    valid split, does not wait for the training songs. A split asked for
    later is added to the folder, numbered as in the whole corpus, so a
    folder that holds every split has the same files as one made whole.
    A new folder is written to a temporary one and renamed into place, and a
    split counts as made once its filelist is written, so a killed run never
    leaves half a corpus or half a split behind. An existing ``default_dir``
    must hold the requested version and seed.

    Args:
        data_dir: a corpus in the Jamendo layout, or None.
        default_dir: where the synthetic corpus is (or is made).
        skip_undecodable: skip audio that can't be decoded, with a warning.
        seed: seed of the synthetic corpus.
        version: synthetic corpus version; None for the default version.
        splits: the splits to read (the ``Corpus`` holds only these).

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
                "Making the synthetic default corpus (version %d, %s) in %s",
                version,
                ", ".join(splits),
                default_dir,
            )
            synthetic.make_corpus(tmp, seed=seed, version=version, splits=splits)
            try:
                os.rename(tmp, default_dir)
            except OSError:
                if not default_dir.is_dir():
                    raise
                shutil.rmtree(tmp)  # another process made it first
        _check_default(default_dir, version, seed)
        made = synthetic.splits_made(default_dir)
        missing = [s for s in splits if s not in made]
        if missing:
            logging.info(
                "Adding %s to the synthetic default corpus in %s", ", ".join(missing), default_dir
            )
            synthetic.make_corpus(default_dir, seed=seed, version=version, splits=missing)
        data_dir = default_dir
    return corpus_lib.read_corpus(data_dir, splits=splits, skip_undecodable=skip_undecodable)


def _check_default(default_dir, version, seed):
    from vocal_xai.data import synthetic

    info = synthetic.corpus_info(default_dir) or {"version": 1}
    if info["version"] != version or info.get("seed", seed) != seed:
        raise ParameterError(
            f"Expected the synthetic corpus in {default_dir} to be version {version} with seed "
            f"{seed}. Received: version {info['version']}, "
            f"seed {info.get('seed', 'unrecorded')}; "
            "remove the folder or pass another one"
        )
