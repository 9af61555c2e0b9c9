r"""Choose the default selector by the protocol fixed in ``docs/validity.md``:
the latent method on a grid in both directions, every candidate selector
scored on the choosing half of the seeds and reported on the other half,
for the pair that chooses and a second pair that plays no part in it.

    python recipes/choose_selector.py --data_dir=corpora/synthetic-v2 \
        --pairs=detector/4:generator/3,detector/3:generator/2 --out=runs/selector_study

The second pair can also run on its own, keeping the choice of the first:

    python recipes/choose_selector.py --data_dir=corpora/synthetic-v2 \
        --pairs=detector/4:generator/3 --out=runs/selector_study
    python recipes/choose_selector.py --data_dir=corpora/synthetic-v2 \
        --pairs=detector/3:generator/2 --out=runs/selector_study_second \
        --choice_from=runs/selector_study/results.json

Writes results.json and tables.md into --out (whole or not at all) and
prints the tables. A killed run resumes: each finished direction of each
pair is kept in the hidden folder .OUT.partial beside --out, and the same
command reuses it.
"""

import sys

from absl import flags

from vocal_xai import cli
from vocal_xai.errors import ParameterError

flags.DEFINE_enum(
    "grid", "paper", ["paper", "quick"], "paper: 9 (lr, rp) x 100/500/1000 it x 50 seeds."
)
flags.DEFINE_list(
    "pairs",
    ["detector:generator"],
    "DETECTOR:GENERATOR zoo names or paths; the first chooses, the others only report.",
)
flags.DEFINE_integer("seeds", None, "Override the grid's seeds (two halves).", lower_bound=4)
flags.DEFINE_string("data_dir", None, "Corpus (train: realism, valid: reference, test: baseline).")
flags.DEFINE_string("out", None, "Output folder (new or empty, or --overwrite).")
flags.DEFINE_boolean("overwrite", False, "Replace an existing --out.")
flags.DEFINE_string(
    "choice_from",
    None,
    "results.json of an earlier run: keep the default chosen there; every pair only reports.",
)
flags.mark_flag_as_required("out")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import selector_study

    pairs = [tuple(p.split(":", 1)) for p in FLAGS.pairs]
    if any(len(p) != 2 for p in pairs):
        raise ParameterError(
            f"Expected --pairs as DETECTOR:GENERATOR,... Received: --pairs={','.join(FLAGS.pairs)}"
        )
    overrides = {} if FLAGS.seeds is None else {"seeds": FLAGS.seeds}
    selector_study.run_cli(
        FLAGS.grid,
        pairs,
        FLAGS.data_dir,
        FLAGS.out,
        overwrite=FLAGS.overwrite,
        choice_from=FLAGS.choice_from,
        progress=True,
        command="python " + " ".join(sys.argv),
        **overrides,
    )


if __name__ == "__main__":
    cli.run(main)
