"""Singers made from recorded speech: Festival's diphone voices
(``vocal_xai.data.diphone``) singing the song's melodies.

A diphone voice sings words of its language, one note each, at a flat
pitch. This module gives it what a singer has and Festival leaves out:

* a voice type: the speaker's formants are moved by up to ``FORMANT_RATIO``
  towards those of the song's voice type (``v2.VOICE_TYPES``), by singing
  lower and longer and resampling the take faster;
* expression: vibrato (with its depth and rate wandering, faded in at the
  start of a phrase, and a little tremolo with it), slow drift and fast
  jitter of the pitch, applied by time-varying resampling;
* the corpus's sample rate: Festival's 16 kHz takes are resampled to 22.05 kHz.

Resampling moves the formants with the pitch (by at most a few per cent
for vibrato and drift), as a change of speaker would, never the timing of a
consonant against its vowel.
"""

import math

import numpy as np
import scipy.signal

from vocal_xai.data import diphone
from vocal_xai.data.synthetic import dsp, music, voice

# Words of one syllable, so that a note sings as scored.
LEXICONS = {
    "english": tuple(
        """love heart night day light dream home rain sun sky sea fly run stay go know feel hold
        say song sing blue gold time way road long free see me you we all now here there soul
        fall call smile tears eyes hand mind cold warm deep high low slow stars moon wind storm
        town dance burn turn back cry fight walk talk wait true lost found strong kiss touch sweet
        dark bright shine wild young old one more last first dawn waves stone tree leaves snow
        breathe grace hope pain peace place rose side wings world yes no oh ah la na hey why my
        life""".split()
    ),
    "italian": tuple(
        """la lo il un ma mi ti si tu te me se sei mai poi noi voi lei lui qui qua gia piu ciel
        cuor mar sol fior bel ben per con non tra fra chi che va fa sta da do re tre gran quel
        qual mal buon suo mio tuo son han sai vai dai fuor no oh ah""".split()
    ),
}
# Voice -> (its lexicon, the recorded speaker's formant scale on the scale
# of ``v2.VOICE_TYPES``, re the adult male: kal and ked are men, lp a woman).
SPEAKERS = {"kal": ("english", 1.0), "ked": ("english", 0.98), "lp": ("italian", 1.17)}
# How far a speaker's formants may be moved (ratio of frequencies).
FORMANT_RATIO = (0.9, 1.2)
# Expression, drawn per phrase: vibrato rate (Hz), its peak depth (cents),
# the depth of the tremolo that goes with it (dB), how long it takes to
# set in (s); the std of the slow drift and of the jitter (cents).
VIBRATO_HZ = (4.5, 6.8)
VIBRATO_CENTS = (0.0, 60.0)
TREMOLO_DB = (0.0, 2.0)
VIBRATO_ONSET = (0.1, 0.5)
DRIFT_CENTS = (3.0, 15.0)
JITTER_CENTS = (1.0, 6.0)
# Festival sings a phrase about a sixth shorter than scored (the
# ``diphone`` module), so notes are scored this much longer and the take
# is cut at the phrase's written end.
FESTIVAL_STRETCH = 1.2
# The fade at the end of a phrase, which may be cut at its written end (s).
FADE_OUT = 0.03
# Festival's takes are resampled to twice the corpus rate before they are
# read at a varying speed, so that linear interpolation stays clean below
# 8 kHz. 16 kHz * 441 / 160 = 44.1 kHz.
_UP, _DOWN = 441, 160
_OVERSAMPLING = 2
# Backing diphone singers on a harmonised phrase: scale steps from the lead,
# level below it (dB).
HARMONY_STEPS = (-5, -2, 2, 5)
HARMONY_DB = (3.0, 10.0)


def pick_speaker(rng, formant_scale):
    """A diphone voice and the ratio that moves its formants to
    ``formant_scale``: drawn among the voices that get there within
    ``FORMANT_RATIO``, or else the nearest, moved as far as allowed."""
    ratios = {name: formant_scale / scale for name, (_, scale) in SPEAKERS.items()}
    near = [name for name, r in ratios.items() if FORMANT_RATIO[0] <= r <= FORMANT_RATIO[1]]
    if near:
        name = str(rng.choice(near))
    else:
        name = min(ratios, key=lambda n: abs(math.log(ratios[n])))
    return name, float(np.clip(ratios[name], *FORMANT_RATIO))


