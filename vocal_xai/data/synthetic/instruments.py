"""Non-vocal instruments of the version 2 corpus, as a table of data.

Every instrument is a harmonic (or, for struck bars, inharmonic) source
through a *fixed* body response: a set of resonances that stay where they are
while the pitch moves. Vibrato therefore sweeps each partial across the body's
peaks and makes its level flicker, as in real bowed strings, without the
moving formants of a vowel. Levels shape brightness (louder is brighter, as in
brass), plucked and struck sounds decay, bowed and blown sounds carry their
own noise, and sections are several players with their own vibrato and
tuning.

``INSTRUMENTS`` maps a name to its settings. A pair ``(low, high)`` is drawn
uniformly once per song (integers for ``players`` and ``body_peaks``); other
values are used as they are. The fields:

* ``register``: MIDI range of its lines.
* ``slope``: partial ``k`` has weight ``k ** -slope``; ``even_db``: level of
  the even partials (a clarinet's are weak).
* ``ratios``: partial frequency ratios of an inharmonic source (struck bars);
  None for harmonic partials.
* ``body_peaks``, ``body_hz``, ``body_q``, ``body_gain``: number, frequency
  range, quality factor and linear gain of the body resonances.
* ``lowpass_hz``, ``lowpass_order``: overall roll-off.
* ``brightness``: extra spectral slope, dB per octave, per 10 dB of level
  (negative when softer notes are darker).
* ``decay``: seconds for partial 1 to fall by 1/e after an attack (None for
  sustained sounds); higher partials decay ``1 + decay_slope * (k - 1)``
  times faster.
* ``noise``: ``"bow"``, ``"breath"`` or None; ``noise_db`` and
  ``attack_noise_db``: sustained and attack noise, dB re the tone.
* ``attack``, ``release``, ``legato``, ``dip``: articulation (seconds,
  seconds, share of the note held, level a legato note starts from).
* ``vibrato_prob``, ``vib_depth`` (peak-to-peak cents), ``vib_rate`` (Hz),
  ``glide_prob``, ``glide_time`` (s): expression.
* ``players``, ``detune`` (cents, std between players), ``spread`` (s,
  largest onset delay of a player): sections and detuned unisons.
* ``tremolo``: ``(depth, rate_hz)`` of an amplitude tremolo, or None.
"""

import dataclasses

import numpy as np

from vocal_xai.data.synthetic import v1
from vocal_xai.errors import ParameterError

_BOW = dict(noise="bow", attack_noise_db=(-16.0, -8.0), legato=(0.9, 1.0), dip=(0.3, 0.7))
_BOWED = dict(
    slope=(0.75, 1.1),
    even_db=0.0,
    ratios=None,
    body_peaks=(16, 28),
    body_q=(10.0, 45.0),
    body_gain=(2.0, 12.0),
    lowpass_order=2.0,
    brightness=(0.8, 2.0),
    decay=None,
    decay_slope=0.0,
    noise_db=(-34.0, -24.0),
    attack=(0.04, 0.16),
    release=(0.08, 0.25),
    vibrato_prob=0.85,
    vib_depth=(15.0, 60.0),
    vib_rate=(4.8, 7.2),
    glide_prob=0.3,
    glide_time=(0.05, 0.2),
    detune=0.0,
    spread=0.0,
    tremolo=None,
    **_BOW,
)
_BLOWN = dict(
    ratios=None,
    lowpass_order=2.0,
    decay=None,
    decay_slope=0.0,
    noise="breath",
    attack=(0.02, 0.08),
    release=(0.05, 0.15),
    legato=(0.8, 1.0),
    dip=(0.2, 0.6),
    glide_time=(0.03, 0.12),
    players=1,
    detune=0.0,
    spread=0.0,
    tremolo=None,
)
_PLUCKED = dict(
    ratios=None,
    body_q=(5.0, 20.0),
    body_gain=(1.0, 5.0),
    lowpass_order=2.0,
    brightness=0.0,
    noise=None,
    noise_db=-80.0,
    attack_noise_db=(-24.0, -14.0),
    attack=(0.002, 0.006),
    release=(0.05, 0.2),
    legato=(0.85, 1.0),
    dip=(0.0, 0.0),
    vibrato_prob=0.1,
    vib_depth=(10.0, 30.0),
    vib_rate=(4.5, 6.5),
    glide_prob=0.05,
    glide_time=(0.02, 0.06),
    players=1,
    detune=0.0,
    spread=0.0,
    tremolo=None,
)

