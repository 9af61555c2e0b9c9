"""Version 1 of the synthetic singing-voice corpus (detectors 1-3 trained on it).

Every song is a mix of three stems, each synthesised from scratch with numpy:

* a vocal stem, made by source-filter synthesis: a glottal-like harmonic source
  (spectral tilt near -12 dB/octave, per-period jitter and shimmer) whose
  partials are weighted by the magnitude response of a cascade of resonators
  (vowel formants F1-F4 that move between and within syllables, plus fixed
  upper resonances), with aspiration noise, consonant noise bursts at syllable
  onsets and inhalations at phrase starts. The pitch follows a melody in the
  song's key with portamento and delayed vibrato;
* a lead stem of non-vocal melodic instruments (bowed-string-like, reed-like
  and synthesiser leads) in the same pitch range, some with vibrato, glides and
  attack noise, but with static spectral envelopes. Leads play in the
  instrumental breaks and sometimes quietly under the voice;
* a backing stem: chords (pad, plucked piano-like and organ timbres), bass and
  drums following a chord progression in the key, at a tempo per song, with an
  arrangement that changes on a bar grid independently of the voice.

So the presence of a melody, of vibrato, or of onset noise does not give the
label away; a detector has to learn the cues specific to the voice.

Labels are exact: the vocal stem is zero outside the ``sing`` segments (its
fades stay inside them). Partials stay below ``MAX_PARTIAL_HZ`` (no aliasing),
the mix is normalised to a peak of ``PEAK``, and all randomness comes from
``np.random.default_rng([seed, index])``, so a corpus is reproducible byte for
byte.

Expensive per-partial quantities (formant responses, envelopes) are computed
at a control rate of one point every ``CONTROL_HOP`` samples and interpolated
linearly; shaped noise is made by overlap-add of random spectra on the same
grid.
"""

import dataclasses
import math

import numpy as np
import scipy.signal

from vocal_xai import spectral
from vocal_xai.data import corpus
from vocal_xai.errors import ParameterError

SAMPLE_RATE = spectral.SAMPLE_RATE
DEFAULT_DURATION = 30.0
DEFAULT_SPLIT_SIZES = {"train": 40, "valid": 10, "test": 10}
MIN_DURATION = 6.0
MAX_DURATION = 3600.0
PEAK = 0.9
VOCAL_TO_ACCOMPANIMENT_DB = (-5.0, 10.0)
SING_REGIONS = (2, 4)
VOCAL_FRACTION = (0.37, 0.63)
VOCAL_FADE = 0.01

CONTROL_HOP = 64
CONTROL_RATE = SAMPLE_RATE / CONTROL_HOP
MAX_PARTIAL_HZ = 10000.0
PARTIAL_TAPER_HZ = 8500.0
MAX_PARTIALS = 110

NOISE_FFT = 4 * CONTROL_HOP
NOISE_FREQS = np.fft.rfftfreq(NOISE_FFT, 1.0 / SAMPLE_RATE)

# Melody notes (MIDI) per voice type, so that with vibrato and glides f0 stays
# within about 95-400 Hz (male) and 180-800 Hz (female).
_REGISTERS = {"male": (45, 66), "female": (56, 78)}

_SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
# Chord progressions as 0-based scale degrees.
_PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 4, 3), (1, 4, 0, 5), (0, 3, 0, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2), (0, 5, 3, 4)),
}

# Vowel formants F1-F4 and bandwidths B1-B4 in Hz (adult male).
_VOWELS = {
    "a": ((730, 1090, 2440, 3400), (80, 90, 120, 200)),
    "ae": ((660, 1720, 2410, 3400), (80, 100, 120, 200)),
    "e": ((530, 1840, 2480, 3500), (60, 100, 120, 200)),
    "i": ((270, 2290, 3010, 3700), (50, 90, 150, 200)),
    "ih": ((390, 1990, 2550, 3600), (50, 100, 140, 200)),
    "o": ((500, 900, 2450, 3300), (70, 80, 120, 200)),
    "aw": ((570, 840, 2410, 3300), (70, 80, 120, 200)),
    "u": ((300, 870, 2240, 3300), (50, 80, 120, 200)),
    "uh": ((640, 1190, 2390, 3400), (70, 90, 120, 200)),
    "er": ((490, 1350, 1690, 3300), (70, 100, 110, 200)),
}
_VOWEL_NAMES = tuple(_VOWELS)
_VOWEL_FORMANTS = np.array([v[0] for v in _VOWELS.values()], np.float64)
_VOWEL_BANDWIDTHS = np.array([v[1] for v in _VOWELS.values()], np.float64)

# Consonants: noise centre and width (Hz), level (dB re voiced), duration
# range (s), plosive, voiced (no noise burst), F2 locus (Hz; 0 keeps the vowel).
_CONSONANTS = {
    "s": (6500.0, 3500.0, -8.0, (0.05, 0.08), False, False, 1800.0),
    "sh": (3300.0, 2000.0, -8.0, (0.05, 0.08), False, False, 2000.0),
    "f": (5000.0, 8000.0, -16.0, (0.04, 0.07), False, False, 1000.0),
    "h": (0.0, 0.0, -14.0, (0.04, 0.08), False, False, 0.0),
    "t": (4200.0, 3000.0, -6.0, (0.015, 0.03), True, False, 1800.0),
    "k": (2300.0, 1400.0, -8.0, (0.02, 0.035), True, False, 2100.0),
    "p": (1300.0, 2000.0, -12.0, (0.015, 0.025), True, False, 900.0),
    "m": (0.0, 0.0, 0.0, (0.04, 0.07), False, True, 1100.0),
    "n": (0.0, 0.0, 0.0, (0.04, 0.07), False, True, 1700.0),
    "l": (0.0, 0.0, 0.0, (0.03, 0.06), False, True, 1200.0),
}
_CONSONANT_NAMES = tuple(_CONSONANTS)
_CONSONANT_WEIGHTS = np.array([3, 2, 2, 2, 3, 3, 2, 3, 3, 3], np.float64)

LEAD_KINDS = ("bowed", "reed", "synth")
_CHORD_TIMBRES = ("pad", "piano", "organ")

