"""Candidate scores for choosing an activation-maximisation setting.

A setting yields n examples (one per seed), each with a detector embedding
and the explained activation. A ``Reference`` holds K real excerpts with the
same two quantities. Every selector maps ``(embeddings [n, d], activations
[n], ref)`` to one float, and **lower is better** throughout: measures where
higher is better are returned as ``1 - x`` or ``-x``.

- ``paper_1d``: the paper's 1-D Fréchet distance on the activation.
- ``frechet``: the Fréchet distance of the embeddings to the reference
  Gaussian; ``frechet_pca`` the same on the reference's top principal axes.
- ``kid``: the unbiased estimate of the squared maximum mean discrepancy with
  a polynomial kernel (the kernel inception distance, Bińkowski et al. 2018,
  "Demystifying MMD GANs").
- ``precision``, ``recall``: k-NN manifold precision and recall (Kynkäänniemi
  et al. 2019, "Improved precision and recall metric for assessing
  generative models"), as ``1 - precision`` and ``1 - recall``.
- ``density``, ``coverage``: their outlier-robust variants (Naeem et al.
  2020, "Reliable fidelity and diversity metrics for generative models"), as
  ``-density`` and ``1 - coverage``.
- ``frechet_infinity``: the Fréchet distance extrapolated to infinitely many
  examples (Chong & Forsyth 2020, "Effectively unbiased FID and Inception
  Score and where to find them").

The Fréchet distance and the k-NN measures depend on n: the distance of n
examples is biased upwards by a term that shrinks with n, and an example's
k-NN ball, or the share of the reference that n examples can cover, changes
with n. Compare settings with the same number of examples.

``SELECTORS`` maps each name to its function and ``score_all`` computes
several at once.
"""

import dataclasses
import functools
import numbers
import pathlib

import numpy as np
import scipy.spatial.distance

from vocal_xai.errors import ParameterError, check_finite
from vocal_xai.metrics import frechet as frechet_lib

DEFAULT_K = 5  # neighbours of the k-NN measures
DEFAULT_COMPONENTS = 4  # principal axes of frechet_pca
DEFAULT_KERNEL = (3, None, 1.0)  # kid's polynomial kernel: degree, gamma (None: 1 / d), coef0
MANIFOLD_MEASURES = ("precision", "recall", "density", "coverage")


