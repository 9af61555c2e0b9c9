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
* lead instruments from ``instrument_presets.INSTRUMENTS``: solo and section
  strings, winds and brass with vibrato, breath noise and level-dependent
  brightness, plucked and struck sounds, detuned unisons (accordion,
  supersaw);
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
import functools

import numpy as np

from vocal_xai.data import corpus
from vocal_xai.data.synthetic import (
    backing,
    dsp,
    effects,
    instruments,
    music,
    song,
    voice,
)

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
# Ranges of a singer's settings (``voice.draw_singer``).
SINGER = dict(
    formant_scale={name: scale for name, (_, scale) in VOICE_TYPES.items()},
    bandwidth_scale=(0.8, 1.3),
    tilt_db=(-16.0, -8.0),
    jitter=(0.003, 0.02),
    shimmer_db=(0.3, 1.5),
    breathiness_db=(-34.0, -10.0),
    vib_rate=(4.2, 7.5),
    vib_depth=VIBRATO_STYLES,
)

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
        leads=(
            "violin",
            "viola",
            "cello",
            "strings",
            "flute",
            "oboe",
            "clarinet",
            "horn",
            "trumpet",
            "celesta",
        ),
        weight=0.27,
    ),
    "jazz": dict(
        chords=("piano", "mallets", "guitar", "brass"),
        keep_first=False,
        bass="walking",
        drums=0.9,
        heavy=0.1,
        leads=(
            "saxophone",
            "trumpet",
            "trombone",
            "vibraphone",
            "clarinet",
            "electric_guitar",
            "piano",
        ),
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
# Chord layers played by an instrument of ``instrument_presets.INSTRUMENTS``
# (``backing.render_instrument_chords``): instrument choices, the most players
# per note, and the pattern.
_CHORD_LAYERS = {
    "strings": (("strings",), 3, "sustain"),
    "brass": (("horn", "trombone"), 2, "sustain"),
    "supersaw": (("supersaw",), 3, "sustain"),
    "guitar": (("nylon_guitar", "electric_guitar"), 1, "strum"),
    "mallets": (("vibraphone", "celesta", "piano"), 1, "arpeggio"),
    "pizzicato": (("pizzicato",), 2, "beats"),
}


@dataclasses.dataclass(frozen=True)
class _Song:
    """Per-song choices beyond ``music.plan_song``."""

    style: str
    voice: str
    singer: voice.Singer
    consonant_prob: float
    harmony: tuple  # backing singers (voice.Singer), possibly empty
    harmony_prob: float


def _plan(rng, duration, recipe=None):
    """Song plan (``music.plan_song`` plus a style), segments and singers."""
    recipe = RECIPE if recipe is None else recipe
    plan = music.plan_song(rng, duration)
    names = tuple(recipe.styles)
    weights = np.array([recipe.styles[s]["weight"] for s in names])
    plan["style"] = str(rng.choice(names, p=weights / weights.sum()))
    if rng.random() < recipe.instrumental_prob:
        segments = (corpus.Segment(0.0, float(duration), False),)
    else:
        segments = song.plan_segments(rng, duration)
    names = tuple(recipe.voice_types)
    voice_type = str(rng.choice(names))
    n_backing = int(rng.choice([0, 0, 1, 2]))
    harmony = tuple(
        voice.draw_singer(rng, str(rng.choice(names)), recipe.singer) for _ in range(n_backing)
    )
    choices = _Song(
        style=plan["style"],
        voice=voice_type,
        singer=voice.draw_singer(rng, voice_type, recipe.singer),
        consonant_prob=rng.uniform(0.55, 0.95),
        harmony=harmony,
        harmony_prob=rng.uniform(0.3, 0.8),
    )
    return plan, segments, choices


def _render_backing(rng, plan, n_buf_ctrl, styles):
    """Chords, bass and drums of the song's style in ``styles``. [shape=(n_buf,)]"""
    n_buf = (n_buf_ctrl - 1) * dsp.CONTROL_HOP
    style = styles[plan["style"]]
    chords = style["chords"]
    n_layers = int(rng.integers(2, min(style.get("max_layers", 3), len(chords)) + 1))
    palette = list(rng.choice(chords, n_layers, replace=False))
    if style["keep_first"] and chords[0] not in palette:
        palette[0] = chords[0]
    layers = palette + ["bass", "drums"]
    flags, starts = backing.arrangement(rng, plan, len(layers))
    flags[:, -1] &= rng.random() < style["drums"]
    heavy = rng.random() < style["heavy"]
    out = np.zeros(n_buf)
    for j, layer in enumerate(layers):
        gate = backing.layer_gate(flags[:, j], starts, n_buf_ctrl)
        if layer == "drums":
            layer_buf = backing.render_drums(rng, plan, flags[:, j], starts, n_buf)
            if heavy:
                # A second kit with its own pattern on top, and drums up front.
                layer_buf = layer_buf + backing.render_drums(rng, plan, flags[:, j], starts, n_buf)
            gain_db = rng.uniform(-8.0, -2.0) + (rng.uniform(4.0, 8.0) if heavy else 0.0)
        elif layer == "bass":
            if style["bass"] == "electric":
                layer_buf = np.zeros(n_buf, np.float32)
                backing.render_bass(rng, plan, gate, layer_buf)
            else:
                layer_buf = backing.render_bass_line(rng, plan, style["bass"], gate, n_buf)
            gain_db = rng.uniform(-6.0, 0.0)
        elif layer in backing.CHORD_TIMBRES:
            layer_buf = np.zeros(n_buf, np.float32)
            backing.render_chord_timbre(rng, plan, layer, gate, layer_buf)
            gain_db = rng.uniform(-12.0, -4.0)
        else:
            layer_buf = backing.render_instrument_chords(
                rng, plan, *_CHORD_LAYERS[layer], gate, n_buf
            )
            gain_db = rng.uniform(-10.0, -3.0)
        rms = dsp.rms(layer_buf)
        if rms > 0.0:
            out += layer_buf * (10.0 ** (gain_db / 20.0) * 0.1 / rms)
    return out


def _render_leads(rng, plan, segments, n_buf, vocal_to_acc_db, styles, more=None, motion=None):
    """Lead stems, one per section where a lead plays.

    Long non-vocal segments are cut into sections of 4-10 s, each with its own
    lead (or none).

    Args:
        rng, plan, segments, n_buf, vocal_to_acc_db: as ``v1._render_leads``.
        styles: the style table (``STYLES``).
        more: None, or ``more(rng, plan, section, span, gain_db, n_buf)``,
            called for every section before its lead is drawn, whether a
            lead plays there or not (and whatever the label), giving a list
            of further ``(section, stem, gain_db)`` that play in it;
            ``gain_db`` is the level a lead would have there.
        motion: None, or ``motion(rng, inst)`` giving the
            ``instruments.Motion`` of each lead instrument once it is drawn.

    Returns:
        List of ``(section, stem, gain_db)`` as ``v1._render_leads``.
    """
    names = styles[plan["style"]]["leads"]
    chosen = rng.choice(names, int(rng.integers(1, 4)), replace=False)
    insts = [instruments.draw_instrument(rng, str(name)) for name in chosen]
    renders = [instruments.render_line] * len(insts)
    if motion is not None:
        renders = [functools.partial(instruments.render_line, motion=motion(rng, i)) for i in insts]
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
        if more is not None and b - a >= 0.8:
            stems.extend(more(rng, plan, seg, (a, b), gain_db, n_buf))
        if not playing or b - a < 0.8:
            continue
        which = int(rng.integers(0, len(insts)))
        inst = insts[which]
        register = music.sub_register(rng, inst.register)
        stem = song.lead_stem(
            rng, plan, (a, b), register, n_buf, inst, instruments.plan_line, renders[which]
        )
        stems.append((seg, stem, gain_db))
    return stems


def render_vocals(rng, plan, segments, choices, register, n_buf, recipe):
    """The vocal stem of a song: its singer, and its backing singers in
    harmony on some phrases (``voice.render_vocals``).

    Args:
        rng, plan, segments, register, n_buf: as ``voice.render_vocals``.
        choices: the song's ``_Song``.
        recipe: the ``Recipe``.

    Returns:
        ``(stem, kind)``: float64 samples [shape=(n_buf,)] and the kind of
        voice, here always ``"solo"``.
    """
    return solo_vocals(rng, plan, segments, choices, register, n_buf, recipe), "solo"


def solo_vocals(rng, plan, segments, choices, register, n_buf, recipe, **overrides):
    """``voice.render_vocals`` of the song's singer with the recipe's and the
    song's settings; ``overrides`` replace any of its keyword arguments.
    [shape=(n_buf,)]"""
    settings = dict(
        vib_limits=recipe.vibrato_limits,
        consonant_prob=choices.consonant_prob,
        harmony=choices.harmony,
        harmony_prob=choices.harmony_prob,
    )
    settings.update(overrides)
    return voice.render_vocals(rng, plan, segments, choices.singer, register, n_buf, **settings)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What a version of the version 2 family draws its songs from.

    ``stream`` keys the song's random stream ``[seed, index, stream]``;
    ``styles``, ``voice_types`` and ``singer`` are the tables above (or a
    later version's); ``more_leads`` and ``motion`` are ``_render_leads``'
    hooks, ``mastering(rng, style)`` gives the ``effects.Mastering``
    ranges of a song of that style, and ``vocals`` renders the vocal stem
    and names its kind, with ``render_vocals``' arguments and returns (None:
    ``render_vocals``).
    """

    stream: int
    styles: dict
    voice_types: dict
    singer: dict
    instrumental_prob: float
    vocal_to_acc_db: tuple
    vibrato_limits: tuple
    more_leads: object = None
    mastering: object = None
    motion: object = None
    vocals: object = None


RECIPE = Recipe(
    stream=2,
    styles=STYLES,
    voice_types=VOICE_TYPES,
    singer=SINGER,
    instrumental_prob=INSTRUMENTAL_SONG_PROB,
    vocal_to_acc_db=VOCAL_TO_ACCOMPANIMENT_DB,
    vibrato_limits=VIBRATO_LIMITS,
)


def synthesize_song(seed, index, duration=song.DEFAULT_DURATION):
    """Synthesise one version 2 song, deterministically from ``(seed, index)``.

    Args, returns and errors as ``v1.synthesize_song``; ``singer`` holds the
    voice type (``VOICE_TYPES``), or ``"none"`` for a song without singing.
    """
    return render_song(seed, index, duration, RECIPE)


def render_song(seed, index, duration, recipe):
    """Synthesise one song of ``recipe``, deterministically from ``(seed, index)``.

    Args, returns and errors as ``synthesize_song``.
    """
    song.check_song_args(seed, index, duration)
    duration = float(duration)
    # A stream of its own, apart from version 1's ``[seed, index]``.
    rng = np.random.default_rng([int(seed), int(index), recipe.stream])
    n, n_buf_ctrl, n_buf = song.buffer_sizes(duration)

    # Plan the song: style, structure, key, chords, singers.
    plan, segments, choices = _plan(rng, duration, recipe)
    register = music.sub_register(rng, recipe.voice_types[choices.voice][0])
    vocal_to_acc_db = float(rng.uniform(*recipe.vocal_to_acc_db))

    # Render the stems.
    gate = song.vocal_gate(segments, n)
    vocals = render_vocals if recipe.vocals is None else recipe.vocals
    vocal, kind = vocals(rng, plan, segments, choices, register, n_buf, recipe)
    vocal = vocal[:n] * gate
    band = _render_backing(rng, plan, n_buf_ctrl, recipe.styles)[:n]
    lead_stems = _render_leads(
        rng, plan, segments, n_buf, vocal_to_acc_db, recipe.styles, recipe.more_leads, recipe.motion
    )
    accompaniment = band + song.mix_leads(lead_stems, band, n)

    # Mix at the drawn vocal-to-accompaniment ratio, master, normalise the peak.
    sing = song.region_mask(segments, n)
    if sing.any():
        vocal *= (
            10.0 ** (vocal_to_acc_db / 20.0)
            * dsp.rms(accompaniment[sing])
            / max(dsp.rms(vocal[sing]), 1e-12)
        )
    if recipe.mastering is None:
        accompaniment, vocal = effects.master(rng, accompaniment, vocal, gate)
    else:
        ranges = recipe.mastering(rng, plan["style"])
        accompaniment, vocal = effects.master(rng, accompaniment, vocal, gate, ranges)
    mix = accompaniment + vocal
    scale = song.PEAK / max(float(np.max(np.abs(mix))), 1e-12)
    measured = (
        20.0 * np.log10(max(dsp.rms(vocal[sing]), 1e-12) / max(dsp.rms(accompaniment[sing]), 1e-12))
        if sing.any()
        else float("nan")
    )
    return song.SyntheticSong(
        name=f"song{index:03d}",
        audio=(mix * scale).astype(np.float32),
        vocal=(vocal * scale).astype(np.float32),
        segments=segments,
        vocal_to_accompaniment_db=float(measured),
        singer=choices.voice if sing.any() else "none",
        voice_kind=kind if sing.any() else "none",
    )