# Beat values of melody notes and their probabilities.
_NOTE_BEATS = np.array([0.5, 1.0, 1.5, 2.0, 3.0])
_NOTE_BEAT_PROBS = np.array([0.35, 0.35, 0.1, 0.15, 0.05])
_MAX_NOTE = 2.0


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
        singer: ``"male"`` or ``"female"``.
    """

    name: str
    audio: np.ndarray
    vocal: np.ndarray
    segments: tuple
    vocal_to_accompaniment_db: float
    singer: str


@dataclasses.dataclass(frozen=True)
class CorpusSummary:
    """Counts of a corpus folder: songs per split, minutes, vocal frames."""

    songs_per_split: dict
    minutes: float
    vocal_fraction: float


@dataclasses.dataclass(frozen=True)
class _Notes:
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


@dataclasses.dataclass(frozen=True)
class _Syllables:
    """Articulation of each note of a vocal phrase (arrays, one per note)."""

    vowel: np.ndarray  # index into _VOWEL_NAMES
    vowel2: np.ndarray  # target of a diphthong (== vowel for a monophthong)
    glide_start: np.ndarray  # s after the onset where the diphthong starts
    glide_time: np.ndarray  # s
    consonant: np.ndarray  # index into _CONSONANT_NAMES, -1 for none
    consonant_time: np.ndarray  # s before the vowel onset
    dip: np.ndarray  # voicing level at the onset, 0..1
    attack: np.ndarray  # s


@dataclasses.dataclass(frozen=True)
class _Singer:
    sex: str
    formant_scale: float
    bandwidth_scale: float
    upper_formants: np.ndarray  # fixed resonances above F4, Hz
    upper_bandwidths: np.ndarray
    tilt_db: float  # glottal source slope, dB/octave
    jitter: float  # relative std of the per-period f0
    shimmer_db: float  # std of the per-period amplitude, dB
    breathiness_db: float  # aspiration noise re the voiced level
    vib_rate: float
    vib_depth: float
    vowels: np.ndarray  # vowel indices this singer uses, with weights
    vowel_weights: np.ndarray


@dataclasses.dataclass(frozen=True)
class _Instrument:
    kind: str
    weights: np.ndarray  # harmonic weights [MAX_PARTIALS]
    peak_hz: np.ndarray  # fixed body resonances
    peak_width: np.ndarray
    peak_gain: np.ndarray
    lowpass_hz: float
    lowpass_order: float
    noise_shape: np.ndarray  # [len(NOISE_FREQS)], unit RMS
    noise_db: float  # sustained noise re the tone
    attack_noise_db: float  # extra noise at note attacks
    attack: tuple
    release: float
    legato: tuple
    dip: tuple
    vibrato_prob: float
    vib_depth: tuple
    vib_rate: tuple
    glide_prob: float
    unison_cents: float


# ---------------------------------------------------------------------------
# Small signal helpers.


def _midi_to_hz(midi):
    return 440.0 * 2.0 ** ((np.asarray(midi, np.float64) - 69.0) / 12.0)


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _control_times(n_ctrl):
    """Time in seconds of each control point. [shape=(n_ctrl,)]"""
    return np.arange(n_ctrl) / CONTROL_RATE


def _num_controls(seconds):
    """Control points needed to cover ``seconds`` (at least two)."""
    return max(2, int(math.ceil(seconds * CONTROL_RATE)) + 1)


def _smooth(x, seconds):
    """Zero-phase one-pole smoothing along axis 0 at the control rate."""
    p = math.exp(-1.0 / max(seconds * CONTROL_RATE, 1e-6))
    b, a = [1.0 - p], [1.0, -p]
    y, _ = scipy.signal.lfilter(b, a, x, axis=0, zi=p * x[:1])
    y = y[::-1]
    y, _ = scipy.signal.lfilter(b, a, y, axis=0, zi=p * y[:1])
    return y[::-1]


def _smooth_noise(rng, n, seconds):
    """Slowly varying noise with unit std. [shape=(n,)]"""
    x = _smooth(rng.standard_normal(n), seconds)
    return x / max(float(np.std(x)), 1e-9)


def _partial_taper(freqs):
    """Weight that fades partials out between PARTIAL_TAPER_HZ and MAX_PARTIAL_HZ."""
    return _smoothstep((MAX_PARTIAL_HZ - freqs) / (MAX_PARTIAL_HZ - PARTIAL_TAPER_HZ))


def _num_partials(min_f0):
    return int(max(1, min(MAX_PARTIALS, math.floor(MAX_PARTIAL_HZ / max(min_f0, 1.0)))))


def resonator_gain(freqs, centres, bandwidths):
    """Magnitude response of a cascade of two-pole resonators.

    ``|H(f)| = prod_i F_i^2 / sqrt((F_i^2 - f^2)^2 + (B_i f)^2)``, unit gain at
    0 Hz and a peak of about ``F_i / B_i`` at each centre.

    Args:
        freqs: frequencies, Hz. [shape=(..., K)]
        centres: resonance frequencies F_i, Hz. [shape=(..., R)], broadcastable
            against ``freqs`` once both gain their last axis.
        bandwidths: bandwidths B_i, Hz. [shape=(..., R)]

    Returns:
        Linear gains. [shape=(..., K)]
    """
    f = np.asarray(freqs, np.float64)[..., None]
    c2 = np.square(np.asarray(centres, np.float64))[..., None, :]
    b = np.asarray(bandwidths, np.float64)[..., None, :]
    terms = c2 / np.sqrt(np.square(c2 - f * f) + np.square(b * f))
    return np.prod(terms, axis=-1)


def _peaks_response(freqs, centres, widths, gains):
    """Static response: flat floor plus Lorentzian peaks. [shape=freqs.shape]"""
    f = np.asarray(freqs, np.float64)[..., None]
    return 1.0 + np.sum(gains / (1.0 + np.square((f - centres) / (0.5 * widths))), axis=-1)


def _lowpass(freqs, cutoff, order):
    return 1.0 / np.sqrt(1.0 + (np.asarray(freqs, np.float64) / cutoff) ** (2.0 * order))


def _unit_rms(shape):
    return shape / max(float(np.sqrt(np.mean(np.square(shape)))), 1e-12)


def _phase(rng, f0_ctrl, jitter=0.0):
    """Per-sample phase of the fundamental from control-rate f0.

    Args:
        rng: random generator.
        f0_ctrl: fundamental at each control point, Hz. [shape=(n_ctrl,)]
        jitter: relative std of a per-period f0 perturbation (0 for none).

    Returns:
        ``(phase, cycles)``: float32 phase in [0, 2 pi) and float64 running
        period count. [shape=((n_ctrl - 1) * CONTROL_HOP,)] each.
    """
    ramp = np.arange(CONTROL_HOP) / CONTROL_HOP
    f0 = (f0_ctrl[:-1, None] + np.diff(f0_ctrl)[:, None] * ramp).ravel()
    if jitter > 0.0:
        cycles = np.cumsum(f0) / SAMPLE_RATE
        perturbation = 1.0 + jitter * rng.standard_normal(int(cycles[-1]) + 2)
        f0 = f0 * perturbation[cycles.astype(np.int64)]
    start = rng.uniform(0.0, 1.0)
    cycles = start + np.cumsum(f0) / SAMPLE_RATE
    phase = (2.0 * np.pi * (cycles - np.floor(cycles))).astype(np.float32)
    return phase, cycles


def _partials(phase, amps):
    """Sum of harmonic partials with control-rate amplitudes.

    Args:
        phase: float32 phase of the fundamental, rad.
            [shape=((n_ctrl - 1) * CONTROL_HOP,)]
        amps: amplitude of partial ``k + 1`` at each control point, interpolated
            linearly in between. [shape=(n_ctrl, K)]

    Returns:
        float32 samples. [shape=((n_ctrl - 1) * CONTROL_HOP,)]
    """
    amps = np.asarray(amps, np.float32)
    n_blocks, n_partials = amps.shape[0] - 1, amps.shape[1]
    harmonics = np.arange(1, n_partials + 1, dtype=np.float32)
    ramp = np.arange(CONTROL_HOP, dtype=np.float32) / CONTROL_HOP
    out = np.empty(n_blocks * CONTROL_HOP, np.float32)
    chunk = max(1, 4096 // n_partials)
    # Process blocks of control intervals so the [blocks, hop, K] sines fit in cache.
    for b0 in range(0, n_blocks, chunk):
        b1 = min(n_blocks, b0 + chunk)
        ph = phase[b0 * CONTROL_HOP : b1 * CONTROL_HOP].reshape(b1 - b0, CONTROL_HOP)
        sines = np.sin(ph[:, :, None] * harmonics)
        a0 = amps[b0:b1]
        slope = amps[b0 + 1 : b1 + 1] - a0
        y = np.einsum("bhk,bk->bh", sines, a0) + ramp * np.einsum("bhk,bk->bh", sines, slope)
        out[b0 * CONTROL_HOP : b1 * CONTROL_HOP] = y.ravel()
    return out


def _tone(rng, f0_ctrl, amps, jitter=0.0, shimmer_db=0.0):
    """Harmonic tone from control-rate f0 and partial amplitudes.

    Args:
        rng: random generator.
        f0_ctrl: Hz. [shape=(n_ctrl,)]
        amps: partial amplitudes. [shape=(n_ctrl, K)]
        jitter: relative per-period f0 std.
        shimmer_db: per-period amplitude std, dB.

    Returns:
        float32 samples. [shape=((n_ctrl - 1) * CONTROL_HOP,)]
    """
    phase, cycles = _phase(rng, f0_ctrl, jitter)
    # Drop the top partials that stay 60 dB below the strongest one.
    peak = np.max(np.abs(amps), axis=0)
    audible = np.flatnonzero(peak > 1e-3 * max(float(peak.max()), 1e-30))
    y = _partials(phase, amps[:, : (audible[-1] + 1 if len(audible) else 1)])
    if shimmer_db > 0.0:
        # Interpolate per-period gains along the running period count.
        gains = 10.0 ** (shimmer_db * rng.standard_normal(int(cycles[-1]) + 2) / 20.0)
        y *= np.interp(cycles, np.arange(len(gains)), gains).astype(np.float32)
    return y


def _shaped_noise(rng, mask):
    """Noise with a time-varying amplitude spectrum, by overlap-add.

    Args:
        rng: random generator.
        mask: amplitude per frame and frequency bin ``NOISE_FREQS``; frame
            ``f`` is centred on sample ``f * CONTROL_HOP``. A unit-RMS shape
            gives a noise of unit RMS. [shape=(n_ctrl, NOISE_FFT // 2 + 1)]

    Returns:
        float32 samples. [shape=((n_ctrl - 1) * CONTROL_HOP,)]
    """
    n_frames, n_bins = mask.shape
    spec = rng.standard_normal((n_frames, n_bins)) + 1j * rng.standard_normal((n_frames, n_bins))
    scale = math.sqrt(NOISE_FFT / 1.5 / 2.0)
    window = scipy.signal.get_window("hann", NOISE_FFT)
    frames = np.fft.irfft(spec * mask, n=NOISE_FFT, axis=-1) * (window * scale)
    quarters = frames.reshape(n_frames, 4, CONTROL_HOP)
    blocks = np.zeros((n_frames + 3, CONTROL_HOP))
    # Overlap-add: frame f covers blocks f .. f + 3; centre it on its control point.
    for q in range(4):
        blocks[q : q + n_frames] += quarters[:, q]
    return blocks[2 : n_frames + 1].ravel().astype(np.float32)


def _filtered_noise(rng, n, response):
    """White noise of ``n`` samples shaped by ``response(freqs_hz)``, unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n)) * response(np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE))
    y = np.fft.irfft(spec, n=n)
    return y / max(float(np.sqrt(np.mean(y * y))), 1e-12)


