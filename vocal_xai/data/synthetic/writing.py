"""Writing a synthetic corpus folder in the Jamendo layout, and reading back
what it holds (``synthetic.json``, counts).

The same arguments give byte-identical files: every file is written through
a temporary name and renamed.
"""

import dataclasses
import json
import multiprocessing
import os
import pathlib

import numpy as np
import soundfile

from vocal_xai import spectral
from vocal_xai.data import corpus
from vocal_xai.data.synthetic import song, versions
from vocal_xai.errors import ParameterError

INFO_FILE = "synthetic.json"


@dataclasses.dataclass(frozen=True)
class CorpusSummary:
    """Counts of a corpus folder: songs per split, minutes, vocal frames."""

    songs_per_split: dict
    minutes: float
    vocal_fraction: float


def corpus_info(root):
    """The version, seed and split sizes a synthetic corpus was made with
    (``synthetic.json``), or None for a folder without it: a version 1
    synthetic corpus, or a real one."""
    path = pathlib.Path(root) / INFO_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def splits_made(root):
    """The splits of a corpus folder that are whole: a split counts once its
    filelist is written, after its songs (``make_corpus``)."""
    return [s for s in corpus.SPLITS if (pathlib.Path(root) / "filelists" / s).is_file()]


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
    track = versions.synthesize_song(seed, index, duration, version)
    _write_atomic(
        out_dir / "audio" / f"{track.name}.flac",
        lambda p: soundfile.write(
            p, track.audio, song.SAMPLE_RATE, format="FLAC", subtype="PCM_16"
        ),
    )
    _write_atomic(
        out_dir / "labels" / f"{track.name}.lab",
        lambda p: p.write_text(corpus.format_lab(track.segments)),
    )
    return track.name


def make_corpus(
    out_dir,
    seed=0,
    split_sizes=None,
    duration=song.DEFAULT_DURATION,
    workers=2,
    version=versions.DEFAULT_VERSION,
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
    (read it with ``corpus.read_corpus(root, splits=...)``); written into a
    folder that holds other splits of the same corpus, they join them in
    ``synthetic.json``, so a folder made split by split ends with the files
    of one made whole.

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
        ParameterError: for an invalid argument, or a missing renderer of
            version 5 (``versions.check_tools``).
    """
    if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir):
        raise ParameterError(f"Expected out_dir to be a path. Received: out_dir={out_dir!r}")
    versions.check_version(version)
    versions.check_tools(version)
    song.check_int("seed", seed, 0)
    split_sizes = (
        dict(versions.VERSIONS[version].DEFAULT_SPLIT_SIZES) if split_sizes is None else split_sizes
    )
    _check_split_sizes(split_sizes)
    song.check_duration(duration)
    song.check_int("workers", workers, 1)
    if isinstance(splits, str) or not set(splits) <= set(corpus.SPLITS) or not splits:
        raise ParameterError(
            f"Expected splits to be a non-empty subset of {list(corpus.SPLITS)}. "
            f"Received: splits={splits!r}"
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
        info = {
            "version": version,
            "seed": int(seed),
            "split_sizes": split_sizes,
            "duration": duration,
        }
        # Splits added to a folder that holds others of the same corpus join
        # them: every split whose filelist is there (which also holds when two
        # processes add splits at once).
        made = set(splits)
        before = corpus_info(out_dir)
        if before is not None and {k: v for k, v in before.items() if k != "splits"} == info:
            made |= set(splits_made(out_dir))
        if made != set(corpus.SPLITS):
            info["splits"] = [s for s in corpus.SPLITS if s in made]
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
                segments, spectral.num_frames(int(round(length * song.SAMPLE_RATE)))
            )
            seconds += length
            vocal_frames += int(labels.sum())
            frames += len(labels)
    return CorpusSummary(
        songs_per_split=counts,
        minutes=seconds / 60.0,
        vocal_fraction=vocal_frames / max(frames, 1),
    )
