"""Sampled probes: recorded instruments and voices played from a SoundFont,
written as a folder that ``real_check`` reads.

The real recordings are a held-out check that nothing may be tuned on. These
probes are the check one may tune on: the textures the real recordings fail
on (a string orchestra, an orchestra with celesta, a jazz combo, solo winds
and strings with vibrato) and sung vowels (a choir), played from the samples
of a SoundFont (``vocal_xai.data.soundfont``) rather than synthesised, each
dry and in a hall. Their kinds are those of the real check: instrumental
(at most 10 % of frames vocal) and song (a voice throughout, at least 60 %).

Every probe is fixed: the same notes, vibrato and hall each time, so two
folders made with the same SoundFont hold the same audio.
"""

import csv
import dataclasses
import hashlib
import pathlib

import numpy as np
import soundfile

from vocal_xai import outputs
from vocal_xai.data import soundfont
from vocal_xai.data.soundfont import Part
from vocal_xai.data.synthetic import effects
from vocal_xai.models.detector import real_check

# 8 s of music after a short lead-in, then its release and the hall's tail,
# as a recording starts and ends.
LEAD = 0.25
MUSIC = 8.0
SECONDS = 9.0
PEAK = 0.5  # every probe's peak level
HALL = {"rt60": 2.2, "predelay": 0.03, "damping_hz": 3000.0, "wet": 0.6, "seed": 0}

# General MIDI programs.
PIANO, CELESTA, ORGAN, BASS, VIOLIN, VIOLA, CELLO = 0, 8, 19, 32, 40, 41, 42
CONTRABASS, STRINGS, STRINGS_2, CHOIR, OOHS = 43, 48, 49, 52, 53
TRUMPET, HORN, TENOR_SAX, OBOE, CLARINET, FLUTE = 56, 60, 66, 68, 71, 73

# Two seconds a chord (C, Am, F, G), as MIDI keys from the bass up.
CHORDS = ((48, 55, 64, 72), (45, 52, 60, 69), (41, 53, 60, 69), (43, 55, 62, 71))
# A melody over them: (beat of 0.5 s, beats, key).
MELODY = (
    (0, 2, 76), (2, 1, 74), (3, 1, 72), (4, 3, 76), (7, 1, 79), (8, 2, 77), (10, 1, 76),
    (11, 1, 74), (12, 3, 72), (15, 1, 71),
)  # fmt: skip
BEAT = 0.5


def melody(shift=0, velocity=90, legato=0.95):
    """``MELODY`` as notes, ``shift`` semitones up, each held ``legato`` of its beats."""
    return tuple(
        (LEAD + b * BEAT, n * BEAT * legato, key + shift, velocity) for b, n, key in MELODY
    )


def chords(voice, shift=0, velocity=70, length=2.0):
    """One voice of the chord progression (0: the bass)."""
    return tuple(
        (LEAD + i * length, length * 0.98, chord[voice] + shift, velocity)
        for i, chord in enumerate(CHORDS)
    )


def block_chords(shift=0, velocity=70, length=2.0, voices=(1, 2, 3)):
    """The upper ``voices`` of the progression together, as one part's notes."""
    return tuple(note for v in voices for note in chords(v, shift, velocity, length))


def section(program, notes, players=3, vibrato_cents=20.0, swell=0.0):
    """A section of ``players`` playing the same notes, each with a vibrato of
    its own rate and phase, a few cents off the others and a few
    milliseconds late or early, as players are."""
    parts = []
    for k in range(players):
        spread = k / (players - 1) - 0.5 if players > 1 else 0.0  # -0.5 .. 0.5
        offset = 0.012 * spread
        parts.append(
            Part(
                program,
                tuple((max(0.0, t + offset), d, key, v) for t, d, key, v in notes),
                vibrato_cents=vibrato_cents,
                vibrato_hz=5.6 + 1.2 * spread,
                vibrato_phase=2.4 * k,
                detune_cents=12.0 * spread,
                swell=swell,
            )
        )
    return tuple(parts)


def swing_drums():
    """Ride on every beat, brushed snare on two and four, soft kick on one."""
    notes = []
    for beat in range(int(MUSIC / BEAT)):
        t = LEAD + beat * BEAT
        notes.append((t, 0.2, 51, 70))  # ride cymbal
        notes.append((t, 0.2, 38 if beat % 2 else 36, 55))  # snare / kick
    return tuple(notes)


@dataclasses.dataclass(frozen=True)
class Probe:
    name: str
    kind: str  # "instrumental" or "song", as in real_check
    description: str
    parts: tuple