def _add_at(buffer, start, signal):
    """Add ``signal`` into ``buffer`` from sample ``start``, truncated at its end."""
    stop = min(len(buffer), start + len(signal))
    if stop > start:
        buffer[start:stop] += signal[: stop - start]


# ---------------------------------------------------------------------------
# Notes and melodies.


def _pitch_contour(t, notes, scoop_semitones=0.0):
    """MIDI pitch at times ``t`` with portamento and delayed vibrato.

    Args:
        t: times from the phrase start, s. [shape=(n,)]
        notes: the phrase's ``_Notes``.
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
    glide = _smoothstep(since / np.maximum(notes.glide[idx], 1e-3))
    midi = target + (previous[idx] - target) * (1.0 - glide)
    return midi + _vibrato(notes, idx, since)


def _vibrato(notes, idx, since):
    """Vibrato of notes ``idx`` at ``since`` seconds after their onsets, semitones."""
    ramp = _smoothstep((since - notes.vib_delay[idx]) / notes.vib_ramp[idx])
    wave = np.sin(2.0 * np.pi * notes.vib_rate[idx] * since + notes.vib_phase[idx])
    return 0.5 * notes.vib_depth[idx] * ramp * wave / 100.0


def _make_notes(rng, onset, duration, midi, vibrato, vib_rate, vib_depth, glide, gain_std_db):
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
        ``_Notes``.
    """
    n = len(onset)
    onset = np.asarray(onset, np.float64)
    duration = np.asarray(duration, np.float64)
    depth = np.where(vibrato, rng.uniform(vib_depth[0], vib_depth[1], n), 0.0)
    return _Notes(
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


def _melody(rng, start, end, plan, register, min_note=0.12):
    """Onsets, durations and MIDI pitches of notes filling ``[start, end)``.

    Pitches walk over the song's scale inside ``register`` and favour the
    tones of the chord sounding at each onset.
    """
    lo, hi = register
    pcs = {(plan["root"] + s) % 12 for s in _SCALES[plan["mode"]]}
    pitches = np.array([p for p in range(lo, hi + 1) if p % 12 in pcs])
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
        chord = _chord_at(plan, t)
        cand = np.clip(pos + steps, 0, len(pitches) - 1)
        w = step_weights * np.where(np.isin(pitches[cand] % 12, chord), 2.0, 1.0)
        pos = int(rng.choice(cand, p=w / w.sum()))
        onsets.append(t)
        durations.append(d)
        midi.append(float(pitches[pos]))
        t += d
    return np.array(onsets), np.array(durations), np.array(midi)


def _chord_at(plan, t):
    """Pitch classes of the chord sounding at time ``t``."""
    i = int(
        np.clip(
            np.searchsorted(plan["chord_starts"], t, side="right") - 1, 0, len(plan["chords"]) - 1
        )
    )
    return plan["chords"][i]


# ---------------------------------------------------------------------------
# The voice.


def _draw_singer(rng, sex):
    """Random singer of ``sex`` ("male" or "female")."""
    if sex == "female":
        scale = rng.uniform(1.12, 1.22)
    else:
        scale = rng.uniform(0.95, 1.05)
    upper = np.array([4300.0, 5300.0, 6300.0, 7300.0, 8300.0, 9300.0]) * scale
    upper *= 1.0 + 0.03 * rng.standard_normal(len(upper))
    n_vowels = int(rng.integers(6, len(_VOWEL_NAMES) + 1))
    vowels = np.sort(rng.choice(len(_VOWEL_NAMES), n_vowels, replace=False))
    return _Singer(
        sex=sex,
        formant_scale=scale,
        bandwidth_scale=rng.uniform(0.85, 1.25),
        upper_formants=upper,
        upper_bandwidths=rng.uniform(350.0, 700.0, len(upper)),
        tilt_db=rng.uniform(-13.5, -10.5),
        jitter=rng.uniform(0.005, 0.015),
        shimmer_db=rng.uniform(0.4, 1.2),
        breathiness_db=rng.uniform(-30.0, -18.0),
        vib_rate=rng.uniform(4.5, 6.5),
        vib_depth=rng.uniform(30.0, 80.0),
        vowels=vowels,
        vowel_weights=rng.uniform(0.5, 1.5, n_vowels),
    )


def _plan_syllables(rng, notes, singer, first_consonant_ok=True, consonant_prob=0.75):
    """Vowels, consonants and voicing for each note of a vocal phrase; a
    syllable starts with a consonant with probability ``consonant_prob``."""
    n = len(notes.onset)
    p = singer.vowel_weights / singer.vowel_weights.sum()
    vowel = np.empty(n, np.int64)
    previous = -1
    # Draw vowels so that consecutive syllables differ.
    for i in range(n):
        w = np.where(singer.vowels == previous, 0.0, p)
        vowel[i] = rng.choice(singer.vowels, p=w / w.sum())
        previous = vowel[i]
    diphthong = rng.random(n) < 0.3
    vowel2 = np.where(diphthong, rng.choice(singer.vowels, n, p=p), vowel)
    has_consonant = rng.random(n) < consonant_prob
    cw = _CONSONANT_WEIGHTS / _CONSONANT_WEIGHTS.sum()
    consonant = np.where(has_consonant, rng.choice(len(_CONSONANT_NAMES), n, p=cw), -1)
    lo = np.array([_CONSONANTS[_CONSONANT_NAMES[c]][3][0] if c >= 0 else 0.0 for c in consonant])
    hi = np.array([_CONSONANTS[_CONSONANT_NAMES[c]][3][1] if c >= 0 else 0.0 for c in consonant])
    consonant_time = rng.uniform(lo, np.maximum(hi, lo))
    voiced = np.array([c >= 0 and _CONSONANTS[_CONSONANT_NAMES[c]][5] for c in consonant])
    dip = np.where(
        consonant < 0,
        rng.uniform(0.55, 0.85, n),
        np.where(voiced, rng.uniform(0.25, 0.5, n), rng.uniform(0.0, 0.08, n)),
    )
    dip[0] = 0.0
    # Keep a consonant from eating more than a third of the previous note.
    room = np.concatenate([[np.inf], notes.duration[:-1] / 3.0])
    consonant_time = np.minimum(consonant_time, room)
    if not first_consonant_ok:
        consonant[0] = -1
    return _Syllables(
        vowel=vowel,
        vowel2=vowel2,
        glide_start=rng.uniform(0.3, 0.6, n) * notes.duration,
        glide_time=rng.uniform(0.25, 0.4, n) * notes.duration,
        consonant=consonant,
        consonant_time=consonant_time,
        dip=dip,
        attack=rng.uniform(0.02, 0.06, n),
    )


def _plan_vocal_phrase(
    rng,
    onset,
    duration,
    midi,
    singer,
    first_consonant_ok=True,
    vib_limits=((4.0, 7.0), (20.0, 100.0)),
    consonant_prob=0.75,
):
    """Expression and articulation for a vocal phrase.

    Args:
        rng: random generator.
        onset, duration, midi: per-note arrays; onsets from the phrase start, s.
        singer: ``_Singer``.
        first_consonant_ok: whether the first syllable may start with a
            consonant (it needs ``onset[0]`` seconds of room).
        vib_limits: ``((rate_low, rate_high), (depth_low, depth_high))``:
            bounds of the per-note vibrato rate (Hz) and peak-to-peak depth
            (cents) drawn around the singer's own.
        consonant_prob: probability that a syllable starts with a consonant.

    Returns:
        ``(notes, syllables)``.
    """
    n = len(onset)
    duration = np.asarray(duration, np.float64)
    vibrato = duration > 0.25
    rates, depths = vib_limits
    notes = _make_notes(
        rng,
        onset,
        duration,
        midi,
        vibrato,
        vib_rate=(max(rates[0], singer.vib_rate - 0.5), min(rates[1], singer.vib_rate + 0.5)),
        vib_depth=(max(depths[0], 0.7 * singer.vib_depth), min(depths[1], 1.3 * singer.vib_depth)),
        glide=rng.uniform(0.03, 0.12, n),
        gain_std_db=1.5,
    )
    syllables = _plan_syllables(
        rng, notes, singer, first_consonant_ok and onset[0] >= 0.04, consonant_prob
    )
    return notes, syllables


def _formant_tracks(t, notes, syllables, singer, rng):
    """Formant frequencies and bandwidths at times ``t``.

    Returns:
        ``(centres, bandwidths)``, Hz, the four vowel formants followed by the
        singer's fixed upper resonances. [shape=(n, 4 + n_upper)] each.
    """
    n_notes = len(notes.onset)
    idx = np.clip(np.searchsorted(notes.onset, t, side="right") - 1, 0, n_notes - 1)
    since = t - notes.onset[idx]
    # Vowel targets, moving to the diphthong's second vowel inside the note.
    f_a, f_b = _VOWEL_FORMANTS[syllables.vowel[idx]], _VOWEL_FORMANTS[syllables.vowel2[idx]]
    b_a, b_b = _VOWEL_BANDWIDTHS[syllables.vowel[idx]], _VOWEL_BANDWIDTHS[syllables.vowel2[idx]]
    w = _smoothstep((since - syllables.glide_start[idx]) / syllables.glide_time[idx])[:, None]
    centres = f_a + (f_b - f_a) * w
    bandwidths = b_a + (b_b - b_a) * w
    # Consonant loci: low F1 and a place-dependent F2 around each consonant.
    loci = np.array([_CONSONANTS[c][6] for c in _CONSONANT_NAMES])
    nxt = np.minimum(idx + 1, n_notes - 1)
    to_next = np.where(idx + 1 < n_notes, notes.onset[nxt] - t, np.inf)
    before_next = (to_next < syllables.consonant_time[nxt]) & (syllables.consonant[nxt] >= 0)
    before_first = (since < 0) & (syllables.consonant[idx] >= 0)
    in_consonant = before_next | before_first
    cons = np.where(before_next, syllables.consonant[nxt], syllables.consonant[idx])
    locus_f2 = np.where(cons >= 0, loci[np.maximum(cons, 0)], 0.0)
    in_consonant &= locus_f2 > 0
    centres[in_consonant, 0] = np.minimum(centres[in_consonant, 0], 300.0)
    centres[in_consonant, 1] = locus_f2[in_consonant]
    centres *= singer.formant_scale * (1.0 + 0.015 * _smooth_noise(rng, len(t), 0.15))[:, None]
    bandwidths = bandwidths * singer.bandwidth_scale
    # Coarticulation: formants move smoothly between targets.
    centres = _smooth(centres, rng.uniform(0.012, 0.025))
    upper_c = np.broadcast_to(singer.upper_formants, (len(t), len(singer.upper_formants)))
    upper_b = np.broadcast_to(singer.upper_bandwidths, upper_c.shape)
    return np.concatenate([centres, upper_c], 1), np.concatenate([bandwidths, upper_b], 1)


def _consonant_shape(name, scale):
    centre, width, _, _, _, _, _ = _CONSONANTS[name]
    shape = 1.0 / (1.0 + np.square((NOISE_FREQS - centre * scale) / (0.5 * width * scale)))
    return _unit_rms(shape * _lowpass(NOISE_FREQS, 10000.0, 4))


def _sing_phrase(rng, notes, syllables, singer, breath=None, scoop=0.0):
    """Render a vocal phrase.

    Args:
        rng: random generator.
        notes: ``_Notes``; onsets are vowel onsets from the phrase start.
        syllables: ``_Syllables`` of the same notes.
        singer: ``_Singer``.
        breath: ``(start, end)`` of an inhalation before the first note, s,
            or None.
        scoop: the first note glides up from this many semitones below.

    Returns:
        float32 samples from the phrase start to its end (about unit peak
        level for the voiced part). [shape=(samples,)]
    """
    end = notes.end
    n_ctrl = _num_controls(end)
    t = _control_times(n_ctrl)
    n_notes = len(notes.onset)
    idx = np.clip(np.searchsorted(notes.onset, t, side="right") - 1, 0, n_notes - 1)
    since = t - notes.onset[idx]

    # Pitch: melody, portamento, vibrato and a slow drift.
    midi = _pitch_contour(t, notes, scoop) + 0.08 * _smooth_noise(rng, n_ctrl, 0.12)
    f0 = _midi_to_hz(midi)

    # Voicing envelope: attacks from the syllable's dip, gaps for voiceless
    # consonants, a release at the phrase end and a phrase-level contour.
    env = syllables.dip[idx] + (1.0 - syllables.dip[idx]) * _smoothstep(
        since / syllables.attack[idx]
    )
    nxt = np.minimum(idx + 1, n_notes - 1)
    to_next = np.where(idx + 1 < n_notes, notes.onset[nxt] - t, np.inf)
    next_dip = np.where(idx + 1 < n_notes, syllables.dip[nxt], 1.0)
    fade = _smoothstep((to_next - syllables.consonant_time[nxt]) / 0.03)
    env *= next_dip + (1.0 - next_dip) * fade
    env *= _smoothstep((end - t) / rng.uniform(0.05, 0.15))
    contour_db = np.linspace(rng.uniform(-3.0, 3.0), rng.uniform(-3.0, 3.0), n_ctrl)
    gain_db = notes.gain_db[idx] + contour_db
    env *= 10.0 ** (gain_db / 20.0)
    env = np.maximum(_smooth(env, 0.004), 0.0)

    # Source: glottal tilt (brighter when louder) plus +6 dB/octave radiation.
    n_partials = _num_partials(float(f0.min()))
    k = np.arange(1, n_partials + 1, dtype=np.float64)
    tilt = singer.tilt_db + 0.4 * (gain_db - contour_db)
    source = k ** ((tilt[:, None] + 6.0206) / 6.0206)
    freqs = f0[:, None] * k
    centres, bandwidths = _formant_tracks(t, notes, syllables, singer, rng)
    amps = source * resonator_gain(freqs, centres, bandwidths) * _partial_taper(freqs)
    norm = np.sqrt(np.sum(amps * amps, axis=1))
    norm = np.sqrt(np.maximum(norm, 1e-12) * max(float(np.median(norm)), 1e-12))
    amps *= (env / norm)[:, None]
    voice = _tone(rng, f0, amps, singer.jitter, singer.shimmer_db)

    # Noise: aspiration shaped by the vocal tract, consonants, inhalation.
    tract = resonator_gain(NOISE_FREQS[None, :], centres, bandwidths)
    aspiration = tract * (NOISE_FREQS / (NOISE_FREQS + 2000.0))
    aspiration /= np.sqrt(np.mean(aspiration * aspiration, axis=1, keepdims=True)) + 1e-12
    level = 10.0 ** (singer.breathiness_db / 20.0) * env
    mask = aspiration * level[:, None]
    for i in np.flatnonzero(syllables.consonant >= 0):
        name = _CONSONANT_NAMES[syllables.consonant[i]]
        _, _, level_db, _, plosive, voiced, _ = _CONSONANTS[name]
        if voiced:
            continue
        dur = syllables.consonant_time[i]
        rel = (t - (notes.onset[i] - dur)) / dur
        if plosive:
            shape_t = np.where((rel >= 0) & (rel <= 1.3), np.exp(-3.0 * np.clip(rel, 0, None)), 0.0)
        else:
            shape_t = _smoothstep(rel / 0.3) * _smoothstep((1.2 - rel) / 0.3)
        gain = 10.0 ** ((level_db + rng.uniform(-3.0, 3.0)) / 20.0)
        if name == "h":
            spectrum = aspiration * gain
        else:
            spectrum = _consonant_shape(name, singer.formant_scale)[None, :] * gain
        mask += shape_t[:, None] * spectrum
    if breath is not None:
        b0, b1 = breath
        rel = (t - b0) / max(b1 - b0, 1e-3)
        shape_t = np.sin(np.pi * np.clip(rel, 0.0, 1.0)) ** 1.5
        inhale = (
            resonator_gain(
                NOISE_FREQS,
                _VOWEL_FORMANTS[_VOWEL_NAMES.index("uh")] * singer.formant_scale,
                3.0 * _VOWEL_BANDWIDTHS[_VOWEL_NAMES.index("uh")],
            )
            * (NOISE_FREQS / (NOISE_FREQS + 1000.0))
            * _lowpass(NOISE_FREQS, 7000.0, 2)
        )
        mask += (
            shape_t[:, None]
            * _unit_rms(inhale)[None, :]
            * 10.0 ** (rng.uniform(-26.0, -16.0) / 20.0)
        )
    return voice + _shaped_noise(rng, mask)


# ---------------------------------------------------------------------------
# Non-vocal leads.


def _draw_instrument(rng, kind):
    """Random lead instrument of ``kind`` in ``LEAD_KINDS``."""
    k = np.arange(1, MAX_PARTIALS + 1, dtype=np.float64)
    odd = (k % 2) == 1
    if kind == "bowed":
        weights = k ** -rng.uniform(0.9, 1.2) * (
            1.0 + 0.15 * rng.standard_normal(MAX_PARTIALS)
        ).clip(0.5)
        peak_hz = np.sort(rng.uniform([250, 450, 900, 2000], [450, 900, 1800, 3500]))
        peak_width = peak_hz * rng.uniform(0.15, 0.4, 4)
        peak_gain = rng.uniform(1.0, 6.0, 4)
        lowpass_hz, order = rng.uniform(4000.0, 7000.0), 2.0
        noise = _peaks_response(NOISE_FREQS, peak_hz, peak_width, peak_gain) * (
            NOISE_FREQS / (NOISE_FREQS + 1500.0)
        )
        params = dict(
            noise_db=rng.uniform(-32.0, -24.0),
            attack_noise_db=rng.uniform(-14.0, -6.0),
            attack=(0.04, 0.12),
            release=rng.uniform(0.06, 0.15),
            legato=(0.95, 1.0),
            dip=(0.4, 0.8),
            vibrato_prob=0.75,
            vib_depth=(10.0, 40.0),
            vib_rate=(5.0, 7.0),
            glide_prob=0.15,
            unison_cents=0.0,
        )
    elif kind == "reed":
        weights = k ** -rng.uniform(0.9, 1.3) * np.where(
            odd, 1.0, 10.0 ** (-rng.uniform(8.0, 18.0) / 20.0)
        )
        n_peaks = 2
        peak_hz = np.sort(rng.uniform([800, 1800], [1600, 3200]))
        peak_width = peak_hz * rng.uniform(0.2, 0.5, n_peaks)
        peak_gain = rng.uniform(1.0, 4.0, n_peaks)
        lowpass_hz, order = rng.uniform(2500.0, 5000.0), 2.0
        noise = (NOISE_FREQS / (NOISE_FREQS + 2500.0)) * _lowpass(NOISE_FREQS, 8000.0, 2)
        params = dict(
            noise_db=rng.uniform(-34.0, -24.0),
            attack_noise_db=rng.uniform(-18.0, -10.0),
            attack=(0.02, 0.06),
            release=rng.uniform(0.04, 0.1),
            legato=(0.85, 1.0),
            dip=(0.2, 0.5),
            vibrato_prob=0.35,
            vib_depth=(10.0, 25.0),
            vib_rate=(4.5, 6.0),
            glide_prob=0.1,
            unison_cents=0.0,
        )
    elif kind == "synth":
        if rng.random() < 0.5:
            weights = np.where(odd, 1.0 / k, 0.0)
        else:
            weights = 1.0 / k
        n_peaks = 1
        lowpass_hz, order = rng.uniform(1200.0, 5000.0), rng.choice([2.0, 3.0, 4.0])
        peak_hz = np.array([lowpass_hz * 0.9])
        peak_width = peak_hz * 0.3
        peak_gain = rng.uniform(0.0, 2.0, n_peaks)
        noise = _lowpass(NOISE_FREQS, 6000.0, 1)
        params = dict(
            noise_db=-80.0,
            attack_noise_db=rng.uniform(-30.0, -14.0) if rng.random() < 0.5 else -80.0,
            attack=(0.005, 0.03),
            release=rng.uniform(0.03, 0.2),
            legato=(0.7, 1.0),
            dip=(0.3, 0.9),
            vibrato_prob=0.5,
            vib_depth=(15.0, 60.0),
            vib_rate=(4.5, 7.0),
            glide_prob=0.5,
            unison_cents=rng.uniform(4.0, 12.0) if rng.random() < 0.5 else 0.0,
        )
    else:
        raise ParameterError(f"Expected kind in {LEAD_KINDS}. Received: kind={kind!r}")
    return _Instrument(
        kind=kind,
        weights=weights,
        peak_hz=peak_hz,
        peak_width=peak_width,
        peak_gain=peak_gain,
        lowpass_hz=lowpass_hz,
        lowpass_order=order,
        noise_shape=_unit_rms(noise),
        **params,
    )


def _instrument_response(inst, freqs):
    """Static spectral envelope of a lead instrument at ``freqs`` (Hz)."""
    return _peaks_response(freqs, inst.peak_hz, inst.peak_width, inst.peak_gain) * _lowpass(
        freqs, inst.lowpass_hz, inst.lowpass_order
    )


def _plan_lead_phrase(rng, onset, duration, midi, inst):
    """Expression for a lead phrase (``_Notes``)."""
    n = len(onset)
    vibrato = (rng.random() < inst.vibrato_prob) & (np.asarray(duration) > 0.2)
    glide = np.where(rng.random(n) < inst.glide_prob, rng.uniform(0.03, 0.12, n), 0.004)
    return _make_notes(
        rng, onset, duration, midi, np.full(n, vibrato), inst.vib_rate, inst.vib_depth, glide, 1.5
    )


def _lead_phrase(rng, notes, inst):
    """Render a lead phrase with a static spectral envelope.

    Args:
        rng: random generator.
        notes: ``_Notes``; onsets from the phrase start, s.
        inst: ``_Instrument``.

    Returns:
        float32 samples from the phrase start to its end. [shape=(samples,)]
    """
    end = notes.end
    n_ctrl = _num_controls(end)
    t = _control_times(n_ctrl)
    n_notes = len(notes.onset)
    idx = np.clip(np.searchsorted(notes.onset, t, side="right") - 1, 0, n_notes - 1)
    since = t - notes.onset[idx]
    f0 = _midi_to_hz(_pitch_contour(t, notes) + 0.03 * _smooth_noise(rng, n_ctrl, 0.3))

    # Envelope: attacks from a dip, optional detached notes, phrase release.
    attack = rng.uniform(inst.attack[0], inst.attack[1], n_notes)
    dip = rng.uniform(inst.dip[0], inst.dip[1], n_notes)
    legato = rng.uniform(inst.legato[0], inst.legato[1], n_notes)
    # Notes after a detached note, and the first one, start from silence.
    dip[1:] = np.where(legato[:-1] < 0.98, 0.0, dip[1:])
    dip[0] = 0.0
    env = dip[idx] + (1.0 - dip[idx]) * _smoothstep(since / attack[idx])
    off = notes.duration[idx] * legato[idx]
    env *= np.where(
        legato[idx] < 0.98, _smoothstep((off + inst.release - since) / inst.release), 1.0
    )
    phrase_release = _smoothstep((end - t) / inst.release)
    gain = 10.0 ** (notes.gain_db[idx] / 20.0)
    env = np.maximum(_smooth(env * phrase_release * gain, 0.004), 0.0)

    n_partials = _num_partials(float(f0.min()))
    k = np.arange(1, n_partials + 1, dtype=np.float64)
    reference = inst.weights[:n_partials] * _instrument_response(inst, float(np.median(f0)) * k)
    norm = max(float(np.sqrt(np.sum(reference * reference))), 1e-12)
    # A quieter detuned copy thickens some synth leads without deep beating.
    voices = [(0.0, 1.0)] if inst.unison_cents == 0.0 else [(0.0, 1.0), (inst.unison_cents, 0.35)]
    y = 0.0
    for cents, level in voices:
        f = f0 * 2.0 ** (cents / 1200.0)
        freqs = f[:, None] * k
        amps = inst.weights[:n_partials] * _instrument_response(inst, freqs) * _partial_taper(freqs)
        y = y + _tone(rng, f, amps * (level * env / norm)[:, None])

    # Noise with a fixed spectral shape: sustained plus a burst at each attack.
    burst = np.exp(-np.clip(since, 0.0, None) / (0.5 * attack[idx] + 0.02)) * (since >= 0)
    level = 10.0 ** (inst.noise_db / 20.0) * env
    level += 10.0 ** (inst.attack_noise_db / 20.0) * burst * gain * phrase_release
    return y + _shaped_noise(rng, level[:, None] * inst.noise_shape[None, :])


# ---------------------------------------------------------------------------
# Backing: chords, bass and drums.


def _chord_midi(pcs, low):
    """MIDI notes of pitch classes ``pcs`` placed in ``[low, low + 12)``."""
    return np.array([low + (pc - low) % 12 for pc in pcs], np.float64)


def _gate(flags, starts, n_ctrl):
    """Smoothed 0/1 gate at the control rate from per-block flags."""
    t = _control_times(n_ctrl)
    i = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(flags) - 1)
    return np.clip(_smooth(flags[i].astype(np.float64), 0.03), 0.0, 1.0)


