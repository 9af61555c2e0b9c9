"""Deterministic synthetic singing-voice corpora in the Jamendo layout.

Two versions, chosen by ``version``; each is reproducible byte for byte from
its seed:

* version 1 (``v1``): a source-filter singer, non-vocal melodic leads with
  static spectral envelopes, and a backing band. Detectors 1-3 trained on it.
* version 2 (``v2``, the default): version 1's singer with more voice types,
  vibrato styles, consonant-rich and breathy singing and harmonised backing
  vocals, against the non-vocal sounds of real music (string sections, winds
  and brass, plucked and struck instruments, detuned unisons, heavy
  percussion), with room reverberation and mastering on the whole mix
  (``instruments``, ``effects``).

``make_corpus`` writes a corpus folder; ``synthesize_song`` makes one song.
"""

import json
import multiprocessing
import os
import pathlib

import numpy as np
import soundfile

from vocal_xai import spectral
from vocal_xai.data import corpus
from vocal_xai.data.synthetic import v1, v2
from vocal_xai.data.synthetic.v1 import (  # noqa: F401  (the version 1 API, as it always was)
    DEFAULT_DURATION,
    MAX_DURATION,
    MIN_DURATION,
    SAMPLE_RATE,
    CorpusSummary,
    SyntheticSong,
    _check_duration,
    _check_int,
)
from vocal_xai.errors import ParameterError

VERSIONS = {1: v1, 2: v2}
DEFAULT_VERSION = 2
INFO_FILE = "synthetic.json"
DEFAULT_SPLIT_SIZES = v2.DEFAULT_SPLIT_SIZES


def _check_version(version):
    if isinstance(version, (bool, np.bool_)) or version not in VERSIONS:
        raise ParameterError(
            f"Expected version in {sorted(VERSIONS)}. Received: version={version!r}"
        )


def synthesize_song(seed, index, duration=DEFAULT_DURATION, version=DEFAULT_VERSION):
    """Synthesise one song of corpus ``version``, deterministically from
    ``(seed, index)``.

    Args:
        seed: corpus seed, integer >= 0.
        index: song number, integer >= 0; the song is named
            ``f"song{index:03d}"``.
        duration: seconds, ``MIN_DURATION <= duration <= MAX_DURATION``.
        version: corpus version, one of ``VERSIONS``.

    Returns:
        A ``SyntheticSong`` with ``round(duration * 22050)`` samples.

    Raises:
        ParameterError: for an invalid argument.
    """
    _check_version(version)
    return VERSIONS[version].synthesize_song(seed, index, duration)


def corpus_info(root):
    """The version, seed and split sizes a synthetic corpus was made with
    (``synthetic.json``), or None for a folder without it: a version 1
    synthetic corpus, or a real one."""
    path = pathlib.Path(root) / INFO_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def _check_split_sizes(split_sizes):
    if not isinstance(split_sizes, dict) or set(split_sizes) != set(corpus.SPLITS):
        raise ParameterError(
            f"Expected split_sizes to be a dict with keys {list(corpus.SPLITS)}. "
            f"Received: split_sizes={split_sizes!r}"
        )
    for split, size in split_sizes.items():
        if (
            isinstance(size, (bool, np.bool_))
            or not isinstance(size, (int, np.integer))
            or size < 0
        ):
            raise ParameterError(
                f"Expected split_sizes[{split!r}] to be an integer >= 0. "
                f"Received: split_sizes={split_sizes!r}"
            )
    if sum(split_sizes.values()) < 1:
        raise ParameterError(
            f"Expected split_sizes to hold at least one song. Received: split_sizes={split_sizes!r}"
        )


def parse_split_sizes(values):
    """``["96", "24", "24"]`` (train, valid, test) -> split sizes dict.

    Raises:
        ParameterError: unless there are three integers >= 0.
    """
    try:
        sizes = [int(v) for v in values]
    except (TypeError, ValueError):
        sizes = None
    if sizes is None or len(sizes) != len(corpus.SPLITS) or min(sizes) < 0:
        raise ParameterError(
            f"Expected three song counts >= 0 for {','.join(corpus.SPLITS)}. Received: {values!r}"
        )
    split_sizes = dict(zip(corpus.SPLITS, sizes))
    _check_split_sizes(split_sizes)
    return split_sizes