PROBES = (
    Probe(
        "string_orchestra",
        "instrumental",
        "string orchestra: melody, inner voices and basses, sections with vibrato",
        section(STRINGS, melody(), 3, 25.0, swell=0.3)
        + section(STRINGS_2, chords(2), 2)
        + section(STRINGS, chords(1, -12), 2)
        + section(CONTRABASS, chords(0, -12), 2, 10.0),
    ),
    Probe(
        "string_chords",
        "instrumental",
        "string section holding chords, no vibrato",
        section(STRINGS, block_chords() + chords(0), 3, 0.0),
    ),
    Probe(
        "orchestra_celesta",
        "instrumental",
        "celesta melody over string chords with vibrato",
        (Part(CELESTA, melody()),) + section(STRINGS_2, block_chords(-12), 3, 15.0),
    ),
    Probe(
        "jazz_combo",
        "instrumental",
        "tenor saxophone, piano, double bass and brushed drums",
        (
            Part(TENOR_SAX, melody(-12), vibrato_cents=20, vibrato_hz=5.0),
            Part(PIANO, block_chords(velocity=60, length=2.0)),
            Part(BASS, chords(0, -12, velocity=90)),
            Part(0, swing_drums(), percussion=True),
        ),
    ),
    Probe(
        "solo_violin",
        "instrumental",
        "solo violin, 35 cents of vibrato",
        (Part(VIOLIN, melody(), vibrato_cents=35, vibrato_hz=6.0, swell=0.3),),
    ),
    Probe(
        "solo_viola",
        "instrumental",
        "solo viola, no vibrato",
        (Part(VIOLA, melody(-12)),),
    ),
    Probe(
        "solo_cello",
        "instrumental",
        "solo cello, 30 cents of vibrato",
        (Part(CELLO, melody(-24), vibrato_cents=30, vibrato_hz=5.5, swell=0.3),),
    ),
    Probe(
        "french_horn",
        "instrumental",
        "French horn, slight vibrato",
        (Part(HORN, melody(-12), vibrato_cents=8),),
    ),
    Probe(
        "flute", "instrumental", "flute with vibrato", (Part(FLUTE, melody(12), vibrato_cents=20),)
    ),
    Probe("oboe", "instrumental", "oboe with vibrato", (Part(OBOE, melody(), vibrato_cents=15),)),
    Probe("clarinet", "instrumental", "clarinet, no vibrato", (Part(CLARINET, melody(-12)),)),
    Probe("trumpet", "instrumental", "trumpet, no vibrato", (Part(TRUMPET, melody(-12)),)),
    Probe("organ", "instrumental", "organ chords", (Part(ORGAN, block_chords() + chords(0)),)),
    Probe(
        "piano",
        "instrumental",
        "piano melody and chords",
        (Part(PIANO, melody()), Part(PIANO, block_chords(-12, 55))),
    ),
    Probe(
        "choir",
        "song",
        "choir singing 'aah' in four parts of three singers, with vibrato",
        section(CHOIR, melody(), 3, 25.0, swell=0.3)
        + section(CHOIR, chords(2), 3)
        + section(CHOIR, chords(1), 3)
        + section(CHOIR, chords(0), 3, 15.0),
    ),
    Probe(
        "voice_oohs",
        "song",
        "voices singing 'ooh', melody with vibrato",
        (Part(OOHS, melody(-12), vibrato_cents=30, swell=0.3),),
    ),
)

README = """# Sampled probes

Made by `tools/sampled_probes.py` from the SoundFont `{soundfont}`
(sha256 {digest}). Each probe is {seconds:g} s: {music:g} s of General MIDI
programs played from its samples after a {lead:g} s lead-in, then their
release (`vocal_xai.models.detector.sampled_probes`), dry and in a hall
(reverberation time {rt60} s, wet share {wet}). `manifest.csv` lists each
file's kind as the real check does; check detectors on them with

    python tools/real_check.py --recordings={folder} --detector=...

Unlike `real_recordings/`, these probes may be used to tune and to choose.
"""


def hall(x):
    """``x`` in the fixed hall."""
    rng = np.random.default_rng(HALL["seed"])
    ir = effects.room_impulse(rng, HALL["rt60"], HALL["predelay"], HALL["damping_hz"])
    return effects.reverberate(np.asarray(x, np.float64), ir, HALL["wet"])


def _at_peak(x):
    x = np.asarray(x, np.float64)
    return (PEAK * x / max(float(np.max(np.abs(x))), 1e-9)).astype(np.float32)


def render_probe(probe, font=None):
    """``{"dry": samples, "hall": samples}`` of one probe, each at ``PEAK``."""
    dry = soundfont.render(probe.parts, SECONDS, font)
    return {"dry": _at_peak(dry), "hall": _at_peak(hall(dry))}


def write_probes(out, font=None, overwrite=False, probes=PROBES, progress=None):
    """Write every probe, dry and in the hall, as 16-bit WAV files at 22050 Hz
    with ``manifest.csv`` and a README into ``out``, whole or not at all.

    Args:
        out: a new folder (or an existing one with ``overwrite``).
        font: the SoundFont; default ``soundfont.DEFAULT_SOUNDFONT``.
        overwrite: replace an existing ``out``.
        probes: the ``Probe`` list.
        progress: called with each probe's name before it is rendered.

    Returns:
        ``out`` (a ``pathlib.Path``).
    """
    font = soundfont.check_renderer(font)
    out = pathlib.Path(out)
    with outputs.atomic_dir(out, overwrite) as tmp:
        rows = []
        for probe in probes:
            if progress is not None:
                progress(probe.name)
            for room, samples in render_probe(probe, font).items():
                name = f"{probe.name}_{room}.wav"
                soundfile.write(str(tmp / name), samples, soundfont.SAMPLE_RATE, subtype="PCM_16")
                rows.append((name, probe.kind, f"{probe.description} ({room})"))
        with (tmp / real_check.MANIFEST).open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(real_check.COLUMNS)
            writer.writerows(rows)
        digest = hashlib.sha256(font.read_bytes()).hexdigest()[:16]
        (tmp / "README.md").write_text(
            README.format(
                soundfont=font,
                digest=digest,
                seconds=SECONDS,
                music=MUSIC,
                lead=LEAD,
                folder=out,
                **HALL,
            )
        )
    return out
