"""Version 3 of the synthetic corpus: tutti sections in halls, singers in loud mixes.

Detector 4, trained on version 2, still takes a section of sustained players
in a room for a voice, and misses singers in dense, bright, heavily mastered
mixes (``docs/case_study.md``). Version 2 has sections and rooms, but seldom
together at the density of an orchestral tutti, and its mixes are darker and
less compressed than commercial pop. Version 3 is version 2 (the same
singers, instruments and song plan, ``v2.render_song``) with:

* tutti: one or two sections (strings, cellos, flutes, clarinets, horns,
  trombones, saxophones) play their own lines, beside the lead or without
  one, often in orchestral songs, sometimes in others; a section of a song
  gets a tutti with the style's probability whether or not it has a singer;
* halls: orchestral songs are reverberated in larger rooms (RT60 1.2-3.5 s),
  acoustic ones in medium rooms, with more of the reverberant sound;
* loud mastering: in a share of every style's songs (most often band and
  electronic), a bright tilt and heavy compression on the whole mix, and up
  to four chord layers in band and electronic backings;
* brighter singers (glottal slope up to -5 dB/octave);
* a larger corpus: 144 training, 32 validation and 32 test songs, so that
  the test error is measured on more songs.

Every effect reaches both classes alike: tutti play under singing too, and a
song's room and mastering do not depend on whether it has a singer. What
separates the classes stays the voice.
"""

import functools

from vocal_xai.data.synthetic import effects, instruments, music, song, v2

DEFAULT_SPLIT_SIZES = {"train": 144, "valid": 32, "test": 32}

# Per style: probability that a part of a song has a tutti, the sections that
# play it, the rooms (RT60 and wet share), the probability of loud mastering
# and the most chord layers of the backing.
_TUTTI = {
    "band": (0.1, ("strings", "horns")),
    "orchestral": (0.6, ("strings", "cellos", "flutes", "clarinets", "horns", "trombones")),
    "jazz": (0.25, ("saxophones", "trombones", "horns")),
    "electronic": (0.15, ("strings", "supersaw")),
    "acoustic": (0.2, ("strings", "cellos", "flutes")),
}
_ROOM = (effects.Mastering.rt60, effects.Mastering.wet)  # version 2's, for every style
_ROOMS = {
    "band": _ROOM,
    "orchestral": ((1.2, 3.5), (0.25, 0.6)),
    "jazz": ((0.3, 2.0), _ROOM[1]),
    "electronic": _ROOM,
    "acoustic": ((0.5, 2.5), (0.15, 0.5)),
}
_LOUD = {"band": 0.5, "orchestral": 0.1, "jazz": 0.2, "electronic": 0.6, "acoustic": 0.25}
_MAX_LAYERS = {"band": 4, "electronic": 3}

STYLES = {
    name: dict(
        style,
        tutti=_TUTTI[name],
        room=_ROOMS[name],
        loud=_LOUD[name],
        max_layers=_MAX_LAYERS.get(name, 3),
    )
    for name, style in v2.STYLES.items()
}
SINGER = dict(v2.SINGER, tilt_db=(-15.0, -5.0))
# Loud mastering: a bright tilt, a low threshold and a high ratio.
LOUD_SLOPE = (-0.5, 2.5)
LOUD_THRESHOLD = (-12.0, -5.0)
LOUD_RATIO = (4.0, 12.0)
# A tutti's sections: how many, and their level re the level of a lead there.
TUTTI_SECTIONS = (1, 2)
TUTTI_GAIN_DB = (-6.0, 0.0)


def tutti(rng, plan, section, span, gain_db, n_buf, motion=None):
    """The sections of a tutti in one part of a song (``v2._render_leads``'
    hook); ``motion`` as ``v2._render_leads``' (None in version 3)."""
    prob, names = STYLES[plan["style"]]["tutti"]
    if rng.random() >= prob:
        return []
    count = int(rng.integers(TUTTI_SECTIONS[0], TUTTI_SECTIONS[1] + 1))
    stems = []
    for name in rng.choice(names, min(count, len(names)), replace=False):
        inst = instruments.draw_instrument(rng, str(name))
        render = instruments.render_line
        if motion is not None:
            render = functools.partial(render, motion=motion(rng, inst))
        register = music.sub_register(rng, inst.register)
        stem = song.lead_stem(rng, plan, span, register, n_buf, inst, instruments.plan_line, render)
        stems.append((section, stem, gain_db + rng.uniform(*TUTTI_GAIN_DB)))
    return stems


def _mastering(rng, style):
    """The ``effects.Mastering`` ranges of a song of ``style``."""
    rt60, wet = STYLES[style]["room"]
    if rng.random() < STYLES[style]["loud"]:
        return effects.Mastering(
            rt60=rt60, wet=wet, slope=LOUD_SLOPE, threshold=LOUD_THRESHOLD, ratio=LOUD_RATIO
        )
    return effects.Mastering(rt60=rt60, wet=wet)


RECIPE = v2.Recipe(
    stream=3,
    styles=STYLES,
    voice_types=v2.VOICE_TYPES,
    singer=SINGER,
    instrumental_prob=v2.INSTRUMENTAL_SONG_PROB,
    vocal_to_acc_db=v2.VOCAL_TO_ACCOMPANIMENT_DB,
    vibrato_limits=v2.VIBRATO_LIMITS,
    more_leads=tutti,
    mastering=_mastering,
)


def synthesize_song(seed, index, duration=song.DEFAULT_DURATION):
    """Synthesise one version 3 song, deterministically from ``(seed, index)``.

    Args, returns and errors as ``v2.synthesize_song``.
    """
    return v2.render_song(seed, index, duration, RECIPE)
