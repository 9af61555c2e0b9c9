"""Fréchet distance between Gaussians, in TensorFlow, in float64.

    FD = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))

The trace of the matrix square root is computed in a symmetric form with the
same eigenvalues as ``S1 S2``: ``Tr sqrt(L^T S2 L)`` with ``S1 = L L^T`` (a
Cholesky factor) when ``S1`` is positive definite, else
``Tr sqrt(sqrt(S1) S2 sqrt(S1))`` from an eigendecomposition. Either way only
symmetric eigenvalue problems are solved, so the result stays real, finite
and non-negative for singular covariances (fewer samples than dimensions),
where ``scipy.linalg.sqrtm(S1 @ S2)`` can return complex noise.

When one side is given as n samples with n < d, the trace term only needs an
n x n eigenproblem: with Yc the centred samples,
``Tr sqrt(sqrt(S_ref) S_gen sqrt(S_ref)) = sum sqrt(eig(Yc S_ref Yc^T / (n - 1)))``.

``FrechetStatistics`` accumulates the mean and covariance of a stream of
embeddings (mergeable across batches and replicas); ``frechet_distance_1d``
is the paper's variant on a single activation.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from vocal_xai.errors import ParameterError


def _sqrt_psd(matrix):
    """Symmetric square root of a PSD matrix (negative eigenvalues clipped)."""
    eigvals, eigvecs = tf.linalg.eigh(matrix)
    root = tf.sqrt(tf.maximum(eigvals, 0.0))
    return tf.matmul(eigvecs * root[None, :], eigvecs, transpose_b=True)


def _trace_sqrt_of_psd(matrix):
    """Tr sqrt(M) for symmetric PSD ``M`` (batched over leading axes): the sum
    of the square roots of its eigenvalues."""
    matrix = 0.5 * (matrix + tf.linalg.matrix_transpose(matrix))
    return tf.reduce_sum(tf.sqrt(tf.maximum(tf.linalg.eigvalsh(matrix), 0.0)), axis=-1)


def _trace_sqrt_product(sigma1, sigma2):
    """Tr sqrt(S1 S2) for symmetric PSD ``S1``, ``S2``, via symmetric forms."""
    try:
        # Positive definite S1: eigenvalues of S1 S2 are those of L^T S2 L.
        factor = tf.linalg.cholesky(sigma1)
        if bool(tf.reduce_all(tf.math.is_finite(factor))):
            return _trace_sqrt_of_psd(tf.matmul(factor, sigma2 @ factor, transpose_a=True))
    except tf.errors.InvalidArgumentError:
        pass
    root1 = _sqrt_psd(sigma1)
    return _trace_sqrt_of_psd(root1 @ sigma2 @ root1)


def _check_stats(mu, sigma, name):
    mu = tf.convert_to_tensor(mu, tf.float64)
    sigma = tf.convert_to_tensor(sigma, tf.float64)
    if mu.shape.rank != 1 or sigma.shape.rank != 2 or sigma.shape[0] != sigma.shape[1] or sigma.shape[0] != mu.shape[0]:
        raise ParameterError(
            f"Expected {name} mean [d] and covariance [d, d]. "
            f"Received: mean.shape={mu.shape}, covariance.shape={sigma.shape}"
        )
    return mu, sigma


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    Args:
        mu1, mu2: means. [shape=(d,)]
        sigma1, sigma2: covariances. [shape=(d, d)]

    Returns:
        float64 scalar tensor, >= 0.
    """
    mu1, sigma1 = _check_stats(mu1, sigma1, "first")
    mu2, sigma2 = _check_stats(mu2, sigma2, "second")
    if mu1.shape[0] != mu2.shape[0]:
        raise ParameterError(
            f"Expected statistics of the same dimension. Received: d={mu1.shape[0]} and d={mu2.shape[0]}"
        )
    trace_sqrt = _trace_sqrt_product(0.5 * (sigma1 + tf.transpose(sigma1)), sigma2)
    diff = mu1 - mu2
    distance = (
        tf.reduce_sum(diff * diff)
        + tf.linalg.trace(sigma1)
        + tf.linalg.trace(sigma2)
        - 2.0 * trace_sqrt
    )
    return tf.maximum(distance, 0.0)


def frechet_distance_to_samples(samples, mu_ref, sigma_ref):
    """Fréchet distance between the Gaussian fit of ``samples`` and a reference.

    Uses the n x n form of the trace term (fast when n < d). Leading axes are
    a batch of sample sets (e.g. bootstrap resamples), each scored alone.

    Args:
        samples: embeddings, n >= 2. [shape=(..., n, d)]
        mu_ref: reference mean. [shape=(d,)]
        sigma_ref: reference covariance. [shape=(d, d)]

    Returns:
        float64 tensor, >= 0. [shape=(...)]
    """
    mu_ref, sigma_ref = _check_stats(mu_ref, sigma_ref, "reference")
    x = tf.convert_to_tensor(samples, tf.float64)
    if x.shape.rank is None or x.shape.rank < 2 or x.shape[-1] != mu_ref.shape[0] or x.shape[-2] < 2:
        raise ParameterError(
            f"Expected samples [..., n >= 2, d={mu_ref.shape[0]}]. Received: samples.shape={x.shape}"
        )
    n = tf.cast(tf.shape(x)[-2], tf.float64)
    mu = tf.reduce_mean(x, axis=-2, keepdims=True)
    centred = x - mu
    small = centred @ sigma_ref @ tf.linalg.matrix_transpose(centred) / (n - 1.0)
    trace_sqrt = _trace_sqrt_of_psd(small)
    trace_gen = tf.reduce_sum(centred * centred, axis=[-2, -1]) / (n - 1.0)
    diff = mu[..., 0, :] - mu_ref
    distance = tf.reduce_sum(diff * diff, axis=-1) + tf.linalg.trace(sigma_ref) + trace_gen - 2.0 * trace_sqrt
    return tf.maximum(distance, 0.0)


