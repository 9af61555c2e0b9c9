"""Publish a trained and evaluated generator as a new version, with its
evaluation in the version's metadata.

    python tools/publish_generator.py --model_dir=runs/gan_v3 --export_base=saved_models

``--model_dir`` is a run of ``recipes/train_gan.py`` that has finished: it
exported the generator and wrote ``evaluation.json``. The published version
is that generator, unchanged, as the next free version under
``<export_base>/generator/``; its ``assets.extra/metadata.json`` holds the
training record and every figure of the evaluation.
"""

from absl import flags

from vocal_xai import cli

flags.DEFINE_string("model_dir", None, "A finished run of recipes/train_gan.py.")
flags.DEFINE_string(
    "export_base", None, "Folder to write generator/<version>/ into (saved_models: the zoo)."
)
flags.mark_flag_as_required("model_dir")
flags.mark_flag_as_required("export_base")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from vocal_xai.models.dcgan import task

    print(f"Published {task.publish(FLAGS.model_dir, FLAGS.export_base)}")


if __name__ == "__main__":
    cli.run(main)
