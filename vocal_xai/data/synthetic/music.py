"""Keys, chords, melodies and the expression of a line of notes.

A song plan (``plan_song``) is a dict: duration, mode, root, beat and bar
lengths (s), the offset of the first bar (s, <= 0), the chords (pitch classes)
with their start and stop times (s), and the singer's sex.
"""

import dataclasses

import numpy as np

from vocal_xai.data.synthetic import dsp

SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
# Chord progressions as 0-based scale degrees.
PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 4, 3), (1, 4, 0, 5), (0, 3, 0, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2), (0, 5, 3, 4)),
}

# Beat values of melody notes and their probabilities.
_NOTE_BEATS = np.array([0.5, 1.0, 1.5, 2.0, 3.0])
_NOTE_BEAT_PROBS = np.array([0.35, 0.35, 0.1, 0.15, 0.05])
_MAX_NOTE = 2.0


@dataclasses.dataclass(frozen=True)
class Notes:
    """A legato line of notes; times in seconds from the start of a phrase.

    Every field is an array with one entry per note.
    """

    onset: np.ndarray
    duration: np.ndarray
    midi: np.ndarray
    gain_db: np.ndarray
    glide: np.ndarray  # portamento time into the note, s
    vib_rate: np.ndarray  # Hz
    vib_depth: np.ndarray  # peak-to-peak, cents
    vib_delay: np.ndarray  # s after the onset
    vib_ramp: np.ndarray  # s to reach full depth
    vib_phase: np.ndarray  # rad

    @property
    def end(self):
        return float(self.onset[-1] + self.duration[-1])


def plan_song(rng, duration):
    """Key, tempo, chords and voice type of a song."""
    mode = "major" if rng.random() < 0.6 else "minor"
    root = int(rng.integers(0, 12))
    beat = 60.0 / rng.uniform(72.0, 150.0)
    bar = beat * (3 if rng.random() < 0.15 else 4)
    progressions = PROGRESSIONS[mode]
    progression = progressions[int(rng.integers(0, len(progressions)))]
    chord_len = bar * (2 if bar < 1.8 and rng.random() < 0.4 else 1)
    bar_offset = -rng.uniform(0.0, bar)
    n_chords = int((duration - bar_offset) / chord_len) + 1
    scale = SCALES[mode]
    chords, starts = [], []
    for c in range(n_chords):
        degree = progression[c % len(progression)]
        size = 4 if rng.random() < 0.25 else 3
        chords.append(tuple((root + scale[(degree + 2 * j) % 7]) % 12 for j in range(size)))
        starts.append(bar_offset + c * chord_len)
    starts = np.array(starts)
    return {
        "duration": duration,
        "mode": mode,
        "root": root,
        "beat": beat,
        "bar": bar,
        "bar_offset": bar_offset,
        "chords": chords,
        "chord_starts": starts,
        "chord_stops": starts + chord_len,
        "singer": "female" if rng.random() < 0.5 else "male",
    }


def sub_register(rng, register):
    """A 12-19 semitone range of MIDI notes inside ``register`` (low, high)."""
    lo, hi = register
    low = int(rng.integers(lo, max(lo + 1, hi - 12 + 1)))
    return low, int(min(hi, low + int(rng.integers(12, 20))))


def chord_at(plan, t):
    """Pitch classes of the chord sounding at time ``t``."""
    i = int(
        np.clip(
            np.searchsorted(plan["chord_starts"], t, side="right") - 1, 0, len(plan["chords"]) - 1
        )
    )
    return plan["chords"][i]


def chord_midi(pcs, low):
    """MIDI notes of pitch classes ``pcs`` placed in ``[low, low + 12)``."""
    return np.array([low + (pc - low) % 12 for pc in pcs], np.float64)


def scale_pitches(plan, low, high):
    """MIDI notes of the song's scale in ``[low, high)``, ascending."""
    pcs = {(plan["root"] + s) % 12 for s in SCALES[plan["mode"]]}
    return np.array([p for p in range(low, high) if p % 12 in pcs])


def diatonic_shift(midi, steps, plan):
    """Move each note ``steps`` degrees along the song's scale."""
    pitches = scale_pitches(plan, 12, 108)
    pos = np.searchsorted(pitches, np.round(midi))
    return pitches[np.clip(pos + steps, 0, len(pitches) - 1)].astype(np.float64)


