r"""Which realism judges see sharpness? Every judge scores real validation
excerpts beside known fakes made from other real excerpts (blurred at
several widths, white noise, the mean spectrum) and generator samples; a
judge may enter the quality of ``docs/validity.md`` only if it puts real
excerpts first.

    python recipes/judge_check.py --data_dir=corpora/synthetic-v2 \
        --generators=generator/2,generator/3 --out=runs/judge_check

Judges: ``c2st`` (``vocal_xai.metrics.realism.c2st_realism``: a fresh
classifier tells every kind, pooled, from as many real train excerpts; each
excerpt's realism is one minus its held-out probability of being generated),
``nearest_neighbours`` (the realism of ``vocal_xai.metrics.measures``:
distance to the nearest real train excerpts, which rewards blur), and the
``class_evidence`` and ``voice_evidence`` of ``measures``, which the
selector study's quality uses beside ``c2st``: each excerpt is judged for its
own class (a fake for that of the excerpt it was made from, a generator
sample for its condition).

Writes judges.json and judges.md into --out (whole or not at all) and
prints the table.
"""

import sys

from absl import flags

from vocal_xai import cli

flags.DEFINE_string("data_dir", None, "Corpus (train: the judges' real data, valid: real kind).")
flags.DEFINE_list("generators", ["generator"], "Zoo names or version folders of generators.")
flags.DEFINE_integer("count", 200, "Excerpts of each kind.", lower_bound=8)
flags.DEFINE_integer("seed", 0, "Seed of the excerpts, the noise and the latents.", lower_bound=0)
flags.DEFINE_string("out", None, "Output folder (new or empty, or --overwrite).")
flags.DEFINE_boolean("overwrite", False, "Replace an existing --out.")
flags.mark_flag_as_required("out")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import judges

    judges.run_cli(
        FLAGS.data_dir,
        FLAGS.generators,
        FLAGS.out,
        count=FLAGS.count,
        seed=FLAGS.seed,
        overwrite=FLAGS.overwrite,
        command="python " + " ".join(sys.argv),
    )


if __name__ == "__main__":
    cli.run(main)
