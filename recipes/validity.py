"""Does the Fréchet distance pick good explanations? Runs the latent and the
input-space method over a grid in both directions, judges every setting with
measures that do not use the detector, and reports rank correlations,
selector checks and the method comparison.

    python recipes/validity.py                      # the study of docs/validity.md
    python recipes/validity.py --grid=paper --out=runs/validity_paper --docs=
    python recipes/validity.py --measures_only      # how well the measures judge real data

Writes settings.csv, results.json, tables.md and figures into --out, and the
generated block of --docs.
"""

import sys

from absl import flags

from vocal_xai import cli

flags.DEFINE_enum(
    "grid",
    "subset",
    ["subset", "quick", "paper", "tiny"],
    "subset: the paper's learning rates and rp, iterations 10/30/100, 16 seeds.",
)
flags.DEFINE_string("detector", "detector", "Zoo name or path of the detector.")
flags.DEFINE_string("generator", "generator", "Zoo name or path of the generator.")
flags.DEFINE_string(
    "data_dir", None, "Corpus (train: the bank, valid: the reference, test: the real baseline)."
)
flags.DEFINE_string("embedding", "embedding_64", "Detector layer compared by the Fréchet distance.")
flags.DEFINE_integer("reference_k", 200, "Real reference excerpts of the selectors.", lower_bound=2)
flags.DEFINE_integer("bootstrap", 1000, "Bootstrap resamples of every interval.", lower_bound=0)
flags.DEFINE_string("out", "docs/validity", "Output folder.")
flags.DEFINE_string(
    "docs", "docs/validity.md", "Markdown file whose generated block is rewritten; empty: none."
)
flags.DEFINE_bool(
    "measures_only", False, "Only check the measures on real validation excerpts (about a minute)."
)
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import validity_study

    validity_study.run_cli(
        FLAGS.grid,
        FLAGS.detector,
        FLAGS.generator,
        FLAGS.data_dir,
        FLAGS.out,
        FLAGS.docs or None,
        command="python " + " ".join(sys.argv),
        measures_only=FLAGS.measures_only,
        bootstrap=FLAGS.bootstrap,
        embedding=FLAGS.embedding,
        reference_k=FLAGS.reference_k,
    )


if __name__ == "__main__":
    cli.run(main)