def _write_atomic(path, write):
    """Write ``path`` through a temporary name in the same folder and rename."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_song(job):
    """Synthesise one song and write its audio and labels. Returns its name."""
    out_dir, seed, index, duration, version = job
    song = synthesize_song(seed, index, duration, version)
    _write_atomic(
        out_dir / "audio" / f"{song.name}.flac",
        lambda p: soundfile.write(p, song.audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16"),
    )
    _write_atomic(
        out_dir / "labels" / f"{song.name}.lab",
        lambda p: p.write_text(corpus.format_lab(song.segments)),
    )
    return song.name


def make_corpus(
    out_dir,
    seed=0,
    split_sizes=None,
    duration=DEFAULT_DURATION,
    workers=2,
    version=DEFAULT_VERSION,
    splits=corpus.SPLITS,
):
    """Write a synthetic corpus in the Jamendo layout.

    Writes ``out_dir/audio/<name>.flac`` (16-bit, 22050 Hz, mono),
    ``out_dir/labels/<name>.lab`` and ``out_dir/filelists/{train,valid,test}``;
    from version 2 on, also ``out_dir/synthetic.json`` (version, seed, split
    sizes, duration). Songs are numbered across the splits in the order train,
    valid, test. The same arguments give byte-identical files; version 1
    writes exactly the files it always has. With ``splits``, only those
    splits' songs and filelists are written, numbered as in the whole corpus
    (read it with ``corpus.read_corpus(root, splits=...)``).

    Args:
        out_dir: corpus folder, created if missing.
        seed: integer >= 0.
        split_sizes: dict ``{"train": n, "valid": n, "test": n}``; defaults to
            the version's ``DEFAULT_SPLIT_SIZES``.
        duration: seconds per song.
        workers: processes synthesising songs; 1 runs in this process.
        version: corpus version, one of ``VERSIONS``.
        splits: the splits to write, a subset of ``corpus.SPLITS``.

    Returns:
        ``pathlib.Path`` of ``out_dir``.

    Raises:
        ParameterError: for an invalid argument.
    """
    if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir):
        raise ParameterError(f"Expected out_dir to be a path. Received: out_dir={out_dir!r}")
    _check_version(version)
    _check_int("seed", seed, 0)
    split_sizes = dict(VERSIONS[version].DEFAULT_SPLIT_SIZES) if split_sizes is None else split_sizes
    _check_split_sizes(split_sizes)
    _check_duration(duration)
    _check_int("workers", workers, 1)
    if isinstance(splits, str) or not set(splits) <= set(corpus.SPLITS) or not splits:
        raise ParameterError(
            f"Expected splits to be a non-empty subset of {list(corpus.SPLITS)}. Received: splits={splits!r}"
        )

    out_dir = pathlib.Path(out_dir)
    for sub in ("audio", "labels", "filelists"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    names, jobs, index = {}, [], 0
    for split in corpus.SPLITS:
        names[split] = []
        for _ in range(split_sizes[split]):
            if split in splits:
                jobs.append((out_dir, int(seed), index, float(duration), version))
                names[split].append(f"song{index:03d}")
            index += 1

    # Synthesise and write the songs, in parallel when asked to.
    if workers == 1 or len(jobs) <= 1:
        for job in jobs:
            _write_song(job)
    else:
        with multiprocessing.Pool(min(workers, len(jobs))) as pool:
            pool.map(_write_song, jobs, chunksize=1)

    for split in (s for s in corpus.SPLITS if s in splits):
        text = "".join(f"{name}\n" for name in names[split])
        _write_atomic(out_dir / "filelists" / split, lambda p, text=text: p.write_text(text))
    if version > 1:
        info = {"version": version, "seed": int(seed), "split_sizes": split_sizes, "duration": duration}
        if tuple(splits) != corpus.SPLITS:
            info["splits"] = [s for s in corpus.SPLITS if s in splits]
        text = json.dumps(info, indent=1, sort_keys=True) + "\n"
        _write_atomic(out_dir / INFO_FILE, lambda p: p.write_text(text))
    return out_dir


def summarize_corpus(root, splits=corpus.SPLITS):
    """Songs per split, total minutes and fraction of vocal frames.

    Reads only the filelists and ``.lab`` files (the labels cover each song).

    Returns:
        ``CorpusSummary``.
    """
    root = pathlib.Path(root)
    counts, seconds, vocal_frames, frames = {}, 0.0, 0, 0
    for split in splits:
        song_names = corpus.read_filelist(root / "filelists" / split)
        counts[split] = len(song_names)
        for name in song_names:
            segments = corpus.parse_lab(root / "labels" / f"{name}.lab")
            length = segments[-1].end
            labels = corpus.frame_labels(
                segments, spectral.num_frames(int(round(length * SAMPLE_RATE)))
            )
            seconds += length
            vocal_frames += int(labels.sum())
            frames += len(labels)
    return CorpusSummary(
        songs_per_split=counts,
        minutes=seconds / 60.0,
        vocal_fraction=vocal_frames / max(frames, 1),
    )
