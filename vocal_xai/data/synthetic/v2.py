"""Version 2 of the synthetic corpus: real music's non-vocal sounds as decoys.

Version 1 (``v1``) tells its singer from its instruments by more than the
voice: its leads have smooth static envelopes and few kinds of timbre, so a
detector trained on it may call any vibrato-rich, harmonic, sustained sound a
voice. Version 2 keeps version 1's singer and song plan and adds what real
music has and a detector must learn not to take for a voice:

* styles (band, orchestral, jazz, electronic, acoustic), each with its own
  backing: bowed string sections with vibrato, brass and pizzicato chords,
  strummed guitars, struck bars, pads, organ and piano, walking or bowed bass,
  drums, and passages heavy with percussion;
* lead instruments from ``instruments.INSTRUMENTS``: solo and section strings,
  winds and brass with vibrato, breath noise and level-dependent brightness,
  plucked and struck sounds, detuned unisons (accordion, supersaw);
* more singers: six voice types, straight to operatic vibrato, breathy and
  consonant-rich singing, harmonised backing vocals;
* some songs without any singing;
* room reverberation and mastering (spectral tilt, compression) on the whole
  mix.

Every song has a singer with the same probability whatever its style, so the
style does not give the label away: what separates the classes is the voice
(moving formants, consonants, breaths, syllables, jitter). Labels stay exact:
the vocal stem, reverberation included, is zero outside the ``sing`` segments.
"""

import dataclasses
import math

import numpy as np

from vocal_xai.data import corpus
from vocal_xai.data.synthetic import effects, instruments, v1

SAMPLE_RATE = v1.SAMPLE_RATE
DEFAULT_SPLIT_SIZES = {"train": 96, "valid": 24, "test": 24}
INSTRUMENTAL_SONG_PROB = 0.12
VOCAL_TO_ACCOMPANIMENT_DB = (-4.0, 10.0)

# Voice types: melody register (MIDI) and formant scale re the adult male.
VOICE_TYPES = {
    "bass": ((38, 62), (0.92, 0.98)),
    "baritone": ((41, 65), (0.95, 1.02)),
    "tenor": ((46, 69), (0.98, 1.06)),
    "alto": ((53, 74), (1.08, 1.16)),
    "mezzo": ((56, 78), (1.10, 1.18)),
    "soprano": ((60, 84), (1.14, 1.24)),
}
# Singing styles: peak-to-peak vibrato depth in cents.
VIBRATO_STYLES = {"straight": (0.0, 25.0), "pop": (25.0, 70.0), "classical": (70.0, 150.0)}
# Bounds of a note's vibrato rate (Hz) and depth (cents) around the singer's.
VIBRATO_LIMITS = ((3.8, 8.0), (0.0, 180.0))

# Backing styles: chord layers to draw from (the first listed is always
# there when ``keep_first``), bass, drum probability, probability of heavy
# percussion, lead instruments, and how often the style is drawn.
STYLES = {
    "band": dict(
        chords=("piano", "organ", "pad", "guitar"),
        keep_first=False,
        bass="electric",
        drums=0.95,
        heavy=0.3,
        leads=("electric_guitar", "synth", "saxophone", "piano", "violin", "harmonica"),
        weight=0.28,
    ),
    "orchestral": dict(
        chords=("strings", "brass", "mallets", "pizzicato"),
        keep_first=True,
        bass="bowed",
        drums=0.1,
        heavy=0.0,
        leads=("violin", "viola", "cello", "strings", "flute", "oboe", "clarinet", "horn", "trumpet", "celesta"),
        weight=0.27,
    ),
    "jazz": dict(
        chords=("piano", "mallets", "guitar", "brass"),
        keep_first=False,
        bass="walking",
        drums=0.9,
        heavy=0.1,
        leads=("saxophone", "trumpet", "trombone", "vibraphone", "clarinet", "electric_guitar", "piano"),
        weight=0.15,
    ),
    "electronic": dict(
        chords=("pad", "supersaw", "piano"),
        keep_first=False,
        bass="electric",
        drums=1.0,
        heavy=0.5,
        leads=("synth", "supersaw", "electric_guitar", "piano"),
        weight=0.15,
    ),
    "acoustic": dict(
        chords=("guitar", "piano", "strings", "organ"),
        keep_first=False,
        bass="walking",
        drums=0.5,
        heavy=0.0,
        leads=("violin", "cello", "flute", "accordion", "harmonica", "nylon_guitar", "clarinet"),
        weight=0.15,
    ),
}
_STYLE_NAMES = tuple(STYLES)
_STYLE_WEIGHTS = np.array([STYLES[s]["weight"] for s in _STYLE_NAMES])

