"""Non-vocal instruments of the version 2 corpus, drawn from a table of data.

Every instrument is a harmonic (or, for struck bars, inharmonic) source
through a *fixed* body response (``instrument_presets.INSTRUMENTS``):
vibrato sweeps each partial across the body's peaks without the moving
formants of a vowel. ``draw_instrument`` draws an instrument's per-song
settings from the table; ``plan_line`` and ``render_line`` play a line of
notes on it.
"""

import dataclasses

import numpy as np

from vocal_xai.data.synthetic import dsp, leads, music, tables
from vocal_xai.data.synthetic.instrument_presets import INSTRUMENTS
from vocal_xai.errors import ParameterError

_PARTIAL_WEIGHTS_OF_BARS = (1.0, 0.35, 0.12, 0.05)


@dataclasses.dataclass(frozen=True)
class Instrument:
    """One instrument as drawn for a song (see ``INSTRUMENTS``)."""

    name: str
    register: tuple
    weights: np.ndarray  # per partial
    ratios: np.ndarray  # per partial, frequency / f0
    body_hz: np.ndarray
    body_width: np.ndarray
    body_gain: np.ndarray
    lowpass_hz: float
    lowpass_order: float
    brightness: float
    decay: float  # 0 for sustained sounds
    decay_slope: float
    noise_shape: np.ndarray  # [len(dsp.NOISE_FREQS)], unit RMS
    noise_db: float
    attack_noise_db: float
    attack: tuple
    release: float
    legato: tuple
    dip: tuple
    vibrato_prob: float
    vib_depth: tuple
    vib_rate: tuple
    glide_prob: float
    glide_time: tuple
    players: int
    detune: float
    spread: float
    tremolo: tuple  # (depth, rate) or (0.0, 0.0)


def draw_instrument(rng, name):
    """Draw the per-song settings of instrument ``name`` in ``INSTRUMENTS``."""
    if name not in INSTRUMENTS:
        raise ParameterError(
            f"Expected an instrument in {sorted(INSTRUMENTS)}. Received: name={name!r}"
        )
    spec = INSTRUMENTS[name]
    if spec["ratios"] is None:
        ratios = np.arange(1, dsp.MAX_PARTIALS + 1, dtype=np.float64)
        weights = ratios ** -tables.draw(rng, spec["slope"])
        even = 10.0 ** (tables.draw(rng, spec["even_db"]) / 20.0)
        weights = np.where(ratios % 2 == 0, weights * even, weights)
        weights = weights * (1.0 + 0.1 * rng.standard_normal(len(weights))).clip(0.6)
    else:
        ratios = np.asarray(spec["ratios"], np.float64)
        weights = np.asarray(_PARTIAL_WEIGHTS_OF_BARS[: len(ratios)])
    n_peaks = tables.draw(rng, spec["body_peaks"], integer=True)
    lo, hi = spec["body_hz"]
    body_hz = np.sort(np.exp(rng.uniform(np.log(lo), np.log(hi), n_peaks)))
    q = rng.uniform(*spec["body_q"], n_peaks) if n_peaks else np.zeros(0)
    body_gain = rng.uniform(*spec["body_gain"], n_peaks) if n_peaks else np.zeros(0)
    noise_shape = _noise_shape(spec["noise"], body_hz, body_hz / np.maximum(q, 1e-3), body_gain)
    tremolo = spec["tremolo"]
    tremolo = (
        (0.0, 0.0)
        if tremolo is None
        else (tables.draw(rng, tremolo[0]), tables.draw(rng, tremolo[1]))
    )
    decay = spec["decay"]
    return Instrument(
        name=name,
        register=spec["register"],
        weights=weights,
        ratios=ratios,
        body_hz=body_hz,
        body_width=body_hz / np.maximum(q, 1e-3),
        body_gain=body_gain,
        lowpass_hz=tables.draw(rng, spec["lowpass_hz"]),
        lowpass_order=spec["lowpass_order"],
        brightness=tables.draw(rng, spec["brightness"]),
        decay=0.0 if decay is None else tables.draw(rng, decay),
        decay_slope=spec["decay_slope"],
        noise_shape=noise_shape,
        **leads.draw_expression(rng, spec),
        glide_time=spec["glide_time"],
        players=tables.draw(rng, spec["players"], integer=True),
        detune=tables.draw(rng, spec["detune"]),
        spread=tables.draw(rng, spec["spread"]),
        tremolo=tremolo,
    )


