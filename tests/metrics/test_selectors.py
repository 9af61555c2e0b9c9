"""Tests for the candidate selectors of an activation-maximisation setting,
on synthetic Gaussians."""

import numpy as np
import pytest

from vocal_xai.errors import ParameterError
from vocal_xai.metrics import frechet as frechet_lib
from vocal_xai.metrics import selectors

D, K, N = 64, 1000, 20  # the detector's dense-64 embedding, reference size, seeds


def _mixing(rng, d):
    """A random rotation of axes with standard deviations from 2 to 0.5. [shape=(d, d)]"""
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return rotation * np.linspace(2.0, 0.5, d)[None, :]


class _Source:
    """Gaussian embeddings ``z @ mixing.T + t * direction`` and activations
    ``N(3 + 3 t, 1)``, for a shift ``t`` in standard deviations along every
    axis."""

    def __init__(self, rng, d=D):
        self.rng = rng
        self.mixing = _mixing(rng, d)
        self.direction = self.mixing @ np.ones(d)

    def draw(self, n, shift=0.0, noise=None):
        noise = self.rng.standard_normal((n, len(self.mixing))) if noise is None else noise
        embeddings = noise @ self.mixing.T + shift * self.direction
        activations = self.rng.normal(3.0 + 3.0 * shift, 1.0, n)
        return embeddings, activations


@pytest.fixture(scope="module")
def source():
    return _Source(np.random.default_rng(0))


@pytest.fixture(scope="module")
def ref(source):
    return selectors.Reference.from_samples(*source.draw(K))


def _whitened(rng, m, d):
    """m samples whose sample mean is exactly 0 and sample covariance exactly I."""
    z = rng.standard_normal((m, d))
    z -= z.mean(axis=0)
    factor = np.linalg.cholesky(np.cov(z, rowvar=False))
    return np.linalg.solve(factor, z.T).T


# ------------------------------------------------------------- all selectors


@pytest.mark.parametrize("name", list(selectors.SELECTORS))
def test_same_distribution_scores_lower_than_a_shifted_one(name, source, ref):
    rng = np.random.default_rng(1)
    near = source.draw(N, noise=rng.standard_normal((N, D)))
    far = source.draw(N, shift=1.0, noise=rng.standard_normal((N, D)))
    select = selectors.SELECTORS[name]
    assert select(*near, ref) < select(*far, ref)


@pytest.mark.parametrize("name", ["frechet", "frechet_pca", "kid", "frechet_infinity"])
def test_scores_grow_with_the_shift(name, source, ref):
    noise = np.random.default_rng(2).standard_normal((N, D))
    select = selectors.SELECTORS[name]
    scores = [select(*source.draw(N, shift, noise), ref) for shift in (0.0, 0.3, 0.6, 1.2)]
    assert all(a < b for a, b in zip(scores, scores[1:])), scores


def test_score_all_returns_every_selector_as_a_finite_float(source, ref):
    scores = selectors.score_all(*source.draw(N), ref)
    assert list(scores) == list(selectors.SELECTORS)
    assert all(type(v) is float and np.isfinite(v) for v in scores.values())
    some = selectors.score_all(*source.draw(N), ref, names=["kid", "paper_1d"])
    assert list(some) == ["kid", "paper_1d"]


def test_frechet_and_paper_1d_are_the_frechet_module_distances(source, ref):
    embeddings, activations = source.draw(N, shift=0.5)
    expected = frechet_lib.frechet_distance_to_samples(embeddings, ref.mean, ref.covariance)
    assert selectors.frechet(embeddings, activations, ref) == pytest.approx(float(expected))
    expected = frechet_lib.frechet_distance_1d(activations, ref.activations)
    assert selectors.paper_1d(embeddings, activations, ref) == pytest.approx(float(expected))
    # More examples than dimensions (the d x d form): the same distance.
    embeddings, activations = source.draw(3 * D, shift=0.5)
    expected = frechet_lib.frechet_distance_to_samples(embeddings, ref.mean, ref.covariance)
    assert selectors.frechet(embeddings, activations, ref) == pytest.approx(
        float(expected), rel=1e-6
    )