# Chord layers played by an instrument of the table: instrument choices, the
# most players per note, and the pattern.
_CHORD_LAYERS = {
    "strings": (("strings",), 3, "sustain"),
    "brass": (("horn", "trombone"), 2, "sustain"),
    "supersaw": (("supersaw",), 3, "sustain"),
    "guitar": (("nylon_guitar", "electric_guitar"), 1, "strum"),
    "mallets": (("vibraphone", "celesta", "piano"), 1, "arpeggio"),
    "pizzicato": (("pizzicato",), 2, "beats"),
}
_V1_CHORD_TIMBRES = ("pad", "piano", "organ")


@dataclasses.dataclass(frozen=True)
class _Song:
    """Per-song choices beyond ``v1._plan_song``."""

    style: str
    voice: str
    singer: object  # v1._Singer
    consonant_prob: float
    harmony: tuple  # backing singers (v1._Singer), possibly empty
    harmony_prob: float


# ---------------------------------------------------------------------------
# Singers.


def _draw_singer(rng, voice):
    """A singer of voice type ``voice`` (``v1._Singer``)."""
    scale = rng.uniform(*VOICE_TYPES[voice][1])
    upper = np.array([4300.0, 5300.0, 6300.0, 7300.0, 8300.0, 9300.0]) * scale
    upper *= 1.0 + 0.03 * rng.standard_normal(len(upper))
    n_vowels = int(rng.integers(6, len(v1._VOWEL_NAMES) + 1))
    vowels = np.sort(rng.choice(len(v1._VOWEL_NAMES), n_vowels, replace=False))
    style = VIBRATO_STYLES[str(rng.choice(tuple(VIBRATO_STYLES)))]
    return v1._Singer(
        sex=voice,
        formant_scale=scale,
        bandwidth_scale=rng.uniform(0.8, 1.3),
        upper_formants=upper,
        upper_bandwidths=rng.uniform(350.0, 700.0, len(upper)),
        tilt_db=rng.uniform(-16.0, -8.0),
        jitter=rng.uniform(0.003, 0.02),
        shimmer_db=rng.uniform(0.3, 1.5),
        breathiness_db=rng.uniform(-34.0, -10.0),
        vib_rate=rng.uniform(4.2, 7.5),
        vib_depth=rng.uniform(*style),
        vowels=vowels,
        vowel_weights=rng.uniform(0.5, 1.5, n_vowels),
    )


def _plan(rng, duration):
    """Song plan (``v1._plan_song`` plus a style), segments and singers."""
    plan = v1._plan_song(rng, duration)
    plan["style"] = str(rng.choice(_STYLE_NAMES, p=_STYLE_WEIGHTS / _STYLE_WEIGHTS.sum()))
    if rng.random() < INSTRUMENTAL_SONG_PROB:
        segments = (corpus.Segment(0.0, float(duration), False),)
    else:
        segments = v1._plan_segments(rng, duration)
    names = tuple(VOICE_TYPES)
    voice = str(rng.choice(names))
    n_backing = int(rng.choice([0, 0, 1, 2]))
    harmony = tuple(_draw_singer(rng, str(rng.choice(names))) for _ in range(n_backing))
    song = _Song(
        style=plan["style"],
        voice=voice,
        singer=_draw_singer(rng, voice),
        consonant_prob=rng.uniform(0.55, 0.95),
        harmony=harmony,
        harmony_prob=rng.uniform(0.3, 0.8),
    )
    return plan, segments, song


def _voice_register(rng, voice):
    lo, hi = VOICE_TYPES[voice][0]
    return _sub_register(rng, (lo, hi))