INSTRUMENTS = {
    "violin": dict(_BOWED, register=(55, 88), body_hz=(280.0, 5500.0), lowpass_hz=(5500.0, 8000.0), players=1),
    "viola": dict(_BOWED, register=(48, 79), body_hz=(220.0, 4500.0), lowpass_hz=(4500.0, 7000.0), players=1),
    "cello": dict(_BOWED, register=(36, 69), body_hz=(100.0, 4000.0), lowpass_hz=(3500.0, 6000.0), players=1),
    "strings": dict(
        _BOWED,
        register=(48, 84),
        body_hz=(200.0, 5000.0),
        lowpass_hz=(4000.0, 7000.0),
        players=(4, 8),
        detune=(4.0, 12.0),
        spread=(0.01, 0.04),
        vib_depth=(10.0, 45.0),
    ),
    "flute": dict(
        _BLOWN,
        register=(60, 93),
        slope=(1.6, 2.6),
        even_db=0.0,
        body_peaks=(1, 3),
        body_hz=(800.0, 3000.0),
        body_q=(2.0, 5.0),
        body_gain=(0.5, 2.0),
        lowpass_hz=(2500.0, 5000.0),
        brightness=(0.5, 1.5),
        noise_db=(-24.0, -14.0),
        attack_noise_db=(-16.0, -8.0),
        vibrato_prob=0.7,
        vib_depth=(10.0, 40.0),
        vib_rate=(4.5, 6.0),
        glide_prob=0.1,
    ),
    "clarinet": dict(
        _BLOWN,
        register=(50, 84),
        slope=(0.9, 1.3),
        even_db=(-20.0, -10.0),
        body_peaks=(2, 4),
        body_hz=(600.0, 3500.0),
        body_q=(3.0, 8.0),
        body_gain=(1.0, 4.0),
        lowpass_hz=(2500.0, 4500.0),
        brightness=(1.0, 2.5),
        noise_db=(-36.0, -26.0),
        attack_noise_db=(-20.0, -12.0),
        vibrato_prob=0.2,
        vib_depth=(8.0, 25.0),
        vib_rate=(4.5, 6.0),
        glide_prob=0.1,
    ),
    "oboe": dict(
        _BLOWN,
        register=(58, 88),
        slope=(0.6, 0.9),
        even_db=0.0,
        body_peaks=(2, 4),
        body_hz=(900.0, 4000.0),
        body_q=(3.0, 10.0),
        body_gain=(2.0, 6.0),
        lowpass_hz=(3500.0, 6000.0),
        brightness=(1.0, 2.0),
        noise_db=(-36.0, -28.0),
        attack_noise_db=(-20.0, -12.0),
        vibrato_prob=0.6,
        vib_depth=(10.0, 35.0),
        vib_rate=(4.5, 6.5),
        glide_prob=0.1,
    ),
    "saxophone": dict(
        _BLOWN,
        register=(44, 80),
        slope=(0.6, 1.0),
        even_db=0.0,
        body_peaks=(3, 6),
        body_hz=(400.0, 3500.0),
        body_q=(3.0, 9.0),
        body_gain=(2.0, 6.0),
        lowpass_hz=(3000.0, 6000.0),
        brightness=(1.5, 3.0),
        noise_db=(-30.0, -20.0),
        attack_noise_db=(-16.0, -8.0),
        vibrato_prob=0.6,
        vib_depth=(15.0, 60.0),
        vib_rate=(4.5, 6.5),
        glide_prob=0.35,
    ),
    "trumpet": dict(
        _BLOWN,
        register=(54, 82),
        slope=(0.4, 0.8),
        even_db=0.0,
        body_peaks=(2, 4),
        body_hz=(1000.0, 3000.0),
        body_q=(2.0, 5.0),
        body_gain=(1.0, 4.0),
        lowpass_hz=(3000.0, 7000.0),
        brightness=(2.5, 4.5),
        noise_db=(-38.0, -28.0),
        attack_noise_db=(-14.0, -6.0),
        vibrato_prob=0.3,
        vib_depth=(10.0, 40.0),
        vib_rate=(5.0, 6.5),
        glide_prob=0.15,
    ),
    "horn": dict(
        _BLOWN,
        register=(41, 72),
        slope=(1.0, 1.5),
        even_db=0.0,
        body_peaks=(1, 3),
        body_hz=(300.0, 1500.0),
        body_q=(2.0, 5.0),
        body_gain=(1.0, 3.0),
        lowpass_hz=(1200.0, 2500.0),
        brightness=(2.0, 4.0),
        noise_db=(-40.0, -30.0),
        attack_noise_db=(-20.0, -12.0),
        vibrato_prob=0.2,
        vib_depth=(8.0, 25.0),
        vib_rate=(4.5, 6.0),
        glide_prob=0.1,
    ),
    "trombone": dict(
        _BLOWN,
        register=(40, 70),
        slope=(0.6, 1.0),
        even_db=0.0,
        body_peaks=(2, 4),
        body_hz=(400.0, 2500.0),
        body_q=(2.0, 6.0),
        body_gain=(1.0, 4.0),
        lowpass_hz=(2000.0, 5000.0),
        brightness=(2.5, 4.5),
        noise_db=(-38.0, -28.0),
        attack_noise_db=(-16.0, -8.0),
        vibrato_prob=0.4,
        vib_depth=(10.0, 40.0),
        vib_rate=(4.5, 6.0),
        glide_prob=0.5,
        glide_time=(0.08, 0.3),
    ),
    "accordion": dict(
        _BLOWN,
        register=(55, 84),
        slope=(0.5, 0.9),
        even_db=0.0,
        body_peaks=(2, 5),
        body_hz=(500.0, 4000.0),
        body_q=(3.0, 8.0),
        body_gain=(1.0, 4.0),
        lowpass_hz=(3000.0, 6000.0),
        brightness=(0.5, 1.5),
        noise_db=(-40.0, -30.0),
        attack_noise_db=(-26.0, -18.0),
        vibrato_prob=0.0,
        vib_depth=(0.0, 0.0),
        vib_rate=(5.0, 6.0),
        glide_prob=0.0,
        players=(2, 3),
        detune=(8.0, 20.0),
    ),
    "harmonica": dict(
        _BLOWN,
        register=(60, 86),
        slope=(0.7, 1.1),
        even_db=0.0,
        body_peaks=(2, 4),
        body_hz=(800.0, 3500.0),
        body_q=(3.0, 8.0),
        body_gain=(1.0, 4.0),
        lowpass_hz=(3000.0, 6000.0),
        brightness=(1.0, 2.5),
        noise_db=(-28.0, -18.0),
        attack_noise_db=(-18.0, -10.0),
        vibrato_prob=0.4,
        vib_depth=(15.0, 60.0),
        vib_rate=(4.0, 7.0),
        glide_prob=0.4,
        tremolo=((0.1, 0.4), (4.0, 7.0)),
    ),
    "synth": dict(
        _BLOWN,
        register=(52, 86),
        slope=(0.9, 1.1),
        even_db=(-60.0, 0.0),
        body_peaks=(0, 1),
        body_hz=(800.0, 4000.0),
        body_q=(1.5, 4.0),
        body_gain=(0.0, 3.0),
        lowpass_hz=(1200.0, 5000.0),
        lowpass_order=3.0,
        brightness=(0.0, 1.0),
        noise=None,
        noise_db=-80.0,
        attack_noise_db=(-30.0, -14.0),
        vibrato_prob=0.5,
        vib_depth=(15.0, 70.0),
        vib_rate=(4.5, 7.0),
        glide_prob=0.5,
    ),
    "supersaw": dict(
        _BLOWN,
        register=(52, 84),
        slope=(0.9, 1.1),
        even_db=0.0,
        body_peaks=(0, 1),
        body_hz=(800.0, 4000.0),
        body_q=(1.5, 4.0),
        body_gain=(0.0, 2.0),
        lowpass_hz=(2000.0, 6000.0),
        brightness=(0.0, 1.0),
        noise=None,
        noise_db=-80.0,
        attack_noise_db=(-40.0, -30.0),
        vibrato_prob=0.3,
        vib_depth=(10.0, 40.0),
        vib_rate=(4.5, 6.5),
        glide_prob=0.3,
        players=(4, 7),
        detune=(10.0, 25.0),
    ),
    "electric_guitar": dict(
        _PLUCKED,
        register=(52, 86),
        slope=(0.7, 1.1),
        even_db=0.0,
        body_peaks=(3, 6),
        body_hz=(300.0, 3500.0),
        lowpass_hz=(2500.0, 5000.0),
        decay=(1.5, 4.0),
        decay_slope=0.05,
        vibrato_prob=0.6,
        vib_depth=(20.0, 80.0),
        vib_rate=(4.5, 7.0),
        glide_prob=0.4,
        glide_time=(0.05, 0.2),
    ),
    "nylon_guitar": dict(
        _PLUCKED,
        register=(45, 81),
        slope=(0.9, 1.4),
        even_db=0.0,
        body_peaks=(4, 8),
        body_hz=(90.0, 3000.0),
        lowpass_hz=(2000.0, 4000.0),
        decay=(0.6, 1.5),
        decay_slope=0.15,
    ),
    "piano": dict(
        _PLUCKED,
        register=(48, 90),
        slope=(0.8, 1.4),
        even_db=0.0,
        body_peaks=(2, 5),
        body_hz=(200.0, 3000.0),
        lowpass_hz=(2000.0, 5000.0),
        brightness=(0.5, 1.5),
        decay=(0.8, 2.0),
        decay_slope=0.25,
        vibrato_prob=0.0,
        glide_prob=0.0,
    ),
    "pizzicato": dict(
        _PLUCKED,
        register=(43, 84),
        slope=(0.8, 1.2),
        even_db=0.0,
        body_peaks=(10, 18),
        body_hz=(200.0, 5000.0),
        lowpass_hz=(3000.0, 6000.0),
        decay=(0.15, 0.4),
        decay_slope=0.2,
        vibrato_prob=0.0,
        glide_prob=0.0,
        players=(2, 4),
        detune=(3.0, 8.0),
        spread=(0.005, 0.02),
    ),
    "vibraphone": dict(
        _PLUCKED,
        register=(53, 89),
        slope=(0.0, 0.0),
        even_db=0.0,
        ratios=(1.0, 3.93, 9.24),
        body_peaks=(0, 0),
        body_hz=(500.0, 4000.0),
        lowpass_hz=(3000.0, 6000.0),
        decay=(1.0, 2.5),
        decay_slope=0.3,
        vibrato_prob=0.0,
        glide_prob=0.0,
        tremolo=((0.0, 0.5), (4.0, 7.0)),
    ),
    "celesta": dict(
        _PLUCKED,
        register=(60, 96),
        slope=(0.0, 0.0),
        even_db=0.0,
        ratios=(1.0, 2.76, 5.40, 8.93),
        body_peaks=(0, 0),
        body_hz=(500.0, 4000.0),
        lowpass_hz=(3000.0, 7000.0),
        decay=(0.4, 1.2),
        decay_slope=0.4,
        vibrato_prob=0.0,
        glide_prob=0.0,
    ),
}

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
    noise_shape: np.ndarray  # [len(v1.NOISE_FREQS)], unit RMS
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