# ---------------------------------------------------------------- frechet_pca


@pytest.mark.parametrize("d, n", [(64, 20), (8, 40)])
def test_frechet_pca_on_every_axis_equals_frechet(d, n):
    source = _Source(np.random.default_rng(3), d)
    ref = selectors.Reference.from_samples(*source.draw(300))
    examples = source.draw(n, shift=0.4)
    full = selectors.frechet(*examples, ref)
    assert full > 1.0
    np.testing.assert_allclose(selectors.frechet_pca(*examples, ref, components=d), full, rtol=1e-8)
    # A projection of both distributions can only bring them closer.
    by_components = [selectors.frechet_pca(*examples, ref, components=c) for c in range(1, d + 1)]
    assert np.all(np.diff(by_components) >= -1e-9 * full)
    assert by_components[0] < by_components[-1]


def test_frechet_pca_is_invariant_to_a_rotation_of_both_sets(source, ref):
    rng = np.random.default_rng(4)
    rotation, _ = np.linalg.qr(rng.standard_normal((D, D)))
    rotated_ref = selectors.Reference.from_samples(ref.embeddings @ rotation.T, ref.activations)
    embeddings, activations = source.draw(N, shift=0.3)
    for components in (1, 4, 16, D):
        plain = selectors.frechet_pca(embeddings, activations, ref, components=components)
        rotated = selectors.frechet_pca(
            embeddings @ rotation.T, activations, rotated_ref, components=components
        )
        assert plain > 0.01
        np.testing.assert_allclose(rotated, plain, rtol=1e-8)


# ------------------------------------------------------------------------ kid


def _polynomial(a, b, degree, gamma, coef0):
    return (gamma * float(np.dot(a, b)) + coef0) ** degree


def _kid_double_loop(x, y, degree, gamma, coef0):
    """The unbiased MMD^2 written out pair by pair."""
    n, m = len(x), len(y)
    xx = sum(
        _polynomial(x[i], x[j], degree, gamma, coef0) for i in range(n) for j in range(n) if i != j
    )
    yy = sum(
        _polynomial(y[i], y[j], degree, gamma, coef0) for i in range(m) for j in range(m) if i != j
    )
    xy = sum(_polynomial(x[i], y[j], degree, gamma, coef0) for i in range(n) for j in range(m))
    return xx / (n * (n - 1)) + yy / (m * (m - 1)) - 2 * xy / (n * m)


@pytest.mark.parametrize(
    "n, options",
    [
        (3, {}),
        (3, {"degree": 2, "gamma": 0.7, "coef0": 0.3}),
        (2, {"degree": 1, "gamma": 2.0, "coef0": 0}),
    ],
)
def test_kid_equals_a_double_loop(n, options):
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(n, 2)), rng.normal(0.5, 1.5, size=(4, 2))
    ref = selectors.Reference.from_samples(y, np.zeros(4), k=None)
    expected = _kid_double_loop(
        x,
        y,
        options.get("degree", 3),
        options.get("gamma", 1 / 2),
        options.get("coef0", 1),
    )
    assert abs(expected) > 0.01
    got = selectors.kid(x, np.zeros(n), ref, **options)
    assert abs(got - expected) <= 1e-12
    # Once more from the reference's cached kernel mean.
    assert selectors.kid(x, np.zeros(n), ref, **options) == got


