r"""GAN training throughput: a preset against the previous one, in the same run.

    python bench/bench_gan.py \
        [--presets=dcgan_conditional,dcgan_stable,dcgan_guided,dcgan_guided_resize] \
        [--batch_size=32]

Times one compiled training step (discriminator then generator, with the
preset's stabilisers: DiffAugment, R1, the generator's weight average, and
its class guide, here untrained: its cost does not depend on its weights) on
random batches of real-sized excerpts, and prints training samples per
second as medians of repeated runs, with each preset's ratio to the first.
"""

import sys

from absl import app, flags

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import common  # noqa: E402

flags.DEFINE_list(
    "presets",
    ["dcgan_conditional", "dcgan_stable", "dcgan_guided", "dcgan_guided_resize"],
    "Presets; the first is the baseline.",
)
flags.DEFINE_integer("batch_size", 32, "Excerpts per step.")
flags.DEFINE_integer("steps", 10, "Training steps per timed run.")
flags.DEFINE_integer("repeats", 5, "Timed runs per preset.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf

    from vocal_xai.models.dcgan import task
    from vocal_xai.models.detector import SVDNet

    rng = np.random.default_rng(0)
    mean, std = rng.normal(-4.0, 1.0, 80), rng.uniform(0.5, 2.0, 80)
    real = tf.constant(rng.normal(-4.0, 2.0, (FLAGS.batch_size, 115, 80)), tf.float32)
    labels = tf.constant(np.arange(FLAGS.batch_size) % 2, tf.int32)

    rows, baseline = [], None
    for preset in FLAGS.presets:
        config = task.GanConfig(preset=preset, batch_size=FLAGS.batch_size)
        guide = (
            SVDNet.from_preset(task.GUIDE_PRESET, mean, std).logit_model()
            if config.guide_steps
            else None
        )
        gan = task.build(config, mean, std, tf.distribute.get_strategy(), guide)
        step = tf.function(gan.train_step)
        update = tf.function(gan.update_ema) if gan.ema_generator is not None else None

        def run(step=step, update=update):
            for _ in range(FLAGS.steps):
                logs = step((real, labels))
                if update is not None:
                    update()
            float(logs["d_loss"])

        seconds = common.median_seconds(run, repeats=FLAGS.repeats)
        rate = FLAGS.steps * FLAGS.batch_size / seconds
        baseline = baseline or rate
        rows.append(
            [
                preset,
                f"ema={config.ema_decay} r1={config.r1_gamma} augment={config.augment or '-'} "
                f"guide={config.guide_weight}",
                f"{seconds / FLAGS.steps:.3f}",
                f"{rate:.1f}",
                f"{rate / baseline:.2f}",
            ]
        )
    common.print_table(
        f"GAN training throughput (batch {FLAGS.batch_size}, {FLAGS.steps} steps per run)",
        ["preset", "stabilisers", "median s/step", "samples/s", "vs first"],
        rows,
    )


if __name__ == "__main__":
    app.run(main)
