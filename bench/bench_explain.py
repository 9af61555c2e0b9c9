"""Latent ascent speed: the batched tf.function loop against the usual ways.

    python bench/bench_explain.py [--rows=64] [--steps=20]

Measured in one run, on the shipped detector and generator (or models of the
same size with random weights when none are shipped):

- batched: ``ascent.latent_ascent``, all rows in one tf.function trajectory;
- (a) eager: one seed at a time, a Python loop of GradientTape steps with a
  Keras Adam optimiser (the common library approach);
- (b) batch-1 tf.function: one compiled step per call, one seed at a time
  (the reference code's approach).

and the batched loop again with ``precision="mixed_bfloat16"``.

Reports latent-iterations per second (median of repeated runs), the FLOP rate
as a fraction of this machine's fp32 matmul peak (measured in the same run),
and the extrapolated wall time of the paper grid per direction: its 27
settings are 9 (learning rate, rp) pairs x 50 seeds, each trajectory run once
to 1000 iterations (100 and 500 are snapshots of it), 450,000 latent
iterations (``ExplainConfig.latent_iterations``).
"""

import sys

from absl import app, flags

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import common  # noqa: E402

flags.DEFINE_integer("rows", 64, "Rows of the batched loop.")
flags.DEFINE_integer("steps", 20, "Iterations per timed run.")
flags.DEFINE_integer("repeats", 3, "Timed runs per measurement.")
FLAGS = flags.FLAGS


def _models():
    import numpy as np

    from vocal_xai import zoo
    from vocal_xai.errors import ParameterError
    from vocal_xai.models.dcgan import PRESETS, Generator
    from vocal_xai.models.detector import SVDNet

    try:
        return zoo.load_generator("generator"), zoo.load_detector("detector"), "shipped models"
    except ParameterError:
        mean, std = np.full(80, -5.0), np.ones(80)
        generator = Generator(mean, std, **PRESETS["dcgan_small"]["generator"])
        return (
            generator,
            SVDNet.from_preset("svdnet_paper", mean, std),
            "random weights, shipped sizes",
        )


def matmul_peak_flops(n=2048, repeats=5):
    """fp32 matmul FLOP/s of this machine (median)."""
    import tensorflow as tf

    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])
    mm = tf.function(lambda: tf.matmul(a, b))
    seconds = common.median_seconds(lambda: mm().numpy(), repeats=repeats)
    return 2 * n**3 / seconds


def flops_per_iteration(param, target):
    """FLOPs of one latent iteration (forward and gradient) at batch 1, from
    TF's graph profiler."""
    import tensorflow as tf
    from tensorflow.python.profiler import model_analyzer, option_builder

    @tf.function
    def step(z, c):
        with tf.GradientTape() as tape:
            tape.watch(z)
            _, out = param(z, c)
            total = tf.reduce_sum(target(z, out))
        return tape.gradient(total, z)

    graph = step.get_concrete_function(tf.TensorSpec([1, 128]), tf.TensorSpec([1], tf.int32)).graph
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return model_analyzer.profile(graph, options=options).total_float_ops


def main(argv):
    del argv
    import keras
    import numpy as np
    import tensorflow as tf

    from vocal_xai.explain import ascent, objectives, run

    paper = run.ExplainConfig.from_grid("paper")

    generator, detector, source = _models()
    param = ascent.LatentParameterisation(generator, detector)
    target = objectives.activation("logit", 0)
    rows, steps = FLAGS.rows, FLAGS.steps
    z0 = ascent.initial_latents(range(rows))
    classes = np.ones(rows, np.int32)

    # Batched: every row in one trajectory.
    def batched():
        ascent.latent_ascent(
            param,
            z0,
            classes,
            np.full(rows, 0.01),
            np.full(rows, 0.01),
            "max",
            [steps],
            chunk_size=rows,
        )

    batched_s = common.median_seconds(batched, repeats=FLAGS.repeats)
    batched_rate = rows * steps / batched_s

    # The same, computing in bfloat16.
    mixed = ascent.LatentParameterisation(generator, detector, precision="mixed_bfloat16")

    def batched_mixed():
        ascent.latent_ascent(
            mixed,
            z0,
            classes,
            np.full(rows, 0.01),
            np.full(rows, 0.01),
            "max",
            [steps],
            chunk_size=rows,
        )

    mixed_rate = rows * steps / common.median_seconds(batched_mixed, repeats=FLAGS.repeats)

    # (a) Eager, one seed at a time, Keras Adam.
    def eager():
        z = tf.Variable(z0[:1])
        opt = keras.optimizers.Adam(0.01)
        for _ in range(steps):
            with tf.GradientTape() as tape:
                _, out = param(z, tf.constant(classes[:1]))
                loss = -tf.reduce_sum(target(z, out) - 0.01 * tf.reduce_sum(z * z, axis=1))
            opt.apply_gradients([(tape.gradient(loss, z), z)])

    eager_s = common.median_seconds(eager, repeats=FLAGS.repeats)
    eager_rate = steps / eager_s

    # (b) A compiled step at batch 1, called once per iteration.
    z_var = tf.Variable(z0[:1])
    opt_b = keras.optimizers.Adam(0.01)

    @tf.function
    def compiled_step():
        with tf.GradientTape() as tape:
            _, out = param(z_var, tf.constant(classes[:1]))
            loss = -tf.reduce_sum(target(z_var, out) - 0.01 * tf.reduce_sum(z_var * z_var, axis=1))
        opt_b.apply_gradients([(tape.gradient(loss, z_var), z_var)])

    def batch_one():
        for _ in range(steps):
            compiled_step()
        z_var.numpy()

    batch_one_s = common.median_seconds(batch_one, repeats=FLAGS.repeats)
    batch_one_rate = steps / batch_one_s

    peak = matmul_peak_flops()
    flops = flops_per_iteration(param, target)
    rows_table = [
        ["batched tf.function", f"{rows}", f"{batched_rate:.1f}", "1.0x"],
        [
            "batched, mixed_bfloat16",
            f"{rows}",
            f"{mixed_rate:.1f}",
            f"{batched_rate / mixed_rate:.2f}x",
        ],
        ["(a) eager, one seed", "1", f"{eager_rate:.1f}", f"{batched_rate / eager_rate:.1f}x"],
        [
            "(b) tf.function step, batch 1",
            "1",
            f"{batch_one_rate:.1f}",
            f"{batched_rate / batch_one_rate:.1f}x",
        ],
    ]
    common.print_table(
        f"Latent ascent ({source})",
        ["method", "batch", "latent it/s", "batched speed-up"],
        rows_table,
    )
    print(
        f"FLOPs per latent iteration: {flops / 1e9:.2f} GFLOP; "
        f"batched rate {flops * batched_rate / 1e9:.0f} GFLOP/s = "
        f"{flops * batched_rate / peak:.0%} of the fp32 matmul peak ({peak / 1e9:.0f} GFLOP/s)"
    )
    print(f"Mixed precision speed-up: {mixed_rate / batched_rate:.2f}x")
    print(
        f"Paper grid, one direction ({len(paper.pairs)} (lr, rp) pairs x {paper.seeds} seeds x "
        f"{max(paper.iterations)} iterations = {paper.latent_iterations:,} latent iterations): "
        f"{paper.latent_iterations / batched_rate / 3600:.2f} h batched, "
        f"{paper.latent_iterations / eager_rate / 3600:.1f} h eager"
    )


if __name__ == "__main__":
    app.run(main)
