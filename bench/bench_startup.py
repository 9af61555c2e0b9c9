"""What a process pays before its first useful step: tracing the GAN's
training step, and building a split's feature dataset.

    python bench/bench_startup.py [--repeats=3]

Each row times the project's way against the baseline it replaced, in the
same process and run, and gives their ratio:

* the first call of the GAN's compiled training step (``dcgan_tiny_guided``,
  with R1 and the class head), with the project's ``SpectralNormalization``
  against ``keras.layers.SpectralNormalization``, whose ``ops.cond`` TF
  traces at every order of the nested gradient tapes. A fresh GAN is built
  for each timing;
* ``load_split`` of a 3-song split after the first, which calls the one
  traced decoding graph of the process, against a dataset that traces the
  same Python function again (what every call did before).
"""

import pathlib
import sys
import tempfile

from absl import app, flags

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import common  # noqa: E402

flags.DEFINE_integer("repeats", 3, "Timed runs per measurement.")
FLAGS = flags.FLAGS


def _first_gan_step(spectral_normalization):
    import keras
    import numpy as np
    import tensorflow as tf

    from vocal_xai.models.dcgan import PRESETS, ConditionalDCGAN, dcgan_backbone

    preset = PRESETS["dcgan_tiny_guided"]
    mean, std = np.zeros(80, np.float32), np.ones(80, np.float32)
    real = tf.random.stateless_normal((8, 115, 80), seed=(0, 1))
    labels = tf.constant([0, 1] * 4, tf.int32)

    def go():
        saved = dcgan_backbone.SpectralNormalization
        dcgan_backbone.SpectralNormalization = spectral_normalization
        try:
            keras.utils.set_random_seed(0)
            gan = ConditionalDCGAN(
                dcgan_backbone.Generator(mean, std, **preset["generator"]),
                dcgan_backbone.Discriminator(mean, std, **preset["discriminator"]),
                seed=0,
            )
        finally:
            dcgan_backbone.SpectralNormalization = saved
        gan.compile(
            keras.optimizers.Adam(2e-4, 0.5),
            keras.optimizers.Adam(2e-4, 0.5),
            aux_weight=1.0,
            r1_gamma=1.0,
            augment_policy="shift,cutout,level",
        )
        gan.build_optimizers()
        tf.function(gan.train_step)((real, labels))

    return go


def _load_split(corpus, retrace):
    import tensorflow as tf

    from vocal_xai.data import pipeline

    songs = corpus.songs("train")

    def features(row):
        python = pipeline._song_features.python_function
        return python(row["path"], row["code"], row["rate"], row["spans"])

    def go():
        if not retrace:
            return pipeline.load_split(corpus, "train")
        ds = tf.data.Dataset.from_tensor_slices(pipeline.song_table(songs)).map(features)
        return [(f.numpy(), l.numpy()) for f, l in ds]

    return go


def main(argv):
    del argv
    import keras

    from vocal_xai.data import corpus as corpus_lib
    from vocal_xai.data import synthetic
    from vocal_xai.models.dcgan import dcgan_backbone

    rows = []

    def row(name, ours, baseline):
        a = common.median_seconds(ours, repeats=FLAGS.repeats)
        b = common.median_seconds(baseline, repeats=FLAGS.repeats)
        rows.append([name, f"{a:.2f}", f"{b:.2f}", f"{a / b:.2f}"])

    row(
        "GAN: first training step (trace)",
        _first_gan_step(dcgan_backbone.SpectralNormalization),
        _first_gan_step(keras.layers.SpectralNormalization),
    )
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        root = pathlib.Path(tmp) / "corpus"
        synthetic.make_corpus(
            root,
            seed=0,
            split_sizes={"train": 3, "valid": 1, "test": 1},
            duration=8.0,
            workers=1,
        )
        corpus = corpus_lib.read_corpus(root)
        row(
            "load_split after the first (3 songs of 8 s)",
            _load_split(corpus, retrace=False),
            _load_split(corpus, retrace=True),
        )
    common.print_table(
        "Start-up costs, the project's against the baseline it replaced",
        ["step", "median s", "baseline s", "ratio"],
        rows,
    )


if __name__ == "__main__":
    app.run(main)
