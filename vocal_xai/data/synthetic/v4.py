"""Version 4 of the synthetic corpus: instruments played with motion.

In versions 2 and 3 an instrument has a fixed body and a steady bow or
breath, so the singer moves the spectrum more than any instrument does. On
version 3's test split, formant motion, syllabic modulation, onset strength
and fast decay tell its singer from its instruments (AUC 0.66-0.79), and
real instruments, which move more than the synthetic singer, read as voices
to a detector trained there (``docs/case_study.md``, "Corpus version 3 and
detector 5"). Version 4 is version 3 (the same singers, instruments, tutti,
rooms and mastering, ``v3.RECIPE``) with every lead and tutti instrument
played with ``instruments.Motion``:

* the body resonances drift at syllabic rates (bow position and pressure,
  embouchure) and shift from note to note (strings, fingerings, registers);
* the brightness swings with them;
* held notes of sustained instruments are re-articulated (bow changes,
  tonguing): a dip in level and an attack noise burst.

Motion is not what a voice has: no vowel targets, no consonants, no
syllables or words; the body keeps its resonances and moves them together.
What separates the classes stays the voice.
"""

import dataclasses

from vocal_xai.data.synthetic import instruments, song, v2, v3

DEFAULT_SPLIT_SIZES = v3.DEFAULT_SPLIT_SIZES
STYLES = v3.STYLES

# Ranges of a lead or tutti instrument's motion (``instruments.Motion``).
BODY_OCTAVES = (0.1, 0.4)
NOTE_OCTAVES = (0.15, 0.5)
TILT_DB = (1.0, 3.0)
MOTION_SECONDS = (0.02, 0.06)
# Share of sustained instruments that re-articulate held notes, the shortest
# time between re-articulations (the longest is twice it) and the dip.
REARTICULATE_PROB = 0.8
REARTICULATE_SECONDS = (0.15, 0.5)
DIP = (0.3, 0.8)


def draw_motion(rng, inst):
    """The ``instruments.Motion`` of ``inst`` in one song."""
    rearticulate = None
    if inst.decay == 0.0 and rng.random() < REARTICULATE_PROB:
        shortest = rng.uniform(*REARTICULATE_SECONDS)
        rearticulate = (shortest, 2.0 * shortest)
    return instruments.Motion(
        body_octaves=rng.uniform(*BODY_OCTAVES),
        note_octaves=rng.uniform(*NOTE_OCTAVES),
        tilt_db=rng.uniform(*TILT_DB),
        seconds=rng.uniform(*MOTION_SECONDS),
        rearticulate=rearticulate,
        dip=rng.uniform(*DIP),
    )


def _tutti(rng, plan, section, span, gain_db, n_buf):
    """Version 3's tutti, its sections played with motion."""
    return v3.tutti(rng, plan, section, span, gain_db, n_buf, motion=draw_motion)


RECIPE = dataclasses.replace(v3.RECIPE, stream=4, more_leads=_tutti, motion=draw_motion)


def synthesize_song(seed, index, duration=song.DEFAULT_DURATION):
    """Synthesise one version 4 song, deterministically from ``(seed, index)``.

    Args, returns and errors as ``v2.synthesize_song``.
    """
    return v2.render_song(seed, index, duration, RECIPE)
