"""Realism judges that see sharpness, and the check every judge must pass.

A judge maps excerpts to per-example realism scores (higher: more like real
excerpts). Before a judge can rank explanations, it must rank real excerpts
above known fakes: the same excerpts blurred at several widths, white noise
and the mean spectrum (``known_fakes``), and any generator's samples.
``judge_table`` scores every kind with every judge.

``c2st_realism`` turns the classifier two-sample test into such a judge: a
fresh classifier learns to tell the examples from as many real excerpts, and
each example's realism is one minus its held-out probability of being
generated (about 0.5 for an example that passes for real, 0 for one that is
recognised every time). It judges the examples against each other's flaws:
blur in a pool of sharp examples is recognised, and in a pool that is all
blurred, the least blurred score highest.
"""

import numpy as np
import scipy.ndimage

from vocal_xai.errors import ParameterError
from vocal_xai.metrics import c2st

BLUR_WIDTHS = (1.0, 2.0, 3.0)  # Gaussian sigma, frames and bands alike


def _mean_spectrum(x):
    """Mean magnitude of the 2-D Fourier transform of excerpts with their
    own means removed. [shape=(frames, bands)]"""
    x = np.asarray(x, np.float64)
    if x.ndim != 3 or x.shape[1] < 2 or x.shape[2] < 2 or len(x) < 1:
        raise ParameterError(
            f"Expected excerpts [n >= 1, frames >= 2, bands >= 2]. Received: shape={x.shape}"
        )
    x = x - x.mean(axis=(1, 2), keepdims=True)
    return np.mean(np.abs(np.fft.fft2(x, axes=(1, 2))), axis=0)


def period_two_energy(real, generated):
    """How much more a generator's excerpts oscillate with a period of two
    frames or two bands than real excerpts: the checkerboard that stride-2
    transposed convolutions leave (Odena et al. 2016, "Deconvolution and
    checkerboard artifacts").

    The mean magnitude of the excerpts' 2-D Fourier transform (each excerpt's
    mean removed) along the time-Nyquist row (period 2 frames, every band
    frequency) and the frequency-Nyquist column, generated over real.

    Args:
        real: real excerpts. [shape=(n, frames, bands)]
        generated: generated excerpts of the same frames and bands.
            [shape=(m, frames, bands)]

    Returns:
        dict ``time``, ``frequency``: the ratios (1: as much as real).
    """
    r, g = _mean_spectrum(real), _mean_spectrum(generated)
    if r.shape != g.shape:
        raise ParameterError(
            f"Expected generated excerpts of {r.shape} frames x bands. Received: {g.shape}"
        )
    t, f = r.shape[0] // 2, r.shape[1] // 2
    return {
        "time": float(g[t, :].mean() / r[t, :].mean()),
        "frequency": float(g[:, f].mean() / r[:, f].mean()),
    }


def known_fakes(x, mean, std, widths=BLUR_WIDTHS, seed=0):
    """Fakes made from real excerpts ``x``: each blurred (a Gaussian of sigma
    ``w`` frames and bands), white noise with the per-band ``mean`` and
    ``std``, and the mean spectrum with small noise (1 % of ``std``).

    Args:
        x: real log-mel excerpts. [shape=(n, frames, bands)]
        mean, std: per-band statistics of real excerpts. [shape=(bands,)] each
        widths: sigmas of the blurs.
        seed: seed of the noise.

    Returns:
        dict kind -> excerpts, float32. [shape=(n, frames, bands)] each
    """
    x = np.asarray(x, np.float32)
    if x.ndim != 3:
        raise ParameterError(f"Expected excerpts [n, frames, bands]. Received: shape={x.shape}")
    rng = np.random.default_rng(seed)
    fakes = {f"blurred (sigma {w:g})": scipy.ndimage.gaussian_filter(x, (0, w, w)) for w in widths}
    fakes["white noise"] = mean + std * rng.standard_normal(x.shape)
    fakes["mean spectrum"] = mean + 0.01 * std * rng.standard_normal(x.shape)
    return {k: v.astype(np.float32) for k, v in fakes.items()}


def c2st_realism(real, examples, config=None):
    """Per-example realism of ``examples`` by a classifier two-sample test
    against ``real`` (as many excerpts, not the examples' sources), with
    ``config`` (a ``c2st.C2STConfig``; default: its defaults).

    Returns:
        (realism of each example: 1 - its held-out probability of being
        generated [shape=(n,)], the ``C2STResult``).
    """
    result = c2st.classifier_two_sample_test(real, examples, config or c2st.C2STConfig())
    return 1.0 - result.generated_scores, result


def interleave(kinds):
    """Excerpts of several kinds, dealt in turn (so that every contiguous
    block, and every fold of a two-sample test, holds every kind), and the
    kind of each.

    Args:
        kinds: dict kind -> excerpts, all of the same count and shape.

    Returns:
        (excerpts [shape=(kinds * n, frames, bands)], kind names [kinds * n]).
    """
    names = list(kinds)
    counts = {len(v) for v in kinds.values()}
    if len(counts) != 1:
        raise ParameterError(
            "Expected as many excerpts of every kind. "
            f"Received: { {k: len(v) for k, v in kinds.items()} }"
        )
    stacked = np.stack([np.asarray(kinds[k], np.float32) for k in names], axis=1)
    n = counts.pop()
    return stacked.reshape(n * len(names), *stacked.shape[2:]), [*names] * n


def judge_table(judges, kinds):
    """Mean realism of each kind of excerpt by each judge.

    Args:
        judges: dict judge name -> function of excerpts [shape=(m, frames,
            bands)] returning per-example realism [shape=(m,)]. Each gets all
            kinds at once, interleaved.
        kinds: dict kind -> excerpts, all of the same count; one kind is
            ``"real"`` (real excerpts the judges were not built from).

    Returns:
        dict judge name -> {"means": {kind: mean realism}, "real_first":
        whether real excerpts score strictly highest}.
    """
    if "real" not in kinds:
        raise ParameterError(f"Expected a kind named 'real'. Received: kinds={list(kinds)}")
    x, names = interleave(kinds)
    names = np.asarray(names)
    table = {}
    for judge, score in judges.items():
        realism = np.asarray(score(x), np.float64)
        means = {k: float(realism[names == k].mean()) for k in kinds}
        others = [v for k, v in means.items() if k != "real"]
        table[judge] = {"means": means, "real_first": bool(means["real"] > max(others))}
    return table
