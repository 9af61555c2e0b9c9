"""Version 1's non-vocal melodic leads: static spectral envelopes.

Bowed-string-like, reed-like and synthesiser leads (``lead_presets.LEADS``)
in the singer's pitch range, some with vibrato, glides and attack noise, but
with a spectral envelope that stays put: no moving formants.
"""

import dataclasses

import numpy as np

from vocal_xai.data.synthetic import dsp, music, tables
from vocal_xai.data.synthetic.lead_presets import LEADS
from vocal_xai.errors import ParameterError

LEAD_KINDS = tuple(LEADS)


@dataclasses.dataclass(frozen=True)
class Lead:
    """One lead instrument as drawn for a song (see ``LEADS``)."""

    kind: str
    weights: np.ndarray  # harmonic weights [MAX_PARTIALS]
    peak_hz: np.ndarray  # fixed body resonances
    peak_width: np.ndarray
    peak_gain: np.ndarray
    lowpass_hz: float
    lowpass_order: float
    noise_shape: np.ndarray  # [len(dsp.NOISE_FREQS)], unit RMS
    noise_db: float  # sustained noise re the tone
    attack_noise_db: float  # extra noise at note attacks
    attack: tuple
    release: float
    legato: tuple
    dip: tuple
    vibrato_prob: float
    vib_depth: tuple
    vib_rate: tuple
    glide_prob: float
    unison_cents: float


def draw_lead(rng, kind):
    """Draw the per-song settings of lead ``kind`` in ``LEAD_KINDS``."""
    if kind not in LEADS:
        raise ParameterError(f"Expected kind in {LEAD_KINDS}. Received: kind={kind!r}")
    spec = LEADS[kind]
    k = np.arange(1, dsp.MAX_PARTIALS + 1, dtype=np.float64)

    # Harmonic weights: a slope, weaker even partials, uneven partials.
    weights = k ** -tables.draw(rng, spec["slope"])
    even = 10.0 ** (-tables.draw(rng, spec["even_cut_db"]) / 20.0)
    weights = weights * np.where(k % 2 == 1, 1.0, even)
    if spec["partial_jitter"] > 0.0:
        jitter = 1.0 + spec["partial_jitter"] * rng.standard_normal(dsp.MAX_PARTIALS)
        weights = weights * jitter.clip(spec["partial_floor"])

    # Fixed body resonances, the low-pass, and a resonance that follows it.
    peak_hz = peak_width = peak_gain = np.zeros(0)
    n_peaks = len(spec["body_hz"])
    if n_peaks:
        lows, highs = zip(*spec["body_hz"])
        peak_hz = np.sort(rng.uniform(lows, highs))
        peak_width = peak_hz * rng.uniform(*spec["body_width"], n_peaks)
        peak_gain = rng.uniform(*spec["body_gain"], n_peaks)
    lowpass_hz = tables.draw(rng, spec["lowpass_hz"])
    lowpass_order = tables.draw(rng, spec["lowpass_order"])
    resonance = spec["resonance"]
    if resonance is not None:
        peak_hz = np.array([lowpass_hz * resonance["at"]])
        peak_width = peak_hz * resonance["width"]
        peak_gain = rng.uniform(*resonance["gain"], 1)

    # The noise's spectral shape.
    noise = spec["noise"]
    f = dsp.NOISE_FREQS
    shape = np.ones_like(f)
    if noise["through_body"]:
        shape = shape * dsp.peaks_response(f, peak_hz, peak_width, peak_gain)
    if noise["highpass_hz"]:
        shape = shape * (f / (f + noise["highpass_hz"]))
    if noise["lowpass"]:
        shape = shape * dsp.lowpass(f, *noise["lowpass"])

    return Lead(
        kind=kind,
        weights=weights,
        peak_hz=peak_hz,
        peak_width=peak_width,
        peak_gain=peak_gain,
        lowpass_hz=lowpass_hz,
        lowpass_order=lowpass_order,
        noise_shape=dsp.unit_rms(shape),
        **draw_expression(rng, spec),
        unison_cents=tables.draw(rng, spec["unison_cents"]),
    )


def draw_expression(rng, spec):
    """The noise, envelope, vibrato and glide settings that leads and
    instruments share, from a table entry, drawn in this order."""
    return {
        "noise_db": tables.draw(rng, spec["noise_db"]),
        "attack_noise_db": tables.draw(rng, spec["attack_noise_db"]),
        "attack": spec["attack"],
        "release": tables.draw(rng, spec["release"]),
        "legato": spec["legato"],
        "dip": spec["dip"],
        "vibrato_prob": spec["vibrato_prob"],
        "vib_depth": spec["vib_depth"],
        "vib_rate": spec["vib_rate"],
        "glide_prob": spec["glide_prob"],
    }