def _render_chord_layer(rng, plan, timbre, gate, buffer):
    """Add one chord timbre ("pad", "piano" or "organ") into ``buffer``."""
    low = int(rng.integers(50, 59))
    pattern = rng.choice(["block", "arpeggio"]) if timbre == "piano" else "sustain"
    strikes = rng.choice([1, 2, 4])
    if timbre == "pad":
        weights = 1.0 / np.arange(1, 25)
        cutoff = rng.uniform(800.0, 2500.0)
        detune = rng.uniform(3.0, 8.0)
    elif timbre == "organ":
        drawbar = np.zeros(24)
        drawbar[[0, 1, 2, 3, 5, 7]] = rng.uniform(0.1, 1.0, 6)
        drawbar[0] = 1.0
        weights = drawbar
        tremolo = rng.uniform(0.0, 0.2) if rng.random() < 0.5 else 0.0
        tremolo_rate = rng.uniform(5.0, 7.0)
        vibrato = rng.uniform(10.0, 30.0) if rng.random() < 0.3 else 0.0
    else:
        weights = np.arange(1, 41, dtype=np.float64) ** -rng.uniform(0.8, 1.4)
        decay = rng.uniform(0.6, 1.5)
        brightness = rng.uniform(2000.0, 5000.0)
    n_buf_ctrl = len(gate)
    for c, (start, stop) in enumerate(zip(plan["chord_starts"], plan["chord_stops"])):
        pcs = plan["chords"][c]
        notes = _chord_midi(pcs, low)
        if timbre == "piano":
            n_strikes = int(strikes) * (2 if pattern == "arpeggio" else 1)
            step = (stop - start) / n_strikes
            events = []
            for s in range(n_strikes):
                chosen = notes if pattern == "block" else notes[[s % len(notes)]]
                for m in chosen:
                    events.append(
                        (start + s * step, step + (0.0 if pattern == "block" else 2 * step), m)
                    )
        else:
            events = [(start, stop - start, m) for m in notes]
        for onset, length, m in events:
            # Clip notes that start before the song.
            if onset < 0.0:
                onset, length = 0.0, length + onset
            if length < 0.05:
                continue
            c0 = int(round(max(onset, 0.0) * CONTROL_RATE))
            if c0 >= n_buf_ctrl - 1:
                continue
            tail = 0.3 if timbre == "pad" else 0.08
            n_ctrl = min(_num_controls(length + tail), n_buf_ctrl - c0)
            if n_ctrl < 2:
                continue
            g = gate[c0 : c0 + n_ctrl]
            if g.max() < 1e-3:
                continue
            t = _control_times(n_ctrl)
            f0 = np.full(n_ctrl, _midi_to_hz(m))
            if timbre == "pad":
                env = _smoothstep(t / 0.3) * _smoothstep((length + tail - t) / tail)
                k = np.arange(1, len(weights) + 1)
                for cents in (-0.5 * detune, 0.5 * detune):
                    f = f0 * 2.0 ** (cents / 1200.0)
                    freqs = f[:, None] * k
                    amps = weights * _lowpass(freqs, cutoff, 2.0) * _partial_taper(freqs)
                    _add_at(
                        buffer, c0 * CONTROL_HOP, _tone(rng, f, amps * (0.7 * env * g)[:, None])
                    )
            elif timbre == "organ":
                env = _smoothstep(t / 0.015) * _smoothstep((length + tail - t) / 0.05)
                env *= 1.0 + tremolo * np.sin(2.0 * np.pi * tremolo_rate * t)
                f = f0 * 2.0 ** (vibrato * np.sin(2.0 * np.pi * tremolo_rate * t) / 2400.0)
                freqs = f[:, None] * np.arange(1, len(weights) + 1)
                amps = weights * _partial_taper(freqs)
                _add_at(buffer, c0 * CONTROL_HOP, _tone(rng, f, amps * (env * g)[:, None]))
            else:
                k = np.arange(1, len(weights) + 1)
                freqs = f0[:, None] * k
                damp = _smoothstep((length + tail - t) / tail)
                damp *= _smoothstep(t / 0.003)
                amps = (
                    weights
                    * _lowpass(freqs, brightness, 1.0)
                    * _partial_taper(freqs)
                    * np.exp(-t[:, None] * (1.0 + 0.25 * (k - 1)) / decay)
                )
                _add_at(buffer, c0 * CONTROL_HOP, _tone(rng, f0, amps * (damp * g)[:, None]))