def _check_int(value, name, low, high=None, context=""):
    """``value`` as an int, ``low <= value`` (and ``<= high`` when given)."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    ok = ok and value >= low and (high is None or value <= high)
    if not ok:
        bounds = f"{low} <= {name}" + ("" if high is None else f" <= {high}")
        raise ParameterError(f"Expected an integer {bounds}{context}. Received: {name}={value!r}")
    return int(value)


def _squared_distances(a, b):
    """Squared Euclidean distances, computed from the differences (no
    cancellation for embeddings far from the origin). [shape=(len(a), len(b))]"""
    return scipy.spatial.distance.cdist(a, b, "sqeuclidean")


def _knn_squared_radii(x, k):
    """Squared distance from each row of ``x`` to its k-th nearest other row.
    [shape=(len(x),)]"""
    # The row itself is at distance 0, the first of the sorted row.
    return np.partition(_squared_distances(x, x), k, axis=1)[:, k]


@dataclasses.dataclass(frozen=True, eq=False)
class Reference:
    """K real excerpts: their embeddings and activations, with the statistics
    the selectors use, computed once and cached.

    Build with ``Reference.from_samples``, which also computes the cached
    statistics up front; constructing directly validates the inputs too but
    computes each statistic on first use. The arrays are float64 copies made
    read-only, so the cached statistics stay those of the arrays. Two
    references are equal when their arrays are.

    Attributes:
        embeddings: [shape=(K, d)]
        activations: [shape=(K,)]
    """

    embeddings: np.ndarray
    activations: np.ndarray
    # Statistics that take an argument: k-NN radii by k, kernel means by kernel.
    _cache: dict = dataclasses.field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        embeddings = np.array(self.embeddings, np.float64)
        activations = np.array(self.activations, np.float64)
        if embeddings.ndim != 2 or embeddings.shape[0] < 2 or embeddings.shape[1] < 1:
            raise ParameterError(
                "Expected reference embeddings [K >= 2, d >= 1]. "
                f"Received: embeddings.shape={embeddings.shape}"
            )
        if activations.shape != embeddings.shape[:1]:
            raise ParameterError(
                f"Expected reference activations [K={embeddings.shape[0]}]. "
                f"Received: activations.shape={activations.shape}"
            )
        check_finite(embeddings, "reference embeddings")
        check_finite(activations, "reference activations")
        embeddings.setflags(write=False)
        activations.setflags(write=False)
        object.__setattr__(self, "embeddings", embeddings)
        object.__setattr__(self, "activations", activations)

    @classmethod
    def from_samples(cls, embeddings, activations, k=DEFAULT_K):
        """A reference with its statistics computed.

        Args:
            embeddings: real embeddings, K >= 2. [shape=(K, d)]
            activations: their activations. [shape=(K,)]
            k: the k of the k-NN radii to compute (``None``: none), < K.

        Returns:
            ``Reference``.
        """
        ref = cls(embeddings, activations)
        _ = ref.mean, ref.covariance, ref.principal_axes
        if k is not None:
            ref._knn_squared_radii(k)
        return ref

    def __eq__(self, other):
        if not isinstance(other, Reference):
            return NotImplemented
        return np.array_equal(self.embeddings, other.embeddings) and np.array_equal(
            self.activations, other.activations
        )

    __hash__ = None

    @property
    def size(self):
        """K, the number of reference excerpts."""
        return self.embeddings.shape[0]

    @property
    def dim(self):
        """d, the embedding size."""
        return self.embeddings.shape[1]

    @functools.cached_property
    def mean(self):
        """Mean embedding. [shape=(d,)]"""
        return np.mean(self.embeddings, axis=0)

    @functools.cached_property
    def covariance(self):
        """Covariance of the embeddings (ddof 1), exactly symmetric. [shape=(d, d)]"""
        centred = self.embeddings - self.mean
        covariance = centred.T @ centred / (self.size - 1.0)
        return 0.5 * (covariance + covariance.T)

    @functools.cached_property
    def _eigen(self):
        eigenvalues, axes = np.linalg.eigh(self.covariance)
        eigenvalues, axes = eigenvalues[::-1], axes[:, ::-1]
        # Sign convention: the largest component of each axis is positive.
        largest = np.argmax(np.abs(axes), axis=0)
        axes = axes * np.sign(axes[largest, np.arange(self.dim)])[None, :]
        return np.maximum(eigenvalues, 0.0), axes

    @property
    def eigenvalues(self):
        """Variances along the principal axes, descending. [shape=(d,)]"""
        return self._eigen[0]

    @property
    def principal_axes(self):
        """Principal axes of the covariance as columns, by descending
        variance. [shape=(d, d)]"""
        return self._eigen[1]

    def _knn_squared_radii(self, k):
        k = _check_int(k, "k", 1, self.size - 1, f" (K={self.size} reference excerpts)")
        key = ("knn", k)
        if key not in self._cache:
            self._cache[key] = _knn_squared_radii(self.embeddings, k)
        return self._cache[key]

    def knn_radii(self, k=DEFAULT_K):
        """Distance from each reference excerpt to its k-th nearest other
        reference excerpt, the radius of its k-NN ball. [shape=(K,)]"""
        return np.sqrt(self._knn_squared_radii(k))

    def _kernel_mean(self, degree, gamma, coef0):
        """Mean of the polynomial kernel over pairs of distinct reference
        excerpts (the diagonal left out)."""
        key = ("kernel", degree, gamma, coef0)
        if key not in self._cache:
            kernel = (gamma * (self.embeddings @ self.embeddings.T) + coef0) ** degree
            off_diagonal = np.sum(kernel) - np.trace(kernel)
            self._cache[key] = off_diagonal / (self.size * (self.size - 1.0))
        return self._cache[key]

    def save(self, path):
        """Write the embeddings and activations to ``path`` (one .npz, written
        to a temporary file then renamed)."""
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez(f, embeddings=self.embeddings, activations=self.activations)
        tmp.replace(path)

    @classmethod
    def load(cls, path, k=DEFAULT_K):
        """Read a reference written by ``save``; ``k`` as in ``from_samples``."""
        with np.load(path) as data:
            return cls.from_samples(data["embeddings"], data["activations"], k)


def _check_embeddings(embeddings, ref):
    x = np.asarray(embeddings, np.float64)
    if x.ndim != 2 or x.shape[1] != ref.dim:
        raise ParameterError(
            f"Expected embeddings [n, d={ref.dim}]. Received: embeddings.shape={x.shape}"
        )
    if x.shape[0] < 2:
        raise ParameterError(f"Expected at least 2 examples. Received: n={x.shape[0]}")
    return check_finite(x, "embeddings")


def _check_examples(embeddings, activations, ref):
    """The examples as float64 arrays ``(x [n, d], a [n])``, validated."""
    x = _check_embeddings(embeddings, ref)
    a = np.asarray(activations, np.float64)
    if a.shape != x.shape[:1]:
        raise ParameterError(
            f"Expected activations [n={x.shape[0]}]. Received: activations.shape={a.shape}"
        )
    return x, check_finite(a, "activations")


def _frechet_to(x, mean, covariance):
    """Fréchet distance between the Gaussian fit of ``x`` [n, d] and
    ``N(mean, covariance)``, as a float.

    With n <= d, the n x n form of ``frechet_distance_to_samples``. With
    n > d, the d x d form of ``frechet_distance``: the fitted covariance then
    has full rank, while the n x n matrix has at least n - d zero
    eigenvalues, each computed as a rounding error of about 1e-16 times the
    scale of the covariances and adding its square root, 1e-8 times that
    scale, to the trace term.
    """
    n, d = x.shape
    if n <= d:
        return float(frechet_lib.frechet_distance_to_samples(x, mean, covariance))
    fitted_mean = np.mean(x, axis=0)
    centred = x - fitted_mean
    fitted = centred.T @ centred / (n - 1.0)
    fitted = 0.5 * (fitted + fitted.T)
    return float(frechet_lib.frechet_distance(mean, covariance, fitted_mean, fitted))


def paper_1d(embeddings, activations, ref):
    """The paper's 1-D Fréchet distance between the examples' activations and
    the reference activations, ``(mu - mu_ref)^2 + (s - s_ref)^2``.

    Args:
        embeddings: the examples' embeddings (checked, not used). [shape=(n, d)]
        activations: the examples' activations. [shape=(n,)]
        ref: a ``Reference``.

    Returns:
        float, >= 0.
    """
    _, a = _check_examples(embeddings, activations, ref)
    return float(frechet_lib.frechet_distance_1d(a, ref.activations))


def frechet(embeddings, activations, ref):
    """Fréchet distance between the Gaussian fit of the embeddings and the
    reference Gaussian.

    Args:
        embeddings: [shape=(n, d)]
        activations: [shape=(n,)] (checked, not used)
        ref: a ``Reference``.

    Returns:
        float, >= 0.
    """
    x, _ = _check_examples(embeddings, activations, ref)
    return _frechet_to(x, ref.mean, ref.covariance)


def frechet_pca(embeddings, activations, ref, components=DEFAULT_COMPONENTS):
    """Fréchet distance on the reference's top principal axes.

    The examples and the reference are centred on the reference mean and
    projected onto the ``components`` axes of largest reference variance;
    the distance ignores the other directions. With ``components = d`` it
    equals ``frechet``.

    Args:
        embeddings: [shape=(n, d)]
        activations: [shape=(n,)] (checked, not used)
        ref: a ``Reference``.
        components: number of axes, 1 <= components <= d.

    Returns:
        float, >= 0.
    """
    x, _ = _check_examples(embeddings, activations, ref)
    components = _check_int(components, "components", 1, ref.dim)
    axes = ref.principal_axes[:, :components]
    covariance = axes.T @ ref.covariance @ axes
    return _frechet_to(
        (x - ref.mean) @ axes, np.zeros(components), 0.5 * (covariance + covariance.T)
    )


def _kernel_options(degree, gamma, coef0, dim):
    degree = _check_int(degree, "degree", 1)
    if gamma is None:
        gamma = 1.0 / dim
    if not (isinstance(gamma, numbers.Real) and np.isfinite(gamma) and gamma > 0):
        raise ParameterError(f"Expected a finite gamma > 0 or None. Received: gamma={gamma!r}")
    if not (isinstance(coef0, numbers.Real) and np.isfinite(coef0) and coef0 >= 0):
        raise ParameterError(f"Expected a finite coef0 >= 0. Received: coef0={coef0!r}")
    return degree, float(gamma), float(coef0)


def kid(
    embeddings,
    activations,
    ref,
    degree=DEFAULT_KERNEL[0],
    gamma=DEFAULT_KERNEL[1],
    coef0=DEFAULT_KERNEL[2],
):
    """Kernel inception distance: the unbiased estimate of the squared MMD
    between the examples and the reference, with the polynomial kernel
    ``k(x, y) = (gamma x.y + coef0)^degree`` (Bińkowski et al. 2018).

    ``mean_{i != j} k(x_i, x_j) + mean_{i != j} k(y_i, y_j) - 2 mean k(x_i, y_j)``:
    the within-set means leave the diagonal out, so the estimate is unbiased
    and can be negative when the two distributions are close.

    Args:
        embeddings: [shape=(n, d)]
        activations: [shape=(n,)] (checked, not used)
        ref: a ``Reference``.
        degree: integer >= 1.
        gamma: > 0; ``None`` for ``1 / d``.
        coef0: >= 0 (the kernel is then positive definite).

    Returns:
        float.
    """
    x, _ = _check_examples(embeddings, activations, ref)
    degree, gamma, coef0 = _kernel_options(degree, gamma, coef0, ref.dim)
    n = x.shape[0]
    within = (gamma * (x @ x.T) + coef0) ** degree
    within = (np.sum(within) - np.trace(within)) / (n * (n - 1.0))
    between = np.mean((gamma * (x @ ref.embeddings.T) + coef0) ** degree)
    return float(within + ref._kernel_mean(degree, gamma, coef0) - 2.0 * between)


def _in_reference_balls(x, ref, k):
    """``inside[i, j]``: example i lies in the closed k-NN ball of reference
    excerpt j. [shape=(n, K)]"""
    radii = ref._knn_squared_radii(k)
    return _squared_distances(x, ref.embeddings) <= radii[None, :]


def _recall(x, ref, k):
    k = _check_int(k, "k", 1, x.shape[0] - 1, f" (n={x.shape[0]} examples, for recall)")
    radii = _knn_squared_radii(x, k)
    inside = _squared_distances(x, ref.embeddings) <= radii[:, None]
    return float(np.mean(np.any(inside, axis=0)))


def manifold_measures(embeddings, ref, k=DEFAULT_K):
    """k-NN precision, recall, density and coverage of the examples against
    the reference (higher is better for each).

    The k-NN ball of a point is the closed ball around it that reaches its
    k-th nearest neighbour in its own set.

    - precision: the share of examples in at least one reference ball
      (Kynkäänniemi et al. 2019).
    - recall: the share of reference excerpts in at least one example ball
      (Kynkäänniemi et al. 2019). Example balls come from n examples only:
      a few outlying examples have large balls, and few examples large balls
      all round.
    - density: the number of reference balls holding an example, summed over
      the examples and divided by ``k n`` (Naeem et al. 2020): about 1 for
      examples from the reference distribution, more where they crowd the
      dense regions, unbounded above.
    - coverage: the share of reference balls that hold at least one example
      (Naeem et al. 2020). With n much smaller than K it stays well below 1
      even for examples from the reference distribution.

    Args:
        embeddings: [shape=(n, d)], n > k.
        ref: a ``Reference``, K > k.
        k: neighbours, >= 1.

    Returns:
        dict with float values for ``"precision"``, ``"recall"``,
        ``"density"``, ``"coverage"``.
    """
    x = _check_embeddings(embeddings, ref)
    recall_value = _recall(x, ref, k)
    inside = _in_reference_balls(x, ref, k)
    return {
        "precision": _precision(inside),
        "recall": recall_value,
        "density": _density(inside, k),
        "coverage": _coverage(inside),
    }


def _precision(inside):
    """Share of examples inside some reference ball (``inside``: [n, K])."""
    return float(np.mean(np.any(inside, axis=1)))


def _density(inside, k):
    """Reference balls holding each example, over k, averaged over examples."""
    return float(np.sum(inside) / (k * inside.shape[0]))


def _coverage(inside):
    """Share of reference balls that hold some example."""
    return float(np.mean(np.any(inside, axis=0)))


def precision(embeddings, activations, ref, k=DEFAULT_K):
    """``1 - precision``: the share of examples outside every reference k-NN
    ball (see ``manifold_measures``). In [0, 1].

    Args:
        embeddings: [shape=(n, d)]
        activations: [shape=(n,)] (checked, not used)
        ref: a ``Reference``, K > k.
        k: neighbours, >= 1.
    """
    x, _ = _check_examples(embeddings, activations, ref)
    return 1.0 - _precision(_in_reference_balls(x, ref, k))


def recall(embeddings, activations, ref, k=DEFAULT_K):
    """``1 - recall``: the share of reference excerpts outside every example
    k-NN ball (see ``manifold_measures``). In [0, 1].

    Args:
        embeddings: [shape=(n, d)], n > k.
        activations: [shape=(n,)] (checked, not used)
        ref: a ``Reference``.
        k: neighbours, >= 1.
    """
    x, _ = _check_examples(embeddings, activations, ref)
    return 1.0 - _recall(x, ref, k)


def density(embeddings, activations, ref, k=DEFAULT_K):
    """``-density`` (see ``manifold_measures``). In [-K / k, 0].

    Args:
        embeddings: [shape=(n, d)]
        activations: [shape=(n,)] (checked, not used)
        ref: a ``Reference``, K > k.
        k: neighbours, >= 1.
    """
    x, _ = _check_examples(embeddings, activations, ref)
    # 0.0 - x rather than -x: no -0.0 when no example lies in a ball.
    return 0.0 - _density(_in_reference_balls(x, ref, k), k)


def coverage(embeddings, activations, ref, k=DEFAULT_K):
    """``1 - coverage``: the share of reference k-NN balls that hold no
    example (see ``manifold_measures``). In [0, 1].

    Args:
        embeddings: [shape=(n, d)]
        activations: [shape=(n,)] (checked, not used)
        ref: a ``Reference``, K > k.
        k: neighbours, >= 1.
    """
    x, _ = _check_examples(embeddings, activations, ref)
    return 1.0 - _coverage(_in_reference_balls(x, ref, k))


def default_sizes(n, count=5):
    """Subset sizes for ``frechet_infinity``: up to ``count`` sizes evenly
    spaced from ``n // 2`` to ``n`` (n >= 4). [shape=(<= count,)]"""
    n = _check_int(n, "n", 4)
    return np.unique(np.round(np.linspace(n // 2, n, count)).astype(np.int64))


def frechet_infinity(embeddings, activations, ref, sizes=None, draws=50, seed=0):
    """Fréchet distance extrapolated to infinitely many examples (Chong &
    Forsyth 2020).

    The distance of m examples is biased upwards by about ``b / m``. For
    each size m, the distance is averaged over ``draws`` random subsets of m
    examples (without replacement); a least-squares line
    ``FD = a + b / m`` through the averages gives the intercept ``a``, the
    distance at ``1 / m = 0``. ``a`` can be negative.

    The ``b / m`` law holds for m much larger than d. With m near or below
    d (16 to 50 seeds of a dense-64 embedding) the bias has larger terms in
    ``1 / m^2`` and beyond, and the line removes only part of it (m < d) or
    overshoots a little (m a few times d); ``a`` ranks settings with the
    same n, but is not an unbiased distance.

    Args:
        embeddings: [shape=(n, d)], n >= 4.
        activations: [shape=(n,)] (checked, not used)
        ref: a ``Reference``.
        sizes: subset sizes, at least 2 distinct, each in [2, n]; ``None``
            for ``default_sizes(n)``.
        draws: random subsets per size, >= 1.
        seed: seed of the subsets; the result is a function of the inputs
            and the seed.

    Returns:
        float.
    """
    x, _ = _check_examples(embeddings, activations, ref)
    n = x.shape[0]
    if n < 4:
        raise ParameterError(f"Expected at least 4 examples for frechet_infinity. Received: n={n}")
    if sizes is None:
        sizes = default_sizes(n)
    else:
        given = np.asarray(sizes)
        if (
            given.ndim != 1
            or not np.issubdtype(given.dtype, np.integer)
            or np.any(given < 2)
            or np.any(given > n)
            or len(np.unique(given)) < 2
        ):
            raise ParameterError(
                f"Expected at least 2 distinct integer sizes in [2, n={n}]. "
                f"Received: sizes={sizes!r}"
            )
        sizes = np.unique(given)
    draws = _check_int(draws, "draws", 1)
    rng = np.random.default_rng(seed)
    # One random order of the examples per draw; a subset of size m is the
    # first m of an order.
    orders = np.argsort(rng.random((len(sizes), draws, n)), axis=-1)
    averages = np.array(
        [
            np.mean(
                frechet_lib.frechet_distance_to_samples(
                    x[order[:, :m]], ref.mean, ref.covariance
                ).numpy()
            )
            for order, m in zip(orders, sizes)
        ]
    )
    design = np.stack([np.ones(len(sizes)), 1.0 / sizes], axis=1)
    (intercept, _), *_ = np.linalg.lstsq(design, averages, rcond=None)
    return float(intercept)


SELECTORS = {
    "paper_1d": paper_1d,
    "frechet": frechet,
    "frechet_pca": frechet_pca,
    "kid": kid,
    "precision": precision,
    "recall": recall,
    "density": density,
    "coverage": coverage,
    "frechet_infinity": frechet_infinity,
}


def score_all(embeddings, activations, ref, names=None):
    """Several selectors with their default options, lower is better.

    Args:
        embeddings: [shape=(n, d)]
        activations: [shape=(n,)]
        ref: a ``Reference``.
        names: a list of names from ``SELECTORS``; ``None`` for all of them.

    Returns:
        dict name -> float, in the order of ``names``.
    """
    if names is None:
        names = list(SELECTORS)
    unknown = (
        [names] if isinstance(names, str) else [name for name in names if name not in SELECTORS]
    )
    if unknown:
        raise ParameterError(
            f"Expected a list of names among {sorted(SELECTORS)}. Received: names={names!r}"
        )
    x, a = _check_examples(embeddings, activations, ref)
    return {name: SELECTORS[name](x, a, ref) for name in names}