def lead_response(lead, freqs):
    """Static spectral envelope of a lead instrument at ``freqs`` (Hz)."""
    return dsp.peaks_response(freqs, lead.peak_hz, lead.peak_width, lead.peak_gain) * dsp.lowpass(
        freqs, lead.lowpass_hz, lead.lowpass_order
    )


def plan_notes(rng, onset, duration, midi, source, glide_time):
    """Expression of a line of notes (``music.Notes``) for a lead or an
    instrument ``source`` (its ``draw_expression`` settings): vibrato for the
    whole line or none, a glide of ``glide_time`` (s) into some notes."""
    n = len(onset)
    vibrato = (rng.random() < source.vibrato_prob) & (np.asarray(duration) > 0.2)
    glide = np.where(rng.random(n) < source.glide_prob, rng.uniform(*glide_time, n), 0.004)
    return music.make_notes(
        rng,
        onset,
        duration,
        midi,
        np.full(n, vibrato),
        source.vib_rate,
        source.vib_depth,
        glide,
        1.5,
    )


def plan_lead_phrase(rng, onset, duration, midi, lead):
    """Expression for a lead phrase (``music.Notes``)."""
    return plan_notes(rng, onset, duration, midi, lead, (0.03, 0.12))


def render_lead_phrase(rng, notes, lead):
    """Render a lead phrase with a static spectral envelope.

    Args:
        rng: random generator.
        notes: ``music.Notes``; onsets from the phrase start, s.
        lead: ``Lead``.

    Returns:
        float32 samples from the phrase start to its end. [shape=(samples,)]
    """
    end = notes.end
    n_ctrl = dsp.num_controls(end)
    t = dsp.control_times(n_ctrl)
    n_notes = len(notes.onset)
    idx = np.clip(np.searchsorted(notes.onset, t, side="right") - 1, 0, n_notes - 1)
    since = t - notes.onset[idx]
    f0 = dsp.midi_to_hz(music.pitch_contour(t, notes) + 0.03 * dsp.smooth_noise(rng, n_ctrl, 0.3))

    # Envelope: attacks from a dip, optional detached notes, phrase release.
    attack = rng.uniform(lead.attack[0], lead.attack[1], n_notes)
    dip = rng.uniform(lead.dip[0], lead.dip[1], n_notes)
    legato = rng.uniform(lead.legato[0], lead.legato[1], n_notes)
    # Notes after a detached note, and the first one, start from silence.
    dip[1:] = np.where(legato[:-1] < 0.98, 0.0, dip[1:])
    dip[0] = 0.0
    env = dip[idx] + (1.0 - dip[idx]) * dsp.smoothstep(since / attack[idx])
    off = notes.duration[idx] * legato[idx]
    env *= np.where(
        legato[idx] < 0.98, dsp.smoothstep((off + lead.release - since) / lead.release), 1.0
    )
    phrase_release = dsp.smoothstep((end - t) / lead.release)
    gain = 10.0 ** (notes.gain_db[idx] / 20.0)
    env = np.maximum(dsp.smooth(env * phrase_release * gain, 0.004), 0.0)

    n_partials = dsp.num_partials(float(f0.min()))
    k = np.arange(1, n_partials + 1, dtype=np.float64)
    reference = lead.weights[:n_partials] * lead_response(lead, float(np.median(f0)) * k)
    norm = max(float(np.sqrt(np.sum(reference * reference))), 1e-12)
    # A quieter detuned copy thickens some synth leads without deep beating.
    voices = [(0.0, 1.0)] if lead.unison_cents == 0.0 else [(0.0, 1.0), (lead.unison_cents, 0.35)]
    y = 0.0
    for cents, level in voices:
        f = f0 * 2.0 ** (cents / 1200.0)
        freqs = f[:, None] * k
        amps = lead.weights[:n_partials] * lead_response(lead, freqs) * dsp.partial_taper(freqs)
        y = y + dsp.tone(rng, f, amps * (level * env / norm)[:, None])

    # Noise with a fixed spectral shape: sustained plus a burst at each attack.
    burst = np.exp(-np.clip(since, 0.0, None) / (0.5 * attack[idx] + 0.02)) * (since >= 0)
    level = 10.0 ** (lead.noise_db / 20.0) * env
    level += 10.0 ** (lead.attack_noise_db / 20.0) * burst * gain * phrase_release
    return y + dsp.shaped_noise(rng, level[:, None] * lead.noise_shape[None, :])
