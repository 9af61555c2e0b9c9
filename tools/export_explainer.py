r"""Export the latent gradient ascent (generator + detector + loop) as a new
version of ``<export_base>/explainer/`` for TF Serving.

    python tools/export_explainer.py --export_base=runs/explainer \
        [--generator=generator] [--detector=detector]
    python tools/export_explainer.py --export_base=saved_models   # publish into the zoo

``--generator`` and ``--detector`` are zoo names (newest version) or paths
to version folders; the versions used are recorded in the explainer's
``assets.extra/metadata.json``.
"""

from absl import flags

from vocal_xai import cli

flags.DEFINE_string("generator", "generator", "Zoo name or path of the generator.")
flags.DEFINE_string("detector", "detector", "Zoo name or path of the detector.")
flags.DEFINE_string(
    "export_base", None, "Folder to write explainer/<version>/ into (saved_models: the zoo)."
)
flags.mark_flag_as_required("export_base")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from vocal_xai.explain import serving

    path = serving.export_from_zoo(FLAGS.detector, FLAGS.generator, FLAGS.export_base)
    print(f"Exported {path}")


if __name__ == "__main__":
    cli.run(main)