def test_kid_is_unbiased_where_the_estimate_with_the_diagonal_is_not():
    rng = np.random.default_rng(6)
    d, k_ref, n, draws = 8, 200, 20, 200
    unbiased, biased = np.empty(draws), np.empty(draws)
    for i in range(draws):
        y, x = rng.standard_normal((k_ref, d)), rng.standard_normal((n, d))
        ref = selectors.Reference(y, np.zeros(k_ref))
        unbiased[i] = selectors.kid(x, np.zeros(n), ref)
        # Every pair, the diagonal included (a V-statistic).
        kxx, kyy, kxy = ((a @ b.T / d + 1.0) ** 3 for a, b in ((x, x), (y, y), (x, y)))
        biased[i] = kxx.mean() + kyy.mean() - 2.0 * kxy.mean()
    error = unbiased.std(ddof=1) / np.sqrt(draws)
    assert abs(unbiased.mean()) <= 3.0 * error, (unbiased.mean(), error)
    assert unbiased.min() < 0.0  # the unbiased estimate goes negative
    biased_error = biased.std(ddof=1) / np.sqrt(draws)
    assert biased.mean() > 10.0 * biased_error and biased.mean() > 10.0 * error
    assert np.all(biased > unbiased)


# ------------------------------------------------ precision, recall, density, coverage


def test_manifold_measures_on_a_case_worked_by_hand():
    # k = 1; squared distances throughout (all exact in float64, no ties).
    # Reference y1 (0, 0), y2 (2, 0), y3 (0, 3), y4 (10, 0). Each one's
    # nearest other: y1 -> y2 at 4, y2 -> y1 at 4, y3 -> y1 at 9,
    # y4 -> y2 at 64: ball radii^2 4, 4, 9, 64 (y4, an outlier, has a big one).
    reference = np.array([[0, 0], [2, 0], [0, 3], [10, 0]], np.float64)
    # Examples and the reference balls that hold them:
    #   x1 (1, 0):    y1 1 <= 4, y2 1 <= 4, y3 10 > 9, y4 81 > 64   -> 2 balls
    #   x2 (1.5, -1): y1 3.25 <= 4, y2 1.25 <= 4, y3 18.25, y4 73.25 -> 2 balls
    #   x3 (7, 0):    only y4, 9 <= 64 (the outlier's ball)           -> 1 ball
    #   x4 (0, -20):  nearest y1 at 400, y4 at 500 > 64               -> 0
    #   x5 (-30, 0):  y1 900, y3 909, y2 1024, y4 1600                -> 0
    examples = np.array([[1, 0], [1.5, -1], [7, 0], [0, -20], [-30, 0]], np.float64)
    # precision = 3/5 (x1, x2, x3 in some ball).
    # density = (2 + 2 + 1 + 0 + 0) / (k n) = 5 / 5 = 1.
    # coverage: y1, y2 (x1), y4 (x3) hold an example; y3 (nearest x1 at
    # 10 > 9) none: 3/4.
    # recall uses the examples' balls. Squared distances between examples:
    # x1-x2 1.25, x1-x3 36, x1-x4 401, x1-x5 961, x2-x3 31.25, x2-x4 363.25,
    # x2-x5 993.25, x3-x4 449, x3-x5 1369, x4-x5 1300: radii^2 1.25, 1.25,
    # 31.25, 363.25, 961. y1 and y2 are within 1 of x1, y4 within 9 of x3,
    # and y3 within 909 <= 961 of x5: the outlying x5's big ball gives
    # recall 4/4.
    ref = selectors.Reference.from_samples(reference, np.zeros(4), k=1)
    np.testing.assert_array_equal(ref.knn_radii(1) ** 2, [4.0, 4.0, 9.0, 64.0])
    measures = selectors.manifold_measures(examples, ref, k=1)
    assert measures == {"precision": 0.6, "recall": 1.0, "density": 1.0, "coverage": 0.75}
    # Without x5, y3 is in no example ball (x1 at 10 > 1.25, x2 at 18.25 >
    # 1.25, x3 at 58 > 31.25, x4 at 529 > 363.25): recall 3/4.
    assert selectors.manifold_measures(examples[:4], ref, k=1)["recall"] == 0.75
    activations = np.zeros(5)
    assert selectors.precision(examples, activations, ref, k=1) == pytest.approx(0.4)
    assert selectors.recall(examples, activations, ref, k=1) == 0.0
    assert selectors.density(examples, activations, ref, k=1) == -1.0
    assert selectors.coverage(examples, activations, ref, k=1) == 0.25