def _draw(rng, value, integer=False):
    """A value of the table: a pair is a range to draw from."""
    if isinstance(value, tuple) and len(value) == 2 and not isinstance(value[0], tuple):
        if integer:
            return int(rng.integers(value[0], value[1] + 1))
        return float(rng.uniform(value[0], value[1]))
    return value


def draw_instrument(rng, name):
    """Draw the per-song settings of instrument ``name`` in ``INSTRUMENTS``."""
    if name not in INSTRUMENTS:
        raise ParameterError(
            f"Expected an instrument in {sorted(INSTRUMENTS)}. Received: name={name!r}"
        )
    spec = INSTRUMENTS[name]
    if spec["ratios"] is None:
        ratios = np.arange(1, v1.MAX_PARTIALS + 1, dtype=np.float64)
        weights = ratios ** -_draw(rng, spec["slope"])
        even = 10.0 ** (_draw(rng, spec["even_db"]) / 20.0)
        weights = np.where(ratios % 2 == 0, weights * even, weights)
        weights = weights * (1.0 + 0.1 * rng.standard_normal(len(weights))).clip(0.6)
    else:
        ratios = np.asarray(spec["ratios"], np.float64)
        weights = np.asarray(_PARTIAL_WEIGHTS_OF_BARS[: len(ratios)])
    n_peaks = _draw(rng, spec["body_peaks"], integer=True)
    lo, hi = spec["body_hz"]
    body_hz = np.sort(np.exp(rng.uniform(np.log(lo), np.log(hi), n_peaks)))
    q = rng.uniform(*spec["body_q"], n_peaks) if n_peaks else np.zeros(0)
    body_gain = rng.uniform(*spec["body_gain"], n_peaks) if n_peaks else np.zeros(0)
    noise_shape = _noise_shape(spec["noise"], body_hz, body_hz / np.maximum(q, 1e-3), body_gain)
    tremolo = spec["tremolo"]
    tremolo = (0.0, 0.0) if tremolo is None else (_draw(rng, tremolo[0]), _draw(rng, tremolo[1]))
    decay = spec["decay"]
    return Instrument(
        name=name,
        register=spec["register"],
        weights=weights,
        ratios=ratios,
        body_hz=body_hz,
        body_width=body_hz / np.maximum(q, 1e-3),
        body_gain=body_gain,
        lowpass_hz=_draw(rng, spec["lowpass_hz"]),
        lowpass_order=spec["lowpass_order"],
        brightness=_draw(rng, spec["brightness"]),
        decay=0.0 if decay is None else _draw(rng, decay),
        decay_slope=spec["decay_slope"],
        noise_shape=noise_shape,
        noise_db=_draw(rng, spec["noise_db"]),
        attack_noise_db=_draw(rng, spec["attack_noise_db"]),
        attack=spec["attack"],
        release=_draw(rng, spec["release"]),
        legato=spec["legato"],
        dip=spec["dip"],
        vibrato_prob=spec["vibrato_prob"],
        vib_depth=spec["vib_depth"],
        vib_rate=spec["vib_rate"],
        glide_prob=spec["glide_prob"],
        glide_time=spec["glide_time"],
        players=_draw(rng, spec["players"], integer=True),
        detune=_draw(rng, spec["detune"]),
        spread=_draw(rng, spec["spread"]),
        tremolo=tremolo,
    )


