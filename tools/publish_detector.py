"""Publish an exported detector as a new version of the zoo, with its
metadata and a reproduction check.

    python tools/publish_detector.py --version_dir=runs/detector_v5/export/detector/1 \\
        --export_base=saved_models

``--version_dir`` is a version folder that ``recipes/train_detector.py``
exported (by default under ``<model_dir>/export/detector/``). The published
version is that detector, unchanged, as the next free version under
``<export_base>/detector/`` (or ``--version``, which must be free and may
leave a gap, e.g. for a trained version that was never shipped); its
``assets.extra/metadata.json`` holds the training record and the evaluation.
A detector trained on a synthetic corpus also gets the figures of its
evaluation on a small corpus of the same version (``"check"``), which the
tests of the shipped models recompute.
"""

from absl import flags

from vocal_xai import cli

flags.DEFINE_string("version_dir", None, "A detector version exported by train_detector.py.")
flags.DEFINE_string(
    "export_base", None, "Folder to write detector/<version>/ into (saved_models: the zoo)."
)
flags.DEFINE_integer(
    "version", None, "The new version's number (default: the next free one).", lower_bound=1
)
flags.mark_flag_as_required("version_dir")
flags.mark_flag_as_required("export_base")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from vocal_xai.models.detector import task

    print(f"Published {task.publish(FLAGS.version_dir, FLAGS.export_base, FLAGS.version)}")


if __name__ == "__main__":
    cli.run(main)
