"""Evaluate any version of the conditional generator.

Title: How good is a generator? Realism per class, judged with and without the detector
Description: Fréchet distances of the detector's embeddings against a
real-vs-real floor, class consistency, a classifier two-sample test that does
not use the detector, and whether the class changes what the detector sees,
each with a 95 % interval.

    python recipes/make_corpus.py --out=corpora/synthetic-v1 --version=1
    python recipes/evaluate_gan.py --generator=saved_models/generator/2 --detector=detector \\
        --data_dir=corpora/synthetic-v1 --samples=5000 --out=runs/evaluate/generator2

Every row uses --samples excerpts per class, or all there are when a split
holds fewer (the counts used are reported). Without --data_dir, the corpus
is the one the generator's metadata names, else the synthetic corpus of the
version it records (or of the default version), made in the user cache
folder. Writes evaluation.json, evaluation.md, samples.png and
c2st_scores.csv into --out, whole or not at all.

`--model_dir` judges a training run's latest checkpoint instead, while it
trains: the generator it would export (its weight average), with the
run's preset (`--preset`) and the corpus it trained on (`--data_dir`, or the
synthetic corpus the recipe made in the run's folder). Nothing is trained.

    python recipes/evaluate_gan.py --model_dir=runs/gan_v7 --preset=dcgan_guided_resize \\
        --detector=saved_models/detector/4 --data_dir=corpora/synthetic-v2 \\
        --out=runs/evaluate/gan_v7

To choose among a run's checkpoints by these figures, judge each one
(`--checkpoint`) against the test split (`--reference=test`), so that the
valid split, on which the chosen generator is then reported, plays no part
in the choice. `--c2st_samples=0 --nomeasures` leaves out the slow rows.

    python recipes/evaluate_gan.py --model_dir=runs/gan_v7 --preset=dcgan_guided_resize \\
        --checkpoint=runs/gan_v7/checkpoints/ckpt-2000 --reference=test \\
        --detector=saved_models/detector/4 --data_dir=corpora/synthetic-v2 \\
        --c2st_samples=0 --nomeasures --out=runs/evaluate/gan_v7_2000
"""

from absl import flags

from vocal_xai import cli

flags.DEFINE_string("generator", None, "Zoo name or version folder of the generator.")
flags.DEFINE_string(
    "model_dir", None, "A run of recipes/train_gan.py: its latest checkpoint instead."
)
flags.DEFINE_string("preset", "dcgan_conditional", "With --model_dir: the run's model preset.")
flags.DEFINE_string(
    "checkpoint",
    None,
    "With --model_dir: a checkpoint (its prefix, <folder>/ckpt-N) instead of the latest.",
)
flags.DEFINE_enum(
    "reference",
    "valid",
    ["valid", "test"],
    "The split the samples are judged against; test when the figures choose.",
)
flags.DEFINE_string(
    "detector", "detector", "Zoo name or path of the detector that judges the samples."
)
flags.DEFINE_string("data_dir", None, "Corpus in the Jamendo layout; default: see above.")
flags.DEFINE_integer("samples", 5000, "Excerpts per class and row asked for.", lower_bound=2)
flags.DEFINE_integer(
    "c2st_samples",
    1000,
    "Most excerpts per side of each classifier two-sample test (0: none).",
    lower_bound=0,
)
flags.DEFINE_boolean("measures", True, "Also the detector-free class evidence and voice cues.")
flags.DEFINE_integer("resamples", 500, "Bootstrap resamples of every interval.", lower_bound=10)
flags.DEFINE_integer("seed", 0, "Seed of excerpts, latents, noise and resamples.", lower_bound=0)
flags.DEFINE_string("out", None, "Output folder (new or empty, or --overwrite).")
flags.DEFINE_boolean("overwrite", False, "Replace an existing --out.")
flags.DEFINE_string(
    "cache_dir", None, "User cache folder (corpora, features); default: vocal_xai.cache."
)
flags.mark_flags_as_required(["out"])
flags.mark_flags_as_mutual_exclusive(["generator", "model_dir"], required=True)

FLAGS = flags.FLAGS


def main(argv):
    del argv
    from vocal_xai.models.dcgan import evaluation, task

    out, result = task.evaluate_generator_cli(
        FLAGS.generator,
        FLAGS.detector,
        FLAGS.data_dir,
        FLAGS.out,
        num_samples=FLAGS.samples,
        seed=FLAGS.seed,
        overwrite=FLAGS.overwrite,
        cache_dir=FLAGS.cache_dir,
        model_dir=FLAGS.model_dir,
        preset=FLAGS.preset,
        resamples=FLAGS.resamples,
        c2st_samples=FLAGS.c2st_samples,
        measures=FLAGS.measures,
        checkpoint=FLAGS.checkpoint,
        reference=FLAGS.reference,
        progress=True,
    )
    print(evaluation.format_report(result.report))
    print(f"Wrote {out}")


if __name__ == "__main__":
    cli.run(main)
