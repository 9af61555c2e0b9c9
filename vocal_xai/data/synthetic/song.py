"""What every synthetic song shares: its length, its sing/nosing segments and
its mix.

Labels are exact: the vocal stem is zero outside the ``sing`` segments (its
fades stay inside them), and the mix is normalised to a peak of ``PEAK``.
"""

import dataclasses
import math

import numpy as np

from vocal_xai.data import corpus
from vocal_xai.data.synthetic import dsp, music
from vocal_xai.errors import ParameterError

SAMPLE_RATE = dsp.SAMPLE_RATE
DEFAULT_DURATION = 30.0
MIN_DURATION = 6.0
MAX_DURATION = 3600.0
PEAK = 0.9
SING_REGIONS = (2, 4)
VOCAL_FRACTION = (0.37, 0.63)
VOCAL_FADE = 0.01


@dataclasses.dataclass
class SyntheticSong:
    """One synthesised song.

    Attributes:
        name: song name, ``f"song{index:03d}"``.
        audio: float32 mix at 22050 Hz. [shape=(samples,)]
        vocal: float32 vocal stem as it appears in the mix (same scaling).
            [shape=(samples,)]
        segments: ``corpus.Segment`` tuple covering ``[0, duration]``,
            alternating sing/nosing, sorted and contiguous.
        vocal_to_accompaniment_db: RMS of the vocal over the sing segments
            relative to the RMS of everything else over the same samples, dB.
        singer: the voice type: ``"male"`` or ``"female"`` in version 1, a
            name of ``v2.VOICE_TYPES`` or ``"none"`` (no singing) in version 2.
        voice_kind: how the voice was made: ``"solo"`` (a singer, perhaps
            with backing singers), a key of ``v5.VOCAL_KINDS`` in version 5
            or of ``v6.VOCAL_KINDS`` in version 6, or ``"none"`` for a song without singing.
    """

    name: str
    audio: np.ndarray
    vocal: np.ndarray
    segments: tuple
    vocal_to_accompaniment_db: float
    singer: str
    voice_kind: str = "solo"


def check_int(name, value, minimum):
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, np.integer))
        or value < minimum
    ):
        raise ParameterError(
            f"Expected {name} to be an integer >= {minimum}. Received: {name}={value!r}"
        )


def check_duration(duration):
    if (
        isinstance(duration, (bool, np.bool_))
        or not isinstance(duration, (int, float, np.integer, np.floating))
        or not math.isfinite(duration)
        or not MIN_DURATION <= duration <= MAX_DURATION
    ):
        raise ParameterError(
            f"Expected duration in seconds with {MIN_DURATION} <= duration <= {MAX_DURATION}. "
            f"Received: duration={duration!r}"
        )


def check_song_args(seed, index, duration):
    """Validate the arguments of a version's ``synthesize_song``."""
    check_int("seed", seed, 0)
    check_int("index", index, 0)
    check_duration(duration)


def buffer_sizes(duration):
    """``(n, n_buf_ctrl, n_buf)``: samples of a song of ``duration`` seconds,
    and the control points and samples of the buffers its stems render into
    (whole control intervals, at least ``n`` samples)."""
    n = int(round(duration * SAMPLE_RATE))
    n_buf_ctrl = int(math.ceil(n / dsp.CONTROL_HOP)) + 1
    return n, n_buf_ctrl, (n_buf_ctrl - 1) * dsp.CONTROL_HOP


def plan_segments(rng, duration):
    """Alternating nosing/sing segments covering ``[0, duration]``.

    Returns:
        Tuple of ``corpus.Segment``, times on a millisecond grid.
    """
    n_sing = int(rng.integers(SING_REGIONS[0], SING_REGIONS[1] + 1))
    fraction = rng.uniform(*VOCAL_FRACTION)
    total_ms = int(round(duration * 1000))
    sing_ms = fraction * total_ms
    ends_with_sing = rng.random() < 0.2
    n_gaps = n_sing if ends_with_sing else n_sing + 1
    gap_ms = total_ms - sing_ms
    min_sing = min(2000.0, 0.6 * sing_ms / n_sing)
    min_gap = min(1000.0, 0.5 * gap_ms / n_gaps)
    sings = min_sing + (sing_ms - n_sing * min_sing) * rng.dirichlet(np.full(n_sing, 4.0))
    gaps = min_gap + (gap_ms - n_gaps * min_gap) * rng.dirichlet(np.full(n_gaps, 3.0))
    lengths = []
    for i in range(n_sing):
        lengths += [(gaps[i], False), (sings[i], True)]
    if not ends_with_sing:
        lengths.append((gaps[-1], False))
    bounds = np.round(np.cumsum([0.0] + [length for length, _ in lengths])).astype(np.int64)
    bounds[-1] = total_ms
    return tuple(
        corpus.Segment(bounds[i] / 1000.0, bounds[i + 1] / 1000.0, vocal)
        for i, (_, vocal) in enumerate(lengths)
    )


