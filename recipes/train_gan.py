"""Train the conditional DCGAN prior over log-mel excerpts.

Title: A conditional DCGAN of singing and non-singing excerpts
Description: G(z, class) -> 115 x 80 raw log-mel, trained with the hinge loss
and a projection discriminator, judged by the shipped detector, and exported
for TF Serving.

    python recipes/train_gan.py
    python recipes/train_gan.py --data_dir=/data/jamendo --epochs=80

Without ``--data_dir`` the synthetic default corpus is made under
``--model_dir``. Killed runs resume: rerun the same command and training
continues from the last checkpoint, saved at each epoch's end and every
``--checkpoint_minutes`` within one. TensorBoard (``--model_dir``/logs)
shows the losses and sample spectrograms of both classes after every epoch.

The trained generator is exported before it is evaluated, so a failed
evaluation never costs it: rerunning the same command after a finished
training only evaluates (``recipes/evaluate_gan.py`` judges any exported
version too). The evaluation (``vocal_xai.models.dcgan.evaluation``) goes to
``--model_dir``: evaluation.json, evaluation.md, samples.png and
c2st_scores.csv, beside learning_curves.png (the losses of every stretch so
far, from the TensorBoard logs).
"""

from absl import flags

from vocal_xai import cli

flags.DEFINE_string(
    "data_dir", None, "Corpus in the Jamendo layout; default: the synthetic corpus."
)
cli.define_corpus_version()
flags.DEFINE_string("model_dir", "runs/gan", "Checkpoints, TensorBoard logs and the evaluation.")
flags.DEFINE_string(
    "export_base",
    None,
    "Where generator/<version>/ is written; default: <model_dir>/export. "
    "Pass saved_models to publish into the zoo.",
)
flags.DEFINE_boolean("export", True, "Export a new SavedModel version at the end.")
flags.DEFINE_string(
    "detector", "detector", "Zoo name or path of the detector that judges the samples."
)
flags.DEFINE_string("preset", "dcgan_conditional", "Model preset.")
flags.DEFINE_integer("epochs", 40, "Epochs.", lower_bound=1)
flags.DEFINE_integer("steps_per_epoch", 250, "Batches per epoch.", lower_bound=1)
flags.DEFINE_integer("batch_size", 32, "Global batch size.", lower_bound=1)
flags.DEFINE_float(
    "d_learning_rate", 2e-4, "Adam learning rate of the discriminator.", lower_bound=0.0
)
flags.DEFINE_float("g_learning_rate", 2e-4, "Adam learning rate of the generator.", lower_bound=0.0)
flags.DEFINE_float("beta_1", 0.5, "Adam beta_1 of both players.", lower_bound=0.0, upper_bound=1.0)
flags.DEFINE_float(
    "beta_2", 0.999, "Adam beta_2 of both players.", lower_bound=0.0, upper_bound=1.0
)
flags.DEFINE_enum("loss", "hinge", ["hinge", "non_saturating"], "GAN loss.")
flags.DEFINE_float(
    "aux_weight",
    1.0,
    "Weight of the auxiliary class loss (presets with a class head).",
    lower_bound=0.0,
)
flags.DEFINE_float(
    "ema_decay",
    None,
    "Decay of the generator's weight average, which is evaluated and exported "
    "(0: none); default: the preset's.",
    lower_bound=0.0,
    upper_bound=0.9999,
)
flags.DEFINE_float(
    "r1_gamma",
    None,
    "Weight of the R1 gradient penalty on real excerpts; default: the preset's.",
    lower_bound=0.0,
)
flags.DEFINE_string(
    "augment",
    None,
    "DiffAugment policy before the discriminator, comma-separated among "
    'shift, cutout, level ("" for none); default: the preset\'s.',
)
flags.DEFINE_integer(
    "guide_steps",
    None,
    "Batches of training of the class guide, a small classifier of real "
    "excerpts whose loss on generated ones joins the generator's (0: no guide); default: the "
    "preset's.",
    lower_bound=0,
)
flags.DEFINE_float(
    "guide_weight",
    None,
    "Weight of the class guide's loss; default: the preset's.",
    lower_bound=0.0,
)
flags.DEFINE_integer(
    "eval_samples",
    5000,
    "Excerpts per class and row of the evaluation asked for (all there "
    "are when a split holds fewer).",
    lower_bound=2,
)
flags.DEFINE_integer(
    "eval_resamples",
    500,
    "Bootstrap resamples of every interval of the evaluation.",
    lower_bound=10,
)
flags.DEFINE_integer("seed", 0, "Seed of weights, data order and latents.")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored"], "tf.distribute strategy.")
flags.DEFINE_integer(
    "logical_cpus", 1, "Split the CPU into this many devices (for mirrored).", lower_bound=1
)
flags.DEFINE_string("cache_dir", None, "Feature cache; default: <model_dir>/cache.")
cli.define_checkpoint_minutes()

