"""Where a detector misses the singer: its test errors by the singer's level
and by the kind of voice.

A frame error says how often a detector is wrong, not why. On a synthetic
corpus the singer's stem is known: every song is synthesised again from the
corpus's seed (``synthetic.json``), so each frame's level of the voice
against the rest of the mix can be measured, and the vocal frames a detector
misses can be counted per level. Misses where the singer is far below the
accompaniment (a rest or a breath inside a sung phrase, a voice buried in a
tutti) are ones any detector is hard put to avoid; misses where the singer
is clearly on top count against the detector.

The level of a frame is the ratio, in dB, of the Hann-windowed energy of the
vocal stem to that of the accompaniment (the mix minus the vocal), over the
same 1024-sample frames at hop 315 as the log-mel (``spectral``). The kind
of voice is the song's ``voice_kind`` (a solo singer, an ensemble, sampled
voices, ...), so that a detector's errors can be read per kind.
"""

import dataclasses

import numpy as np
import soundfile

from vocal_xai import progressbar, spectral
from vocal_xai.data import synthetic
from vocal_xai.errors import CorpusError, ParameterError

# Edges of the level bins, dB (the first and last bins are open).
EDGES_DB = (-30.0, -20.0, -10.0, -5.0, 0.0, 5.0, 10.0)
# Energy floor of a frame, so that silence has a finite level.
_FLOOR = 1e-12
# Largest difference between a stored song and the same song synthesised
# again: the stored audio is 16-bit PCM, so one quantisation step and a half.
_TOLERANCE = 1.5 / 32768


def frame_levels(vocal, accompaniment):
    """The singer's level against the accompaniment in every log-mel frame.

    Args:
        vocal: the vocal stem as it sounds in the mix. [shape=(samples,)]
        accompaniment: everything else in the mix. [shape=(samples,)]

    Returns:
        float64 dB, vocal energy over accompaniment energy.
        [shape=(spectral.num_frames(samples),)]

    Raises:
        ParameterError: if the two differ in shape or are not 1-D.
    """
    vocal, accompaniment = np.asarray(vocal, np.float64), np.asarray(accompaniment, np.float64)
    if vocal.ndim != 1 or vocal.shape != accompaniment.shape:
        raise ParameterError(
            "Expected two 1-D signals of one length. "
            f"Received: shapes {vocal.shape} and {accompaniment.shape}"
        )
    n = spectral.num_frames(vocal.size)
    window = np.hanning(spectral.FRAME_LENGTH + 1)[:-1] ** 2  # periodic Hann, squared

    def energy(x):
        if n == 0:
            return np.zeros(0)
        frames = np.lib.stride_tricks.sliding_window_view(x, spectral.FRAME_LENGTH)
        return frames[:: spectral.HOP_LENGTH][:n] ** 2 @ window

    return 10.0 * np.log10((energy(vocal) + _FLOOR) / (energy(accompaniment) + _FLOOR))


def synthesize_again(songs, split, progress=False):
    """Every song of ``split`` of a synthetic corpus, synthesised again from
    its seed and checked against the stored audio.

    Args:
        songs: a ``corpus.Corpus`` (``corpus.read_corpus``) made by
            ``synthetic.make_corpus``.
        split: the split whose songs are made.
        progress: show a progress bar over the songs (a few seconds each).

    Returns:
        dict song name -> ``synthetic.SyntheticSong``.

    Raises:
        CorpusError: if the corpus has no ``synthetic.json``, a song name is
            not ``songNNN``, or a song synthesised again differs from the
            stored audio (a corpus changed after it was made, or made on
            another kind of machine).
    """
    info = synthetic.corpus_info(songs.root)
    if info is None:
        raise CorpusError(
            songs.root / synthetic.INFO_FILE,
            "expected a synthetic corpus, whose seed and version give its singers' stems; "
            "the file does not exist",
        )
    tracks = songs.songs(split)
    if progress:
        print(f"the {split} split's singers, synthesised again ({len(tracks)} songs)", flush=True)
    bar = progressbar.bar(len(tracks), "song", progress)
    made_again = {}
    for track in tracks:
        if not (track.name.startswith("song") and track.name[4:].isdigit()):
            raise CorpusError(track.audio_path, f"expected a song named songNNN; got {track.name}")
        made = synthetic.synthesize_song(
            info["seed"], int(track.name[4:]), info["duration"], info["version"]
        )
        stored, _ = soundfile.read(track.audio_path, dtype="float32")
        difference = (
            np.inf
            if stored.shape != made.audio.shape
            else float(np.max(np.abs(stored - made.audio), initial=0.0))
        )
        if difference > _TOLERANCE:
            raise CorpusError(
                track.audio_path,
                f"expected the song that seed {info['seed']} of version {info['version']} "
                f"makes (within {_TOLERANCE:.1e}); it differs by {difference:.3g}",
            )
        made_again[track.name] = made
        bar.add(1)
    return made_again