def region_mask(segments, n, vocal=True):
    """Samples inside the segments with ``vocal`` label. [shape=(n,)] bool"""
    mask = np.zeros(n, bool)
    for seg in segments:
        if seg.vocal == vocal:
            i0 = int(math.ceil(seg.start * SAMPLE_RATE))
            i1 = min(n - 1, int(math.floor(seg.end * SAMPLE_RATE)))
            mask[i0 : i1 + 1] = True
    return mask


def vocal_gate(segments, n):
    """1 inside sing segments with short fades that stay inside. [shape=(n,)]"""
    gate = np.zeros(n)
    fade = VOCAL_FADE * SAMPLE_RATE
    for seg in segments:
        if not seg.vocal:
            continue
        i0 = int(math.ceil(seg.start * SAMPLE_RATE))
        i1 = min(n - 1, int(math.floor(seg.end * SAMPLE_RATE)))
        i = np.arange(i0, i1 + 1)
        gate[i0 : i1 + 1] = np.clip(np.minimum(i - i0, i1 - i) / fade, 0.0, 1.0)
    return gate


def mix_leads(stems, backing, n):
    """Lead stems at their levels relative to the backing. [shape=(n,)]

    Args:
        stems: ``(section, stem, gain_db)`` per section where a lead plays:
            the stem at an arbitrary level [shape=(>= n,)] goes into the mix
            ``gain_db`` above the backing's RMS over that section.
        backing: the backing stem. [shape=(n,)]
        n: samples of the song.
    """
    leads = np.zeros(n)
    for seg, stem, gain_db in stems:
        section = region_mask((seg,), n, seg.vocal)
        stem_rms, backing_rms = dsp.rms(stem[:n][section]), dsp.rms(backing[section])
        if stem_rms > 0.0 and backing_rms > 0.0:
            leads += stem[:n] * (backing_rms / stem_rms * 10.0 ** (gain_db / 20.0))
    return leads


def lead_stem(rng, plan, span, register, n_buf, inst, plan_phrase, render_phrase):
    """A lead instrument's stem over ``span``: phrases with short rests.

    Args:
        rng: random generator.
        plan: the song plan (``music.plan_song``).
        span: ``(start, stop)`` of the lead, s.
        register: MIDI range ``(low, high)`` of its melodies.
        n_buf: samples of the stem.
        inst: the instrument.
        plan_phrase: ``plan_phrase(rng, onset, duration, midi, inst)`` gives
            the ``music.Notes`` of a phrase.
        render_phrase: ``render_phrase(rng, notes, inst)`` plays them.

    Returns:
        float64 samples, zero outside ``span``. [shape=(n_buf,)]
    """
    stem = np.zeros(n_buf)
    for t, length in phrase_spans(rng, span):
        onset, dur, midi = music.melody(rng, 0.0, length, plan, register)
        if len(onset):
            notes = plan_phrase(rng, onset, dur, midi, inst)
            phrase = render_phrase(rng, notes, inst)
            dsp.add_at(stem, int(round(t * dsp.CONTROL_RATE)) * dsp.CONTROL_HOP, phrase)
    return stem


def phrase_spans(rng, span):
    """Lay out a lead's phrases over ``span`` (``(start, stop)``, s), with
    short rests, drawing as it goes: the rest after a phrase is drawn once
    the caller has taken it, so a caller may draw the phrase's notes first.

    Yields:
        ``(start s, length s)`` per phrase.
    """
    a, b = span
    t = a
    while b - t > 0.8:
        length = min(b - t, rng.uniform(1.5, 5.0))
        if b - t - length < 0.8:
            length = b - t
        yield t, length
        t += length + rng.uniform(0.1, 0.8)
