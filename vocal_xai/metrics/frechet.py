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

``FrechetStatistics`` is a ``keras.metrics.Metric`` that accumulates the mean
and covariance of a stream of embeddings, in ``Model.evaluate``, a
``tf.function`` or across the replicas of a ``tf.distribute`` strategy, and
merges with others of its kind; ``gaussian_stats`` is its one-call eager form.
``frechet_distance_1d`` is the paper's variant on a single activation.
"""

import dataclasses
import numbers

import keras
import numpy as np
import tensorflow as tf

from vocal_xai.errors import ParameterError


def _sqrt_psd(matrix):
    """Symmetric square root of a PSD matrix (negative eigenvalues clipped;
    batched over leading axes)."""
    eigvals, eigvecs = tf.linalg.eigh(matrix)
    root = tf.sqrt(tf.maximum(eigvals, 0.0))
    return tf.matmul(eigvecs * root[..., None, :], eigvecs, transpose_b=True)


def _trace_sqrt_of_psd(matrix):
    """Tr sqrt(M) for symmetric PSD ``M`` (batched over leading axes): the sum
    of the square roots of its eigenvalues."""
    matrix = 0.5 * (matrix + tf.linalg.matrix_transpose(matrix))
    return tf.reduce_sum(tf.sqrt(tf.maximum(tf.linalg.eigvalsh(matrix), 0.0)), axis=-1)


def _trace_sqrt_product(sigma1, sigma2):
    """Tr sqrt(S1 S2) for symmetric PSD ``S1``, ``S2``, via symmetric forms
    (batched over leading axes, which broadcast)."""
    try:
        # Positive definite S1 (every one of a batch): eigenvalues of S1 S2
        # are those of L^T S2 L.
        factor = tf.linalg.cholesky(sigma1)
        if bool(tf.reduce_all(tf.math.is_finite(factor))):
            return _trace_sqrt_of_psd(tf.matmul(factor, sigma2 @ factor, transpose_a=True))
    except tf.errors.InvalidArgumentError:
        pass
    root1 = _sqrt_psd(sigma1)
    return _trace_sqrt_of_psd(root1 @ sigma2 @ root1)


def _check_stats(mu, sigma, name, batched=False):
    """float64 ``mu`` [d] and ``sigma`` [d, d], or with the same leading
    batch axes on both when ``batched``."""
    mu = tf.convert_to_tensor(mu, tf.float64)
    sigma = tf.convert_to_tensor(sigma, tf.float64)
    if (
        not (mu.shape.rank >= 1 if batched else mu.shape.rank == 1)
        or sigma.shape.rank != mu.shape.rank + 1
        or sigma.shape[-1] != sigma.shape[-2]
        or sigma.shape[-1] != mu.shape[-1]
        or sigma.shape[:-2] != mu.shape[:-1]
    ):
        batch = "..., " if batched else ""
        raise ParameterError(
            f"Expected {name} mean [{batch}d] and covariance [{batch}d, d]. "
            f"Received: mean.shape={mu.shape}, covariance.shape={sigma.shape}"
        )
    return mu, sigma


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    Leading axes are a batch of Gaussians (e.g. several fits against one
    reference), scored in one call; they broadcast between the two sides.

    Args:
        mu1, mu2: means. [shape=(..., d)]
        sigma1, sigma2: covariances. [shape=(..., d, d)]

    Returns:
        float64 tensor, >= 0. [shape=(...)]
    """
    mu1, sigma1 = _check_stats(mu1, sigma1, "first", batched=True)
    mu2, sigma2 = _check_stats(mu2, sigma2, "second", batched=True)
    if mu1.shape[-1] != mu2.shape[-1]:
        raise ParameterError(
            "Expected statistics of the same dimension. "
            f"Received: d={mu1.shape[-1]} and d={mu2.shape[-1]}"
        )
    trace_sqrt = _trace_sqrt_product(0.5 * (sigma1 + tf.linalg.matrix_transpose(sigma1)), sigma2)
    diff = mu1 - mu2
    distance = (
        tf.reduce_sum(diff * diff, axis=-1)
        + tf.linalg.trace(sigma1)
        + tf.linalg.trace(sigma2)
        - 2.0 * trace_sqrt
    )
    return tf.maximum(distance, 0.0)