def _render_bass(rng, plan, gate, buffer):
    """Add a bass line on the chord roots into ``buffer``."""
    per_chord = int(rng.choice([1, 2, 4, 8]))
    decay = rng.uniform(0.3, 1.0)
    cutoff = rng.uniform(500.0, 1500.0)
    n_buf_ctrl = len(gate)
    tilt = rng.uniform(0.8, 1.3)
    for c, (start, stop) in enumerate(zip(plan["chord_starts"], plan["chord_stops"])):
        root = plan["chords"][c][0]
        base = 28 + (root - 28) % 12
        step = (stop - start) / per_chord
        for s in range(per_chord):
            m = base + (12 if (per_chord >= 4 and s % 2 == 1 and rng.random() < 0.3) else 0)
            onset = start + s * step
            if onset < 0.0:
                continue
            c0 = int(round(max(onset, 0.0) * CONTROL_RATE))
            n_ctrl = min(_num_controls(step + 0.05), n_buf_ctrl - c0)
            if c0 >= n_buf_ctrl - 1 or n_ctrl < 2 or gate[c0 : c0 + n_ctrl].max() < 1e-3:
                continue
            t = _control_times(n_ctrl)
            f0 = np.full(n_ctrl, _midi_to_hz(m))
            k = np.arange(1, _num_partials(f0[0]) + 1)
            weights = k**-tilt
            freqs = f0[:, None] * k
            env = _smoothstep(t / 0.005) * _smoothstep((step + 0.05 - t) / 0.05)
            env *= np.exp(-t / decay) * 0.7 + 0.3
            amps = weights * _lowpass(freqs, cutoff, 2.0) * _partial_taper(freqs)
            _add_at(
                buffer,
                c0 * CONTROL_HOP,
                _tone(rng, f0, amps * (env * gate[c0 : c0 + n_ctrl])[:, None]),
            )