def song_levels(made):
    """``frame_levels`` of a ``synthetic.SyntheticSong``. [shape=(frames,)]"""
    return frame_levels(made.vocal, made.audio - made.vocal)


@dataclasses.dataclass(frozen=True)
class LevelRow:
    """Vocal frames whose level lies in ``[low_db, high_db)``."""

    low_db: float  # -inf for the first bin
    high_db: float  # inf for the last bin
    vocal_frames: int
    share_of_vocal: float  # of all vocal frames
    missed: float  # share of these frames called non-vocal
    error_share: float  # these misses, as a share of all frames

    @classmethod
    def from_dict(cls, row):
        """The inverse of ``row_dict``."""
        low = -np.inf if row["low_db"] is None else row["low_db"]
        high = np.inf if row["high_db"] is None else row["high_db"]
        return cls(**{**row, "low_db": low, "high_db": high})

    @property
    def label(self):
        if np.isneginf(self.low_db):
            return f"below {self.high_db:g} dB"
        if np.isposinf(self.high_db):
            return f"{self.low_db:g} dB and above"
        return f"{self.low_db:g} to {self.high_db:g} dB"


def row_dict(row):
    """A ``LevelRow`` as a JSON-ready dict (an open end is None)."""
    out = dataclasses.asdict(row)
    for key in ("low_db", "high_db"):
        out[key] = None if np.isinf(out[key]) else out[key]
    return out


def misses_by_level(calls, labels, levels, edges=EDGES_DB):
    """The vocal frames a detector misses, per level bin.

    Args:
        calls: 0/1 decisions per song (vocal = 1). [shape=(frames,)] each
        labels: 0/1 labels per song. [shape=(frames,)] each
        levels: ``frame_levels`` per song. [shape=(frames,)] each
        edges: increasing bin edges, dB.

    Returns:
        list of ``LevelRow``, one per bin, lowest first.

    Raises:
        ParameterError: for songs of unequal lengths or edges not increasing.
    """
    edges = np.asarray(edges, np.float64)
    if edges.ndim != 1 or edges.size == 0 or np.any(np.diff(edges) <= 0):
        raise ParameterError(f"Expected increasing edges. Received: edges={edges.tolist()}")
    if not len(calls) == len(labels) == len(levels):
        raise ParameterError(
            "Expected calls, labels and levels of as many songs. "
            f"Received: {len(calls)}, {len(labels)} and {len(levels)}"
        )
    for i, (c, y, v) in enumerate(zip(calls, labels, levels, strict=True)):
        if not len(c) == len(y) == len(v):
            raise ParameterError(
                f"Expected calls, labels and levels of one length per song. "
                f"Received: song {i} with {len(c)}, {len(y)} and {len(v)}"
            )
    call = np.concatenate(calls).astype(bool)
    vocal = np.concatenate(labels).astype(bool)
    level = np.concatenate(levels)
    bins = np.digitize(level, edges)  # 0 .. len(edges)
    bounds = np.concatenate([[-np.inf], edges, [np.inf]])
    total_vocal = max(int(vocal.sum()), 1)
    rows = []
    for b in range(len(bounds) - 1):
        inside = vocal & (bins == b)
        count = int(inside.sum())
        misses = int(np.sum(inside & ~call))
        rows.append(
            LevelRow(
                low_db=float(bounds[b]),
                high_db=float(bounds[b + 1]),
                vocal_frames=count,
                share_of_vocal=count / total_vocal,
                missed=misses / count if count else 0.0,
                error_share=misses / max(call.size, 1),
            )
        )
    return rows


