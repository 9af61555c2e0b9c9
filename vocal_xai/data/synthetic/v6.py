"""Version 6 of the synthetic corpus: singers made from recorded speech.

Detector 7, trained on version 5, hears sampled choirs but misses the
singer of a real song (10 % of its frames): every voice of versions 1 to 5
is either a model (the source-filter singer) or a sustained-vowel sample,
and none has the consonants, transitions and formant motion of a person
(``docs/case_study.md``). Version 6 is version 5 (the same instruments,
tutti, sampled lines, rooms and mastering) with two more kinds of voice, a
diphone singer (``diphone_singer``: Festival's diphone voices, recorded
speech, given the song's melodies, a voice type and expression):

* ``diphone``: a diphone singer, with a second one in harmony on some
  phrases;
* ``diphone_sampled``: a diphone singer over sampled voices.

Every vocal stem gets version 5's presence shelf. Rendering needs what
version 5 needs and Debian's ``festival``, ``festvox-kallpc16k``,
``festvox-kdlpc16k`` and ``festvox-italp16k``.
"""

import dataclasses

from vocal_xai.data import diphone
from vocal_xai.data.synthetic import diphone_singer, song, v2, v5

DEFAULT_SPLIT_SIZES = v5.DEFAULT_SPLIT_SIZES

# How a song's voice is made, and how often: version 5's kinds in their
# proportions, and the diphone singers in 45 % of the vocal songs.
VOCAL_KINDS = {
    **{kind: 0.55 * weight for kind, weight in v5.VOCAL_KINDS.items()},
    "diphone": 0.35,
    "diphone_sampled": 0.1,
}


def render_vocals(rng, plan, segments, choices, register, n_buf, recipe):
    """The vocal stem of a song of one of ``VOCAL_KINDS``, through version
    5's presence shelf, and the kind. Args and returns as ``v2.render_vocals``."""
    kind = v5.draw_kind(rng, VOCAL_KINDS)
    if kind in v5.VOCAL_KINDS:
        stem = v5.render_kind(kind, rng, plan, segments, choices, register, n_buf, recipe)
    else:
        scale = choices.singer.formant_scale
        harmony_prob = choices.harmony_prob if kind == "diphone" else 0.0
        stem = diphone_singer.render_vocals(
            rng, plan, segments, scale, register, n_buf, harmony_prob
        )
        if kind == "diphone_sampled":
            stem = v5.under_sampled_voices(stem, rng, plan, segments, register, n_buf)
    return v5.presence(rng, stem), kind


RECIPE = dataclasses.replace(v5.RECIPE, stream=6, vocals=render_vocals)


def check_renderer():
    """Raise ``ParameterError`` naming the install when FluidSynth, the
    TimGM6mb SoundFont, Festival or one of its diphone voices is missing."""
    v5.check_renderer()
    for name in diphone_singer.SPEAKERS:
        diphone.check_voice(name)


def synthesize_song(seed, index, duration=song.DEFAULT_DURATION):
    """Synthesise one version 6 song, deterministically from ``(seed, index)``.

    Args, returns and errors as ``v5.synthesize_song``; also raises
    ``ParameterError`` when Festival or a diphone voice is missing.
    """
    check_renderer()
    return v2.render_song(seed, index, duration, RECIPE)
