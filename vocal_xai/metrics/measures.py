"""Quality measures of explanations that do not use the detector.

The selection (``explain.selection``) scores explanations with the detector's own
embeddings. To test whether it picks good explanations, these measures judge
the same examples from the data alone:

* **Realism**: the distance from an example to its nearest real excerpts,
  placed in the distribution of the same distance for real excerpts of other
  songs. ``realism = 1 - percentile``: real excerpts score about 0.5 on
  average, examples farther from the data than every real excerpt score 0.
* **Class evidence**: the fraction of an example's k nearest real excerpts
  whose label is the one the explanation aims at (vocal for max).
* **Voice cues**: the two cues the synthetic singer carries and the other
  leads lack (``vocal_xai.data.synthetic``): *formant motion*, the frame-to-
  frame movement of the spectral envelope (low-order cepstrum) in the formant
  region, and *syllabic modulation*, the envelope's modulation
  power at syllable rates. Kernel density estimates of both cues over real
  vocal and non-vocal excerpts turn them into ``P(vocal | cues)``.

Neighbours are searched among excerpts of a real *bank* (the training split)
in standardised log-mel (per-band mean and std of the bank), averaged over
``time_pool`` frames so that a shift of a few frames does not dominate the
distance, and each excerpt is then centred and scaled to unit norm. Distances
thus compare shapes: without the scaling, a flat or faint excerpt near the
mean spectrum would be close to everything and pass for realistic. The
real-to-real baseline uses excerpts of other songs (the validation split),
so no excerpt is compared with an overlapping copy of itself.
"""

import dataclasses

import numpy as np
import scipy.stats

from vocal_xai import spectral
from vocal_xai.data import pipeline
from vocal_xai.errors import ParameterError, check_finite

# Formant region (Hz) for the envelope and the syllabic energy.
FORMANT_BAND = (200.0, 2500.0)
CEPSTRAL_COEFFICIENTS = 6  # c1 .. c6 of the band's log spectrum
MOTION_LAG = 2  # frames (29 ms) between compared envelopes
SYLLABLE_RATE = (2.5, 8.0)  # Hz
TARGET_LABEL = {"max": 1, "min": 0}


def mel_centre_frequencies(
    num_bands=spectral.NUM_MEL_BANDS, fmin=spectral.FMIN, fmax=spectral.FMAX
):
    """Centre frequency (Hz) of each band of ``spectral.mel_filterbank`` (HTK mel)."""

    def to_mel(f):
        return 1127.0 * np.log1p(np.asarray(f, np.float64) / 700.0)

    edges = np.linspace(to_mel(fmin), to_mel(fmax), num_bands + 2)
    return 700.0 * np.expm1(edges[1:-1] / 1127.0)


def _check_excerpts(x, name="examples"):
    x = np.asarray(x, np.float32)
    if x.ndim != 3 or x.shape[1:] != (spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS):
        raise ParameterError(
            f"Expected {name} of shape [N, {spectral.EXCERPT_FRAMES}, {spectral.NUM_MEL_BANDS}]. "
            f"Received: shape={x.shape}"
        )
    return check_finite(x, name)


# ---------------------------------------------------------------- voice cues


def _dct_matrix(n, k):
    """Orthonormal DCT-II rows 1..k (c0, the level, left out). [shape=(n, k)]"""
    i = np.arange(n)[:, None] + 0.5
    j = np.arange(1, k + 1)[None, :]
    return np.sqrt(2.0 / n) * np.cos(np.pi * i * j / n)


def _envelope(log_mel):
    """Low-order cepstrum (c1 .. c6) of the ``FORMANT_BAND`` log-mel bands per
    frame: the spectral envelope without the level (c0), too coarse for
    harmonics. [shape=(N, frames, 6)]"""
    log_mel = np.asarray(log_mel, np.float64)
    centres = mel_centre_frequencies(log_mel.shape[-1])
    band = (centres >= FORMANT_BAND[0]) & (centres <= FORMANT_BAND[1])
    return log_mel[..., band] @ _dct_matrix(int(band.sum()), CEPSTRAL_COEFFICIENTS)


def formant_motion(log_mel, lag=MOTION_LAG):
    """Mean distance between the spectral envelopes of frames ``lag`` apart.

    Args:
        log_mel: raw log-mel excerpts. [shape=(N, frames, 80)]

    Returns:
        float64. [shape=(N,)]
    """
    envelope = _envelope(log_mel)
    if envelope.shape[1] <= lag:
        raise ParameterError(
            f"Expected more than lag={lag} frames. Received: {envelope.shape[1]} frames"
        )
    step = envelope[:, lag:] - envelope[:, :-lag]
    return np.mean(np.linalg.norm(step, axis=-1), axis=-1)


