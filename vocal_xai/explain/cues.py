"""Pitch and timbre cues of excerpts: what an explanation shares with audio.

``measures`` judges explanations by the two cues only the synthetic singer
carries (formant motion, syllabic modulation). To ask *which* cues make a
detector call some audio vocal, one needs the cues a melodic line carries
whether or not it is a voice, measured the same way on generated log-mel
excerpts (which have no waveform) and on real audio:

* **Pitch motion.** ``pitch_shift_track`` follows the strong spectral peaks
  (resolved partials) of a raw log-mel excerpt from frame to frame, reading
  each peak's frequency from the magnitudes of neighbouring mel bands, and
  sums the median change in cents into a track. It needs no f0 and works on
  the detector's own input, so generated examples (which have no waveform)
  and real audio are measured alike. ``f0_track`` is the waveform
  counterpart (``librosa.pyin``), aligned with the log-mel frames. Both give
  a pitch track in cents.
* **Vibrato and glides** of a track: ``vibrato`` takes the slow melody out
  with a running median (which keeps note steps), then reads the rate (Hz),
  the peak-to-peak depth (cents) and the strength (share of the residual's
  power near the peak) from the residual's spectrum; ``glide_rate`` is the
  median speed of the vibrato-free track (cents/s) where it moves.
* **Timbre** of a raw log-mel excerpt: spectral centroid (Hz), spectral
  tilt (dB/octave), the number of strong spectral peaks per frame, onset
  strength (positive spectral flux, dB per frame), how fast sound dies away
  (a room's reverberation slows it) and the level of the band above 4 kHz
  relative to the whole (dB).

Log-mel excerpts are raw: natural log of mel magnitude, floored at
log(1e-7), ``[N, frames, 80]`` (usually ``frames = 115``), 70 frames/s.
Depths follow ``vocal_xai.data.synthetic``: peak-to-peak, in cents.
"""

import math

import numpy as np
import scipy.ndimage

from vocal_xai import spectral
from vocal_xai.errors import ParameterError, check_finite
from vocal_xai.metrics.measures import mel_centre_frequencies

NATS_TO_DB = 20.0 / math.log(10.0)  # log-mel holds ln(magnitude)
PITCH_BAND = (150.0, 4000.0)  # Hz, where harmonics are resolved by the mel bands
FLOOR_DB = 40.0  # peaks count within this range below a frame's maximum
MAX_STEP_CENTS = 60.0  # largest pitch change followed between two frames
VIBRATO_RATES = (3.5, 9.0)  # Hz
MEDIAN_SECONDS = 0.36  # running median that removes vibrato but keeps note steps
MIN_VOICED = 0.6  # share of usable frames a track needs for vibrato and glides
GLIDE_SPEEDS = (150.0, 2500.0)  # cents/s counted as gliding


