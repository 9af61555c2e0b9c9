"""What a process pays before its first useful step, and what a check pays
in fixed costs: tracing the GAN's training step, building a split's feature
dataset, the C2STs of a generator's evaluation, the serving check.

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
  same Python function again (what every call did before);
* the four classifier two-sample tests of a generator's evaluation (two
  classes, generated and floor; 20 excerpts a side), with the process's one
  classifier per shape, reset before every fold, against a classifier built
  and traced for every test;
* ``serving_check.check`` of every shipped model, which calls all their
  signatures in one fresh process, against a fresh process per model;
* the ``saved_model_cli`` runs of the REST examples in ``docs/serving``, all
  in one fresh process, against a process per example (what
  ``saved_model_cli run`` on the command line costs).
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


def _c2st_tests(shared):
    import numpy as np

    from vocal_xai.metrics import c2st

    rng = np.random.default_rng(0)
    samples = [rng.normal(size=(20, 115, 80)).astype(np.float32) for _ in range(3)]
    pairs = [(samples[0], samples[1]), (samples[0], samples[2])] * 2

    def go():
        c2st._CLASSIFIERS.clear()
        for real, other in pairs:
            if not shared:
                c2st._CLASSIFIERS.clear()
            c2st.classifier_two_sample_test(real, other)

    return go


def _serving_check(paths, one_process):
    from vocal_xai import serving_check

    def go():
        if one_process:
            report = serving_check.check(paths)
        else:
            report = serving_check.check(paths, run=False)
            for path in paths:
                serving_check.run_in_fresh_process(path)
        assert report.ok, [m.problems for m in report.models]

    return go


def _serving_examples(one_process):
    import json

    from vocal_xai import serving_examples

    docs = pathlib.Path(__file__).resolve().parents[1] / "docs" / "serving"
    runs = [
        (
            serving_examples._version_dir(e["model"], None, e["version"]),
            serving_examples.Example(e["model"], e["signature"], e["input_exprs"]),
        )
        for e in json.loads((docs / serving_examples.INDEX_FILE).read_text())
    ]

    def go():
        if one_process:
            return serving_examples.run_saved_model_cli(runs)
        return [serving_examples.run_saved_model_cli([run]) for run in runs]

    return go, len(runs)


def main(argv):
    del argv
    import keras

    from vocal_xai import serving_check, zoo
    from vocal_xai.data import corpus as corpus_lib
    from vocal_xai.data import synthetic
    from vocal_xai.models.dcgan import dcgan_backbone

    rows = []

    def row(name, ours, baseline, warmup=1):
        a = common.median_seconds(ours, repeats=FLAGS.repeats, warmup=warmup)
        b = common.median_seconds(baseline, repeats=FLAGS.repeats, warmup=warmup)
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
    row("GAN evaluation: its 4 C2STs", _c2st_tests(shared=True), _c2st_tests(shared=False))
    shipped = serving_check.find_saved_models(zoo.root())
    row(
        f"serving check of the {len(shipped)} shipped models",
        _serving_check(shipped, one_process=True),
        _serving_check(shipped, one_process=False),
        warmup=0,  # fresh processes: nothing to warm
    )
    (ours, count), (baseline, _) = _serving_examples(True), _serving_examples(False)
    row(f"saved_model_cli runs of the {count} REST examples", ours, baseline, warmup=0)
    common.print_table(
        "Start-up costs, the project's against the baseline it replaced",
        ["step", "median s", "baseline s", "ratio"],
        rows,
    )


if __name__ == "__main__":
    app.run(main)