def score(rng, durations, midi, lexicon, ratio):
    """The ``diphone.Note`` score of a melody, one drawn word a note, sung
    ``ratio`` times lower and longer than written (the resampling that moves
    the formants brings it back) and ``FESTIVAL_STRETCH`` times longer again.
    A melody of one note is sung as two halves, because Festival needs two."""
    durations, midi = list(durations), list(midi)
    if len(durations) == 1:
        durations, midi = [durations[0] / 2] * 2, midi * 2
    words = rng.choice(LEXICONS[lexicon], len(durations))
    return [
        diphone.Note(str(w), float(d) * ratio * FESTIVAL_STRETCH, float(dsp.midi_to_hz(m)) / ratio)
        for w, d, m in zip(words, durations, midi)
    ]


def wander(rng, n, seconds):
    """Slowly varying noise of unit standard deviation, ``n`` control points,
    as stationary at its ends as in its middle.

    ``dsp.smooth_noise`` starts its filter from the first raw sample and
    scales by the drawn curve's own spread, so its ends stand out; here the
    filter runs in over five time constants beyond each end and the curve is
    scaled by the exact spread of forward-backward one-pole smoothed white
    noise, ``(1 - p)(1 + p^2) / (1 + p)^3``. [shape=(n,)]
    """
    p = math.exp(-1.0 / max(seconds * dsp.CONTROL_RATE, 1e-6))
    pad = dsp.num_controls(5.0 * seconds)
    x = dsp.smooth(rng.standard_normal(n + 2 * pad), seconds)[pad : pad + n]
    return x / math.sqrt((1.0 - p) * (1.0 + p * p) / (1.0 + p) ** 3)


def expression(rng, seconds):
    """Pitch deviation (cents) and gain (dB) of a phrase, at the control rate.

    Returns:
        ``(cents, gain_db)``. [shape=(dsp.num_controls(seconds),) each]
    """
    n = dsp.num_controls(seconds)
    t = dsp.control_times(n)
    rate = rng.uniform(*VIBRATO_HZ) * (1.0 + 0.04 * wander(rng, n, 0.5))
    phase = 2.0 * np.pi * np.cumsum(rate) / dsp.CONTROL_RATE + rng.uniform(0.0, 2.0 * np.pi)
    depth = rng.uniform(*VIBRATO_CENTS) * np.clip(1.0 + 0.3 * wander(rng, n, 0.8), 0, 2)
    depth *= dsp.smoothstep(t / rng.uniform(*VIBRATO_ONSET))
    wobble = np.sin(phase)
    cents = depth * wobble
    cents += rng.uniform(*DRIFT_CENTS) * wander(rng, n, 0.4)
    cents += rng.uniform(*JITTER_CENTS) * wander(rng, n, 0.004)
    peak = max(VIBRATO_CENTS[1], 1e-9)
    gain_db = rng.uniform(*TREMOLO_DB) * (depth / peak) * wobble
    return cents, gain_db


def warp(take, ratio, cents, gain_db):
    """A 16 kHz take at the corpus rate, read ``ratio`` times faster with the
    pitch deviation ``cents`` and the gain ``gain_db`` (control-rate curves,
    held at their last value past their end).

    Returns:
        float64 samples at ``dsp.SAMPLE_RATE``, ``ratio`` times shorter than
        the take (give or take the deviation).
    """
    up = scipy.signal.resample_poly(np.asarray(take, np.float64), _UP, _DOWN)
    n = int(math.ceil(len(up) / (_OVERSAMPLING * ratio) * 1.1)) + 1
    controls = np.arange(n) / dsp.CONTROL_HOP
    ctrl = np.arange(len(cents))
    speed = _OVERSAMPLING * ratio * 2.0 ** (np.interp(controls, ctrl, cents) / 1200.0)
    position = np.concatenate([[0.0], np.cumsum(speed[:-1])])
    keep = position <= len(up) - 1
    out = np.interp(position[keep], np.arange(len(up)), up)
    return out * 10.0 ** (np.interp(controls[keep], ctrl, gain_db) / 20.0)


