r"""Draw the learning curves of detector training runs in one figure: loss and
accuracy on excerpts, the frame error on the whole valid songs and the
learning rate against the training step, one colour per run, training solid
and validation dashed. A run may still be training: its logs
are read as they stand.

    python tools/plot_training.py --runs=runs/detector_a,runs/detector_b --out=curves.png
"""

from absl import flags

from vocal_xai import cli

flags.DEFINE_list("runs", None, "Comma-separated --model_dir folders of recipes/train_detector.py.")
flags.DEFINE_string("out", None, "PNG file to write (a new one, or --overwrite).")
flags.DEFINE_string("title", "Detector training", "The figure's title.")
flags.DEFINE_boolean("overwrite", False, "Replace an existing --out file.")
flags.mark_flags_as_required(["runs", "out"])
FLAGS = flags.FLAGS


def main(argv):
    if len(argv) > 1:
        raise cli.app.UsageError(f"Expected no positional arguments. Received: {argv[1:]}")
    from vocal_xai.models.detector import history

    out = history.plot_run_folders(FLAGS.runs, FLAGS.out, FLAGS.title, FLAGS.overwrite)
    print(f"Wrote {out}")


if __name__ == "__main__":
    cli.run(main)