def _drum_sounds(rng):
    """One-shot kick, snare and hi-hat samples. Returns a dict of arrays."""
    t_kick = np.arange(int(0.4 * SAMPLE_RATE)) / SAMPLE_RATE
    f_start, f_end = rng.uniform(90.0, 160.0), rng.uniform(40.0, 60.0)
    freq = f_end + (f_start - f_end) * np.exp(-t_kick / rng.uniform(0.02, 0.05))
    kick = np.sin(2.0 * np.pi * np.cumsum(freq) / SAMPLE_RATE) * np.exp(
        -t_kick / rng.uniform(0.12, 0.3)
    )
    kick += (
        0.3
        * _filtered_noise(rng, len(t_kick), lambda f: _lowpass(f, 4000.0, 1))
        * np.exp(-t_kick / 0.003)
    )
    t_snare = np.arange(int(0.35 * SAMPLE_RATE)) / SAMPLE_RATE
    tone = np.sin(2.0 * np.pi * rng.uniform(180.0, 240.0) * t_snare) * np.exp(-t_snare / 0.06)
    centre = rng.uniform(2000.0, 5000.0)
    rattle = _filtered_noise(
        rng, len(t_snare), lambda f: (f / (f + 1000.0)) * _lowpass(f, centre * 2.0, 2)
    ) * np.exp(-t_snare / rng.uniform(0.08, 0.18))
    snare = 0.5 * tone + 0.6 * rattle
    t_hat = np.arange(int(0.2 * SAMPLE_RATE)) / SAMPLE_RATE
    hat = _filtered_noise(
        rng, len(t_hat), lambda f: (f / (f + 7000.0)) ** 2 * _lowpass(f, 10000.0, 4)
    )
    hat *= 0.4 * np.exp(-t_hat / rng.uniform(0.02, 0.06))
    return {"kick": kick, "snare": snare, "hat": hat}