def _sub_register(rng, register):
    """A 12-19 semitone range inside ``register``, as ``v1._register`` does."""
    lo, hi = register
    low = int(rng.integers(lo, max(lo + 1, hi - 12 + 1)))
    return low, int(min(hi, low + int(rng.integers(12, 20))))


def _diatonic_shift(midi, steps, plan):
    """Move each note ``steps`` degrees along the song's scale."""
    pcs = {(plan["root"] + s) % 12 for s in v1._SCALES[plan["mode"]]}
    pitches = np.array([p for p in range(12, 108) if p % 12 in pcs])
    pos = np.searchsorted(pitches, np.round(midi))
    return pitches[np.clip(pos + steps, 0, len(pitches) - 1)].astype(np.float64)


def _render_vocals(rng, plan, segments, song, register, n_buf):
    """Vocal stem: lead phrases, sometimes harmonised, inside sing segments."""
    out = np.zeros(n_buf)
    for offset, lead_in, end, breath in v1._vocal_phrases(rng, segments):
        onset, dur, midi = v1._melody(rng, lead_in, end, plan, register)
        if len(onset) == 0:
            continue
        notes, syllables = v1._plan_vocal_phrase(
            rng, onset, dur, midi, song.singer, vib_limits=VIBRATO_LIMITS, consonant_prob=song.consonant_prob
        )
        scoop = rng.uniform(0.3, 1.0) if rng.random() < 0.5 else 0.0
        phrase = v1._sing_phrase(
            rng, notes, syllables, song.singer, breath=None if breath is None else (0.0, breath), scoop=scoop
        )
        # Backing singers: the same words a third or a sixth away.
        if song.harmony and rng.random() < song.harmony_prob:
            lead_rms = v1._rms(phrase)
            for backing in song.harmony:
                steps = int(rng.choice([-5, -2, 2, 5]))
                take = dataclasses.replace(
                    notes,
                    midi=_diatonic_shift(notes.midi, steps, plan),
                    vib_phase=rng.uniform(0.0, 2.0 * np.pi, len(onset)),
                    vib_rate=notes.vib_rate + rng.uniform(-0.3, 0.3, len(onset)),
                )
                voice = v1._sing_phrase(rng, take, syllables, backing)
                level = lead_rms / max(v1._rms(voice), 1e-12) * 10.0 ** (-rng.uniform(3.0, 10.0) / 20.0)
                m = min(len(phrase), len(voice))
                phrase[:m] += voice[:m] * level
        v1._add_at(out, int(math.ceil(offset * v1.CONTROL_RATE)) * v1.CONTROL_HOP, phrase)
    return out


# ---------------------------------------------------------------------------
# Backing.


def _sample_gate(gate, n):
    """A control-rate gate held over each control interval. [shape=(n,)]"""
    return np.repeat(gate, v1.CONTROL_HOP)[:n]


def _chord_events(rng, plan, inst, pattern):
    """``(onset, length, midi)`` of the notes of a chord layer."""
    lo = inst.register[0]
    low = int(rng.integers(lo, lo + 10))
    strikes = int(rng.choice([2, 4]))
    events = []
    for c, (start, stop) in enumerate(zip(plan["chord_starts"], plan["chord_stops"])):
        notes = v1._chord_midi(plan["chords"][c], low)
        span = stop - start
        if pattern == "sustain":
            events += [(start, span, m) for m in notes]
        elif pattern == "strum":
            # Strings of a strummed chord: the chord tones and the root an
            # octave down, each struck a little after the previous one.
            voicing = np.concatenate([[notes[0] - 12.0], notes, notes[:1] + 12.0])
            step = span / strikes
            for s in range(strikes):
                order = voicing if s % 2 == 0 else voicing[::-1]
                lag = rng.uniform(0.008, 0.025)
                events += [(start + s * step + j * lag, step, m) for j, m in enumerate(order)]
        elif pattern == "arpeggio":
            n_steps = 2 * len(notes)
            step = span / n_steps
            events += [(start + s * step, 2.0 * step, notes[s % len(notes)]) for s in range(n_steps)]
        else:  # one short chord per beat
            n_beats = max(1, int(round(span / plan["beat"])))
            step = span / n_beats
            events += [(start + s * step, 0.5 * step, m) for s in range(n_beats) for m in notes]
    return events


