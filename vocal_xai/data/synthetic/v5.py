"""Version 5 of the synthetic corpus: many kinds of voice, as bright as the band.

Detector 6, trained on version 4, no longer hears an orchestra sing, but it
misses a real singer: it learned version 4's one kind of voice, a solo
source-filter singer that is darker and sparser in partials than the
instruments around it (``docs/case_study.md``, "Detector 6"). Version 5 is
version 4 (the same instruments, tutti, rooms and mastering) with the vocal
side changed. A song's voice is one of ``VOCAL_KINDS``:

* ``solo``: version 4's singer, with backing singers in harmony on some
  phrases;
* ``ensemble``: a section of three to six singers of one voice type on the
  same words, in unison (each detuned) or an octave apart;
* ``vocalise``: a singer on one sustained vowel, without consonants, so the
  formants hold still;
* ``sampled``: sampled voices (choir 'aah', voice 'ooh') from the TimGM6mb
  SoundFont (``sampled.voices``), one to four parts;
* ``sampled_solo``: a solo singer over sampled voices.

Every vocal stem then gets a presence shelf, as vocals get in a mix, so that
the voice is as bright as the instruments: on version 4 the singer is the
darker class (tilt and level above 4 kHz at AUC 0.36 and 0.40).

Sampled instruments from the same SoundFont (``sampled.line``) play in any
section with the same probability, sung or not, so that sounding sampled is
no cue of the voice, and the FluidR3 probes (``tools/sampled_probes.py``)
stay sounds the detector never heard. Rendering needs ``fluidsynth`` and
Debian's ``timgm6mb-soundfont``.
"""

import dataclasses

import numpy as np

from vocal_xai.data import soundfont
from vocal_xai.data.synthetic import dsp, effects, sampled, song, v2, v4, voice

DEFAULT_SPLIT_SIZES = v4.DEFAULT_SPLIT_SIZES
SOUNDFONT = soundfont.TIMGM6MB

# How a song's voice is made, and how often.
VOCAL_KINDS = {
    "solo": 0.3,
    "ensemble": 0.2,
    "vocalise": 0.15,
    "sampled": 0.15,
    "sampled_solo": 0.2,
}
# An ensemble: singers besides the lead, their level below it (dB), the
# spread of their detuning (cents), and the scale steps they sing from the
# lead (-7: an octave below).
ENSEMBLE_SIZE = (2, 5)
ENSEMBLE_DB = (0.0, 4.0)
ENSEMBLE_DETUNE_CENTS = 10.0
ENSEMBLE_STEPS = (0, 0, 0, -7)
# Sampled voices under a solo singer: their level below it, dB.
SAMPLED_UNDER_SOLO_DB = (2.0, 10.0)
# The vocal stem's presence shelf: gain (dB) and corner (Hz).
PRESENCE_DB = (0.0, 12.0)
PRESENCE_HZ = (2000.0, 5000.0)
# Probability that a section (sung or not) has a sampled instrument line,
# the instruments of each style (keys of ``sampled.INSTRUMENTS``) and the
# line's level re the level a lead would have there, dB.
SAMPLED_LINE_PROB = 0.35
SAMPLED_LINES = {
    "band": ("electric_guitar", "synth_lead", "alto_sax", "piano", "organ", "harmonica", "violin"),
    "orchestral": (
        "violin",
        "viola",
        "cello",
        "strings",
        "slow_strings",
        "flute",
        "oboe",
        "clarinet",
        "bassoon",
        "horn",
        "trumpet",
        "trombone",
        "celesta",
    ),
    "jazz": ("alto_sax", "tenor_sax", "trumpet", "trombone", "clarinet", "vibraphone", "piano"),
    "electronic": ("synth_lead", "pad", "electric_guitar", "piano", "strings"),
    "acoustic": ("violin", "cello", "flute", "accordion", "harmonica", "nylon_guitar", "clarinet"),
}
SAMPLED_LINE_DB = (-6.0, 0.0)


def one_vowel(rng, singer):
    """``singer`` singing one of its vowels only."""
    vowel = rng.choice(singer.vowels)
    return dataclasses.replace(singer, vowels=np.array([vowel]), vowel_weights=np.ones(1))