def sing_melody(rng, durations, midi, speaker, ratio):
    """One phrase of ``speaker`` (a key of ``SPEAKERS``) with its formants
    moved by ``ratio``, at the corpus rate, with drawn expression.
    [float64]"""
    notes = score(rng, durations, midi, SPEAKERS[speaker][0], ratio)
    take, _ = diphone.sing(notes, speaker)
    cents, gain_db = expression(rng, len(take) / diphone.SAMPLE_RATE / ratio)
    return warp(take, ratio, cents, gain_db)


def _samples(seconds):
    return int(round(seconds * dsp.SAMPLE_RATE))


def fade_out(phrase):
    """``phrase`` with its last ``FADE_OUT`` seconds faded to silence (in place)."""
    n = min(len(phrase), _samples(FADE_OUT))
    if n:
        phrase[len(phrase) - n :] *= np.linspace(1.0, 0.0, n) ** 2
    return phrase


def top_midi(ratio):
    """The highest whole MIDI note a speaker whose formants are moved by
    ``ratio`` can sing (Festival's ``diphone.MAX_HZ``, sung ``ratio`` lower)."""
    return int(math.floor(69.0 + 12.0 * math.log2(diphone.MAX_HZ * ratio / 440.0)))


def octaves_down(high, ratio):
    """Whole octaves that bring MIDI note ``high`` within ``top_midi(ratio)``."""
    return max(0, math.ceil((high - top_midi(ratio)) / 12))


def fit_register(register, ratio):
    """``register`` (MIDI ``(low, high)``) moved down whole octaves until its
    top is within ``top_midi(ratio)``."""
    low, high = register
    octaves = octaves_down(high, ratio)
    return low - 12 * octaves, high - 12 * octaves


def render_vocals(rng, plan, segments, formant_scale, register, n_buf, harmony_prob=0.0):
    """Vocal stem of a diphone singer: phrases inside every sing segment,
    zero elsewhere, some harmonised by a second diphone singer.

    Args:
        rng, plan, segments, n_buf: as ``voice.render_vocals``.
        register: as ``voice.render_vocals``, moved down by octaves to what
            Festival can sing (``fit_register``).
        formant_scale: the voice type's formant scale (``v2.VOICE_TYPES``).
        harmony_prob: probability that a phrase is harmonised: another
            speaker sings it ``HARMONY_STEPS`` scale steps away, ``HARMONY_DB``
            dB below.

    Returns:
        float64 samples. [shape=(n_buf,)]

    Raises:
        ParameterError: when Festival or a voice is missing.
    """
    out = np.zeros(n_buf)
    speaker, ratio = pick_speaker(rng, formant_scale)
    register = fit_register(register, ratio)
    for offset, lead_in, end, _ in voice.vocal_phrases(rng, segments):
        onset, durations, midi = music.melody(rng, lead_in, end, plan, register)
        if len(onset) == 0:
            continue
        phrase = sing_melody(rng, durations, midi, speaker, ratio)[: _samples(end - onset[0])]
        if rng.random() < harmony_prob:
            other, other_ratio = pick_speaker(rng, formant_scale * rng.uniform(0.95, 1.05))
            steps = int(rng.choice(HARMONY_STEPS))
            shifted = music.diatonic_shift(midi, steps, plan)
            shifted = shifted - 12.0 * octaves_down(shifted.max(), other_ratio)
            backing = sing_melody(rng, durations, shifted, other, other_ratio)
            below_db = rng.uniform(*HARMONY_DB)
            level = dsp.rms(phrase) / max(dsp.rms(backing), 1e-12) * 10.0 ** (-below_db / 20.0)
            m = min(len(phrase), len(backing))
            phrase[:m] += backing[:m] * level
        dsp.add_at(out, _samples(offset + onset[0]), fade_out(phrase))
    return out