def _render_chord_layer(rng, plan, layer, gate, n_buf):
    """A chord layer played by an instrument of the table. [shape=(n_buf,)]"""
    choices, max_players, pattern = _CHORD_LAYERS[layer]
    inst = instruments.draw_instrument(rng, str(rng.choice(choices)))
    inst = dataclasses.replace(inst, players=min(inst.players, max_players))
    buffer = np.zeros(n_buf)
    n_ctrl = len(gate)
    for onset, length, m in _chord_events(rng, plan, inst, pattern):
        if onset < 0.0:
            onset, length = 0.0, length + onset
        c0 = int(round(onset * v1.CONTROL_RATE))
        if length < 0.05 or c0 >= n_ctrl - 1:
            continue
        c1 = min(n_ctrl, c0 + int(length * v1.CONTROL_RATE) + 1)
        if gate[c0:c1].max() < 1e-3:
            continue
        notes = instruments.plan_line(rng, np.zeros(1), np.array([length]), np.array([m]), inst)
        v1._add_at(buffer, c0 * v1.CONTROL_HOP, instruments.render_line(rng, notes, inst))
    return buffer * _sample_gate(gate, n_buf)


def _render_bass_line(rng, plan, kind, gate, n_buf):
    """Walking (plucked, a note a beat) or bowed (a note a chord) bass."""
    name = "pizzicato" if kind == "walking" else "cello"
    inst = instruments.draw_instrument(rng, name)
    inst = dataclasses.replace(inst, players=1 if kind == "walking" else 2, register=(28, 50))
    buffer = np.zeros(n_buf)
    pcs = {(plan["root"] + s) % 12 for s in v1._SCALES[plan["mode"]]}
    scale = np.array([p for p in range(28, 52) if p % 12 in pcs])
    n_ctrl = len(gate)
    for c, (start, stop) in enumerate(zip(plan["chord_starts"], plan["chord_stops"])):
        if stop <= 0.0:
            continue
        root = 28 + (plan["chords"][c][0] - 28) % 12
        if kind == "walking":
            n_beats = max(1, int(round((stop - start) / plan["beat"])))
            step = (stop - start) / n_beats
            pos = int(np.searchsorted(scale, root))
            midi = [root]
            for _ in range(n_beats - 1):
                pos = int(np.clip(pos + rng.choice([-2, -1, 1, 2]), 0, len(scale) - 1))
                midi.append(scale[pos])
            onsets = start + step * np.arange(n_beats)
            durations = np.full(n_beats, step)
        else:
            midi, onsets, durations = [root], np.array([start]), np.array([stop - start])
        keep = onsets >= 0.0
        if not keep.any():
            continue
        onsets, durations, midi = onsets[keep], durations[keep], np.asarray(midi, np.float64)[keep]
        c0 = int(round(onsets[0] * v1.CONTROL_RATE))
        if c0 >= n_ctrl - 1 or gate[c0 : min(n_ctrl, c0 + int((stop - onsets[0]) * v1.CONTROL_RATE) + 1)].max() < 1e-3:
            continue
        notes = instruments.plan_line(rng, onsets - onsets[0], durations, midi, inst)
        v1._add_at(buffer, c0 * v1.CONTROL_HOP, instruments.render_line(rng, notes, inst))
    return buffer * _sample_gate(gate, n_buf)