def _noise_shape(kind, body_hz, body_width, body_gain):
    """Unit-RMS amplitude spectrum of an instrument's own noise."""
    f = dsp.NOISE_FREQS
    if kind == "bow":
        shape = dsp.peaks_response(f, body_hz, body_width, body_gain) * (f / (f + 1500.0))
    elif kind == "breath":
        shape = (f / (f + 1200.0)) * dsp.lowpass(f, 7000.0, 2)
    else:
        shape = dsp.lowpass(f, 6000.0, 1)
    return dsp.unit_rms(shape)


def body_response(inst, freqs, peaks_at=None):
    """Spectral envelope of ``inst`` at ``freqs`` (Hz), same shape: its body
    resonances, read at ``peaks_at`` instead when given (a moved body; the
    same shape as ``freqs``), then its low-pass."""
    peaks_at = freqs if peaks_at is None else peaks_at
    return dsp.peaks_response(
        peaks_at, inst.body_hz, inst.body_width, inst.body_gain
    ) * dsp.lowpass(freqs, inst.lowpass_hz, inst.lowpass_order)


@dataclasses.dataclass(frozen=True)
class Motion:
    """How a player moves an instrument's sound while playing (corpus version
    4): the body resonances drift and jump from note to note (bow position
    and pressure, fingerings, embouchure), the brightness swings, and long
    notes are re-articulated (bow changes, tonguing).

    Attributes:
        body_octaves: std of the body resonances' drift, in octaves.
        note_octaves: std of each note's own shift of the body, in octaves.
        tilt_db: std of the brightness swing, in dB per octave.
        seconds: time constant of the drift and the swing (0.02-0.06 s
            moves them at syllabic rates, 3-8 Hz).
        rearticulate: (low, high) seconds between re-articulations of a
            held note, or None.
        dip: depth of the level dip at a re-articulation, 0..1.
    """

    body_octaves: float
    note_octaves: float
    tilt_db: float
    seconds: float
    rearticulate: tuple = None
    dip: float = 0.5


def plan_line(rng, onset, duration, midi, inst):
    """Expression of a line of notes for ``inst`` (``music.Notes``)."""
    return leads.plan_notes(rng, onset, duration, midi, inst, inst.glide_time)


def _player(rng, notes, inst):
    """A section player's own take on ``notes``: vibrato rate, depth and phase."""
    n = len(notes.onset)
    return dataclasses.replace(
        notes,
        vib_rate=notes.vib_rate + rng.uniform(-0.4, 0.4, n),
        vib_depth=notes.vib_depth * rng.uniform(0.7, 1.3, n),
        vib_phase=rng.uniform(0.0, 2.0 * np.pi, n),
        gain_db=notes.gain_db + rng.uniform(-1.5, 1.5, n),
    )