def test_balls_are_closed():
    # Reference (0, 0), (2, 0), (5, 0), k = 1: radii^2 4, 4, 9. The example
    # (0, -2) is at 4 from (0, 0), on its ball's boundary (and at 8 and 29
    # from the others); (5, 3) is at 9 from (5, 0), on that ball's boundary
    # (and at 18 and 34 from the others); (100, 0) is far from all. Closed
    # balls hold the first two: precision, density and coverage are 2/3
    # (open balls would give 0).
    ref = selectors.Reference.from_samples(
        np.array([[0, 0], [2, 0], [5, 0]], np.float64), np.zeros(3), k=1
    )
    examples = np.array([[0, -2], [5, 3], [100, 0]], np.float64)
    measures = selectors.manifold_measures(examples, ref, k=1)
    assert measures["precision"] == pytest.approx(2 / 3)
    assert measures["density"] == pytest.approx(2 / 3)
    assert measures["coverage"] == pytest.approx(2 / 3)


def test_manifold_measures_of_the_same_and_of_a_far_distribution():
    source = _Source(np.random.default_rng(7), 8)
    ref = selectors.Reference.from_samples(*source.draw(500))
    same = selectors.manifold_measures(source.draw(500)[0], ref)
    assert same["precision"] > 0.85 and same["recall"] > 0.85
    assert same["coverage"] > 0.9
    assert 0.8 < same["density"] < 1.2
    far_embeddings, far_activations = source.draw(50, shift=10.0)
    far = selectors.manifold_measures(far_embeddings, ref)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    scores = [
        selectors.SELECTORS[name](far_embeddings, far_activations, ref)
        for name in selectors.MANIFOLD_MEASURES
    ]
    assert scores == [1.0, 1.0, 0.0, 1.0]


def test_knn_radii_match_a_sort_of_all_distances(source):
    ref = selectors.Reference.from_samples(*source.draw(200))
    distances = np.linalg.norm(ref.embeddings[:, None, :] - ref.embeddings[None, :, :], axis=-1)
    ordered = np.sort(distances, axis=1)  # column 0 is the excerpt itself
    np.testing.assert_allclose(ref.knn_radii(5), ordered[:, 5], rtol=1e-10)
    np.testing.assert_allclose(ref.knn_radii(2), ordered[:, 2], rtol=1e-10)


# ----------------------------------------------------------- frechet_infinity


def test_frechet_infinity_is_closer_to_the_true_distance_than_frechet():
    # The reference is whitened to mean 0 and covariance I exactly and the
    # examples come from N(delta, I): the true distance is ||delta||^2.
    rng = np.random.default_rng(8)
    d, n, repeats = 8, 20, 20
    ref = selectors.Reference.from_samples(_whitened(rng, 500, d), np.zeros(500))
    np.testing.assert_allclose(ref.covariance, np.eye(d), atol=1e-12)
    delta = np.full(d, 0.25)
    truth = delta @ delta
    plain, extrapolated = [], []
    for _ in range(repeats):
        x = rng.standard_normal((n, d)) + delta
        plain.append(selectors.frechet(x, np.zeros(n), ref))
        extrapolated.append(selectors.frechet_infinity(x, np.zeros(n), ref))
    plain_error = abs(np.mean(plain) - truth)
    extrapolated_error = abs(np.mean(extrapolated) - truth)
    assert np.mean(plain) > truth + 1.0  # the plain distance is biased upwards
    assert extrapolated_error < 0.5 * plain_error, (np.mean(plain), np.mean(extrapolated))


