"""Whole-mix effects of the synthetic corpus: room reverberation and mastering.

Each effect is linear in its input for fixed parameters (the compressor's gain
is computed from the mix, then applied to every stem alike), so a stem
processed alone is exactly its share of the processed mix. ``master`` chains
them, with settings drawn per song.
"""

import dataclasses

import numpy as np
import scipy.signal

from vocal_xai import spectral
from vocal_xai.data.synthetic import dsp

SAMPLE_RATE = spectral.SAMPLE_RATE


def room_impulse(rng, rt60, predelay, damping_hz):
    """A synthetic room impulse response, normalised to unit energy.

    Exponentially decaying Gaussian noise (-60 dB after ``rt60`` seconds),
    whose high frequencies decay faster (a one-pole low-pass whose cut-off
    falls from 12 kHz to ``damping_hz`` along the tail), after a few early
    reflections and a pre-delay.

    Args:
        rng: random generator.
        rt60: reverberation time, s (> 0).
        predelay: s before the first reflection (>= 0).
        damping_hz: cut-off of the late tail, Hz.

    Returns:
        float64 impulse response. [shape=(samples,)]
    """
    n = int((predelay + 1.2 * rt60) * SAMPLE_RATE) + 1
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60)
    # Split the tail in two bands; the upper band decays twice as fast.
    b, a = scipy.signal.butter(1, min(damping_hz, 0.45 * SAMPLE_RATE), fs=SAMPLE_RATE)
    low = scipy.signal.lfilter(b, a, tail)
    high = (tail - low) * np.exp(-6.9078 * t / rt60)
    ir = low + high
    ir[: int(predelay * SAMPLE_RATE)] = 0.0
    # Early reflections: a handful of attenuated taps in the first 50 ms.
    for delay in rng.uniform(0.004, 0.05, int(rng.integers(3, 7))):
        i = int((predelay + delay) * SAMPLE_RATE)
        if i < n:
            ir[i] += (
                rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 1.0) * np.sqrt(np.sum(ir * ir) / 50.0)
            )
    return ir / max(float(np.sqrt(np.sum(ir * ir))), 1e-12)


def reverberate(x, ir, wet):
    """Dry/wet mix of ``x`` with its convolution by ``ir``, same length as ``x``.

    Args:
        x: samples. [shape=(n,)]
        ir: impulse response of unit energy. [shape=(m,)]
        wet: share of the reverberant signal, 0..1.
    """
    wet_signal = scipy.signal.oaconvolve(x, ir)[: len(x)]
    return (1.0 - wet) * x + wet * wet_signal


def tilt(x, db_per_octave, pivot_hz=1000.0):
    """Zero-phase spectral tilt around ``pivot_hz`` (mastering EQ).

    The gain is ``db_per_octave * log2(f / pivot_hz)`` dB, held constant below
    50 Hz and above 10 kHz.
    """
    n = len(x)
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    octaves = np.log2(np.clip(freqs, 50.0, 10000.0) / pivot_hz)
    return np.fft.irfft(np.fft.rfft(x) * 10.0 ** (db_per_octave * octaves / 20.0), n=n)


def high_shelf(x, gain_db, corner_hz, width_octaves=1.0):
    """Zero-phase high shelf (a mixing engineer's presence and air EQ).

    The gain rises smoothly from 0 dB at ``width_octaves / 2`` below
    ``corner_hz`` to ``gain_db`` the same distance above it.
    """
    n = len(x)
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    octaves = np.log2(np.maximum(freqs, 1.0) / corner_hz) / width_octaves + 0.5
    gain_db = gain_db * dsp.smoothstep(octaves)
    return np.fft.irfft(np.fft.rfft(x) * 10.0 ** (gain_db / 20.0), n=n)