def _noise_shape(kind, body_hz, body_width, body_gain):
    """Unit-RMS amplitude spectrum of an instrument's own noise."""
    f = v1.NOISE_FREQS
    if kind == "bow":
        shape = v1._peaks_response(f, body_hz, body_width, body_gain) * (f / (f + 1500.0))
    elif kind == "breath":
        shape = (f / (f + 1200.0)) * v1._lowpass(f, 7000.0, 2)
    else:
        shape = v1._lowpass(f, 6000.0, 1)
    return v1._unit_rms(shape)


def body_response(inst, freqs):
    """Fixed spectral envelope of ``inst`` at ``freqs`` (Hz), same shape."""
    return v1._peaks_response(freqs, inst.body_hz, inst.body_width, inst.body_gain) * v1._lowpass(
        freqs, inst.lowpass_hz, inst.lowpass_order
    )


def plan_line(rng, onset, duration, midi, inst):
    """Expression of a line of notes for ``inst`` (``v1._Notes``)."""
    n = len(onset)
    vibrato = (rng.random() < inst.vibrato_prob) & (np.asarray(duration) > 0.2)
    glide = np.where(rng.random(n) < inst.glide_prob, rng.uniform(*inst.glide_time, n), 0.004)
    return v1._make_notes(
        rng, onset, duration, midi, np.full(n, vibrato), inst.vib_rate, inst.vib_depth, glide, 1.5
    )


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


