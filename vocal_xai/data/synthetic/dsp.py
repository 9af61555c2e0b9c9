"""Signal primitives of the synthetic corpus: oscillators, responses, noise.

Expensive per-partial quantities (formant responses, envelopes) are computed
at a control rate of one point every ``CONTROL_HOP`` samples and interpolated
linearly; shaped noise is made by overlap-add of random spectra on the same
grid. Partials stay below ``MAX_PARTIAL_HZ``, so nothing aliases.
"""

import math

import numpy as np
import scipy.signal

from vocal_xai import spectral

SAMPLE_RATE = spectral.SAMPLE_RATE
CONTROL_HOP = 64
CONTROL_RATE = SAMPLE_RATE / CONTROL_HOP
MAX_PARTIAL_HZ = 10000.0
PARTIAL_TAPER_HZ = 8500.0
MAX_PARTIALS = 110

NOISE_FFT = 4 * CONTROL_HOP
NOISE_FREQS = np.fft.rfftfreq(NOISE_FFT, 1.0 / SAMPLE_RATE)


def midi_to_hz(midi):
    return 440.0 * 2.0 ** ((np.asarray(midi, np.float64) - 69.0) / 12.0)


def numpy_vector_kind():
    """``"avx512"`` where numpy computes float64 exp, log and sin with its own
    AVX-512 code, else ``"baseline"`` (the C library's). The two round some
    results differently: synthesis is exact on every machine of one kind,
    and its float samples may differ in their last bits across kinds, far
    below the 16-bit step of the corpus's files."""
    from numpy.core._multiarray_umath import __cpu_features__

    found = __cpu_features__.get("AVX512F") and __cpu_features__.get("AVX512_SKX")
    return "avx512" if found else "baseline"


def smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def control_times(n_ctrl):
    """Time in seconds of each control point. [shape=(n_ctrl,)]"""
    return np.arange(n_ctrl) / CONTROL_RATE


def num_controls(seconds):
    """Control points needed to cover ``seconds`` (at least two)."""
    return max(2, int(math.ceil(seconds * CONTROL_RATE)) + 1)


def smooth(x, seconds):
    """Zero-phase one-pole smoothing along axis 0 at the control rate."""
    p = math.exp(-1.0 / max(seconds * CONTROL_RATE, 1e-6))
    b, a = [1.0 - p], [1.0, -p]
    y, _ = scipy.signal.lfilter(b, a, x, axis=0, zi=p * x[:1])
    y = y[::-1]
    y, _ = scipy.signal.lfilter(b, a, y, axis=0, zi=p * y[:1])
    return y[::-1]


def smooth_noise(rng, n, seconds):
    """Slowly varying noise with unit std. [shape=(n,)]"""
    x = smooth(rng.standard_normal(n), seconds)
    return x / max(float(np.std(x)), 1e-9)


def partial_taper(freqs):
    """Weight that fades partials out between PARTIAL_TAPER_HZ and MAX_PARTIAL_HZ."""
    return smoothstep((MAX_PARTIAL_HZ - freqs) / (MAX_PARTIAL_HZ - PARTIAL_TAPER_HZ))


def num_partials(min_f0):
    """Harmonics of ``min_f0`` (Hz) below ``MAX_PARTIAL_HZ``, at most ``MAX_PARTIALS``."""
    return int(max(1, min(MAX_PARTIALS, math.floor(MAX_PARTIAL_HZ / max(min_f0, 1.0)))))


def resonator_gain(freqs, centres, bandwidths):
    """Magnitude response of a cascade of two-pole resonators.

    ``|H(f)| = prod_i F_i^2 / sqrt((F_i^2 - f^2)^2 + (B_i f)^2)``, unit gain at
    0 Hz and a peak of about ``F_i / B_i`` at each centre.

    Args:
        freqs: frequencies, Hz. [shape=(..., K)]
        centres: resonance frequencies F_i, Hz. [shape=(..., R)], broadcastable
            against ``freqs`` once both gain their last axis.
        bandwidths: bandwidths B_i, Hz. [shape=(..., R)]

    Returns:
        Linear gains. [shape=(..., K)]
    """
    f = np.asarray(freqs, np.float64)[..., None]
    c2 = np.square(np.asarray(centres, np.float64))[..., None, :]
    b = np.asarray(bandwidths, np.float64)[..., None, :]
    terms = c2 / np.sqrt(np.square(c2 - f * f) + np.square(b * f))
    return np.prod(terms, axis=-1)


def peaks_response(freqs, centres, widths, gains):
    """Static response: flat floor plus Lorentzian peaks. [shape=freqs.shape]"""
    f = np.asarray(freqs, np.float64)[..., None]
    return 1.0 + np.sum(gains / (1.0 + np.square((f - centres) / (0.5 * widths))), axis=-1)


def lowpass(freqs, cutoff, order):
    """Magnitude response of a Butterworth-like low-pass at ``freqs`` (Hz)."""
    return 1.0 / np.sqrt(1.0 + (np.asarray(freqs, np.float64) / cutoff) ** (2.0 * order))


def unit_rms(shape):
    return shape / max(float(np.sqrt(np.mean(np.square(shape)))), 1e-12)


def rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def _phase(rng, f0_ctrl, jitter=0.0):
    """Per-sample phase of the fundamental from control-rate f0.

    Args:
        rng: random generator.
        f0_ctrl: fundamental at each control point, Hz. [shape=(n_ctrl,)]
        jitter: relative std of a per-period f0 perturbation (0 for none).

    Returns:
        ``(phase, cycles)``: float32 phase in [0, 2 pi) and float64 running
        period count. [shape=((n_ctrl - 1) * CONTROL_HOP,)] each.
    """
    ramp = np.arange(CONTROL_HOP) / CONTROL_HOP
    f0 = (f0_ctrl[:-1, None] + np.diff(f0_ctrl)[:, None] * ramp).ravel()
    if jitter > 0.0:
        cycles = np.cumsum(f0) / SAMPLE_RATE
        perturbation = 1.0 + jitter * rng.standard_normal(int(cycles[-1]) + 2)
        f0 = f0 * perturbation[cycles.astype(np.int64)]
    start = rng.uniform(0.0, 1.0)
    cycles = start + np.cumsum(f0) / SAMPLE_RATE
    phase = (2.0 * np.pi * (cycles - np.floor(cycles))).astype(np.float32)
    return phase, cycles


def _partials(phase, amps):
    """Sum of harmonic partials with control-rate amplitudes.

    Args:
        phase: float32 phase of the fundamental, rad.
            [shape=((n_ctrl - 1) * CONTROL_HOP,)]
        amps: amplitude of partial ``k + 1`` at each control point, interpolated
            linearly in between. [shape=(n_ctrl, K)]

    Returns:
        float32 samples. [shape=((n_ctrl - 1) * CONTROL_HOP,)]
    """
    amps = np.asarray(amps, np.float32)
    n_blocks, n_partials = amps.shape[0] - 1, amps.shape[1]
    harmonics = np.arange(1, n_partials + 1, dtype=np.float32)
    ramp = np.arange(CONTROL_HOP, dtype=np.float32) / CONTROL_HOP
    out = np.empty(n_blocks * CONTROL_HOP, np.float32)
    chunk = max(1, 4096 // n_partials)
    # Process blocks of control intervals so the [blocks, hop, K] sines fit in cache.
    for b0 in range(0, n_blocks, chunk):
        b1 = min(n_blocks, b0 + chunk)
        ph = phase[b0 * CONTROL_HOP : b1 * CONTROL_HOP].reshape(b1 - b0, CONTROL_HOP)
        sines = np.sin(ph[:, :, None] * harmonics)
        a0 = amps[b0:b1]
        slope = amps[b0 + 1 : b1 + 1] - a0
        y = np.einsum("bhk,bk->bh", sines, a0) + ramp * np.einsum("bhk,bk->bh", sines, slope)
        out[b0 * CONTROL_HOP : b1 * CONTROL_HOP] = y.ravel()
    return out


def tone(rng, f0_ctrl, amps, jitter=0.0, shimmer_db=0.0):
    """Harmonic tone from control-rate f0 and partial amplitudes.

    Args:
        rng: random generator.
        f0_ctrl: Hz. [shape=(n_ctrl,)]
        amps: partial amplitudes. [shape=(n_ctrl, K)]
        jitter: relative per-period f0 std.
        shimmer_db: per-period amplitude std, dB.

    Returns:
        float32 samples. [shape=((n_ctrl - 1) * CONTROL_HOP,)]
    """
    phase, cycles = _phase(rng, f0_ctrl, jitter)
    # Drop the top partials that stay 60 dB below the strongest one.
    peak = np.max(np.abs(amps), axis=0)
    audible = np.flatnonzero(peak > 1e-3 * max(float(peak.max()), 1e-30))
    y = _partials(phase, amps[:, : (audible[-1] + 1 if len(audible) else 1)])
    if shimmer_db > 0.0:
        # Interpolate per-period gains along the running period count.
        gains = 10.0 ** (shimmer_db * rng.standard_normal(int(cycles[-1]) + 2) / 20.0)
        y *= np.interp(cycles, np.arange(len(gains)), gains).astype(np.float32)
    return y


def shaped_noise(rng, mask):
    """Noise with a time-varying amplitude spectrum, by overlap-add.

    Args:
        rng: random generator.
        mask: amplitude per frame and frequency bin ``NOISE_FREQS``; frame
            ``f`` is centred on sample ``f * CONTROL_HOP``. A unit-RMS shape
            gives a noise of unit RMS. [shape=(n_ctrl, NOISE_FFT // 2 + 1)]

    Returns:
        float32 samples. [shape=((n_ctrl - 1) * CONTROL_HOP,)]
    """
    n_frames, n_bins = mask.shape
    spec = rng.standard_normal((n_frames, n_bins)) + 1j * rng.standard_normal((n_frames, n_bins))
    scale = math.sqrt(NOISE_FFT / 1.5 / 2.0)
    window = scipy.signal.get_window("hann", NOISE_FFT)
    frames = np.fft.irfft(spec * mask, n=NOISE_FFT, axis=-1) * (window * scale)
    quarters = frames.reshape(n_frames, 4, CONTROL_HOP)
    blocks = np.zeros((n_frames + 3, CONTROL_HOP))
    # Overlap-add: frame f covers blocks f .. f + 3; centre it on its control point.
    for q in range(4):
        blocks[q : q + n_frames] += quarters[:, q]
    return blocks[2 : n_frames + 1].ravel().astype(np.float32)


def filtered_noise(rng, n, response):
    """White noise of ``n`` samples shaped by ``response(freqs_hz)``, unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n)) * response(np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE))
    y = np.fft.irfft(spec, n=n)
    return y / max(float(np.sqrt(np.mean(y * y))), 1e-12)


def add_at(buffer, start, signal):
    """Add ``signal`` into ``buffer`` from sample ``start``, truncated at its end."""
    stop = min(len(buffer), start + len(signal))
    if stop > start:
        buffer[start:stop] += signal[: stop - start]
