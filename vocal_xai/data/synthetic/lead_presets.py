"""Version 1's non-vocal lead instruments, as pure data.

``LEADS`` maps a kind to its settings (values as ``tables`` describes them).
Drawn once per song, in this order:

* ``slope``: partial ``k`` has weight ``k ** -slope``;
* ``even_cut_db``: the even partials are that many dB weaker (infinity
  leaves odd partials only);
* ``partial_jitter``: relative std of each partial's weight (0 for none),
  floored at ``partial_floor`` times its weight;
* ``body_hz``: a ``(low, high)`` range per fixed body resonance (sorted once
  drawn), with ``body_width`` relative to its frequency and ``body_gain``
  (linear) drawn per resonance;
* ``lowpass_hz``, ``lowpass_order``: the overall roll-off;
* ``resonance``: None, or a single peak that follows the low-pass (a
  resonant filter) at ``at`` times the cut-off, ``width`` times its frequency
  wide, of a gain drawn from ``gain``;
* ``noise_db``, ``attack_noise_db``: sustained and attack noise, dB re the
  tone;
* ``release``: s;
* ``unison_cents``: detuning of a quieter second voice (0 for none).

The others are fixed: ``noise`` (the noise's spectral shape: through the
body or not, a first-order high-pass at ``highpass_hz``, a low-pass
``(cut-off Hz, order)``), and the ranges each note draws from: ``attack``
(s), ``legato`` (share of the note held), ``dip`` (level a legato note starts
from), ``vib_depth`` (peak-to-peak cents), ``vib_rate`` (Hz), with
``vibrato_prob`` per phrase and ``glide_prob`` per note.
"""

import math

from vocal_xai.data.synthetic.tables import Chance, OneOf

LEADS = {
    # Bowed-string-like: uneven sawtooth partials through four body
    # resonances, bow noise shaped by the body.
    "bowed": dict(
        slope=(0.9, 1.2),
        even_cut_db=0.0,
        partial_jitter=0.15,
        partial_floor=0.5,
        body_hz=((250.0, 450.0), (450.0, 900.0), (900.0, 1800.0), (2000.0, 3500.0)),
        body_width=(0.15, 0.4),
        body_gain=(1.0, 6.0),
        lowpass_hz=(4000.0, 7000.0),
        lowpass_order=2.0,
        resonance=None,
        noise=dict(through_body=True, highpass_hz=1500.0, lowpass=None),
        noise_db=(-32.0, -24.0),
        attack_noise_db=(-14.0, -6.0),
        release=(0.06, 0.15),
        unison_cents=0.0,
        attack=(0.04, 0.12),
        legato=(0.95, 1.0),
        dip=(0.4, 0.8),
        vibrato_prob=0.75,
        vib_depth=(10.0, 40.0),
        vib_rate=(5.0, 7.0),
        glide_prob=0.15,
    ),
    # Reed-like: weak even partials, two body resonances, breath noise.
    "reed": dict(
        slope=(0.9, 1.3),
        even_cut_db=(8.0, 18.0),
        partial_jitter=0.0,
        partial_floor=0.0,
        body_hz=((800.0, 1600.0), (1800.0, 3200.0)),
        body_width=(0.2, 0.5),
        body_gain=(1.0, 4.0),
        lowpass_hz=(2500.0, 5000.0),
        lowpass_order=2.0,
        resonance=None,
        noise=dict(through_body=False, highpass_hz=2500.0, lowpass=(8000.0, 2)),
        noise_db=(-34.0, -24.0),
        attack_noise_db=(-18.0, -10.0),
        release=(0.04, 0.1),
        unison_cents=0.0,
        attack=(0.02, 0.06),
        legato=(0.85, 1.0),
        dip=(0.2, 0.5),
        vibrato_prob=0.35,
        vib_depth=(10.0, 25.0),
        vib_rate=(4.5, 6.0),
        glide_prob=0.1,
    ),
    # Synthesiser: a square or sawtooth wave through a resonant low-pass,
    # sometimes a click at attacks and a detuned second voice.
    "synth": dict(
        slope=1.0,
        even_cut_db=Chance(0.5, math.inf, 0.0),
        partial_jitter=0.0,
        partial_floor=0.0,
        body_hz=(),
        body_width=None,
        body_gain=None,
        lowpass_hz=(1200.0, 5000.0),
        lowpass_order=OneOf((2.0, 3.0, 4.0)),
        resonance=dict(at=0.9, width=0.3, gain=(0.0, 2.0)),
        noise=dict(through_body=False, highpass_hz=None, lowpass=(6000.0, 1)),
        noise_db=-80.0,
        attack_noise_db=Chance(0.5, (-30.0, -14.0), -80.0),
        release=(0.03, 0.2),
        unison_cents=Chance(0.5, (4.0, 12.0), 0.0),
        attack=(0.005, 0.03),
        legato=(0.7, 1.0),
        dip=(0.3, 0.9),
        vibrato_prob=0.5,
        vib_depth=(15.0, 60.0),
        vib_rate=(4.5, 7.0),
        glide_prob=0.5,
    ),
}