def _render_drums(rng, plan, flags, starts, n_buf):
    """Drum stem following a per-bar 16-step pattern. [shape=(n_buf,)]"""
    sounds = _drum_sounds(rng)
    kick_steps = [0, 8] + list(
        rng.choice([3, 6, 10, 11, 14], int(rng.integers(0, 3)), replace=False)
    )
    step_len = plan["beat"] / 4.0
    steps_per_bar = int(round(plan["bar"] / step_len))
    snare_steps = [4, 12] if steps_per_bar == 16 else [4, 8]
    hat_every = int(rng.choice([1, 2, 2, 4]))
    hat_offset = int(rng.integers(0, 2)) * (hat_every // 2)
    n_steps = int((plan["duration"] - plan["bar_offset"]) / step_len) + 1
    steps = np.arange(n_steps)
    times = plan["bar_offset"] + steps * step_len
    pos = steps % steps_per_bar
    block = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(flags) - 1)
    active = flags[block] & (times >= 0) & (times < plan["duration"])
    patterns = {
        "kick": np.isin(pos, kick_steps),
        "snare": np.isin(pos, snare_steps),
        "hat": (pos % hat_every) == hat_offset,
    }
    out = np.zeros(n_buf)
    for name, hits in patterns.items():
        on = hits & active
        where = times[on] + 0.004 * rng.standard_normal(int(on.sum()))
        idx = np.clip(np.round(where * SAMPLE_RATE).astype(np.int64), 0, n_buf - 1)
        train = np.zeros(n_buf)
        np.add.at(train, idx, rng.uniform(0.7, 1.0, len(idx)))
        out += scipy.signal.oaconvolve(train, sounds[name])[:n_buf]
    return out


def _arrangement(rng, plan, n_layers):
    """On/off flags of each backing layer per block of bars.

    Returns:
        ``(flags, starts)``: bool flags [shape=(n_blocks, n_layers)] and the
        block start times in s [shape=(n_blocks,)].
    """
    block_len = plan["bar"] * int(rng.choice([2, 4]))
    starts = plan["bar_offset"] + np.arange(int(plan["duration"] / block_len) + 2) * block_len
    flags = np.zeros((len(starts), n_layers), bool)
    current = rng.random(n_layers) < 0.7
    for b in range(len(starts)):
        flip = rng.random(n_layers) < 0.25
        current = current ^ flip if b > 0 else current
        if not current[: n_layers - 2].any():
            current[int(rng.integers(0, n_layers - 2))] = True
        flags[b] = current
    return flags, starts


def _render_backing(rng, plan, n_buf_ctrl):
    """Chords, bass and drums. [shape=((n_buf_ctrl - 1) * CONTROL_HOP,)]"""
    n_buf = (n_buf_ctrl - 1) * CONTROL_HOP
    palette = list(rng.choice(_CHORD_TIMBRES, int(rng.integers(2, 4)), replace=False))
    layers = palette + ["bass", "drums"]
    flags, starts = _arrangement(rng, plan, len(layers))
    flags[:, layers.index("drums")] &= rng.random() < 0.9
    out = np.zeros(n_buf)
    for j, layer in enumerate(layers):
        layer_buf = np.zeros(n_buf, np.float32)
        if layer == "drums":
            layer_buf += _render_drums(rng, plan, flags[:, j], starts, n_buf).astype(np.float32)
            gain_db = rng.uniform(-8.0, -2.0)
        else:
            gate = _gate(flags[:, j], starts, n_buf_ctrl)
            if layer == "bass":
                _render_bass(rng, plan, gate, layer_buf)
                gain_db = rng.uniform(-6.0, 0.0)
            else:
                _render_chord_layer(rng, plan, layer, gate, layer_buf)
                gain_db = rng.uniform(-12.0, -4.0)
        rms = float(np.sqrt(np.mean(np.square(layer_buf, dtype=np.float64))))
        if rms > 0.0:
            out += layer_buf * (10.0 ** (gain_db / 20.0) * 0.1 / rms)
    return out


# ---------------------------------------------------------------------------
# Song structure.


def _plan_segments(rng, duration):
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
    bounds = np.round(np.cumsum([0.0] + [l for l, _ in lengths])).astype(np.int64)
    bounds[-1] = total_ms
    return tuple(
        corpus.Segment(bounds[i] / 1000.0, bounds[i + 1] / 1000.0, vocal)
        for i, (_, vocal) in enumerate(lengths)
    )


def _plan_song(rng, duration):
    """Key, tempo, chords and voice type of a song."""
    mode = "major" if rng.random() < 0.6 else "minor"
    root = int(rng.integers(0, 12))
    beat = 60.0 / rng.uniform(72.0, 150.0)
    bar = beat * (3 if rng.random() < 0.15 else 4)
    progressions = _PROGRESSIONS[mode]
    progression = progressions[int(rng.integers(0, len(progressions)))]
    chord_len = bar * (2 if bar < 1.8 and rng.random() < 0.4 else 1)
    bar_offset = -rng.uniform(0.0, bar)
    n_chords = int((duration - bar_offset) / chord_len) + 1
    scale = _SCALES[mode]
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