def _render_backing(rng, plan, n_buf_ctrl):
    """Chords, bass and drums of the song's style. [shape=(n_buf,)]"""
    n_buf = (n_buf_ctrl - 1) * v1.CONTROL_HOP
    style = STYLES[plan["style"]]
    chords = style["chords"]
    n_layers = int(rng.integers(2, min(3, len(chords)) + 1))
    palette = list(rng.choice(chords, n_layers, replace=False))
    if style["keep_first"] and chords[0] not in palette:
        palette[0] = chords[0]
    layers = palette + ["bass", "drums"]
    flags, starts = v1._arrangement(rng, plan, len(layers))
    flags[:, -1] &= rng.random() < style["drums"]
    heavy = rng.random() < style["heavy"]
    out = np.zeros(n_buf)
    for j, layer in enumerate(layers):
        gate = v1._gate(flags[:, j], starts, n_buf_ctrl)
        if layer == "drums":
            layer_buf = v1._render_drums(rng, plan, flags[:, j], starts, n_buf)
            if heavy:
                # A second kit with its own pattern on top, and drums up front.
                layer_buf = layer_buf + v1._render_drums(rng, plan, flags[:, j], starts, n_buf)
            gain_db = rng.uniform(-8.0, -2.0) + (rng.uniform(4.0, 8.0) if heavy else 0.0)
        elif layer == "bass":
            if style["bass"] == "electric":
                layer_buf = np.zeros(n_buf, np.float32)
                v1._render_bass(rng, plan, gate, layer_buf)
            else:
                layer_buf = _render_bass_line(rng, plan, style["bass"], gate, n_buf)
            gain_db = rng.uniform(-6.0, 0.0)
        elif layer in _V1_CHORD_TIMBRES:
            layer_buf = np.zeros(n_buf, np.float32)
            v1._render_chord_layer(rng, plan, layer, gate, layer_buf)
            gain_db = rng.uniform(-12.0, -4.0)
        else:
            layer_buf = _render_chord_layer(rng, plan, layer, gate, n_buf)
            gain_db = rng.uniform(-10.0, -3.0)
        rms = v1._rms(layer_buf)
        if rms > 0.0:
            out += layer_buf * (10.0 ** (gain_db / 20.0) * 0.1 / rms)
    return out


def _render_leads(rng, plan, segments, n_buf, vocal_to_acc_db):
    """Lead stems, one per section where a lead plays.

    Long non-vocal segments are cut into sections of 4-10 s, each with its own
    lead (or none).

    Returns:
        List of ``(section, stem, gain_db)`` as ``v1._render_leads``.
    """
    names = STYLES[plan["style"]]["leads"]
    chosen = rng.choice(names, int(rng.integers(1, 4)), replace=False)
    insts = [instruments.draw_instrument(rng, str(name)) for name in chosen]
    sections = []
    for seg in segments:
        if seg.vocal or seg.end - seg.start < 12.0:
            sections.append(seg)
            continue
        t = seg.start
        while seg.end - t > 0.0:
            span = rng.uniform(4.0, 10.0)
            if seg.end - t - span < 4.0:
                span = seg.end - t
            sections.append(corpus.Segment(t, t + span, False))
            t += span
    stems = []
    for seg in sections:
        if seg.vocal:
            playing = rng.random() < 0.4
            gain_db = vocal_to_acc_db + rng.uniform(-4.0, 4.0) - rng.uniform(3.0, 12.0)
        else:
            playing = rng.random() < 0.85
            gain_db = float(np.clip(vocal_to_acc_db + rng.uniform(-4.0, 4.0), -6.0, 10.0))
        a = max(0.0, seg.start + rng.uniform(-0.4, 0.4))
        b = min(plan["duration"], seg.end + rng.uniform(-0.4, 0.4))
        if not playing or b - a < 0.8:
            continue
        inst = insts[int(rng.integers(0, len(insts)))]
        register = _sub_register(rng, inst.register)
        stem = np.zeros(n_buf)
        t = a
        while b - t > 0.8:
            span = min(b - t, rng.uniform(1.5, 5.0))
            if b - t - span < 0.8:
                span = b - t
            onset, dur, midi = v1._melody(rng, 0.0, span, plan, register)
            if len(onset):
                notes = instruments.plan_line(rng, onset, dur, midi, inst)
                line = instruments.render_line(rng, notes, inst)
                v1._add_at(stem, int(round(t * v1.CONTROL_RATE)) * v1.CONTROL_HOP, line)
            t += span + rng.uniform(0.1, 0.8)
        stems.append((seg, stem, gain_db))
    return stems


# ---------------------------------------------------------------------------
# The song.