FLAGS = flags.FLAGS


def main(argv):
    del argv
    import pathlib

    from vocal_xai import training, zoo
    from vocal_xai.data import defaults, synthetic
    from vocal_xai.models.dcgan import evaluation, task

    # Set up devices, determinism and the strategy.
    strategy = training.prepare(FLAGS.strategy, FLAGS.seed, FLAGS.logical_cpus)
    model_dir = pathlib.Path(FLAGS.model_dir)
    cache_dir = FLAGS.cache_dir or model_dir / "cache"

    # Read (or make) the corpus, and load the judge.
    corpus = defaults.open_corpus(
        FLAGS.data_dir, model_dir / "corpus", version=int(FLAGS.corpus_version)
    )
    corpus_version = (
        int(FLAGS.corpus_version)
        if FLAGS.data_dir is None
        else (synthetic.corpus_info(corpus.root) or {}).get("version")
    )
    detector_dir = zoo.resolve_detector(FLAGS.detector)
    detector = zoo.load_detector(str(detector_dir))

    # Train, resuming from the last checkpoint if there is one.
    config = task.GanConfig(
        preset=FLAGS.preset,
        epochs=FLAGS.epochs,
        steps_per_epoch=FLAGS.steps_per_epoch,
        batch_size=FLAGS.batch_size,
        d_learning_rate=FLAGS.d_learning_rate,
        g_learning_rate=FLAGS.g_learning_rate,
        beta_1=FLAGS.beta_1,
        beta_2=FLAGS.beta_2,
        loss=FLAGS.loss,
        aux_weight=FLAGS.aux_weight,
        ema_decay=FLAGS.ema_decay,
        r1_gamma=FLAGS.r1_gamma,
        augment=FLAGS.augment,
        guide_steps=FLAGS.guide_steps,
        guide_weight=FLAGS.guide_weight,
        seed=FLAGS.seed,
    )
    gan, info = task.train(
        config, corpus, model_dir, strategy, cache_dir, checkpoint_minutes=FLAGS.checkpoint_minutes
    )
    result = {
        **info,
        "detector": str(detector_dir),
        "corpus": str(corpus.root),
        "corpus_version": corpus_version,
    }

    # Export first: the trained generator is safe whatever the evaluation does.
    if FLAGS.export:
        export_base = FLAGS.export_base or model_dir / "export"
        version_dir, written = task.export_once(
            gan.sampler, export_base, result, model_dir, info["epochs_done"]
        )
        print(f"{'Exported' if written else 'Already exported'} {version_dir}")
        result["export"] = str(version_dir)

    # Evaluate against real data.
    evaluated = task.run_evaluation(
        gan.sampler,
        detector,
        corpus,
        cache_dir,
        FLAGS.eval_samples,
        FLAGS.seed,
        resamples=FLAGS.eval_resamples,
        progress=True,
    )
    print(evaluation.format_report(evaluated.report))
    paths = task.write_evaluation(evaluated, model_dir, result)
    print(f"Evaluation: {paths['json']}, samples: {paths['figure']}")


if __name__ == "__main__":
    cli.run(main)