def compressor_gain(x, threshold_db, ratio, attack=0.01, release=0.15, window=0.02):
    """Gain of a feed-forward RMS compressor, per sample.

    Args:
        x: the signal that drives the compressor. [shape=(n,)]
        threshold_db: level above which the gain falls, dB re full scale RMS.
        ratio: compression ratio (>= 1).
        attack, release: time constants of the gain, s.
        window: RMS window, s.

    Returns:
        float64 gains in (0, 1], to multiply every stem by. [shape=(n,)]
    """
    hop = 64
    n = len(x)
    frames = int(np.ceil(n / hop))
    padded = np.zeros(frames * hop)
    padded[:n] = np.asarray(x, np.float64) ** 2
    power = padded.reshape(frames, hop).mean(axis=1)
    width = max(1, int(window * SAMPLE_RATE / hop))
    power = np.convolve(power, np.ones(width) / width, mode="same")
    level_db = 10.0 * np.log10(np.maximum(power, 1e-12))
    target_db = -np.maximum(level_db - threshold_db, 0.0) * (1.0 - 1.0 / ratio)
    # Smooth the gain: fast when it falls (attack), slow when it rises (release).
    frame_rate = SAMPLE_RATE / hop
    a_att = np.exp(-1.0 / (attack * frame_rate))
    a_rel = np.exp(-1.0 / (release * frame_rate))
    gain_db = np.empty(frames)
    g = 0.0
    for i, target in enumerate(target_db):
        coef = a_att if target < g else a_rel
        g = coef * g + (1.0 - coef) * target
        gain_db[i] = g
    gain = 10.0 ** (gain_db / 20.0)
    return np.interp(np.arange(n), np.arange(frames) * hop + hop / 2, gain)


@dataclasses.dataclass(frozen=True)
class Mastering:
    """Ranges that ``master`` draws a song's settings from.

    ``rt60`` (s) and ``wet`` (0..1) of the room, the tilt's ``slope``
    (dB/octave), the compressor's ``threshold`` (dB re the mix's RMS) and
    ``ratio``; each a ``(low, high)`` pair drawn uniformly.
    """

    rt60: tuple = (0.3, 2.5)
    wet: tuple = (0.1, 0.45)
    slope: tuple = (-3.0, 2.0)
    threshold: tuple = (-6.0, 0.0)
    ratio: tuple = (2.0, 6.0)


def master(rng, accompaniment, vocal, gate, ranges=Mastering()):
    """Reverberation, spectral tilt and compression of the whole mix.

    Every step is applied to both stems alike; the vocal stem is gated again
    afterwards so that it stays inside its sing segments.

    Args:
        rng: random generator.
        accompaniment, vocal: the two stems. [shape=(n,)] each
        gate: the vocal stem's gate (``song.vocal_gate``). [shape=(n,)]
        ranges: the ``Mastering`` ranges to draw from; the same draws are
            taken whatever the ranges.

    Returns:
        ``(accompaniment, vocal)``, mastered.
    """
    if rng.random() < 0.85:
        ir = room_impulse(
            rng,
            rt60=rng.uniform(*ranges.rt60),
            predelay=rng.uniform(0.0, 0.03),
            damping_hz=rng.uniform(2000.0, 7000.0),
        )
        wet = rng.uniform(*ranges.wet)
        accompaniment = reverberate(accompaniment, ir, wet)
        vocal = reverberate(vocal, ir, min(wet * rng.uniform(0.7, 1.2), 1.0))
    if rng.random() < 0.8:
        slope = rng.uniform(*ranges.slope)
        accompaniment = tilt(accompaniment, slope)
        vocal = tilt(vocal, slope)
    vocal = vocal * gate
    if rng.random() < 0.8:
        mix = accompaniment + vocal
        threshold = 20.0 * np.log10(max(dsp.rms(mix), 1e-9)) + rng.uniform(*ranges.threshold)
        gain = compressor_gain(mix, threshold, ratio=rng.uniform(*ranges.ratio))
        accompaniment = accompaniment * gain
        vocal = vocal * gain
    return accompaniment, vocal