def _master(rng, accompaniment, vocal, gate):
    """Reverberation, spectral tilt and compression of the whole mix.

    Every step is applied to both stems alike; the vocal stem is gated again
    afterwards so that it stays inside its sing segments.
    """
    if rng.random() < 0.85:
        ir = effects.room_impulse(
            rng, rt60=rng.uniform(0.3, 2.5), predelay=rng.uniform(0.0, 0.03), damping_hz=rng.uniform(2000.0, 7000.0)
        )
        wet = rng.uniform(0.1, 0.45)
        accompaniment = effects.reverberate(accompaniment, ir, wet)
        vocal = effects.reverberate(vocal, ir, wet * rng.uniform(0.7, 1.2))
    if rng.random() < 0.8:
        slope = rng.uniform(-3.0, 2.0)
        accompaniment = effects.tilt(accompaniment, slope)
        vocal = effects.tilt(vocal, slope)
    vocal = vocal * gate
    if rng.random() < 0.8:
        mix = accompaniment + vocal
        threshold = 20.0 * np.log10(max(v1._rms(mix), 1e-9)) + rng.uniform(-6.0, 0.0)
        gain = effects.compressor_gain(mix, threshold, ratio=rng.uniform(2.0, 6.0))
        accompaniment = accompaniment * gain
        vocal = vocal * gain
    return accompaniment, vocal


def synthesize_song(seed, index, duration=v1.DEFAULT_DURATION):
    """Synthesise one version 2 song, deterministically from ``(seed, index)``.

    Args, returns and errors as ``v1.synthesize_song``; ``singer`` holds the
    voice type (``VOICE_TYPES``), or ``"none"`` for a song without singing.
    """
    v1._check_int("seed", seed, 0)
    v1._check_int("index", index, 0)
    v1._check_duration(duration)
    duration = float(duration)
    # A stream of its own, apart from version 1's ``[seed, index]``.
    rng = np.random.default_rng([int(seed), int(index), 2])
    n = int(round(duration * SAMPLE_RATE))
    n_buf_ctrl = int(math.ceil(n / v1.CONTROL_HOP)) + 1
    n_buf = (n_buf_ctrl - 1) * v1.CONTROL_HOP

    # Plan the song: style, structure, key, chords, singers.
    plan, segments, song = _plan(rng, duration)
    register = _voice_register(rng, song.voice)
    vocal_to_acc_db = float(rng.uniform(*VOCAL_TO_ACCOMPANIMENT_DB))

    # Render the stems.
    gate = v1._vocal_gate(segments, n)
    vocal = _render_vocals(rng, plan, segments, song, register, n_buf)[:n] * gate
    backing = _render_backing(rng, plan, n_buf_ctrl)[:n]
    leads = np.zeros(n)
    for seg, stem, gain_db in _render_leads(rng, plan, segments, n_buf, vocal_to_acc_db):
        section = v1._region_mask((seg,), n, seg.vocal)
        stem_rms, backing_rms = v1._rms(stem[:n][section]), v1._rms(backing[section])
        if stem_rms > 0.0 and backing_rms > 0.0:
            leads += stem[:n] * (backing_rms / stem_rms * 10.0 ** (gain_db / 20.0))

    # Mix at the drawn vocal-to-accompaniment ratio, master, normalise the peak.
    accompaniment = backing + leads
    sing = v1._region_mask(segments, n)
    if sing.any():
        vocal *= 10.0 ** (vocal_to_acc_db / 20.0) * v1._rms(accompaniment[sing]) / max(v1._rms(vocal[sing]), 1e-12)
    accompaniment, vocal = _master(rng, accompaniment, vocal, gate)
    mix = accompaniment + vocal
    scale = v1.PEAK / max(float(np.max(np.abs(mix))), 1e-12)
    measured = (
        20.0 * np.log10(max(v1._rms(vocal[sing]), 1e-12) / max(v1._rms(accompaniment[sing]), 1e-12))
        if sing.any()
        else float("nan")
    )
    return v1.SyntheticSong(
        name=f"song{index:03d}",
        audio=(mix * scale).astype(np.float32),
        vocal=(vocal * scale).astype(np.float32),
        segments=segments,
        vocal_to_accompaniment_db=float(measured),
        singer=song.voice if sing.any() else "none",
    )