def render_line(rng, notes, inst):
    """Render a line of notes (onsets from its start) played by ``inst``.

    Args:
        rng: random generator.
        notes: ``v1._Notes``.
        inst: ``Instrument``.

    Returns:
        float32 samples from the line's start to the end of its last note's
        release. [shape=(samples,)]
    """
    end = notes.end + inst.release
    n_ctrl = v1._num_controls(end)
    t = v1._control_times(n_ctrl)
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
    env = dip[idx] + (1.0 - dip[idx]) * v1._smoothstep(since / attack[idx])
    held = notes.duration[idx] * legato[idx]
    last = idx == n_notes - 1
    env *= np.where(
        (legato[idx] < 0.98) | last, v1._smoothstep((held + inst.release - since) / inst.release), 1.0
    )
    depth, rate = inst.tremolo
    if depth > 0.0:
        env *= 1.0 - depth * 0.5 * (1.0 + np.sin(2.0 * np.pi * rate * t))

    # Partials through the fixed body; louder notes brighter, plucks decaying.
    f_ref = float(v1._midi_to_hz(np.median(notes.midi)))
    n_partials = _partial_count(inst, float(v1._midi_to_hz(np.min(notes.midi) - 1.0)))
    ratios = inst.ratios[:n_partials]
    weights = inst.weights[:n_partials]
    reference = weights * body_response(inst, f_ref * ratios)
    norm = max(float(np.sqrt(np.sum(reference * reference))), 1e-12)
    y = np.zeros((n_ctrl - 1) * v1.CONTROL_HOP, np.float32)
    for p in range(inst.players):
        take = notes if p == 0 else _player(rng, notes, inst)
        gain = 10.0 ** (take.gain_db[idx] / 20.0)
        level = np.maximum(v1._smooth(env * gain, 0.004), 0.0)
        cents = 0.0 if p == 0 else inst.detune * rng.standard_normal()
        midi = v1._pitch_contour(t, take) + cents / 100.0 + 0.03 * v1._smooth_noise(rng, n_ctrl, 0.3)
        f0 = v1._midi_to_hz(midi)
        freqs = f0[:, None] * ratios
        level_db = 20.0 * np.log10(np.maximum(level, 1e-3))
        amps = weights * body_response(inst, freqs) * v1._partial_taper(freqs)
        amps = amps * ratios ** (inst.brightness * level_db[:, None] / 10.0 / 6.0206)
        if inst.decay > 0.0:
            rates = (1.0 + inst.decay_slope * (ratios - 1.0)) / inst.decay
            amps = amps * np.exp(-since[:, None] * rates)
        amps = amps * (level / norm / np.sqrt(inst.players))[:, None]
        if inst.ratios.size and np.allclose(ratios, np.arange(1, len(ratios) + 1)):
            voice = v1._tone(rng, f0, amps)
        else:
            voice = sum(v1._tone(rng, f0 * r, amps[:, j : j + 1]) for j, r in enumerate(ratios))
        delay = int(rng.uniform(0.0, inst.spread) * v1.SAMPLE_RATE) if p else 0
        y[delay:] += voice[: len(y) - delay]

    # Noise with the instrument's shape: sustained, plus a burst at each attack.
    burst = np.exp(-since / (0.5 * attack[idx] + 0.02))
    noise_level = 10.0 ** (inst.noise_db / 20.0) * env
    noise_level = noise_level + 10.0 ** (inst.attack_noise_db / 20.0) * burst * env.max()
    return y + v1._shaped_noise(rng, noise_level[:, None] * inst.noise_shape[None, :])


def _partial_count(inst, min_f0):
    """Partials of ``inst`` that stay below ``v1.MAX_PARTIAL_HZ`` at ``min_f0``."""
    below = np.flatnonzero(inst.ratios * min_f0 < v1.MAX_PARTIAL_HZ)
    return max(1, len(below))
