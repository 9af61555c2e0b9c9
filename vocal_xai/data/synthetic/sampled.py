"""Sampled voices and instruments: lines of a song played from a SoundFont.

The synthetic corpus's own sources are additive; these are recordings
(``soundfont.render``), so that a detector hears voices and instruments it
did not learn from one synthesiser. A line follows the song's plan (key,
chords, tempo) like every other lead: ``music.melody`` writes its notes,
and one FluidSynth run plays all the parts of a stem.
"""

import dataclasses

import numpy as np

from vocal_xai.data import soundfont
from vocal_xai.data.synthetic import dsp, music, song, voice

# General MIDI programs of sampled voices: choir 'aah' and voice 'ooh'.
VOICE_PROGRAMS = {"choir_aahs": 52, "voice_oohs": 53}


@dataclasses.dataclass(frozen=True)
class Program:
    """A sampled instrument: its General MIDI program, the MIDI range of its
    melodies and whether its player bends the pitch (vibrato)."""

    program: int
    register: tuple
    vibrato: bool


INSTRUMENTS = {
    "violin": Program(40, (55, 88), True),
    "viola": Program(41, (48, 76), True),
    "cello": Program(42, (36, 67), True),
    "strings": Program(48, (43, 84), True),
    "slow_strings": Program(49, (43, 84), True),
    "flute": Program(73, (60, 93), True),
    "oboe": Program(68, (58, 88), True),
    "clarinet": Program(71, (50, 86), True),
    "bassoon": Program(70, (34, 65), True),
    "horn": Program(60, (41, 72), True),
    "trumpet": Program(56, (55, 82), True),
    "trombone": Program(57, (40, 70), True),
    "alto_sax": Program(65, (49, 80), True),
    "tenor_sax": Program(66, (44, 75), True),
    "organ": Program(19, (48, 84), False),
    "accordion": Program(21, (53, 84), True),
    "harmonica": Program(22, (60, 84), True),
    "synth_lead": Program(81, (48, 84), True),
    "pad": Program(89, (48, 79), False),
    "piano": Program(0, (48, 88), False),
    "electric_guitar": Program(27, (52, 84), True),
    "nylon_guitar": Program(24, (48, 79), False),
    "vibraphone": Program(11, (53, 89), False),
    "celesta": Program(8, (60, 96), False),
}
# A bending player's vibrato: peak deviation (cents) and rate (Hz).
VIBRATO_CENTS = (0.0, 35.0)
VIBRATO_HZ = (4.3, 6.8)
SWELL = (0.0, 0.4)
VELOCITY = (70, 115)
# Extra players of a line: how many, and the spread of their detuning, cents.
DOUBLINGS = (0, 3)
DETUNE_CENTS = 12.0
MAX_DETUNE_CENTS = 50.0


def _part(rng, program, notes, vibrato, detune=0.0):
    """A ``soundfont.Part`` of ``notes`` with a drawn expression."""
    return soundfont.Part(
        program=program,
        notes=tuple(notes),
        vibrato_cents=rng.uniform(*VIBRATO_CENTS) if vibrato else 0.0,
        vibrato_hz=rng.uniform(*VIBRATO_HZ),
        vibrato_phase=rng.uniform(0.0, 2.0 * np.pi),
        detune_cents=float(np.clip(detune, -MAX_DETUNE_CENTS, MAX_DETUNE_CENTS)),
        swell=rng.uniform(*SWELL),
        swell_hz=rng.uniform(0.1, 0.5),
    )


def _notes(rng, plan, phrases, register):
    """``(onset, duration, key, velocity)`` of every note of ``phrases``
    (``(offset s, start s, end s)`` each)."""
    out = []
    for offset, start, end in phrases:
        onset, dur, midi = music.melody(rng, start, end, plan, register)
        velocity = rng.integers(VELOCITY[0], VELOCITY[1] + 1, len(onset))
        out += [(offset + o, d, int(m), int(v)) for o, d, m, v in zip(onset, dur, midi, velocity)]
    return out


def _players(rng, plan, program, phrases, register, vibrato, harmony_steps=(0,)):
    """The parts of one line: a player, and up to ``DOUBLINGS[1]`` more on
    the same notes (detuned) or ``harmony_steps`` away."""
    notes = _notes(rng, plan, phrases, register)
    parts = [_part(rng, program, notes, vibrato)]
    for _ in range(int(rng.integers(DOUBLINGS[0], DOUBLINGS[1] + 1))):
        steps = int(rng.choice(list(harmony_steps)))
        take = notes
        if steps:
            midi = music.diatonic_shift(np.array([n[2] for n in notes], float), steps, plan)
            take = [(o, d, int(m), v) for (o, d, _, v), m in zip(notes, midi)]
        detune = rng.normal(0.0, DETUNE_CENTS)
        parts.append(_part(rng, program, take, vibrato, detune))
    return parts


def voices(rng, plan, segments, register, n_buf, soundfont_path=soundfont.TIMGM6MB):
    """A stem of sampled voices singing phrases inside every sing segment.

    A choir 'aah' or voice 'ooh' sings the phrases of ``voice.vocal_phrases``
    in ``register``, doubled by up to three more parts in unison (detuned) or
    a third, fifth or octave away.

    Returns:
        float64 samples at FluidSynth's level. [shape=(n_buf,)]
    """
    program = VOICE_PROGRAMS[str(rng.choice(tuple(VOICE_PROGRAMS)))]
    phrases = [
        (offset, lead_in, end) for offset, lead_in, end, _ in voice.vocal_phrases(rng, segments)
    ]
    parts = _players(rng, plan, program, phrases, register, True, (0, 0, -2, 2, -4, -7))
    return soundfont.render(parts, n_buf / dsp.SAMPLE_RATE, soundfont_path).astype(np.float64)


def line(rng, plan, span, names, n_buf, soundfont_path=soundfont.TIMGM6MB):
    """A stem of one sampled instrument of ``names`` (keys of
    ``INSTRUMENTS``) playing phrases over ``span`` (``(start, stop)``, s),
    with short rests, possibly doubled in unison.

    Returns:
        float64 samples, zero outside ``span`` but for the last notes'
        release. [shape=(n_buf,)]
    """
    inst = INSTRUMENTS[str(rng.choice(names))]
    register = music.sub_register(rng, inst.register)
    phrases = [(t, 0.0, length) for t, length in song.phrase_spans(rng, span)]
    parts = _players(rng, plan, inst.program, phrases, register, inst.vibrato)
    return soundfont.render(parts, n_buf / dsp.SAMPLE_RATE, soundfont_path).astype(np.float64)