def melody(rng, start, end, plan, register, min_note=0.12):
    """Onsets, durations and MIDI pitches of notes filling ``[start, end)``.

    Pitches walk over the song's scale inside ``register`` and favour the
    tones of the chord sounding at each onset.
    """
    lo, hi = register
    pitches = scale_pitches(plan, lo, hi + 1)
    pos = int(rng.integers(len(pitches) // 4, max(len(pitches) // 4 + 1, 3 * len(pitches) // 4)))
    steps = np.arange(-3, 4)
    step_weights = np.array([0.05, 0.15, 0.25, 0.1, 0.25, 0.15, 0.05])
    onsets, durations, midi = [], [], []
    t = start
    while end - t > min_note:
        d = float(rng.choice(_NOTE_BEATS, p=_NOTE_BEAT_PROBS)) * plan["beat"]
        d = min(max(d, min_note), _MAX_NOTE)
        if end - t - d < 1.5 * min_note:
            d = end - t
        chord = chord_at(plan, t)
        cand = np.clip(pos + steps, 0, len(pitches) - 1)
        w = step_weights * np.where(np.isin(pitches[cand] % 12, chord), 2.0, 1.0)
        pos = int(rng.choice(cand, p=w / w.sum()))
        onsets.append(t)
        durations.append(d)
        midi.append(float(pitches[pos]))
        t += d
    return np.array(onsets), np.array(durations), np.array(midi)


def make_notes(rng, onset, duration, midi, vibrato, vib_rate, vib_depth, glide, gain_std_db):
    """Expression for a line of notes.

    Args:
        rng: random generator.
        onset, duration, midi: per-note arrays (s, s, MIDI).
        vibrato: per-note booleans, vibrato or not.
        vib_rate: (low, high) Hz.
        vib_depth: (low, high) peak-to-peak cents.
        glide: per-note portamento time into each note, s.
        gain_std_db: std of the per-note gain, dB.

    Returns:
        ``Notes``.
    """
    n = len(onset)
    onset = np.asarray(onset, np.float64)
    duration = np.asarray(duration, np.float64)
    depth = np.where(vibrato, rng.uniform(vib_depth[0], vib_depth[1], n), 0.0)
    return Notes(
        onset=onset,
        duration=duration,
        midi=np.asarray(midi, np.float64),
        gain_db=gain_std_db * rng.standard_normal(n),
        glide=np.asarray(glide, np.float64),
        vib_rate=rng.uniform(vib_rate[0], vib_rate[1], n),
        vib_depth=depth,
        vib_delay=rng.uniform(0.1, 0.45, n) * duration + rng.uniform(0.0, 0.1, n),
        vib_ramp=np.maximum(rng.uniform(0.15, 0.4, n) * duration, 0.05),
        vib_phase=rng.uniform(0.0, 2.0 * np.pi, n),
    )


def pitch_contour(t, notes, scoop_semitones=0.0):
    """MIDI pitch at times ``t`` with portamento and delayed vibrato.

    Args:
        t: times from the phrase start, s. [shape=(n,)]
        notes: the phrase's ``Notes``.
        scoop_semitones: the first note glides up from this far below.

    Returns:
        Fractional MIDI pitch. [shape=(n,)]
    """
    idx = np.clip(np.searchsorted(notes.onset, t, side="right") - 1, 0, len(notes.onset) - 1)
    since = t - notes.onset[idx]
    # Each glide starts where the previous note's vibrato left the pitch.
    held = np.arange(len(notes.onset) - 1)
    left_at = notes.midi[:-1] + _vibrato(notes, held, np.diff(notes.onset))
    previous = np.concatenate([[notes.midi[0] - scoop_semitones], left_at])
    target = notes.midi[idx]
    glide = dsp.smoothstep(since / np.maximum(notes.glide[idx], 1e-3))
    midi = target + (previous[idx] - target) * (1.0 - glide)
    return midi + _vibrato(notes, idx, since)


def _vibrato(notes, idx, since):
    """Vibrato of notes ``idx`` at ``since`` seconds after their onsets, semitones."""
    ramp = dsp.smoothstep((since - notes.vib_delay[idx]) / notes.vib_ramp[idx])
    wave = np.sin(2.0 * np.pi * notes.vib_rate[idx] * since + notes.vib_phase[idx])
    return 0.5 * notes.vib_depth[idx] * ramp * wave / 100.0