def frechet_distance_to_samples(samples, mu_ref, sigma_ref):
    """Fréchet distance between the Gaussian fit of ``samples`` and a reference.

    Uses the n x n form of the trace term (fast when n < d). Leading axes are
    a batch of sample sets (e.g. bootstrap resamples), each scored alone. In a
    graph, n may be unknown until it runs.

    Args:
        samples: embeddings, n >= 2. [shape=(..., n, d)]
        mu_ref: reference mean. [shape=(d,)]
        sigma_ref: reference covariance. [shape=(d, d)]

    Returns:
        float64 tensor, >= 0. [shape=(...)]
    """
    mu_ref, sigma_ref = _check_stats(mu_ref, sigma_ref, "reference")
    x = tf.convert_to_tensor(samples, tf.float64)
    if (
        x.shape.rank is None
        or x.shape.rank < 2
        or x.shape[-1] != mu_ref.shape[0]
        or (x.shape[-2] is not None and x.shape[-2] < 2)
    ):
        raise ParameterError(
            f"Expected samples [..., n >= 2, d={mu_ref.shape[0]}]. "
            f"Received: samples.shape={x.shape}"
        )
    n = tf.cast(tf.shape(x)[-2], tf.float64)
    mu = tf.reduce_mean(x, axis=-2, keepdims=True)
    centred = x - mu
    small = centred @ sigma_ref @ tf.linalg.matrix_transpose(centred) / (n - 1.0)
    trace_sqrt = _trace_sqrt_of_psd(small)
    trace_gen = tf.reduce_sum(centred * centred, axis=[-2, -1]) / (n - 1.0)
    diff = mu[..., 0, :] - mu_ref
    distance = (
        tf.reduce_sum(diff * diff, axis=-1)
        + tf.linalg.trace(sigma_ref)
        + trace_gen
        - 2.0 * trace_sqrt
    )
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
    """Mean [d] and covariance [d, d] (numpy float64) of ``count`` samples
    (the sum of the weights, when weighted)."""

    mean: np.ndarray
    covariance: np.ndarray
    count: int | float

    def save(self, path):
        """Write to ``path`` exactly (no suffix is added)."""
        with open(path, "wb") as f:
            np.savez(f, mean=self.mean, covariance=self.covariance, count=self.count)

    @classmethod
    def load(cls, path):
        with np.load(path) as data:
            return cls(data["mean"], data["covariance"], _as_count(data["count"]))


def _as_count(value):
    """A sample count as an int, or as a float when it is a fractional sum of
    weights."""
    value = float(value)
    return int(value) if value.is_integer() else value