def draw_kind(rng, kinds):
    """A kind of voice drawn from ``kinds`` (kind -> weight)."""
    names = tuple(kinds)
    weights = np.array([kinds[k] for k in names])
    return str(rng.choice(names, p=weights / weights.sum()))


def render_kind(kind, rng, plan, segments, choices, register, n_buf, recipe):
    """The vocal stem of a song whose voice is of ``kind`` (a key of
    ``VOCAL_KINDS``), before the presence shelf. [shape=(n_buf,)]"""
    args = (rng, plan, segments, choices, register, n_buf, recipe)
    if kind == "ensemble":
        size = int(rng.integers(ENSEMBLE_SIZE[0], ENSEMBLE_SIZE[1] + 1))
        section = tuple(voice.draw_singer(rng, choices.voice, recipe.singer) for _ in range(size))
        return v2.solo_vocals(
            *args,
            harmony=section,
            harmony_prob=1.0,
            harmony_steps=ENSEMBLE_STEPS,
            harmony_db=ENSEMBLE_DB,
            detune_cents=ENSEMBLE_DETUNE_CENTS,
        )
    if kind == "vocalise":
        held = dataclasses.replace(choices, singer=one_vowel(rng, choices.singer))
        return v2.solo_vocals(*args[:3], held, *args[4:], consonant_prob=0.0)
    if kind == "sampled":
        return sampled.voices(rng, plan, segments, register, n_buf, SOUNDFONT)
    stem = v2.solo_vocals(*args)
    if kind == "sampled_solo":
        stem = under_sampled_voices(stem, rng, plan, segments, register, n_buf)
    return stem


def under_sampled_voices(stem, rng, plan, segments, register, n_buf):
    """``stem`` with sampled voices under it, ``SAMPLED_UNDER_SOLO_DB`` dB below."""
    under = sampled.voices(rng, plan, segments, register, n_buf, SOUNDFONT)
    level_db = -rng.uniform(*SAMPLED_UNDER_SOLO_DB)
    return stem + under * (dsp.rms(stem) / max(dsp.rms(under), 1e-12) * 10.0 ** (level_db / 20))


def presence(rng, stem):
    """``stem`` through a drawn presence shelf."""
    return effects.high_shelf(stem, rng.uniform(*PRESENCE_DB), rng.uniform(*PRESENCE_HZ))


def render_vocals(rng, plan, segments, choices, register, n_buf, recipe):
    """The vocal stem of a song of one of ``VOCAL_KINDS``, through its
    presence shelf, and the kind. Args and returns as ``v2.render_vocals``."""
    kind = draw_kind(rng, VOCAL_KINDS)
    stem = render_kind(kind, rng, plan, segments, choices, register, n_buf, recipe)
    return presence(rng, stem), kind


def more_leads(rng, plan, section, span, gain_db, n_buf):
    """Version 4's tutti, and a sampled instrument line with probability
    ``SAMPLED_LINE_PROB``, whatever the section's label (``v2._render_leads``'
    hook)."""
    stems = v4.RECIPE.more_leads(rng, plan, section, span, gain_db, n_buf)
    if rng.random() < SAMPLED_LINE_PROB:
        stem = sampled.line(rng, plan, span, SAMPLED_LINES[plan["style"]], n_buf, SOUNDFONT)
        stems.append((section, stem, gain_db + rng.uniform(*SAMPLED_LINE_DB)))
    return stems


RECIPE = dataclasses.replace(v4.RECIPE, stream=5, more_leads=more_leads, vocals=render_vocals)


def check_renderer():
    """Raise ``ParameterError`` naming the install when FluidSynth or the
    TimGM6mb SoundFont is missing."""
    soundfont.check_renderer(SOUNDFONT, soundfont.PACKAGES[soundfont.TIMGM6MB])


def synthesize_song(seed, index, duration=song.DEFAULT_DURATION):
    """Synthesise one version 5 song, deterministically from ``(seed, index)``.

    Args, returns and errors as ``v2.synthesize_song``; also raises
    ``ParameterError`` when FluidSynth or the TimGM6mb SoundFont is missing.
    """
    check_renderer()
    return v2.render_song(seed, index, duration, RECIPE)