def _check_log_mel(log_mel, min_frames=3):
    x = np.asarray(log_mel, np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[-1] != spectral.NUM_MEL_BANDS or x.shape[1] < min_frames:
        raise ParameterError(
            f"Expected log_mel of shape [N, frames >= {min_frames}, {spectral.NUM_MEL_BANDS}] "
            f"or [frames, {spectral.NUM_MEL_BANDS}]. Received: log_mel.shape={np.shape(log_mel)}"
        )
    return check_finite(x, "log_mel")


def _check_track(track):
    x = np.asarray(track, np.float64)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[1] < 8:
        raise ParameterError(
            "Expected a pitch track of shape [N, frames >= 8] or [frames]. "
            f"Received: track.shape={np.shape(track)}"
        )
    return x


def _check_positive(**values):
    for name, value in values.items():
        if not (
            isinstance(value, (int, float, np.integer, np.floating))
            and math.isfinite(value)
            and value > 0
        ):
            raise ParameterError(f"Expected {name} > 0. Received: {name}={value!r}")


# ------------------------------------------------------------------ pitch


def _peak_positions(x, band, floor_db, prominence_db):
    """Strong spectral peaks of raw log-mel frames and their frequencies.

    A peak is a band above its lower and not below its upper neighbour,
    ``prominence_db`` above the lower of the two, within ``floor_db`` of the
    frame's maximum and inside ``band``. Its frequency is the centroid of the
    band centres of the peak and its neighbours weighted by linear
    magnitude: the triangular mel filters share a sinusoid between adjacent
    bands in proportion to its distance from their centres, so the centroid
    follows a partial within a band.

    Returns:
        ``(is_peak, freq, weight)``, each [shape=(N, frames, 78)] for bands
        1 .. 78: bool, Hz, and the power of the peak's three bands.
    """
    centres = mel_centre_frequencies()
    magnitude = np.exp(x - x.max(axis=-1, keepdims=True))
    left, mid, right = magnitude[..., :-2], magnitude[..., 1:-1], magnitude[..., 2:]
    level = NATS_TO_DB * x[..., 1:-1]
    inside = (centres[1:-1] >= band[0]) & (centres[1:-1] <= band[1])
    is_peak = (
        (mid > left)
        & (mid >= right)
        & inside
        & (level >= NATS_TO_DB * x.max(axis=-1, keepdims=True) - floor_db)
        & (mid >= 10.0 ** (prominence_db / 20.0) * np.minimum(left, right))
    )
    total = left + mid + right
    freq = (left * centres[:-2] + mid * centres[1:-1] + right * centres[2:]) / total
    weight = left**2 + mid**2 + right**2
    return is_peak, freq, weight


def _weighted_median(values, weights):
    """Weighted median along the last axis, ignoring NaN values; NaN where
    every value is NaN."""
    missing = np.isnan(values)
    order = np.argsort(np.where(missing, np.inf, values), axis=-1)
    v = np.take_along_axis(values, order, axis=-1)
    w = np.take_along_axis(np.where(missing, 0.0, weights), order, axis=-1)
    cumulative = np.cumsum(w, axis=-1)
    half = 0.5 * cumulative[..., -1:]
    pick = np.argmax(cumulative >= half, axis=-1)[..., None]
    out = np.take_along_axis(v, pick, axis=-1)[..., 0]
    return np.where(cumulative[..., -1] > 0, out, np.nan)


def pitch_shift_track(
    log_mel, band=PITCH_BAND, max_step_cents=MAX_STEP_CENTS, floor_db=30.0, prominence_db=3.0
):
    """Relative pitch of raw log-mel excerpts from the motion of their partials.

    Harmonic peaks are found in every frame (their frequency read from the
    magnitudes of neighbouring mel bands, see ``_peak_positions``) and
    matched with peaks of the previous frame at most one band away. The
    magnitude-weighted median of their change in cents is the pitch change
    between the frames, and the running sum is the track. All partials of a
    harmonic sound move by the same number of cents, so the track follows
    vibrato and glides without an f0. Changes beyond ``max_step_cents``
    (note changes, noise) are not followed.

    Args:
        log_mel: raw log-mel. [shape=(N, frames, 80)] or [shape=(frames, 80)]
        band: (low, high) Hz searched for partials. Below about 150 Hz the
            mel bands are too narrow to share a partial between neighbours.
        max_step_cents: largest change between two frames, cents.
        floor_db: peaks count within this range below a frame's maximum.
        prominence_db: height of a peak above its lower neighbour.

    Returns:
        ``(track, confidence)``: the track in cents, starting at 0
        [shape=(N, frames)], and for each frame the share of the power of
        its peaks that was matched with the previous frame (0..1; the first
        frame copies the second) [shape=(N, frames)].
    """
    x = _check_log_mel(log_mel)
    _check_positive(max_step_cents=max_step_cents, floor_db=floor_db, prominence_db=prominence_db)
    centres = mel_centre_frequencies()
    if not centres[0] <= band[0] < band[1] <= centres[-1]:
        raise ParameterError(
            f"Expected {centres[0]:.1f} <= band[0] < band[1] <= {centres[-1]:.1f} Hz. "
            f"Received: band={band}"
        )
    is_peak, freq, weight = _peak_positions(x, band, floor_db, prominence_db)
    now, before = is_peak[:, 1:], is_peak[:, :-1]
    cents = 1200.0 * np.log2(freq)
    change = np.full(now.shape, np.nan)
    # Match each peak with the previous frame's nearest peak at most one band away.
    for offset in (-1, 0, 1):
        src = slice(max(0, -offset), now.shape[-1] - max(0, offset))
        dst = slice(max(0, offset), now.shape[-1] - max(0, -offset))
        candidate = np.full(now.shape, np.nan)
        d = cents[:, 1:, src] - cents[:, :-1, dst]
        candidate[..., src] = np.where(before[..., dst] & now[..., src], d, np.nan)
        closer = np.isnan(change) | (np.abs(candidate) < np.abs(change))
        change = np.where(closer & ~np.isnan(candidate), candidate, change)
    change = np.where(np.abs(change) <= max_step_cents, change, np.nan)
    w = weight[:, 1:]
    step = _weighted_median(change, w)
    peak_power = np.sum(np.where(now, w, 0.0), axis=-1)
    matched = np.sum(np.where(np.isnan(change), 0.0, w), axis=-1) / np.maximum(peak_power, 1e-300)
    step = np.where(np.isnan(step), 0.0, step)
    track = np.concatenate([np.zeros((len(step), 1)), np.cumsum(step, axis=1)], axis=1)
    confidence = np.concatenate([matched[:, :1], matched], axis=1)
    return track, confidence


def f0_track(waveform, sample_rate=spectral.SAMPLE_RATE, fmin=65.0, fmax=1050.0):
    """f0 of a waveform by ``librosa.pyin``, one value per log-mel frame.

    Frame ``t`` is centred on sample ``t * 315 + 512``, as in
    ``vocal_xai.spectral``, so the track lines up with ``spectral.log_mel``.

    Args:
        waveform: mono audio. [shape=(samples,)], samples >= 1024
        sample_rate: Hz; the hop is ``spectral.HOP_LENGTH`` at 22050 Hz.
        fmin, fmax: search range, Hz.

    Returns:
        f0 in Hz, NaN where unvoiced. [shape=(spectral.num_frames(samples),)]
    """
    import librosa

    w = np.asarray(waveform, np.float32)
    if w.ndim != 1 or w.size < spectral.FRAME_LENGTH or not np.all(np.isfinite(w)):
        raise ParameterError(
            f"Expected a finite mono waveform of at least {spectral.FRAME_LENGTH} samples. "
            f"Received: waveform.shape={np.shape(waveform)}"
        )
    if sample_rate != spectral.SAMPLE_RATE:
        raise ParameterError(
            f"Expected sample_rate={spectral.SAMPLE_RATE}. Received: sample_rate={sample_rate}"
        )
    _check_positive(fmin=fmin, fmax=fmax)
    if not fmin < fmax < sample_rate / 2:
        raise ParameterError(
            f"Expected fmin < fmax < {sample_rate / 2}. Received: fmin={fmin}, fmax={fmax}"
        )
    frames = spectral.num_frames(w.size)
    f0, voiced, _ = librosa.pyin(
        w[spectral.FRAME_LENGTH // 2 :],
        fmin=fmin,
        fmax=fmax,
        sr=sample_rate,
        frame_length=2048,
        hop_length=spectral.HOP_LENGTH,
        center=True,
    )
    f0 = np.where(voiced, f0, np.nan)[:frames]
    return np.pad(f0, (0, frames - len(f0)), constant_values=np.nan)


def hz_to_cents(f0, reference=440.0):
    """Cents above ``reference`` Hz; NaN stays NaN (unvoiced frames)."""
    _check_positive(reference=reference)
    f0 = np.asarray(f0, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(f0 > 0, 1200.0 * np.log2(f0 / reference), np.nan)


def _fill_gaps(track, usable):
    """Linear interpolation over unusable frames; None when too few are usable."""
    if usable.mean() < MIN_VOICED:
        return None
    idx = np.arange(len(track))
    return np.interp(idx, idx[usable], track[usable])


def _median_trend(track, frame_rate, seconds=MEDIAN_SECONDS):
    width = max(3, int(round(seconds * frame_rate)) | 1)
    return scipy.ndimage.median_filter(track, size=width, mode="nearest")


def vibrato(track, frame_rate=spectral.FRAME_RATE, usable=None, rates=VIBRATO_RATES):
    """Vibrato rate, depth and strength of pitch tracks.

    A running median of a track keeps its notes and steps; the residual
    holds the vibrato. Its Hann-windowed spectrum (zero-padded 16 times)
    peaks at the rate; the peak's magnitude gives the amplitude of the
    matching sinusoid, and the depth is twice that (peak to peak). The
    median first spans ``MEDIAN_SECONDS`` to find the rate, then exactly two
    periods of that rate, over which a sinusoid of any phase has a flat
    median, so the depth is not biased by the filter.

    Args:
        track: pitch in cents. [shape=(N, frames)] or [shape=(frames,)]
        frame_rate: frames per second.
        usable: frames to trust (e.g. voiced, or a confident shift); others
            are interpolated over. Default: the finite frames.
            [shape=track.shape] bool
        rates: (low, high) vibrato rates searched, Hz.

    Returns:
        dict of float64 arrays [shape=(N,)]: ``rate`` (Hz), ``depth``
        (peak-to-peak cents) and ``strength`` (share of the residual's power
        within 1 Hz of the rate, 0..1), NaN for tracks with fewer than
        ``MIN_VOICED`` usable frames.
    """
    x = _check_track(track)
    _check_positive(frame_rate=frame_rate)
    if not 0 < rates[0] < rates[1] < frame_rate / 2:
        raise ParameterError(
            f"Expected 0 < rates[0] < rates[1] < {frame_rate / 2}. Received: rates={rates}"
        )
    usable = (
        np.isfinite(x)
        if usable is None
        else np.asarray(usable, bool).reshape(x.shape) & np.isfinite(x)
    )
    n = x.shape[1]
    window = np.hanning(n)
    pad = 16 * n
    freqs = np.fft.rfftfreq(pad, 1.0 / frame_rate)
    search = (freqs >= rates[0]) & (freqs <= rates[1])
    out = {k: np.full(len(x), np.nan) for k in ("rate", "depth", "strength")}
    for i in range(len(x)):
        filled = _fill_gaps(x[i], usable[i])
        if filled is None:
            continue
        # First pass: the rate; second pass: a median over two periods of
        # that rate, which flattens a sinusoid of any phase.
        seconds = MEDIAN_SECONDS
        for _ in range(2):
            residual = filled - _median_trend(filled, frame_rate, seconds)
            residual = residual - np.sum(residual * window) / np.sum(window)
            spectrum = np.abs(np.fft.rfft(residual * window, pad))
            k = np.flatnonzero(search)[np.argmax(spectrum[search])]
            seconds = 2.0 / freqs[k]
        power = spectrum**2
        near = np.abs(freqs - freqs[k]) <= 1.0
        out["rate"][i] = freqs[k]
        out["depth"][i] = 2.0 * 2.0 * spectrum[k] / np.sum(window)
        out["strength"][i] = power[near].sum() / max(power[freqs > 0.5].sum(), 1e-12)
    return out


def glide_rate(track, frame_rate=spectral.FRAME_RATE, usable=None, speeds=GLIDE_SPEEDS):
    """How fast and how often the pitch glides, vibrato left out.

    Args:
        track: pitch in cents. [shape=(N, frames)] or [shape=(frames,)]
        frame_rate: frames per second.
        usable: frames to trust. [shape=track.shape] bool
        speeds: (low, high) cents/s: slower is a held note, faster a step.

    Returns:
        dict of float64 arrays [shape=(N,)]: ``glide_speed``, the median
        speed in cents/s of the track without its vibrato (a running median
        over two periods of the rate ``vibrato`` finds) over the frames that
        glide, and ``glide_fraction``, the share of frames that glide; NaN
        for tracks with fewer than ``MIN_VOICED`` usable frames.
    """
    x = _check_track(track)
    _check_positive(frame_rate=frame_rate)
    usable = (
        np.isfinite(x)
        if usable is None
        else np.asarray(usable, bool).reshape(x.shape) & np.isfinite(x)
    )
    out = {k: np.full(len(x), np.nan) for k in ("glide_speed", "glide_fraction")}
    # A running median over two vibrato periods holds the notes and glides.
    rates = vibrato(x, frame_rate, usable)["rate"]
    for i in range(len(x)):
        filled = _fill_gaps(x[i], usable[i])
        if filled is None:
            continue
        speed = np.abs(np.gradient(_median_trend(filled, frame_rate, 2.0 / rates[i]))) * frame_rate
        gliding = (speed >= speeds[0]) & (speed <= speeds[1])
        out["glide_fraction"][i] = gliding.mean()
        out["glide_speed"][i] = np.median(speed[gliding]) if gliding.any() else 0.0
    return out


# ----------------------------------------------------------------- timbre


def spectral_centroid(log_mel):
    """Power-weighted mean frequency of each excerpt, Hz (mel-band centres).

    Returns:
        float64. [shape=(N,)]
    """
    x = _check_log_mel(log_mel, 1)
    power = np.exp(2.0 * (x - x.max(axis=(1, 2), keepdims=True))).sum(axis=1)
    return power @ mel_centre_frequencies() / np.maximum(power.sum(axis=-1), 1e-300)


def spectral_tilt(log_mel, band=(200.0, 8000.0)):
    """Slope of the time-averaged spectrum, dB per octave: a least-squares
    line through the mean level (dB) of the bands in ``band`` against
    log2(frequency).

    Returns:
        float64. [shape=(N,)]
    """
    x = _check_log_mel(log_mel, 1)
    centres = mel_centre_frequencies()
    keep = (centres >= band[0]) & (centres <= band[1])
    if keep.sum() < 2:
        raise ParameterError(
            f"Expected a band holding at least two mel bands. Received: band={band}"
        )
    level = NATS_TO_DB * x.mean(axis=1)[:, keep]
    octave = np.log2(centres[keep])
    octave = octave - octave.mean()
    return (level - level.mean(axis=-1, keepdims=True)) @ octave / np.sum(octave**2)


def strong_partials(log_mel, prominence_db=6.0, fmax=4000.0, floor_db=FLOOR_DB):
    """Mean number of spectral peaks per frame that stand ``prominence_db``
    above both neighbouring bands' minima, below ``fmax`` and within
    ``floor_db`` of the frame's maximum: resolved, strong partials.

    Returns:
        float64. [shape=(N,)]
    """
    import scipy.signal

    x = _check_log_mel(log_mel, 1)
    keep = mel_centre_frequencies() <= fmax
    db = NATS_TO_DB * x[..., keep]
    counts = np.zeros(x.shape[:2])
    for i in range(x.shape[0]):
        for t in range(x.shape[1]):
            frame = db[i, t]
            peaks, _ = scipy.signal.find_peaks(frame, prominence=prominence_db)
            counts[i, t] = np.sum(frame[peaks] >= frame.max() - floor_db)
    return counts.mean(axis=1)


def onset_strength(log_mel):
    """Mean positive spectral flux: the rise of each band from one frame to
    the next, in dB, averaged over bands and frames.

    Returns:
        float64. [shape=(N,)]
    """
    x = _check_log_mel(log_mel, 2)
    return NATS_TO_DB * np.maximum(np.diff(x, axis=1), 0.0).mean(axis=(1, 2))


def fast_decay(log_mel, lag=3, floor_db=30.0, quantile=95.0):
    """How fast sound dies away: the ``quantile`` percentile of the fall in
    level over ``lag`` frames (dB), over every band and frame within
    ``floor_db`` of the excerpt's maximum. Dry notes that stop fall by tens
    of dB in 43 ms; in a room they fade at 60 dB per reverberation time
    (about 2 dB in 43 ms for rt60 = 1.5 s).

    Returns:
        float64, dB. [shape=(N,)]
    """
    x = _check_log_mel(log_mel, lag + 1)
    if isinstance(lag, bool) or not isinstance(lag, (int, np.integer)) or lag < 1:
        raise ParameterError(f"Expected lag to be an integer >= 1. Received: lag={lag!r}")
    db = NATS_TO_DB * x
    loud = db[:, :-lag] >= db.max(axis=(1, 2), keepdims=True) - floor_db
    fall = db[:, :-lag] - db[:, lag:]
    return np.array(
        [np.percentile(f[m], quantile) if m.any() else np.nan for f, m in zip(fall, loud)]
    )


def high_band_ratio(log_mel, split_hz=4000.0):
    """Power above ``split_hz`` relative to the whole excerpt, dB (noise,
    breath and bow or consonant noise live there).

    Returns:
        float64. [shape=(N,)]
    """
    x = _check_log_mel(log_mel, 1)
    power = np.exp(2.0 * (x - x.max(axis=(1, 2), keepdims=True))).sum(axis=1)
    high = mel_centre_frequencies() > split_hz
    return 10.0 * np.log10(
        np.maximum(power[:, high].sum(-1), 1e-300) / np.maximum(power.sum(-1), 1e-300)
    )


def excerpt_cues(log_mel, frame_rate=spectral.FRAME_RATE):
    """Every log-mel cue of raw excerpts, one value per excerpt.

    Pitch cues come from ``pitch_shift_track`` (frames with a correlation of
    at least 0.5 are usable); ``formant_motion`` and ``syllabic_modulation``
    are those of ``vocal_xai.metrics.measures``.

    Args:
        log_mel: raw log-mel. [shape=(N, frames, 80)]

    Returns:
        dict of float64 arrays [shape=(N,)].
    """
    from vocal_xai.metrics import measures

    x = _check_log_mel(log_mel, 8)
    track, confidence = pitch_shift_track(x)
    usable = confidence >= 0.5
    cues = {"pitch_confidence": confidence.mean(axis=1)}
    cues.update({f"vibrato_{k}": v for k, v in vibrato(track, frame_rate, usable).items()})
    cues.update(glide_rate(track, frame_rate, usable))
    cues.update(
        centroid_hz=spectral_centroid(x),
        tilt_db_per_octave=spectral_tilt(x),
        strong_partials=strong_partials(x),
        onset_db=onset_strength(x),
        decay_db=fast_decay(x),
        high_band_db=high_band_ratio(x),
        formant_motion=measures.formant_motion(x),
        syllabic_modulation=measures.syllabic_modulation(x),
    )
    return cues


# ------------------------------------------------------------- probe lines

# Static body resonances of the probe line (Hz, width Hz, gain) and two
# vowel-like targets (F1, F2, F3 in Hz) that a moving envelope alternates.
_BODY = ((450.0, 150.0, 4.0), (1000.0, 300.0, 3.0), (2600.0, 800.0, 2.0))
_VOWEL_TARGETS = ((730.0, 1090.0, 2440.0), (270.0, 2290.0, 3010.0))


def _resonances(freqs, centres, bandwidths):
    """Gain of a cascade of two-pole resonators with unit gain at 0 Hz.
    freqs [T, K], centres [T, R], bandwidths [R] (Hz) -> [T, K]."""
    f2 = np.square(freqs)[..., None]
    c2 = np.square(centres)[:, None, :]
    return np.prod(
        c2 / np.sqrt(np.square(c2 - f2) + np.square(bandwidths * freqs[..., None])), axis=-1
    )


def probe_line(
    seconds=6.0,
    vibrato_depth=0.0,
    vibrato_rate=5.5,
    glide=0.004,
    moving_envelope=False,
    players=1,
    register=(62, 79),
    note_decay=0.0,
    seed=0,
):
    """A melodic line whose pitch and envelope cues are set, not drawn.

    Notes of 0.35-0.8 s walk over a major scale in ``register`` (MIDI);
    every note glides in over ``glide`` seconds and carries a sinusoidal
    vibrato of ``vibrato_depth`` cents peak to peak at ``vibrato_rate`` Hz
    after 0.12 s. The partials (1/k, up to 8 kHz) pass a spectral envelope
    that is either static (three fixed body resonances, like the synthetic
    corpus's leads) or, with ``moving_envelope``, formant-like resonances
    that move between two vowel targets on every note (like its singer).
    With ``players`` > 1 the line is played in unison by an ensemble: every
    further player is detuned (8 cents std) and has its own vibrato rate
    (within 10 %) and phase, as in a string section.

    Args:
        seconds: length, s.
        vibrato_depth: cents, peak to peak, >= 0.
        vibrato_rate: Hz.
        glide: portamento time into each note, s.
        moving_envelope: bool.
        players: integer >= 1, players in unison.
        register: (low, high) MIDI notes.
        note_decay: time constant (s) of an exponential decay of every
            note, as in struck or plucked notes; 0 holds the notes.
        seed: integer, the melody and phases.

    Returns:
        float32 waveform at 22050 Hz, peak 0.5. [shape=(round(seconds * 22050),)]
    """
    _check_positive(seconds=seconds, vibrato_rate=vibrato_rate, glide=glide)
    if not (np.isfinite(vibrato_depth) and vibrato_depth >= 0):
        raise ParameterError(
            f"Expected vibrato_depth >= 0. Received: vibrato_depth={vibrato_depth!r}"
        )
    if not (np.isfinite(note_decay) and note_decay >= 0):
        raise ParameterError(f"Expected note_decay >= 0. Received: note_decay={note_decay!r}")
    if isinstance(players, bool) or not isinstance(players, (int, np.integer)) or players < 1:
        raise ParameterError(
            f"Expected players to be an integer >= 1. Received: players={players!r}"
        )
    if not 0 < register[0] < register[1] <= 100:
        raise ParameterError(
            f"Expected 0 < register[0] < register[1] <= 100. Received: register={register}"
        )
    rng = np.random.default_rng(seed)
    sr = spectral.SAMPLE_RATE
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    scale = [
        m
        for m in range(register[0], register[1] + 1)
        if (m - register[0]) % 12 in (0, 2, 4, 5, 7, 9, 11)
    ]
    onsets, pitches, pos = [0.0], [], len(scale) // 2
    while onsets[-1] < seconds:
        pos = int(np.clip(pos + rng.choice([-2, -1, 1, 2]), 0, len(scale) - 1))
        pitches.append(scale[pos])
        onsets.append(onsets[-1] + rng.uniform(0.35, 0.8))
    onsets, pitches = np.array(onsets[:-1]), np.array(pitches, np.float64)
    idx = np.searchsorted(onsets, t, side="right") - 1
    since = t - onsets[idx]
    previous = np.concatenate([[pitches[0]], pitches[:-1]])[idx]
    ramp = np.clip(since / glide, 0.0, 1.0)
    midi = pitches[idx] + (previous - pitches[idx]) * (1.0 - ramp * ramp * (3.0 - 2.0 * ramp))
    onset_vib = np.clip((since - 0.12) / 0.15, 0.0, 1.0)
    hop = 64
    tc, sc, ic = t[::hop], since[::hop], idx[::hop]
    partials = int(
        8000.0 // (440.0 * 2.0 ** ((midi.min() - 69.0 - vibrato_depth / 200.0 - 0.2) / 12.0))
    )
    k = np.arange(1, partials + 1)
    y = np.zeros(n)
    for player in range(players):
        # Each player of an ensemble has its own tuning, vibrato rate and phase.
        detune, rate, lag = (
            (0.0, vibrato_rate, 0.0)
            if player == 0
            else (
                rng.normal(0.0, 8.0),
                vibrato_rate * rng.uniform(0.9, 1.1),
                rng.uniform(0.0, 2 * np.pi),
            )
        )
        cents = (
            100.0 * midi
            + detune
            + onset_vib * 0.5 * vibrato_depth * np.sin(2 * np.pi * rate * t + lag)
        )
        f0 = 440.0 * 2.0 ** ((cents / 100.0 - 69.0) / 12.0)
        phase = 2 * np.pi * (rng.uniform() + np.cumsum(f0) / sr)
        # Partial amplitudes through the spectral envelope, at a control rate of 64 samples.
        freqs = f0[::hop, None] * k
        if moving_envelope:
            a, b = np.array(_VOWEL_TARGETS[0]), np.array(_VOWEL_TARGETS[1])
            first = np.where((ic % 2)[:, None] == 0, a, b)
            second = np.where((ic % 2)[:, None] == 0, b, a)
            w = np.clip((sc - 0.1) / 0.25, 0.0, 1.0)[:, None]
            envelope = _resonances(
                freqs, first + (second - first) * w, np.array([80.0, 100.0, 150.0])
            )
        else:
            envelope = np.ones_like(freqs)
            for centre, width, gain in _BODY:
                envelope = envelope + gain / (1.0 + ((freqs - centre) / (0.5 * width)) ** 2)
        amps = envelope / k * np.clip((8000.0 - freqs) / 1000.0, 0.0, 1.0)
        amps = amps / np.sqrt(np.sum(amps**2, axis=1, keepdims=True) + 1e-12)
        amps *= np.clip(sc / 0.04, 0.0, 1.0)[:, None]  # note attacks
        if note_decay > 0:
            amps *= np.exp(-sc / note_decay)[:, None]  # struck notes die away
        for j in range(partials):
            y += np.interp(t, tc, amps[:, j]) * np.sin((j + 1) * phase)
    y += 10 ** (-40 / 20) * np.std(y) / 0.5 * rng.standard_normal(n)
    return (0.5 * y / np.max(np.abs(y))).astype(np.float32)


def reverberate(waveform, rt60=1.5, wet=0.5, seed=0):
    """A room: the waveform mixed with its convolution by exponentially
    decaying Gaussian noise (60 dB down after ``rt60`` seconds, unit energy).

    Args:
        waveform: mono audio at 22050 Hz. [shape=(samples,)]
        rt60: reverberation time, s.
        wet: share of the reverberated signal, 0..1.
        seed: integer, the impulse response.

    Returns:
        float32, peak 0.5. [shape=(samples,)]
    """
    import scipy.signal

    w = np.asarray(waveform, np.float64)
    _check_positive(rt60=rt60)
    if w.ndim != 1 or not len(w):
        raise ParameterError(
            f"Expected a mono waveform. Received: waveform.shape={np.shape(waveform)}"
        )
    if not 0.0 <= wet <= 1.0:
        raise ParameterError(f"Expected 0 <= wet <= 1. Received: wet={wet!r}")
    t = np.arange(int(rt60 * spectral.SAMPLE_RATE)) / spectral.SAMPLE_RATE
    ir = np.random.default_rng(seed).standard_normal(len(t)) * np.exp(-math.log(1000.0) * t / rt60)
    ir /= np.sqrt(np.sum(ir**2))
    y = (1.0 - wet) * w + wet * scipy.signal.fftconvolve(w, ir)[: len(w)]
    return (0.5 * y / max(float(np.max(np.abs(y))), 1e-12)).astype(np.float32)


PROBE_REGISTERS = ((62, 79), (55, 72), (48, 65), (67, 84))


def probe_texture(
    seconds=6.0,
    vibrato_depth=0.0,
    moving_envelope=False,
    players=1,
    lines=1,
    rt60=0.0,
    vibrato_rate=5.5,
    glide=0.004,
    note_decay=0.0,
    seed=0,
):
    """``lines`` independent ``probe_line`` melodies (registers from
    ``PROBE_REGISTERS``), each played by ``players``, mixed, and placed in a
    room of ``rt60`` seconds (0: dry).

    Returns:
        float32 waveform at 22050 Hz, peak 0.5. [shape=(round(seconds * 22050),)]
    """
    if (
        isinstance(lines, bool)
        or not isinstance(lines, (int, np.integer))
        or not 1 <= lines <= len(PROBE_REGISTERS)
    ):
        raise ParameterError(
            f"Expected lines in 1..{len(PROBE_REGISTERS)}. Received: lines={lines!r}"
        )
    if not (np.isfinite(rt60) and rt60 >= 0):
        raise ParameterError(f"Expected rt60 >= 0. Received: rt60={rt60!r}")
    y = sum(
        probe_line(
            seconds,
            vibrato_depth,
            vibrato_rate,
            glide,
            moving_envelope,
            players,
            PROBE_REGISTERS[i],
            note_decay,
            seed=1000 * seed + i,
        )
        for i in range(lines)
    )
    if rt60 > 0:
        return reverberate(y, rt60, seed=seed)
    return (0.5 * y / max(float(np.max(np.abs(y))), 1e-12)).astype(np.float32)


# ------------------------------------------------ what separates two classes

EXCERPT_FRAMES = 115


def split_excerpts(split, stride=35, frames=EXCERPT_FRAMES):
    """Excerpts of every song of a split, cut every ``stride`` frames, and the
    label of each one's centre frame.

    Args:
        split: ``pipeline.SplitFeatures``.
        stride: frames between excerpt centres (35 = 0.5 s).
        frames: frames per excerpt.

    Returns:
        (excerpts [N, frames, 80] float32, labels [N] int).
    """
    _check_positive(stride=stride, frames=frames)
    half = frames // 2
    excerpts, labels = [], []
    for feats, frame_labels in zip(split.features, split.labels):
        for centre in range(half, len(feats) - (frames - half) + 1, stride):
            excerpts.append(feats[centre - half : centre - half + frames])
            labels.append(frame_labels[centre])
    if not excerpts:
        raise ParameterError(
            f"Expected songs of at least {frames} frames. "
            f"Received: none as long in {len(split.names)} songs"
        )
    return np.stack(excerpts).astype(np.float32), np.asarray(labels, int)


def class_separation(excerpts, labels):
    """How well each cue of ``excerpt_cues`` tells class 1 from class 0.

    Args:
        excerpts: raw log-mel. [shape=(N, frames, 80)]
        labels: 0 or 1 per excerpt, both present. [shape=(N,)]

    Returns:
        ``{cue: {"auc", "median_1", "median_0", "n_1", "n_0"}}``: the AUC of
        the cue's value for class 1 above class 0 (0.5: no separation), over
        the excerpts where the cue is defined, and each class's median.
    """
    from vocal_xai.metrics import measures

    labels = np.asarray(labels)
    if labels.shape != (len(excerpts),) or not np.isin(labels, (0, 1)).all():
        raise ParameterError(
            f"Expected one label of 0 or 1 per excerpt. Received: labels of shape {labels.shape}"
        )
    out = {}
    for cue, values in excerpt_cues(excerpts).items():
        ok = np.isfinite(values)
        one, zero = values[ok & (labels == 1)], values[ok & (labels == 0)]
        if not len(one) or not len(zero):
            continue
        out[cue] = {
            "auc": measures.auc(values[ok], labels[ok]),
            "median_1": float(np.median(one)),
            "median_0": float(np.median(zero)),
            "n_1": int(len(one)),
            "n_0": int(len(zero)),
        }
    return out