def test_frechet_infinity_is_the_intercept_of_a_line_through_subset_distances(source, ref):
    embeddings, activations = source.draw(N, shift=0.3)
    # Sizes n - 1 and n, one draw each: the subset of n is every example, the
    # one of n - 1 leaves one out. The line FD = a + b / m through the two
    # distances meets 1 / m = 0 at a.
    at_n = selectors.frechet(embeddings, activations, ref)
    left_out = np.array(
        [
            selectors.frechet(np.delete(embeddings, i, axis=0), activations[1:], ref)
            for i in range(N)
        ]
    )
    slopes = (left_out - at_n) / (1.0 / (N - 1) - 1.0 / N)
    intercepts = at_n - slopes / N
    for seed in range(3):
        got = selectors.frechet_infinity(
            embeddings, activations, ref, sizes=[N - 1, N], draws=1, seed=seed
        )
        # The difference of the two distances is divided by 1/(n-1) - 1/n: a
        # rounding error of the distances (about 1e-7) grows 20 times.
        assert np.sum(np.abs(intercepts - got) < 1e-4) == 1
    # With every draw, the line through the averages.
    got = selectors.frechet_infinity(embeddings, activations, ref, sizes=[N - 1, N], draws=400)
    expected = at_n - np.mean(slopes) / N
    assert abs(got - expected) < 0.1 * np.std(intercepts)


def test_frechet_infinity_is_deterministic_for_a_seed(source, ref):
    examples = source.draw(N)
    first = selectors.frechet_infinity(*examples, ref, seed=3)
    assert selectors.frechet_infinity(*examples, ref, seed=3) == first
    assert selectors.frechet_infinity(*examples, ref, seed=4) != first


def test_default_sizes():
    np.testing.assert_array_equal(selectors.default_sizes(16), [8, 10, 12, 14, 16])
    np.testing.assert_array_equal(selectors.default_sizes(50), [25, 31, 38, 44, 50])
    np.testing.assert_array_equal(selectors.default_sizes(4), [2, 3, 4])


# ------------------------------------------------------------------ Reference


