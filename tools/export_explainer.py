r"""Export the latent gradient ascent (generator + detector + loop) as a new
version of ``<export_base>/explainer/`` for TF Serving.

    python tools/export_explainer.py --export_base=runs/explainer \
        [--generator=generator] [--detector=detector]
    python tools/export_explainer.py --export_base=saved_models   # publish into the zoo

``--generator`` and ``--detector`` are zoo names (newest version) or paths
to version folders; the versions used are recorded in the explainer's
``assets.extra/metadata.json``.

The explainer also scores each request's explanations against real
excerpts, as ``tools/explain.py`` scores a setting: ``score`` by
``--selector`` (default: the default selector of ``tools/explain.py``) and
``frechet_distance``, the paper's Fréchet distance. It holds the real
references of both directions, computed from the valid split of
``--data_dir`` (default: the synthetic default corpus) exactly as
``tools/explain.py`` computes them, and cached in the same place.
"""

from absl import flags

from vocal_xai import cli
from vocal_xai.metrics.layers import SERVED_SELECTORS

flags.DEFINE_string("generator", "generator", "Zoo name or path of the generator.")
flags.DEFINE_string("detector", "detector", "Zoo name or path of the detector.")
flags.DEFINE_string(
    "export_base", None, "Folder to write explainer/<version>/ into (saved_models: the zoo)."
)
flags.DEFINE_string(
    "data_dir",
    None,
    "Corpus whose valid split holds the real references; default: the synthetic corpus.",
)
flags.DEFINE_integer(
    "reference_k", 200, "Real reference excerpts (top-K for max, bottom-K for min).", lower_bound=2
)
flags.DEFINE_string(
    "cache_dir", None, "Cache folder; default: $VOCAL_XAI_CACHE or $XDG_CACHE_HOME/vocal_xai."
)
flags.DEFINE_enum(
    "selector",
    None,
    list(SERVED_SELECTORS),
    "Selector of the served score; default: the default selector of tools/explain.py.",
)
flags.mark_flag_as_required("export_base")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from vocal_xai.explain import serving

    path = serving.export_from_zoo(
        FLAGS.detector,
        FLAGS.generator,
        FLAGS.export_base,
        data_dir=FLAGS.data_dir,
        cache_dir=FLAGS.cache_dir,
        reference_k=FLAGS.reference_k,
        selector=FLAGS.selector,
    )
    print(f"Exported {path}")


if __name__ == "__main__":
    cli.run(main)
