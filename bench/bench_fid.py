"""Fréchet distance speed and agreement: the float64 symmetric forms against
the scipy formula (``sqrtm(s1 @ s2)``, as pytorch-fid computes it), measured
in the same run.

    python bench/bench_fid.py [--dims=64,256,2048] [--n_gen=50] [--ref_per_dim=2]

For each dimension d, seeded correlated embeddings give a reference of
``ref_per_dim * d`` samples and two generated sets: ``n_gen`` samples (one
explanation setting, n < d) and ``ref_per_dim * d`` samples (full rank). Prints
median seconds, the speed-up over scipy and the relative difference from
scipy's value, for the full d x d form and, when n < d, the n x n form.
"""

import sys

from absl import app, flags

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import common  # noqa: E402

flags.DEFINE_list("dims", ["64", "256", "2048"], "Embedding sizes d.")
flags.DEFINE_integer("n_gen", 50, "Generated samples in the small case (one setting).")
flags.DEFINE_integer("ref_per_dim", 2, "Reference (and full-case) samples per dimension.")
flags.DEFINE_integer("repeats", 5, "Timed runs per measurement.")
flags.DEFINE_integer(
    "large_dim",
    1024,
    "From this d on, scipy runs once without warm-up and ours repeats // 2 times.",
)
flags.DEFINE_integer("seed", 0, "Seed of the random embeddings.")
FLAGS = flags.FLAGS


def _embeddings(rng, n, mixing, shift):
    """Correlated Gaussian embeddings [n, d]."""
    return rng.standard_normal((n, mixing.shape[0])) @ mixing.T + shift


def _timed(fn, repeats, warmup):
    """(median seconds, value) of ``fn()``."""
    value = []
    seconds = common.median_seconds(lambda: value.append(fn()), repeats=repeats, warmup=warmup)
    return seconds, value[-1]


def main(argv):
    del argv
    import numpy as np
    import scipy.linalg

    from vocal_xai.metrics import frechet

    def scipy_fd(mu1, sigma1, mu2, sigma2):
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2, disp=False)[0].real
        diff = mu1 - mu2
        return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))

    rows = []
    for d in (int(v) for v in FLAGS.dims):
        rng = np.random.default_rng(FLAGS.seed + d)
        base = rng.standard_normal((d, d)) / np.sqrt(d)
        ref = frechet.gaussian_stats(_embeddings(rng, FLAGS.ref_per_dim * d, base, 0.0))
        gen_mixing = base + 0.3 * rng.standard_normal((d, d)) / np.sqrt(d)
        large = d >= FLAGS.large_dim
        ours_repeats = max(1, FLAGS.repeats // 2) if large else FLAGS.repeats
        scipy_repeats, scipy_warmup = (1, 0) if large else (FLAGS.repeats, 1)

        for n in (FLAGS.n_gen, FLAGS.ref_per_dim * d):
            x = _embeddings(rng, n, gen_mixing, 0.1)
            gen = frechet.gaussian_stats(x)

            # Baseline: scipy sqrtm of the non-symmetric product.
            base_s, base_fd = _timed(
                lambda gen=gen, ref=ref: scipy_fd(
                    gen.mean, gen.covariance, ref.mean, ref.covariance
                ),
                scipy_repeats,
                scipy_warmup,
            )
            results = [("scipy sqrtm(s1 @ s2)", base_s, base_fd)]
            results.append(
                ("ours frechet_distance",)
                + _timed(
                    lambda gen=gen, ref=ref: float(
                        frechet.frechet_distance(gen.mean, gen.covariance, ref.mean, ref.covariance)
                    ),
                    ours_repeats,
                    1,
                )
            )
            if n < d:
                results.append(
                    ("ours frechet_distance_to_samples",)
                    + _timed(
                        lambda x=x, ref=ref: float(
                            frechet.frechet_distance_to_samples(x, ref.mean, ref.covariance)
                        ),
                        ours_repeats,
                        1,
                    )
                )
            for method, seconds, value in results:
                rows.append(
                    [
                        d,
                        n,
                        method,
                        f"{seconds:.4f}",
                        f"{base_s / seconds:.1f}x",
                        f"{abs(value - base_fd) / abs(base_fd):.1e}",
                    ]
                )

    common.print_table(
        f"Fréchet distance, float64 (reference n = {FLAGS.ref_per_dim} d)",
        ["d", "n", "method", "median s", "speed-up", "rel. diff vs scipy"],
        rows,
    )


if __name__ == "__main__":
    app.run(main)