def render_line(rng, notes, inst, motion=None):
    """Render a line of notes (onsets from its start) played by ``inst``.

    Args:
        rng: random generator.
        notes: ``music.Notes``.
        inst: ``Instrument``.
        motion: ``Motion``, or None for a fixed body (versions 2 and 3; no
            random draw is spent on it then).

    Returns:
        float32 samples from the line's start to the end of its last note's
        release. [shape=(samples,)]
    """
    end = notes.end + inst.release
    n_ctrl = dsp.num_controls(end)
    t = dsp.control_times(n_ctrl)
    n_notes = len(notes.onset)
    idx = np.clip(np.searchsorted(notes.onset, t, side="right") - 1, 0, n_notes - 1)
    since = np.maximum(t - notes.onset[idx], 0.0)

    # Envelope: attacks from a dip (from silence after a detached note),
    # releases of detached notes and of the line, and a tremolo.
    attack = rng.uniform(inst.attack[0], inst.attack[1], n_notes)
    dip = rng.uniform(inst.dip[0], inst.dip[1], n_notes)
    legato = rng.uniform(inst.legato[0], inst.legato[1], n_notes)
    dip[1:] = np.where(legato[:-1] < 0.98, 0.0, dip[1:])
    dip[0] = 0.0
    env = dip[idx] + (1.0 - dip[idx]) * dsp.smoothstep(since / attack[idx])
    body_shift, tilt, since_change = _motion(rng, motion, notes, t, idx, since)
    if motion is not None:
        rearticulated = since_change < since
        env *= 1.0 - motion.dip * rearticulated * (1.0 - dsp.smoothstep(since_change / 0.06))
    held = notes.duration[idx] * legato[idx]
    last = idx == n_notes - 1
    env *= np.where(
        (legato[idx] < 0.98) | last,
        dsp.smoothstep((held + inst.release - since) / inst.release),
        1.0,
    )
    depth, rate = inst.tremolo
    if depth > 0.0:
        env *= 1.0 - depth * 0.5 * (1.0 + np.sin(2.0 * np.pi * rate * t))

    # Partials through the fixed body; louder notes brighter, plucks decaying.
    f_ref = float(dsp.midi_to_hz(np.median(notes.midi)))
    n_partials = _partial_count(inst, float(dsp.midi_to_hz(np.min(notes.midi) - 1.0)))
    ratios = inst.ratios[:n_partials]
    weights = inst.weights[:n_partials]
    reference = weights * body_response(inst, f_ref * ratios)
    norm = max(float(np.sqrt(np.sum(reference * reference))), 1e-12)
    y = np.zeros((n_ctrl - 1) * dsp.CONTROL_HOP, np.float32)
    for p in range(inst.players):
        take = notes if p == 0 else _player(rng, notes, inst)
        gain = 10.0 ** (take.gain_db[idx] / 20.0)
        level = np.maximum(dsp.smooth(env * gain, 0.004), 0.0)
        cents = 0.0 if p == 0 else inst.detune * rng.standard_normal()
        midi = (
            music.pitch_contour(t, take) + cents / 100.0 + 0.03 * dsp.smooth_noise(rng, n_ctrl, 0.3)
        )
        f0 = dsp.midi_to_hz(midi)
        freqs = f0[:, None] * ratios
        level_db = 20.0 * np.log10(np.maximum(level, 1e-3))
        moved = None if body_shift is None else freqs * 2.0 ** -body_shift[:, None]
        amps = weights * body_response(inst, freqs, moved) * dsp.partial_taper(freqs)
        amps = amps * ratios ** (inst.brightness * level_db[:, None] / 10.0 / 6.0206)
        if tilt is not None:
            # A swing of the tilt that leaves each partial's mean power as it was.
            octaves = np.log2(ratios)
            mean_power = np.exp(2.0 * (motion.tilt_db / 20.0 * np.log(10.0) * octaves) ** 2)
            amps = amps * 10.0 ** (tilt[:, None] * octaves / 20.0) / np.sqrt(mean_power)
        if inst.decay > 0.0:
            rates = (1.0 + inst.decay_slope * (ratios - 1.0)) / inst.decay
            amps = amps * np.exp(-since[:, None] * rates)
        amps = amps * (level / norm / np.sqrt(inst.players))[:, None]
        if inst.ratios.size and np.allclose(ratios, np.arange(1, len(ratios) + 1)):
            voice = dsp.tone(rng, f0, amps)
        else:
            voice = sum(dsp.tone(rng, f0 * r, amps[:, j : j + 1]) for j, r in enumerate(ratios))
        delay = int(rng.uniform(0.0, inst.spread) * dsp.SAMPLE_RATE) if p else 0
        y[delay:] += voice[: len(y) - delay]

    # Noise with the instrument's shape: sustained, plus a burst at each attack.
    burst = np.exp(-since_change / (0.5 * attack[idx] + 0.02))
    noise_level = 10.0 ** (inst.noise_db / 20.0) * env
    noise_level = noise_level + 10.0 ** (inst.attack_noise_db / 20.0) * burst * env.max()
    return y + dsp.shaped_noise(rng, noise_level[:, None] * inst.noise_shape[None, :])


def _motion(rng, motion, notes, t, idx, since):
    """Body shift (octaves) and tilt (dB/octave) per control point (None
    without ``motion``), and the time since the last onset or
    re-articulation."""
    if motion is None:
        return None, None, since
    n = len(t)
    jumps = motion.note_octaves * rng.standard_normal(len(notes.onset))
    shift = dsp.smooth(jumps[idx], 0.015) + motion.body_octaves * dsp.smooth_noise(
        rng, n, motion.seconds
    )
    tilt = motion.tilt_db * dsp.smooth_noise(rng, n, motion.seconds)
    since_change = since.copy()
    if motion.rearticulate is not None:
        lo, hi = motion.rearticulate
        for k, (onset, length) in enumerate(zip(notes.onset, notes.duration)):
            change = onset + rng.uniform(lo, hi)
            while change < onset + length - 0.1:
                after = (idx == k) & (t >= change)
                since_change[after] = t[after] - change
                change += rng.uniform(lo, hi)
    return shift, tilt, since_change


def _partial_count(inst, min_f0):
    """Partials of ``inst`` that stay below ``dsp.MAX_PARTIAL_HZ`` at ``min_f0``."""
    below = np.flatnonzero(inst.ratios * min_f0 < dsp.MAX_PARTIAL_HZ)
    return max(1, len(below))