def test_reference_statistics(ref):
    np.testing.assert_allclose(ref.mean, ref.embeddings.mean(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        ref.covariance, np.cov(ref.embeddings, rowvar=False), rtol=1e-10, atol=1e-12
    )
    assert (ref.size, ref.dim) == (K, D)
    assert np.all(np.diff(ref.eigenvalues) <= 0)
    axes = ref.principal_axes
    np.testing.assert_allclose(axes.T @ axes, np.eye(D), atol=1e-10)
    np.testing.assert_allclose(
        (axes * ref.eigenvalues) @ axes.T, ref.covariance, rtol=1e-9, atol=1e-10
    )
    with pytest.raises(ValueError, match="read-only"):
        ref.embeddings[0, 0] = 1.0


def test_reference_keeps_its_own_copy():
    rng = np.random.default_rng(9)
    embeddings, activations = rng.normal(size=(30, 4)), rng.normal(size=30)
    ref = selectors.Reference.from_samples(embeddings, activations)
    mean = ref.mean.copy()
    embeddings += 100.0
    np.testing.assert_array_equal(ref.mean, mean)
    assert ref.embeddings.dtype == ref.activations.dtype == np.float64


def test_reference_save_load_round_trip(tmp_path, ref):
    path = tmp_path / "refs" / "reference.npz"
    ref.save(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["reference.npz"]
    loaded = selectors.Reference.load(path)
    assert loaded == ref and loaded is not ref
    np.testing.assert_array_equal(loaded.embeddings, ref.embeddings)
    np.testing.assert_array_equal(loaded.activations, ref.activations)
    np.testing.assert_array_equal(loaded.covariance, ref.covariance)
    np.testing.assert_array_equal(loaded.knn_radii(), ref.knn_radii())
    other = selectors.Reference(ref.embeddings, ref.activations + 1.0)
    assert loaded != other


# ----------------------------------------------------------------- validation


def test_examples_are_validated(source, ref):
    embeddings, activations = source.draw(N)
    with pytest.raises(ParameterError, match=r"d=64\]. Received: embeddings.shape=\(20, 32\)"):
        selectors.frechet(embeddings[:, :32], activations, ref)
    with pytest.raises(ParameterError, match=r"Received: embeddings.shape=\(64,\)"):
        selectors.kid(embeddings[0], activations, ref)
    with pytest.raises(ParameterError, match=r"\[n=20\]. Received: activations.shape=\(19,\)"):
        selectors.paper_1d(embeddings, activations[:19], ref)
    with pytest.raises(ParameterError, match="at least 2 examples. Received: n=1"):
        selectors.precision(embeddings[:1], activations[:1], ref)
    bad = embeddings.copy()
    bad[3, 5] = np.nan
    with pytest.raises(ParameterError, match="finite embeddings. Received: 1 non-finite"):
        selectors.score_all(bad, activations, ref)
    bad = activations.copy()
    bad[[0, 1]] = [np.inf, np.nan]
    with pytest.raises(ParameterError, match="finite activations. Received: 2 non-finite"):
        selectors.coverage(embeddings, bad, ref)


def test_options_are_validated(source, ref):
    examples = source.draw(N)
    with pytest.raises(ParameterError, match="1 <= components <= 64. Received: components=0"):
        selectors.frechet_pca(*examples, ref, components=0)
    with pytest.raises(ParameterError, match="Received: components=65"):
        selectors.frechet_pca(*examples, ref, components=65)
    with pytest.raises(ParameterError, match="Received: degree=0"):
        selectors.kid(*examples, ref, degree=0)
    with pytest.raises(ParameterError, match="gamma > 0 or None. Received: gamma=-1"):
        selectors.kid(*examples, ref, gamma=-1.0)
    with pytest.raises(ParameterError, match="coef0 >= 0. Received: coef0=nan"):
        selectors.kid(*examples, ref, coef0=float("nan"))
    with pytest.raises(ParameterError, match=r"k <= 19 \(n=20 examples, for recall\)"):
        selectors.recall(*examples, ref, k=20)
    with pytest.raises(ParameterError, match=r"k <= 999 \(K=1000 reference excerpts\)"):
        selectors.density(*examples, ref, k=1000)
    with pytest.raises(ParameterError, match="Received: k=0"):
        selectors.manifold_measures(examples[0], ref, k=0)
    with pytest.raises(ParameterError, match="at least 4 examples for frechet_infinity"):
        selectors.frechet_infinity(examples[0][:3], examples[1][:3], ref)
    with pytest.raises(ParameterError, match=r"sizes in \[2, n=20\]. Received: sizes=\[2, 21\]"):
        selectors.frechet_infinity(*examples, ref, sizes=[2, 21])
    with pytest.raises(ParameterError, match="Received: sizes=\\[10, 10\\]"):
        selectors.frechet_infinity(*examples, ref, sizes=[10, 10])
    with pytest.raises(ParameterError, match="Received: draws=0"):
        selectors.frechet_infinity(*examples, ref, draws=0)
    with pytest.raises(ParameterError, match="Received: names=\\['kid', 'fid'\\]"):
        selectors.score_all(*examples, ref, names=["kid", "fid"])
    with pytest.raises(ParameterError, match="Received: names='kid'"):
        selectors.score_all(*examples, ref, names="kid")


def test_reference_inputs_are_validated():
    rng = np.random.default_rng(10)
    embeddings, activations = rng.normal(size=(10, 3)), rng.normal(size=10)
    with pytest.raises(ParameterError, match=r"Received: embeddings.shape=\(10,\)"):
        selectors.Reference.from_samples(activations, activations)
    with pytest.raises(ParameterError, match=r"K >= 2.*Received: embeddings.shape=\(1, 3\)"):
        selectors.Reference.from_samples(embeddings[:1], activations[:1])
    with pytest.raises(ParameterError, match=r"\[K=10\]. Received: activations.shape=\(9,\)"):
        selectors.Reference.from_samples(embeddings, activations[:9])
    bad = embeddings.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ParameterError, match="finite reference embeddings. Received: 1"):
        selectors.Reference.from_samples(bad, activations)
    with pytest.raises(ParameterError, match="finite reference activations. Received: 1"):
        selectors.Reference(embeddings, np.where(np.arange(10) == 4, np.inf, activations))
    with pytest.raises(ParameterError, match=r"k <= 4 \(K=5 reference excerpts\). Received: k=5"):
        selectors.Reference.from_samples(embeddings[:5], activations[:5])
    assert selectors.Reference.from_samples(embeddings[:5], activations[:5], k=None).size == 5
