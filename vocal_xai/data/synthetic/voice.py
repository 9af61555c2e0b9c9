"""The singer: source-filter synthesis of sung phrases.

A glottal-like harmonic source (spectral tilt near -12 dB/octave, per-period
jitter and shimmer) whose partials are weighted by the magnitude response of
a cascade of resonators: vowel formants F1-F4 that move between and within
syllables, plus fixed upper resonances. Aspiration noise, consonant noise
bursts at syllable onsets and inhalations at phrase starts complete the
voice. The pitch follows a melody with portamento and delayed vibrato.

A singer is drawn from a table of ranges (``draw_singer``); each corpus
version has its own.
"""

import dataclasses
import math

import numpy as np

from vocal_xai.data.synthetic import dsp, music

# Vowel formants F1-F4 and bandwidths B1-B4 in Hz (adult male).
VOWELS = {
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
VOWEL_NAMES = tuple(VOWELS)
_VOWEL_FORMANTS = np.array([v[0] for v in VOWELS.values()], np.float64)
_VOWEL_BANDWIDTHS = np.array([v[1] for v in VOWELS.values()], np.float64)

# Consonants: noise centre and width (Hz), level (dB re voiced), duration
# range (s), plosive, voiced (no noise burst), F2 locus (Hz; 0 keeps the vowel).
CONSONANTS = {
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
CONSONANT_NAMES = tuple(CONSONANTS)
_CONSONANT_WEIGHTS = np.array([3, 2, 2, 2, 3, 3, 2, 3, 3, 3], np.float64)

# Fixed resonances above F4 of an adult male, Hz.
_UPPER_FORMANTS = (4300.0, 5300.0, 6300.0, 7300.0, 8300.0, 9300.0)
# Bounds of a note's vibrato rate (Hz) and peak-to-peak depth (cents).
VIBRATO_LIMITS = ((4.0, 7.0), (20.0, 100.0))
# Backing singers: scale steps from the lead (a third or a sixth, up or
# down) and level below it, dB.
HARMONY_STEPS = (-5, -2, 2, 5)
HARMONY_DB = (3.0, 10.0)


@dataclasses.dataclass(frozen=True)
class Syllables:
    """Articulation of each note of a vocal phrase (arrays, one per note)."""

    vowel: np.ndarray  # index into VOWEL_NAMES
    vowel2: np.ndarray  # target of a diphthong (== vowel for a monophthong)
    glide_start: np.ndarray  # s after the onset where the diphthong starts
    glide_time: np.ndarray  # s
    consonant: np.ndarray  # index into CONSONANT_NAMES, -1 for none
    consonant_time: np.ndarray  # s before the vowel onset
    dip: np.ndarray  # voicing level at the onset, 0..1
    attack: np.ndarray  # s


@dataclasses.dataclass(frozen=True)
class Singer:
    sex: str  # the voice type
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


def draw_singer(rng, voice, table):
    """A random singer of voice type ``voice``.

    Args:
        rng: random generator.
        voice: a key of ``table["formant_scale"]``.
        table: ranges ``(low, high)`` of the singer's settings:
            ``formant_scale`` (a range per voice type, re the adult male),
            ``bandwidth_scale``, ``tilt_db``, ``jitter``, ``shimmer_db``,
            ``breathiness_db``, ``vib_rate`` (Hz) and ``vib_depth``
            (peak-to-peak cents). ``vib_depth`` may instead map singing
            styles to ranges; a style is then chosen, equally likely, right
            after the singer's vowels.

    Returns:
        ``Singer``.
    """
    scale = rng.uniform(*table["formant_scale"][voice])
    upper = np.array(_UPPER_FORMANTS) * scale
    upper *= 1.0 + 0.03 * rng.standard_normal(len(upper))
    n_vowels = int(rng.integers(6, len(VOWEL_NAMES) + 1))
    vowels = np.sort(rng.choice(len(VOWEL_NAMES), n_vowels, replace=False))
    vib_depth = table["vib_depth"]
    if isinstance(vib_depth, dict):
        vib_depth = vib_depth[str(rng.choice(tuple(vib_depth)))]
    return Singer(
        sex=voice,
        formant_scale=scale,
        bandwidth_scale=rng.uniform(*table["bandwidth_scale"]),
        upper_formants=upper,
        upper_bandwidths=rng.uniform(350.0, 700.0, len(upper)),
        tilt_db=rng.uniform(*table["tilt_db"]),
        jitter=rng.uniform(*table["jitter"]),
        shimmer_db=rng.uniform(*table["shimmer_db"]),
        breathiness_db=rng.uniform(*table["breathiness_db"]),
        vib_rate=rng.uniform(*table["vib_rate"]),
        vib_depth=rng.uniform(*vib_depth),
        vowels=vowels,
        vowel_weights=rng.uniform(0.5, 1.5, n_vowels),
    )


def vocal_phrases(rng, segments):
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


def render_vocals(
    rng,
    plan,
    segments,
    singer,
    register,
    n_buf,
    vib_limits=VIBRATO_LIMITS,
    consonant_prob=0.75,
    harmony=(),
    harmony_prob=0.0,
    harmony_steps=HARMONY_STEPS,
    harmony_db=HARMONY_DB,
    detune_cents=0.0,
):
    """Vocal stem: phrases inside every sing segment, zero elsewhere.

    Args:
        rng: random generator.
        plan: the song plan (``music.plan_song``).
        segments: the song's ``corpus.Segment`` tuple.
        singer: ``Singer`` of the melody.
        register: MIDI range ``(low, high)`` of the melody.
        n_buf: samples of the stem.
        vib_limits, consonant_prob: as ``plan_vocal_phrase``.
        harmony: backing singers (``Singer``), possibly none; with
            probability ``harmony_prob`` a phrase is harmonised, each backing
            singer singing the same words ``harmony_steps`` scale steps away
            (one drawn per singer and phrase; by default a third or a sixth)
            and ``harmony_db`` dB (drawn) below the lead.
        harmony_steps: scale steps a backing singer may sing away from the
            lead; ``(0,)`` is a unison ensemble.
        harmony_db: ``(low, high)`` level of a backing singer below the lead, dB.
        detune_cents: standard deviation of a backing singer's steady
            offset from the written pitch, per phrase (0: none).

    Returns:
        float64 samples. [shape=(n_buf,)]
    """
    out = np.zeros(n_buf)
    for offset, lead_in, end, breath in vocal_phrases(rng, segments):
        onset, dur, midi = music.melody(rng, lead_in, end, plan, register)
        if len(onset) == 0:
            continue
        notes, syllables = plan_vocal_phrase(
            rng, onset, dur, midi, singer, vib_limits=vib_limits, consonant_prob=consonant_prob
        )
        scoop = rng.uniform(0.3, 1.0) if rng.random() < 0.5 else 0.0
        phrase = sing_phrase(
            rng,
            notes,
            syllables,
            singer,
            breath=None if breath is None else (0.0, breath),
            scoop=scoop,
        )
        if harmony and rng.random() < harmony_prob:
            lead_rms = dsp.rms(phrase)
            for backing_singer in harmony:
                steps = int(rng.choice(list(harmony_steps)))
                midi = music.diatonic_shift(notes.midi, steps, plan)
                if detune_cents > 0.0:
                    midi = midi + rng.normal(0.0, detune_cents / 100.0)
                take = dataclasses.replace(
                    notes,
                    midi=midi,
                    vib_phase=rng.uniform(0.0, 2.0 * np.pi, len(onset)),
                    vib_rate=notes.vib_rate + rng.uniform(-0.3, 0.3, len(onset)),
                )
                sung = sing_phrase(rng, take, syllables, backing_singer)
                below_db = rng.uniform(*harmony_db)
                level = lead_rms / max(dsp.rms(sung), 1e-12) * 10.0 ** (-below_db / 20.0)
                m = min(len(phrase), len(sung))
                phrase[:m] += sung[:m] * level
        dsp.add_at(out, int(math.ceil(offset * dsp.CONTROL_RATE)) * dsp.CONTROL_HOP, phrase)
    return out


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
        if not w.any():  # a singer of one vowel
            w = p
        vowel[i] = rng.choice(singer.vowels, p=w / w.sum())
        previous = vowel[i]
    diphthong = rng.random(n) < 0.3
    vowel2 = np.where(diphthong, rng.choice(singer.vowels, n, p=p), vowel)
    has_consonant = rng.random(n) < consonant_prob
    cw = _CONSONANT_WEIGHTS / _CONSONANT_WEIGHTS.sum()
    consonant = np.where(has_consonant, rng.choice(len(CONSONANT_NAMES), n, p=cw), -1)
    lo = np.array([CONSONANTS[CONSONANT_NAMES[c]][3][0] if c >= 0 else 0.0 for c in consonant])
    hi = np.array([CONSONANTS[CONSONANT_NAMES[c]][3][1] if c >= 0 else 0.0 for c in consonant])
    consonant_time = rng.uniform(lo, np.maximum(hi, lo))
    voiced = np.array([c >= 0 and CONSONANTS[CONSONANT_NAMES[c]][5] for c in consonant])
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
    return Syllables(
        vowel=vowel,
        vowel2=vowel2,
        glide_start=rng.uniform(0.3, 0.6, n) * notes.duration,
        glide_time=rng.uniform(0.25, 0.4, n) * notes.duration,
        consonant=consonant,
        consonant_time=consonant_time,
        dip=dip,
        attack=rng.uniform(0.02, 0.06, n),
    )


def plan_vocal_phrase(
    rng,
    onset,
    duration,
    midi,
    singer,
    first_consonant_ok=True,
    vib_limits=VIBRATO_LIMITS,
    consonant_prob=0.75,
):
    """Expression and articulation for a vocal phrase.

    Args:
        rng: random generator.
        onset, duration, midi: per-note arrays; onsets from the phrase start, s.
        singer: ``Singer``.
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
    notes = music.make_notes(
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
    w = dsp.smoothstep((since - syllables.glide_start[idx]) / syllables.glide_time[idx])[:, None]
    centres = f_a + (f_b - f_a) * w
    bandwidths = b_a + (b_b - b_a) * w
    # Consonant loci: low F1 and a place-dependent F2 around each consonant.
    loci = np.array([CONSONANTS[c][6] for c in CONSONANT_NAMES])
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
    centres *= singer.formant_scale * (1.0 + 0.015 * dsp.smooth_noise(rng, len(t), 0.15))[:, None]
    bandwidths = bandwidths * singer.bandwidth_scale
    # Coarticulation: formants move smoothly between targets.
    centres = dsp.smooth(centres, rng.uniform(0.012, 0.025))
    upper_c = np.broadcast_to(singer.upper_formants, (len(t), len(singer.upper_formants)))
    upper_b = np.broadcast_to(singer.upper_bandwidths, upper_c.shape)
    return np.concatenate([centres, upper_c], 1), np.concatenate([bandwidths, upper_b], 1)


def _consonant_shape(name, scale):
    centre, width, _, _, _, _, _ = CONSONANTS[name]
    shape = 1.0 / (1.0 + np.square((dsp.NOISE_FREQS - centre * scale) / (0.5 * width * scale)))
    return dsp.unit_rms(shape * dsp.lowpass(dsp.NOISE_FREQS, 10000.0, 4))


def sing_phrase(rng, notes, syllables, singer, breath=None, scoop=0.0):
    """Render a vocal phrase.

    Args:
        rng: random generator.
        notes: ``music.Notes``; onsets are vowel onsets from the phrase start.
        syllables: ``Syllables`` of the same notes.
        singer: ``Singer``.
        breath: ``(start, end)`` of an inhalation before the first note, s,
            or None.
        scoop: the first note glides up from this many semitones below.

    Returns:
        float32 samples from the phrase start to its end (about unit peak
        level for the voiced part). [shape=(samples,)]
    """
    end = notes.end
    n_ctrl = dsp.num_controls(end)
    t = dsp.control_times(n_ctrl)
    n_notes = len(notes.onset)
    idx = np.clip(np.searchsorted(notes.onset, t, side="right") - 1, 0, n_notes - 1)
    since = t - notes.onset[idx]

    # Pitch: melody, portamento, vibrato and a slow drift.
    midi = music.pitch_contour(t, notes, scoop) + 0.08 * dsp.smooth_noise(rng, n_ctrl, 0.12)
    f0 = dsp.midi_to_hz(midi)

    # Voicing envelope: attacks from the syllable's dip, gaps for voiceless
    # consonants, a release at the phrase end and a phrase-level contour.
    env = syllables.dip[idx] + (1.0 - syllables.dip[idx]) * dsp.smoothstep(
        since / syllables.attack[idx]
    )
    nxt = np.minimum(idx + 1, n_notes - 1)
    to_next = np.where(idx + 1 < n_notes, notes.onset[nxt] - t, np.inf)
    next_dip = np.where(idx + 1 < n_notes, syllables.dip[nxt], 1.0)
    fade = dsp.smoothstep((to_next - syllables.consonant_time[nxt]) / 0.03)
    env *= next_dip + (1.0 - next_dip) * fade
    env *= dsp.smoothstep((end - t) / rng.uniform(0.05, 0.15))
    contour_db = np.linspace(rng.uniform(-3.0, 3.0), rng.uniform(-3.0, 3.0), n_ctrl)
    gain_db = notes.gain_db[idx] + contour_db
    env *= 10.0 ** (gain_db / 20.0)
    env = np.maximum(dsp.smooth(env, 0.004), 0.0)

    # Source: glottal tilt (brighter when louder) plus +6 dB/octave radiation.
    n_partials = dsp.num_partials(float(f0.min()))
    k = np.arange(1, n_partials + 1, dtype=np.float64)
    tilt = singer.tilt_db + 0.4 * (gain_db - contour_db)
    source = k ** ((tilt[:, None] + 6.0206) / 6.0206)
    freqs = f0[:, None] * k
    centres, bandwidths = _formant_tracks(t, notes, syllables, singer, rng)
    amps = source * dsp.resonator_gain(freqs, centres, bandwidths) * dsp.partial_taper(freqs)
    norm = np.sqrt(np.sum(amps * amps, axis=1))
    norm = np.sqrt(np.maximum(norm, 1e-12) * max(float(np.median(norm)), 1e-12))
    amps *= (env / norm)[:, None]
    voice = dsp.tone(rng, f0, amps, singer.jitter, singer.shimmer_db)

    # Noise: aspiration shaped by the vocal tract, consonants, inhalation.
    tract = dsp.resonator_gain(dsp.NOISE_FREQS[None, :], centres, bandwidths)
    aspiration = tract * (dsp.NOISE_FREQS / (dsp.NOISE_FREQS + 2000.0))
    aspiration /= np.sqrt(np.mean(aspiration * aspiration, axis=1, keepdims=True)) + 1e-12
    level = 10.0 ** (singer.breathiness_db / 20.0) * env
    mask = aspiration * level[:, None]
    for i in np.flatnonzero(syllables.consonant >= 0):
        name = CONSONANT_NAMES[syllables.consonant[i]]
        _, _, level_db, _, plosive, voiced, _ = CONSONANTS[name]
        if voiced:
            continue
        dur = syllables.consonant_time[i]
        rel = (t - (notes.onset[i] - dur)) / dur
        if plosive:
            shape_t = np.where((rel >= 0) & (rel <= 1.3), np.exp(-3.0 * np.clip(rel, 0, None)), 0.0)
        else:
            shape_t = dsp.smoothstep(rel / 0.3) * dsp.smoothstep((1.2 - rel) / 0.3)
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
            dsp.resonator_gain(
                dsp.NOISE_FREQS,
                _VOWEL_FORMANTS[VOWEL_NAMES.index("uh")] * singer.formant_scale,
                3.0 * _VOWEL_BANDWIDTHS[VOWEL_NAMES.index("uh")],
            )
            * (dsp.NOISE_FREQS / (dsp.NOISE_FREQS + 1000.0))
            * dsp.lowpass(dsp.NOISE_FREQS, 7000.0, 2)
        )
        mask += (
            shape_t[:, None]
            * dsp.unit_rms(inhale)[None, :]
            * 10.0 ** (rng.uniform(-26.0, -16.0) / 20.0)
        )
    return voice + dsp.shaped_noise(rng, mask)
