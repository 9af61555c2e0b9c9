"""Train the SVDNet singing-voice detector.

Title: Singing-voice detection with SVDNet
Description: Schlueter & Grill's CNN on 115-frame log-mel excerpts, trained with
the paper's schedule, evaluated on whole songs and exported for TF Serving.

Run it with no arguments to train on the synthetic default corpus (made on the
fly under ``--model_dir``), or point ``--data_dir`` at a corpus in the Jamendo
layout:

    python recipes/train_detector.py
    python recipes/train_detector.py --data_dir=/data/jamendo --epochs=20 --steps_per_epoch=2000

After training, the detector is evaluated on whole songs of the corpus
and, as a check, on the real recordings of ``--real_recordings`` (by
default the repository's ``real_recordings/``): the share of frames called
vocal at a fixed threshold of 0.5, never picked on them, against whole-file
targets. They are never used for training or tuning.

Killed runs resume: rerun the same command and training continues from the
last checkpoint in ``--model_dir``, saved at each epoch's end and every
``--checkpoint_minutes`` within one. After every epoch the frame error on the
whole valid songs at 0.5 is logged. The learning curves (loss and accuracy on
excerpts, that frame error, the learning rate) are redrawn into
``<model_dir>/learning_curves.png`` after the first and last epochs, and in
between once 30 s have passed since the last drawing; ``tools/plot_training.py``
draws several runs side by side. ``--strategy=mirrored`` uses every GPU (or
``--logical_cpus`` CPU devices); ``--strategy=multi_worker`` reads TF_CONFIG.
"""

from absl import app, flags

from vocal_xai import cli

flags.DEFINE_string(
    "data_dir", None, "Corpus in the Jamendo layout; default: the synthetic corpus."
)
cli.define_corpus_version()
flags.DEFINE_string("model_dir", "runs/detector", "Checkpoints, TensorBoard logs and metrics.")
flags.DEFINE_string(
    "export_base",
    None,
    "Where detector/<version>/ is written; default: <model_dir>/export. "
    "Pass saved_models to publish into the zoo.",
)
flags.DEFINE_boolean("export", True, "Export a new SavedModel version at the end.")
flags.DEFINE_string("preset", "svdnet_paper", "Model preset.")
flags.DEFINE_integer(
    "epochs", 20, "Epochs (the learning rate decays x0.85 per epoch).", lower_bound=1
)
flags.DEFINE_integer("steps_per_epoch", 150, "Batches per epoch.", lower_bound=1)
flags.DEFINE_integer("batch_size", 32, "Global batch size.", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of weights, data order and augmentation.")
flags.DEFINE_boolean("augment", True, "Time stretch, pitch shift and random filters.")
flags.DEFINE_boolean("balance", False, "Sample vocal and non-vocal excerpts equally.")
flags.DEFINE_boolean(
    "pad_edges",
    False,
    "Also train on the frames near songs' ends, their excerpts padded with silence as "
    "whole-song prediction pads them (the paper's recipe leaves them out).",
)
flags.DEFINE_enum(
    "strategy", "default", ["default", "mirrored", "multi_worker"], "tf.distribute strategy."
)
flags.DEFINE_integer(
    "logical_cpus", 1, "Split the CPU into this many devices (for mirrored).", lower_bound=1
)
cli.define_checkpoint_minutes()
flags.DEFINE_boolean("skip_undecodable", False, "Skip audio that can't be decoded, with a warning.")
flags.DEFINE_string("cache_dir", None, "Feature cache; default: <model_dir>/cache.")
flags.DEFINE_string(
    "real_recordings",
    None,
    "Folder of real recordings with a manifest.csv, checked after training at the fixed "
    "threshold 0.5 (never training data); default: the repository's real_recordings/ "
    "when it exists; an empty string disables the check.",
)

FLAGS = flags.FLAGS


def main(argv):
    del argv
    import pathlib

    from vocal_xai import outputs, training
    from vocal_xai.data import defaults, synthetic
    from vocal_xai.errors import ParameterError
    from vocal_xai.models.detector import real_check, task

    # Set up devices, determinism and the strategy.
    strategy = training.prepare(FLAGS.strategy, FLAGS.seed, FLAGS.logical_cpus)
    model_dir = pathlib.Path(FLAGS.model_dir)
    cache_dir = FLAGS.cache_dir or model_dir / training.worker_folder("cache", strategy)

    # Read (or make) the corpus.
    corpus = defaults.open_corpus(
        FLAGS.data_dir,
        model_dir / "corpus",
        skip_undecodable=FLAGS.skip_undecodable,
        version=int(FLAGS.corpus_version),
    )

    # Find the real recordings of the check: a wrong folder fails before training.
    try:
        real_recordings = real_check.resolve_folder(FLAGS.real_recordings)
    except ParameterError as err:
        raise app.UsageError(str(err)) from None

    # Train, resuming from the last checkpoint if there is one.
    config = task.TrainConfig(
        preset=FLAGS.preset,
        epochs=FLAGS.epochs,
        steps_per_epoch=FLAGS.steps_per_epoch,
        batch_size=FLAGS.batch_size,
        augment=FLAGS.augment,
        balance=FLAGS.balance,
        pad_edges=FLAGS.pad_edges,
        seed=FLAGS.seed,
    )
    detector, info = task.train(
        config, corpus, model_dir, strategy, cache_dir, checkpoint_minutes=FLAGS.checkpoint_minutes
    )
    if not training.is_chief(strategy):
        return

    # Evaluate on whole songs (and check on the real recordings), then export.
    metrics = task.evaluate(detector, corpus, cache_dir, real_recordings)
    report = {**info, "metrics": metrics, "corpus": str(corpus.root)}
    report["synthetic_corpus"] = synthetic.corpus_info(corpus.root)
    outputs.write_json(model_dir / "metrics.json", report, overwrite=True, sort_keys=True)
    task.print_metrics(metrics)
    if FLAGS.export:
        export_base = FLAGS.export_base or model_dir / "export"
        print(f"Exported {task.export_detector(detector, export_base, report)}")


if __name__ == "__main__":
    cli.run(main)