def _sum_over_replicas(values):
    """Sum ``values`` over the replicas in sync when called in a replica
    context of a strategy with several replicas (inside ``strategy.run``);
    ``values`` unchanged otherwise."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return values
    return context.all_reduce(tf.distribute.ReduceOp.SUM, values)


def _as_float64(x):
    if tf.is_tensor(x):
        return tf.cast(x, tf.float64)
    return tf.convert_to_tensor(np.asarray(x, np.float64))


@keras.saving.register_keras_serializable(package="vocal_xai")
class FrechetStatistics(keras.metrics.Metric):
    """Streaming mean and covariance of embeddings, in float64.

    The state is the count, the sum and the sum of outer products of the
    embeddings, as float64 metric variables. ``update_state`` adds a batch and
    runs eagerly, in a ``tf.function``, in ``Model.evaluate`` / ``fit`` and
    inside ``strategy.run``: there the sums of each replica's batch are summed
    over the replicas before they are added, so every replica holds the
    statistics of the whole global batch. ``merge_state`` adds the state of
    other ``FrechetStatistics`` (other streams, workers or processes) and
    ``reset_state`` zeros the state.

    ``result`` runs in graph mode too and returns the mean and the covariance
    (ddof 1) as tensors; Keras merges a dict result into the logs by key, so
    a model that tracks two of these metrics returns ``{m.name: m.result()}``
    from its own ``test_step``. ``stats`` is the eager path to a
    ``GaussianStats``.

    Args:
        dim: embedding size d.
        name: name of the metric.

    Example:

    ```python
    accumulator = FrechetStatistics(64)
    for batch in dataset:
        accumulator.update_state(embedding_model(batch))
    reference = accumulator.stats()  # GaussianStats, numpy float64
    ```
    """

    def __init__(self, dim, name="frechet_statistics"):
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim < 1:
            raise ParameterError(f"Expected an integer dim >= 1. Received: dim={dim!r}")
        super().__init__(dtype="float64", name=name)
        self.dim = int(dim)
        # Each replica adds sums already summed over the replicas, so every
        # copy of a mirrored variable takes the same update: a strategy must
        # not aggregate the updates again.
        self.count = self._state((), "count")
        self.total = self._state((self.dim,), "total")
        self.outer = self._state((self.dim, self.dim), "outer")

    def _state(self, shape, name):
        return self.add_variable(
            shape=shape,
            initializer="zeros",
            dtype="float64",
            aggregation="only_first_replica",
            name=name,
        )

    def update_state(self, embeddings, sample_weight=None):
        """Add a batch of embeddings.

        Args:
            embeddings: [shape=(batch, d)]
            sample_weight: optional frequency weight of each embedding, >= 0
                (as ``numpy.cov``'s ``fweights``, not necessarily integers):
                the count becomes the sum of the weights. [shape=(batch,)]
                or [shape=(batch, 1)]
        """
        x = _as_float64(embeddings)
        if x.shape.rank != 2 or x.shape[1] not in (None, self.dim):
            raise ParameterError(
                f"Expected embeddings [batch, {self.dim}]. Received: shape={x.shape}"
            )
        if sample_weight is None:
            count = tf.cast(tf.shape(x)[0], tf.float64)
            total = tf.reduce_sum(x, axis=0)
            outer = tf.matmul(x, x, transpose_a=True)
        else:
            w = _as_float64(sample_weight)
            shape = w.shape
            if shape.rank == 2 and shape[1] == 1:
                w = w[:, 0]
            if w.shape.rank != 1 or not w.shape.is_compatible_with(x.shape[:1]):
                raise ParameterError(
                    f"Expected sample_weight [batch] or [batch, 1] with batch={x.shape[0]}. "
                    f"Received: sample_weight.shape={shape}"
                )
            count = tf.reduce_sum(w)
            total = tf.linalg.matvec(x, w, transpose_a=True)
            outer = tf.matmul(x * w[:, None], x, transpose_a=True)
        count, total, outer = _sum_over_replicas([count, total, outer])
        self.count.assign_add(count)
        self.total.assign_add(total)
        self.outer.assign_add(outer)

    def merge_state(self, metrics):
        """Add the state of other ``FrechetStatistics`` of the same ``dim``.

        Args:
            metrics: an iterable of ``FrechetStatistics``; left unchanged.
        """
        metrics = list(metrics)
        for other in metrics:
            if isinstance(other, FrechetStatistics) and other.dim == self.dim:
                continue
            if isinstance(other, FrechetStatistics):
                received = f"dim={other.dim}"
            else:
                received = type(other).__name__
            raise ParameterError(
                f"Expected FrechetStatistics with dim={self.dim}. Received: {received}"
            )
        for other in metrics:
            for variable, to_add in zip(self.variables, other.variables):
                variable.assign_add(tf.convert_to_tensor(to_add))

    def result(self):
        """Mean and covariance (ddof 1) of the embeddings added so far.

        Returns:
            ``{"mean": [shape=(d,)], "covariance": [shape=(d, d)]}``, float64
            tensors. The covariance is exactly symmetric, and NaN with fewer
            than 2 samples (the mean is NaN with none).
        """
        count = tf.convert_to_tensor(self.count)
        mean = tf.convert_to_tensor(self.total) / count
        scatter = tf.convert_to_tensor(self.outer) - count * (mean[:, None] * mean[None, :])
        covariance = scatter / (count - 1.0)
        covariance = 0.5 * (covariance + tf.transpose(covariance))
        covariance = tf.where(count > 1.0, covariance, tf.constant(np.nan, tf.float64))
        return {"mean": mean, "covariance": covariance}

    def stats(self):
        """The state as a ``GaussianStats`` of numpy arrays (eager only).

        Raises:
            ParameterError: with fewer than 2 samples.
        """
        if not tf.executing_eagerly():
            raise RuntimeError(
                "Expected FrechetStatistics.stats() to run eagerly (in a tf.function, use "
                "result()). Received: a call in graph mode"
            )
        count = float(self.count.numpy())
        if count < 2:
            raise ParameterError(f"Expected at least 2 samples. Received: {count:g}")
        result = self.result()
        return GaussianStats(result["mean"].numpy(), result["covariance"].numpy(), _as_count(count))

    def get_config(self):
        return {"dim": self.dim, "name": self.name}


def gaussian_stats(embeddings):
    """``GaussianStats`` of an array of embeddings, n >= 2. [shape=(n, d)]"""
    embeddings = np.asarray(embeddings, np.float64)
    if embeddings.ndim != 2 or embeddings.shape[1] < 1:
        raise ParameterError(f"Expected embeddings [n, d >= 1]. Received: shape={embeddings.shape}")
    accumulator = FrechetStatistics(embeddings.shape[1])
    accumulator.update_state(embeddings)
    return accumulator.stats()


def distance_between(a, b):
    """Fréchet distance between two ``GaussianStats``, as a Python float."""
    return float(frechet_distance(a.mean, a.covariance, b.mean, b.covariance))