def frechet_distance_1d(a, b):
    """The paper's variant on one activation: ``(mu_a - mu_b)^2 + (s_a - s_b)^2``,
    with sample standard deviations (ddof 1). Returns a float64 scalar tensor."""
    a = tf.reshape(tf.convert_to_tensor(a, tf.float64), [-1])
    b = tf.reshape(tf.convert_to_tensor(b, tf.float64), [-1])
    if a.shape[0] is not None and (a.shape[0] < 2 or b.shape[0] < 2):
        raise ParameterError(
            f"Expected at least 2 values on each side. Received: {a.shape[0]} and {b.shape[0]}"
        )

    def std(v):
        n = tf.cast(tf.size(v), tf.float64)
        return tf.sqrt(tf.reduce_sum(tf.square(v - tf.reduce_mean(v))) / (n - 1.0))

    return tf.square(tf.reduce_mean(a) - tf.reduce_mean(b)) + tf.square(std(a) - std(b))


@dataclasses.dataclass
class GaussianStats:
    """Mean [d] and covariance [d, d] (numpy float64) of ``count`` samples."""

    mean: np.ndarray
    covariance: np.ndarray
    count: int

    def save(self, path):
        """Write to ``path`` exactly (no suffix is added)."""
        with open(path, "wb") as f:
            np.savez(f, mean=self.mean, covariance=self.covariance, count=self.count)

    @classmethod
    def load(cls, path):
        with np.load(path) as data:
            return cls(data["mean"], data["covariance"], int(data["count"]))


class FrechetStatistics:
    """Streaming mean and covariance of embeddings, in float64.

    Holds the count, the sum and the sum of outer products as TF variables;
    ``update_state`` adds a batch, ``merge`` adds another accumulator (another
    batch stream or replica), ``result`` gives ``GaussianStats``. The
    covariance uses ddof 1.

    Args:
        dim: embedding size d.
    """

    def __init__(self, dim, name="frechet_statistics"):
        if dim < 1:
            raise ParameterError(f"Expected dim >= 1. Received: dim={dim}")
        self.dim = int(dim)
        self.name = name
        self.count = tf.Variable(0.0, dtype=tf.float64, trainable=False)
        self.total = tf.Variable(tf.zeros([dim], tf.float64), trainable=False)
        self.outer = tf.Variable(tf.zeros([dim, dim], tf.float64), trainable=False)

    def update_state(self, embeddings):
        """Add a batch of embeddings. [shape=(batch, d)]"""
        x = tf.convert_to_tensor(embeddings, tf.float64)
        if x.shape.rank != 2 or x.shape[1] != self.dim:
            raise ParameterError(
                f"Expected embeddings [batch, {self.dim}]. Received: shape={x.shape}"
            )
        self.count.assign_add(tf.cast(tf.shape(x)[0], tf.float64))
        self.total.assign_add(tf.reduce_sum(x, axis=0))
        self.outer.assign_add(tf.matmul(x, x, transpose_a=True))

    def merge(self, other):
        """Add the state of another accumulator of the same size."""
        if other.dim != self.dim:
            raise ParameterError(f"Expected dim={self.dim}. Received: dim={other.dim}")
        self.count.assign_add(other.count)
        self.total.assign_add(other.total)
        self.outer.assign_add(other.outer)

    def reset_state(self):
        for v in (self.count, self.total, self.outer):
            v.assign(tf.zeros_like(v))

    def result(self):
        n = float(self.count.numpy())
        if n < 2:
            raise ParameterError(f"Expected at least 2 samples. Received: {n:.0f}")
        mean = self.total.numpy() / n
        cov = (self.outer.numpy() - n * np.outer(mean, mean)) / (n - 1.0)
        return GaussianStats(mean, 0.5 * (cov + cov.T), int(n))


def gaussian_stats(embeddings):
    """``GaussianStats`` of an array of embeddings. [shape=(n, d)]"""
    embeddings = np.asarray(embeddings)
    acc = FrechetStatistics(embeddings.shape[1])
    acc.update_state(embeddings)
    return acc.result()


def distance_between(a, b):
    """Fréchet distance between two ``GaussianStats``, as a Python float."""
    return float(frechet_distance(a.mean, a.covariance, b.mean, b.covariance))
