"""The GAN evaluation's Fréchet bootstrap: one batched call per resample
against one call per distance, measured in the same run.

    python bench/bench_gan_evaluation.py [--dims=16,64,256] [--samples=1000] [--resamples=100]

Each resample of ``vocal_xai.models.dcgan.evaluation`` scores the
generator, train (floor) and matched-noise (ceiling) fits against the valid
split's. The baseline calls ``evaluation.frechet_distance`` once per
distance, fitting both sides each time (the evaluation before the batched
form); the batched form fits each of the four sets once and scores the
three distances in one ``frechet.frechet_distance`` call. Prints the median
seconds of the whole bootstrap of one embedding, the speed-up, and the
largest difference between the two in any interval bound (they use the
same resamples).
"""

import sys

from absl import app, flags

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import common  # noqa: E402

flags.DEFINE_list("dims", ["16", "64", "256"], "Embedding sizes d.")
flags.DEFINE_integer("samples", 1000, "Excerpts per set (the evaluation's n).")
flags.DEFINE_integer("resamples", 100, "Bootstrap resamples per run.")
flags.DEFINE_integer("repeats", 3, "Timed runs per method.")
FLAGS = flags.FLAGS

SETS = ("generator", "valid", "train", "noise")


def main(argv):
    del argv
    import numpy as np

    from vocal_xai.metrics import bootstrap
    from vocal_xai.models.dcgan import evaluation

    def per_distance(f, v, t, z):
        gen, floor = evaluation.frechet_distance(f, v), evaluation.frechet_distance(t, v)
        return [gen, floor, evaluation.frechet_distance(z, v), gen / max(floor, 1e-12)]

    names = ["generator", "floor", "ceiling", "generator_over_floor"]
    rows = []
    for d in (int(v) for v in FLAGS.dims):
        rng = np.random.default_rng(d)
        features = {
            key: {"e": rng.standard_normal((FLAGS.samples, d)) * (1 + 0.2 * i) + 0.1 * i}
            for i, key in enumerate(SETS)
        }
        samples = [features[key]["e"] for key in SETS]
        found = {}

        def baseline(samples=samples, found=found):
            found["baseline"] = bootstrap.estimates(
                per_distance, samples, names, FLAGS.resamples, 0.95, 0, method="centred"
            )

        def batched(features=features, found=found):
            found["batched"] = evaluation._frechet_rows(features, ["e"], FLAGS.resamples, 0.95, 0)[
                "e"
            ]

        base_s = common.median_seconds(baseline, FLAGS.repeats)
        new_s = common.median_seconds(batched, FLAGS.repeats)
        difference = max(
            abs(getattr(found["baseline"][name], bound) - found["batched"][name][bound])
            / abs(found["baseline"][name].value)
            for name in names
            for bound in ("low", "high")
        )
        rows.append([d, FLAGS.samples, "one call per distance", f"{base_s:.3f}", "1.0x", ""])
        rows.append(
            [
                d,
                FLAGS.samples,
                "batched, one call per resample",
                f"{new_s:.3f}",
                f"{base_s / new_s:.2f}x",
                f"{difference:.1e}",
            ]
        )

    common.print_table(
        f"GAN evaluation, Fréchet bootstrap of one embedding ({FLAGS.resamples} resamples)",
        ["d", "n", "method", "median s", "speed-up", "max rel. diff of a bound"],
        rows,
    )


if __name__ == "__main__":
    app.run(main)