def _register(rng, sex):
    lo, hi = _REGISTERS[sex]
    low = int(rng.integers(lo, hi - 12 + 1))
    return low, int(min(hi, low + int(rng.integers(12, 20))))


def _vocal_phrases(rng, segments):
    """Lay out the phrases of every sing segment, drawing as it goes.

    Yields, per phrase: ``(offset, lead_in, end, breath)``: where the
    phrase's audio starts in the song (s), where its first note may start and
    where its notes must end (s from the phrase start), and the length of the
    inhalation before the first note (s), or None.
    """
    for seg in segments:
        if not seg.vocal:
            continue
        a, b = seg.start, seg.end - 0.005
        length = b - a
        n_phrases = max(1, int(round(length / rng.uniform(2.5, 5.0))))
        rests = rng.uniform(0.15, 0.45, n_phrases - 1)
        while n_phrases > 1 and (length - rests.sum()) / n_phrases < 1.2:
            n_phrases -= 1
            rests = rests[: n_phrases - 1]
        spans = (length - rests.sum()) * rng.dirichlet(np.full(n_phrases, 5.0))
        t = a
        for p in range(n_phrases):
            span = spans[p]
            breath = rng.random() < (0.8 if p == 0 else 0.6) and span > 1.0
            breath_len = rng.uniform(0.15, 0.35) if breath else 0.0
            lead_in = breath_len + rng.uniform(0.06, 0.1)
            start = rng.uniform(0.0, 0.04)
            yield t + start, lead_in, span - start, breath_len if breath else None
            t += span + (rests[p] if p < n_phrases - 1 else 0.0)


def _render_vocals(rng, plan, segments, singer, register, n_buf):
    """Vocal stem: phrases inside every sing segment, zero elsewhere."""
    out = np.zeros(n_buf)
    for offset, lead_in, end, breath in _vocal_phrases(rng, segments):
        onset, dur, midi = _melody(rng, lead_in, end, plan, register)
        if len(onset) == 0:
            continue
        notes, syllables = _plan_vocal_phrase(rng, onset, dur, midi, singer)
        scoop = rng.uniform(0.3, 1.0) if rng.random() < 0.5 else 0.0
        audio = _sing_phrase(
            rng,
            notes,
            syllables,
            singer,
            breath=None if breath is None else (0.0, breath),
            scoop=scoop,
        )
        _add_at(out, int(math.ceil(offset * CONTROL_RATE)) * CONTROL_HOP, audio)
    return out


def _render_leads(rng, plan, segments, register, n_buf, vocal_to_acc_db):
    """Lead stems, one per section where a lead plays.

    Returns:
        List of ``(segment, stem, gain_db)``: the section, its lead stem at an
        arbitrary level [shape=(n_buf,)], and the level the lead should have
        relative to the backing over that section, dB.
    """
    kinds = list(rng.choice(LEAD_KINDS, int(rng.integers(1, 3)), replace=False))
    instruments = [_draw_instrument(rng, kind) for kind in kinds]
    other_sex = "male" if plan["singer"] == "female" else "female"
    stems = []
    for seg in segments:
        if seg.vocal:
            playing = rng.random() < 0.35
            gain_db = vocal_to_acc_db + rng.uniform(-4.0, 4.0) - rng.uniform(8.0, 15.0)
        else:
            playing = rng.random() < 0.85
            gain_db = float(np.clip(vocal_to_acc_db + rng.uniform(-4.0, 4.0), -6.0, 10.0))
        a = max(0.0, seg.start + rng.uniform(-0.4, 0.4))
        b = min(plan["duration"], seg.end + rng.uniform(-0.4, 0.4))
        if not playing or b - a < 0.8:
            continue
        inst = instruments[int(rng.integers(0, len(instruments)))]
        reg = register if rng.random() < 0.7 else _register(rng, other_sex)
        stem = np.zeros(n_buf)
        t = a
        while b - t > 0.8:
            span = min(b - t, rng.uniform(1.5, 5.0))
            if b - t - span < 0.8:
                span = b - t
            onset, dur, midi = _melody(rng, 0.0, span, plan, reg)
            notes = _plan_lead_phrase(rng, onset, dur, midi, inst)
            _add_at(
                stem, int(round(t * CONTROL_RATE)) * CONTROL_HOP, _lead_phrase(rng, notes, inst)
            )
            t += span + rng.uniform(0.1, 0.8)
        stems.append((seg, stem, gain_db))
    return stems


def _region_mask(segments, n, vocal=True):
    """Samples inside the segments with ``vocal`` label. [shape=(n,)] bool"""
    mask = np.zeros(n, bool)
    for seg in segments:
        if seg.vocal == vocal:
            i0 = int(math.ceil(seg.start * SAMPLE_RATE))
            i1 = min(n - 1, int(math.floor(seg.end * SAMPLE_RATE)))
            mask[i0 : i1 + 1] = True
    return mask


def _vocal_gate(segments, n):
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


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


# ---------------------------------------------------------------------------
# Public API.


def _check_int(name, value, minimum):
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, np.integer))
        or value < minimum
    ):
        raise ParameterError(
            f"Expected {name} to be an integer >= {minimum}. Received: {name}={value!r}"
        )


def _check_duration(duration):
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


def synthesize_song(seed, index, duration=DEFAULT_DURATION):
    """Synthesise one song, deterministically from ``(seed, index)``.

    Args:
        seed: corpus seed, integer >= 0.
        index: song number, integer >= 0; the song is named
            ``f"song{index:03d}"``.
        duration: seconds, ``MIN_DURATION <= duration <= MAX_DURATION``.

    Returns:
        A ``SyntheticSong`` with ``round(duration * 22050)`` samples.

    Raises:
        ParameterError: for an invalid argument.
    """
    _check_int("seed", seed, 0)
    _check_int("index", index, 0)
    _check_duration(duration)
    duration = float(duration)
    rng = np.random.default_rng([int(seed), int(index)])
    n = int(round(duration * SAMPLE_RATE))
    n_buf_ctrl = int(math.ceil(n / CONTROL_HOP)) + 1
    n_buf = (n_buf_ctrl - 1) * CONTROL_HOP

    # Plan the song: structure, key, chords, singer and register.
    plan = _plan_song(rng, duration)
    segments = _plan_segments(rng, duration)
    singer = _draw_singer(rng, plan["singer"])
    register = _register(rng, plan["singer"])
    vocal_to_acc_db = float(rng.uniform(*VOCAL_TO_ACCOMPANIMENT_DB))

    # Render the stems.
    vocal = _render_vocals(rng, plan, segments, singer, register, n_buf)[:n] * _vocal_gate(
        segments, n
    )
    backing = _render_backing(rng, plan, n_buf_ctrl)[:n]
    leads = np.zeros(n)
    for seg, stem, gain_db in _render_leads(rng, plan, segments, register, n_buf, vocal_to_acc_db):
        section = _region_mask((seg,), n, seg.vocal)
        stem_rms, backing_rms = _rms(stem[:n][section]), _rms(backing[section])
        if stem_rms > 0.0 and backing_rms > 0.0:
            leads += stem[:n] * (backing_rms / stem_rms * 10.0 ** (gain_db / 20.0))

    # Mix at the drawn vocal-to-accompaniment ratio, then normalise the peak.
    accompaniment = backing + leads
    sing = _region_mask(segments, n)
    vocal_gain = (
        10.0 ** (vocal_to_acc_db / 20.0) * _rms(accompaniment[sing]) / max(_rms(vocal[sing]), 1e-12)
    )
    vocal *= vocal_gain
    mix = accompaniment + vocal
    scale = PEAK / max(float(np.max(np.abs(mix))), 1e-12)
    audio = (mix * scale).astype(np.float32)
    vocal_out = (vocal * scale).astype(np.float32)
    return SyntheticSong(
        name=f"song{index:03d}",
        audio=audio,
        vocal=vocal_out,
        segments=segments,
        vocal_to_accompaniment_db=vocal_to_acc_db,
        singer=plan["singer"],
    )
