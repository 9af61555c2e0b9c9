"""Corpora in the Jamendo layout.

A corpus is a folder::

    audio/<name>.<wav|flac|ogg|mp3>
    labels/<name>.lab          lines "start end sing|nosing", seconds
    filelists/{train,valid,test}   one name a line, no extension

``read_corpus`` validates everything up front and fails with a ``CorpusError``
naming the file and line, so a bad corpus is caught before any training starts.
"""

import dataclasses
import logging
import math
import os
import pathlib

import numpy as np

from vocal_xai import spectral
from vocal_xai.errors import SKIP_HINT, AudioDecodeError, CorpusError, ParameterError

SPLITS = ("train", "valid", "test")
AUDIO_EXTENSIONS = ("wav", "flac", "ogg", "mp3")
TAGS = {"sing": True, "nosing": False}


@dataclasses.dataclass(frozen=True)
class Segment:
    """A labelled time span in seconds."""

    start: float
    end: float
    vocal: bool

    @property
    def tag(self):
        return "sing" if self.vocal else "nosing"


@dataclasses.dataclass(frozen=True)
class Song:
    """One validated song of a corpus."""

    name: str
    audio_path: pathlib.Path
    label_path: pathlib.Path
    segments: tuple
    sample_rate: int
    num_samples: int
    channels: int
    codec: int  # decode branch of ``audio.decode_audio``

    @property
    def duration(self):
        return self.num_samples / self.sample_rate

    def frame_labels(self, n_frames):
        """0/1 label of each frame at 70 frames/s. [shape=(n_frames,)]"""
        return frame_labels(self.segments, n_frames)


@dataclasses.dataclass(frozen=True)
class Corpus:
    """A validated corpus: songs by split, and files skipped as undecodable."""

    root: pathlib.Path
    splits: dict
    skipped: tuple = ()

    def songs(self, split):
        if split not in self.splits:
            raise ParameterError(
                f"Expected split in {sorted(self.splits)}. Received: split={split!r}"
            )
        return self.splits[split]


def format_lab(segments):
    """Text of a ``.lab`` file for ``segments``."""
    return "".join(f"{s.start:.6f} {s.end:.6f} {s.tag}\n" for s in segments)


def parse_lab(path):
    """Read and validate a ``.lab`` file.

    Raises:
        CorpusError: naming the file and line, for a wrong field count,
            non-numeric, non-finite or negative times, ``end <= start``,
            unknown tags, and unsorted or overlapping segments.
    """
    path = pathlib.Path(path)
    segments = []
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 3:
            raise CorpusError(
                path,
                f"expected 3 fields 'start end sing|nosing'; received {len(fields)}: {line!r}",
                line_no,
            )
        start, end = (_parse_time(path, line_no, f) for f in fields[:2])
        if end <= start:
            raise CorpusError(
                path, f"expected end > start; received start={start}, end={end}", line_no
            )
        tag = fields[2]
        if tag not in TAGS:
            raise CorpusError(path, f"expected tag in {sorted(TAGS)}; received {tag!r}", line_no)
        if segments:
            prev = segments[-1]
            if start < prev.start:
                raise CorpusError(
                    path,
                    f"segments must be sorted by start time; received start={start} "
                    f"after start={prev.start}",
                    line_no,
                )
            if start < prev.end - 1e-6:
                raise CorpusError(
                    path,
                    f"segments must not overlap; received start={start} before the "
                    f"previous end={prev.end}",
                    line_no,
                )
        segments.append(Segment(start, end, TAGS[tag]))
    if not segments:
        raise CorpusError(path, "expected at least one segment; received an empty file")
    return tuple(segments)


def _parse_time(path, line_no, text):
    try:
        value = float(text)
    except ValueError:
        raise CorpusError(
            path, f"expected a time in seconds; received non-numeric {text!r}", line_no
        ) from None
    if not math.isfinite(value) or value < 0:
        raise CorpusError(path, f"expected a finite time >= 0; received {text!r}", line_no)
    return value