def syllabic_modulation(log_mel, frame_rate=spectral.FRAME_RATE):
    """Power of the envelope's movement at syllable rates: log10 of the
    modulation power of the cepstral trajectories in ``SYLLABLE_RATE``
    (Hann-windowed, summed over coefficients).

    Args:
        log_mel: raw log-mel excerpts. [shape=(N, frames, 80)]

    Returns:
        float64. [shape=(N,)]
    """
    envelope = _envelope(log_mel)
    envelope = envelope - envelope.mean(axis=1, keepdims=True)
    n = envelope.shape[1]
    power = np.abs(np.fft.rfft(envelope * np.hanning(n)[None, :, None], axis=1)) ** 2
    freqs = np.fft.rfftfreq(n, 1.0 / frame_rate)
    syllabic = (freqs >= SYLLABLE_RATE[0]) & (freqs <= SYLLABLE_RATE[1])
    return np.log10(power[:, syllabic].sum(axis=(1, 2)) + 1e-12)


def voice_cues(log_mel):
    """Both cues as columns: [formant motion, syllabic modulation]. [shape=(N, 2)]"""
    return np.stack([formant_motion(log_mel), syllabic_modulation(log_mel)], axis=-1)


class CueModel:
    """``P(vocal | cues)`` from kernel density estimates of the cues of real
    vocal and non-vocal excerpts, with equal priors.

    Where neither class has real excerpts nearby (both densities below
    ``floor``, in standardised cue units) the posterior falls back to 0.5: a
    cue value no real excerpt shows is no evidence either way.
    """

    def __init__(self, cues, labels, floor=1e-4):
        cues = np.asarray(cues, np.float64)
        labels = np.asarray(labels)
        if (
            cues.ndim != 2
            or labels.shape != (len(cues),)
            or set(np.unique(labels).tolist()) != {0, 1}
        ):
            raise ParameterError(
                "Expected cues [N, d] and labels [N] with both classes 0 and 1. "
                f"Received: cues {cues.shape}, labels {labels.shape} "
                f"with values {np.unique(labels).tolist()}"
            )
        self.mean, self.std = cues.mean(axis=0), cues.std(axis=0) + 1e-12
        z = (cues - self.mean) / self.std
        self.kde = {c: scipy.stats.gaussian_kde(z[labels == c].T) for c in (0, 1)}
        self.floor = floor

    def __call__(self, cues):
        z = ((np.asarray(cues, np.float64) - self.mean) / self.std).T
        vocal, other = self.kde[1](z) + self.floor, self.kde[0](z) + self.floor
        return vocal / (vocal + other)


def auc(scores, labels):
    """Area under the ROC curve (probability a positive outscores a negative)."""
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels).astype(bool)
    if labels.all() or not labels.any():
        raise ParameterError("Expected labels of both classes. Received: one class only")
    ranks = scipy.stats.rankdata(scores)
    n_pos, n_neg = labels.sum(), (~labels).sum()
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


# ----------------------------------------------------------------- the judge