def format_table(rows):
    """A plain-text table of ``misses_by_level``."""
    width = max(len(r.label) for r in rows)
    lines = [
        f"{'singer vs the rest':<{width}}{'vocal frames':>14}{'of vocal':>10}"
        f"{'missed':>8}{'of all frames':>15}"
    ]
    for r in rows:
        lines.append(
            f"{r.label:<{width}}{r.vocal_frames:>14d}{r.share_of_vocal:>10.1%}"
            f"{r.missed:>8.1%}{r.error_share:>15.2%}"
        )
    return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class KindRow:
    """The frames of the songs whose voice is of one kind."""

    kind: str  # ``SyntheticSong.voice_kind``
    songs: int
    vocal_frames: int
    missed: float  # share of the vocal frames called non-vocal
    non_vocal_frames: int
    false_alarms: float  # share of the non-vocal frames called vocal
    error: float  # share of these songs' frames called wrongly


def errors_by_kind(calls, labels, kinds):
    """A detector's errors per kind of voice, song by song.

    Args:
        calls: 0/1 decisions per song (vocal = 1). [shape=(frames,)] each
        labels: 0/1 labels per song. [shape=(frames,)] each
        kinds: the kind of voice of each song (``"none"``: no singing).

    Returns:
        list of ``KindRow``, one per kind, in order of first appearance.

    Raises:
        ParameterError: for songs of unequal lengths or unequal counts.
    """
    if not len(calls) == len(labels) == len(kinds):
        raise ParameterError(
            "Expected calls, labels and kinds of as many songs. "
            f"Received: {len(calls)}, {len(labels)} and {len(kinds)}"
        )
    totals = {}
    for i, (c, y, kind) in enumerate(zip(calls, labels, kinds, strict=True)):
        if len(c) != len(y):
            raise ParameterError(
                "Expected calls and labels of one length per song. "
                f"Received: song {i} with {len(c)} and {len(y)}"
            )
        c, y = np.asarray(c).astype(bool), np.asarray(y).astype(bool)
        t = totals.setdefault(kind, np.zeros(5, np.int64))
        t += (1, y.sum(), (y & ~c).sum(), (~y).sum(), (~y & c).sum())
    rows = []
    for kind, (songs, vocal, missed, non_vocal, false) in totals.items():
        rows.append(
            KindRow(
                kind=str(kind),
                songs=int(songs),
                vocal_frames=int(vocal),
                missed=missed / vocal if vocal else 0.0,
                non_vocal_frames=int(non_vocal),
                false_alarms=false / non_vocal if non_vocal else 0.0,
                error=(missed + false) / max(vocal + non_vocal, 1),
            )
        )
    return rows


def format_kind_table(rows):
    """A plain-text table of ``errors_by_kind``."""
    width = max([len("kind of voice")] + [len(r.kind) for r in rows])
    lines = [
        f"{'kind of voice':<{width}}{'songs':>7}{'vocal frames':>14}{'missed':>8}"
        f"{'false alarms':>14}{'error':>8}"
    ]
    for r in rows:
        lines.append(
            f"{r.kind:<{width}}{r.songs:>7d}{r.vocal_frames:>14d}{r.missed:>8.1%}"
            f"{r.false_alarms:>14.1%}{r.error:>8.2%}"
        )
    return "\n".join(lines)