def frame_labels(segments, n_frames):
    """Label of each frame centre: 1 inside a ``sing`` segment, else 0.

    Returns:
        int32 labels. [shape=(n_frames,)]
    """
    times = spectral.frame_times(n_frames)
    labels = np.zeros(n_frames, np.int32)
    for seg in segments:
        if seg.vocal:
            labels[(times >= seg.start) & (times < seg.end)] = 1
    return labels


def read_filelist(path):
    """Song names of a filelist, validated to be plain names."""
    path = pathlib.Path(path)
    names = []
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        name = line.strip()
        if not name:
            continue
        if "/" in name or "\\" in name or os.sep in name or ".." in name:
            raise CorpusError(
                path,
                f"expected a plain song name without path separators or '..'; received {name!r}",
                line_no,
            )
        names.append(name)
    return names


def find_audio(root, name):
    """Path of the audio file of song ``name`` under ``root/audio``."""
    for ext in AUDIO_EXTENSIONS:
        candidate = pathlib.Path(root) / "audio" / f"{name}.{ext}"
        if candidate.is_file():
            return candidate
    raise CorpusError(
        pathlib.Path(root) / "audio" / name,
        f"no audio file for song {name!r}; expected one of "
        + ", ".join(f"{name}.{e}" for e in AUDIO_EXTENSIONS),
    )


def read_corpus(
    root,
    splits=SPLITS,
    skip_undecodable=False,
    duration_tolerance=1.0,
):
    """Read and validate a corpus in the Jamendo layout.

    Args:
        root: corpus folder.
        splits: filelists to read.
        skip_undecodable: if True, songs whose audio can't be decoded are left
            out with a warning listing them; if False, they raise.
        duration_tolerance: seconds by which the last label may end before or
            after the audio.

    Returns:
        A ``Corpus``.

    Raises:
        CorpusError: for any malformed or missing file, naming file and line.
        AudioDecodeError: for undecodable audio unless ``skip_undecodable``.
    """
    from vocal_xai.data import audio  # TF-heavy; imported on use

    root = pathlib.Path(root)
    if not root.is_dir():
        raise CorpusError(root, "expected a corpus folder; it does not exist")
    result, skipped = {}, []
    for split in splits:
        filelist = root / "filelists" / split
        if not filelist.is_file():
            raise CorpusError(filelist, f"missing filelist for split {split!r}")
        songs = []
        for name in read_filelist(filelist):
            audio_path = find_audio(root, name)
            label_path = root / "labels" / f"{name}.lab"
            if not label_path.is_file():
                raise CorpusError(label_path, f"missing label file for song {name!r}")
            segments = parse_lab(label_path)
            try:
                info = audio.audio_info(audio_path)
            except AudioDecodeError as err:
                if not skip_undecodable:
                    raise AudioDecodeError(audio_path, f"{err.reason}; {SKIP_HINT}") from None
                skipped.append(audio_path)
                continue
            duration = info.num_samples / info.sample_rate
            label_end = segments[-1].end
            if abs(label_end - duration) > duration_tolerance:
                raise CorpusError(
                    label_path,
                    f"labels end at {label_end:.3f} s but the audio lasts "
                    f"{duration:.3f} s; expected them within {duration_tolerance} s",
                    _count_lines(label_path),
                )
            songs.append(
                Song(
                    name=name,
                    audio_path=audio_path,
                    label_path=label_path,
                    segments=segments,
                    sample_rate=info.sample_rate,
                    num_samples=info.num_samples,
                    channels=info.channels,
                    codec=info.code,
                )
            )
        result[split] = tuple(songs)
    if skipped:
        logging.warning(
            "Skipped %d undecodable audio file(s): %s",
            len(skipped),
            ", ".join(str(p) for p in skipped),
        )
    return Corpus(root=root, splits=result, skipped=tuple(skipped))


def _count_lines(path):
    """1-based number of the last non-blank line of ``path``."""
    lines = pathlib.Path(path).read_text().splitlines()
    return max(i for i, line in enumerate(lines, start=1) if line.strip())