def _pool(x, time_pool):
    """Standardised excerpts averaged over ``time_pool`` frames, flattened,
    then centred and scaled to unit norm (so distances compare shapes)."""
    n, frames, bands = x.shape
    keep = frames - frames % time_pool
    x = x[:, :keep].reshape(n, keep // time_pool, time_pool, bands).mean(axis=2).reshape(n, -1)
    x = x - x.mean(axis=1, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _knn(queries, bank, bank_sq, k, batch=512):
    """Euclidean distances and indices of the k nearest bank rows."""
    dists, idx = [], []
    for start in range(0, len(queries), batch):
        q = queries[start : start + batch]
        d2 = np.maximum(np.sum(q * q, axis=1)[:, None] + bank_sq[None, :] - 2.0 * q @ bank.T, 0.0)
        nearest = np.argpartition(d2, k - 1, axis=1)[:, :k]
        near_d2 = np.take_along_axis(d2, nearest, axis=1)
        order = np.argsort(near_d2, axis=1)
        idx.append(np.take_along_axis(nearest, order, axis=1))
        dists.append(np.sqrt(np.take_along_axis(near_d2, order, axis=1)))
    return np.concatenate(dists), np.concatenate(idx)


@dataclasses.dataclass
class Judge:
    """Real data that the measures compare examples with.

    Attributes:
        mean, std: per-band standardisation (of the bank). [shape=(80,)]
        bank: pooled standardised bank excerpts. [shape=(B, D)]
        bank_labels: centre-frame label of each bank excerpt. [shape=(B,)]
        real_distances: mean distance of each held-out real excerpt to its
            ``k_realism`` nearest bank excerpts, sorted. [shape=(R,)]
        cue_model: a ``CueModel``.
        cue_reference: median cues of real vocal and non-vocal bank excerpts.
    """

    mean: np.ndarray
    std: np.ndarray
    bank: np.ndarray
    bank_labels: np.ndarray
    real_distances: np.ndarray
    cue_model: CueModel
    cue_reference: dict
    time_pool: int = 5
    k_realism: int = 5
    k_class: int = 10

    def __post_init__(self):
        self._bank_sq = np.sum(self.bank * self.bank, axis=1)

    def embed(self, log_mel):
        x = (_check_excerpts(log_mel) - self.mean) / self.std
        return _pool(x.astype(np.float32), self.time_pool)

    def neighbours(self, log_mel, k):
        return _knn(self.embed(log_mel), self.bank, self._bank_sq, k)

    def measure(self, log_mel, direction):
        """All per-example measures of ``log_mel`` for one direction.

        ``voice_evidence`` is ``P(vocal | cues)`` for max and its complement for
        min, so higher is better for every measure but ``nn_distance_ratio``.
        """
        if direction not in TARGET_LABEL:
            raise ParameterError(
                f"Expected direction in ['max', 'min']. Received: direction={direction!r}"
            )
        target = TARGET_LABEL[direction]
        log_mel = _check_excerpts(log_mel)
        d, idx = self.neighbours(log_mel, max(self.k_realism, self.k_class))
        near = d[:, : self.k_realism].mean(axis=1)
        cues = voice_cues(log_mel)
        p_vocal = self.cue_model(cues)
        return {
            "realism": 1.0
            - np.searchsorted(self.real_distances, near, side="right") / len(self.real_distances),
            "nn_distance_ratio": near / np.median(self.real_distances),
            "class_evidence": np.mean(self.bank_labels[idx[:, : self.k_class]] == target, axis=1),
            "formant_motion": cues[:, 0],
            "syllabic_modulation": cues[:, 1],
            "voice_evidence": p_vocal if target == 1 else 1.0 - p_vocal,
        }


def build_judge(
    bank_split,
    heldout_split,
    bank_stride=10,
    heldout_stride=20,
    time_pool=5,
    k_realism=5,
    k_class=10,
):
    """A ``Judge`` from two splits of real songs.

    Args:
        bank_split: ``SplitFeatures`` whose excerpts are the neighbours
            (every ``bank_stride``-th centre), e.g. the training split.
        heldout_split: ``SplitFeatures`` of other songs (every
            ``heldout_stride``-th centre) giving the real-to-real distances.
    """
    if time_pool < 1 or k_realism < 1 or k_class < 1:
        raise ParameterError(
            f"Expected time_pool, k_realism, k_class >= 1. "
            f"Received: time_pool={time_pool}, k_realism={k_realism}, k_class={k_class}"
        )
    bank_x, bank_y = pipeline.excerpts_at(bank_split, bank_stride)
    if len(bank_x) <= max(k_realism, k_class):
        raise ParameterError(
            f"Expected more than {max(k_realism, k_class)} bank excerpts. Received: {len(bank_x)}"
        )
    mean, std = pipeline.band_stats(bank_split.features)
    mean, std = mean.astype(np.float32), np.maximum(std, 1e-6).astype(np.float32)
    bank = _pool((bank_x - mean) / std, time_pool)
    cues = voice_cues(bank_x)
    judge = Judge(
        mean=mean,
        std=std,
        bank=bank,
        bank_labels=bank_y,
        real_distances=np.zeros(1),
        cue_model=CueModel(cues, bank_y),
        cue_reference={
            "vocal": np.median(cues[bank_y == 1], axis=0).tolist(),
            "non_vocal": np.median(cues[bank_y == 0], axis=0).tolist(),
        },
        time_pool=time_pool,
        k_realism=k_realism,
        k_class=k_class,
    )
    held_x, _ = pipeline.excerpts_at(heldout_split, heldout_stride)
    d, _ = judge.neighbours(held_x, k_realism)
    judge.real_distances = np.sort(d.mean(axis=1))
    return judge


def check_on_real(judge, split, stride=20, seed=0):
    """How well the measures tell real vocal from non-vocal excerpts of
    ``split`` (AUC per measure), the mean realism of those excerpts, and the
    realism of known fakes: white noise and the bank's mean spectrum with
    small noise (per-band statistics of the bank), and the excerpts blurred
    (Gaussian, 2 frames x 2 bands)."""
    import scipy.ndimage

    x, y = pipeline.excerpts_at(split, stride)
    m = judge.measure(x, "max")
    rng = np.random.default_rng(seed)
    shape = (min(len(x), 100), *x.shape[1:])
    fakes = {
        "white noise": judge.mean + judge.std * rng.standard_normal(shape),
        "mean spectrum": judge.mean + 0.01 * rng.standard_normal(shape),
        "blurred real": scipy.ndimage.gaussian_filter(x[: shape[0]], (0, 2, 2)),
    }
    return {
        "excerpts": int(len(x)),
        "auc": {
            k: auc(m[k], y)
            for k in ("voice_evidence", "formant_motion", "syllabic_modulation", "class_evidence")
        },
        "realism_real": float(m["realism"].mean()),
        "realism_fake": {
            k: float(judge.measure(v.astype(np.float32), "max")["realism"].mean())
            for k, v in fakes.items()
        },
    }
