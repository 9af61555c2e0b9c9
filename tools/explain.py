r"""Explain a singing-voice detector: GAN-latent activation maximisation over
a grid of settings, with the best setting chosen by a Fréchet distance to real
data (by default the paper's, on the explained activation; ``docs/validity.md``
tells how it was chosen).

    python tools/explain.py --direction=max --out=explanations/max
    python tools/explain.py --direction=min --grid=paper --out=explanations/min
    python tools/explain.py --direction=max --neuron=embedding_64:12 --learning_rates=0.1,0.01 \
        --seeds=20 --out=e12
    python tools/explain.py --detector=model.keras --neuron=dense:3 --embedding=dense \
        --direction=max --out=dense3

The detector is the shipped SVDNet, a .keras file or any SavedModel with a
log-mel signature; the neuron and the embedding are checked against it
before anything runs, and an error lists the valid names.

Every setting is scored by each candidate selector (``--selector`` picks the
one that ranks them; the printed table and report.json give every selector's
pick). Writes ranking.csv, report.json, PNG figures, WAV audio of the selected
examples and .npy arrays into --out, whole or not at all (an existing
folder is replaced only with --overwrite), and prints a summary table.
Caches (reference statistics, features, the default corpus) go to the user
cache folder (--cache_dir, $VOCAL_XAI_CACHE or $XDG_CACHE_HOME/vocal_xai).
"""

from absl import flags

from vocal_xai import cli

flags.DEFINE_enum("direction", "max", ["max", "min"], "Maximise or minimise the neuron.")
flags.DEFINE_string(
    "neuron",
    "logit:0",
    "LAYER:UNIT of the detector to explain; logit:0 (the vocal logit) fits every detector.",
)
flags.DEFINE_enum(
    "condition",
    None,
    ["vocal", "non_vocal"],
    "Class of the GAN prior; default follows --direction.",
)
flags.DEFINE_enum("grid", "quick", ["quick", "paper"], "Preset grid of settings.")
flags.DEFINE_list("learning_rates", None, "Override the grid's learning rates.")
flags.DEFINE_list("rps", None, "Override the grid's regularisation weights.")
flags.DEFINE_list("iterations", None, "Override the grid's iteration counts.")
flags.DEFINE_integer("seeds", None, "Override the number of seeds per setting.", lower_bound=2)
flags.DEFINE_enum("optimizer", "adam", ["adam", "sgd"], "Optimiser of the latent.")
flags.DEFINE_string(
    "embedding",
    None,
    "Detector layer compared by the Fréchet distance; default: the detector's "
    "last embedding (embedding_64 for SVDNet).",
)
flags.DEFINE_integer(
    "reference_k", 200, "Real reference excerpts (top-K for max, bottom-K for min).", lower_bound=2
)
flags.DEFINE_integer(
    "bootstrap", 200, "Bootstrap resamples of the distance's interval.", lower_bound=0
)
flags.DEFINE_enum(
    "selector",
    "paper_1d",
    [
        "paper_1d",
        "frechet",
        "frechet_pca",
        "kid",
        "precision",
        "recall",
        "density",
        "coverage",
        "frechet_infinity",
        "density+activation",
    ],
    "Score that ranks the settings (lower is better); every selector's pick is reported. "
    "paper_1d and frechet are the paper's 1-D and embedding Fréchet distances.",
)
flags.DEFINE_enum(
    "precision", "float32", ["float32", "mixed_bfloat16"], "Compute precision of the ascent."
)
flags.DEFINE_integer("chunk_size", 128, "Rows per ascent call (bounds memory).", lower_bound=1)
flags.DEFINE_integer("audio_examples", 4, "Selected examples written as WAV files.", lower_bound=0)
flags.DEFINE_integer(
    "griffin_lim_iterations",
    100,
    "Griffin-Lim iterations per WAV (fewer: a faster, rougher preview).",
    lower_bound=1,
)
flags.DEFINE_string(
    "detector", "detector", "Zoo name, version or SavedModel folder, or a .keras file."
)
flags.DEFINE_enum(
    "detector_output",
    "auto",
    ["auto", "logit", "probability"],
    "What the detector's output is; auto reads its name or its last op (sigmoid, softmax).",
)
flags.DEFINE_string("generator", "generator", "Zoo name or path of the generator.")
flags.DEFINE_string(
    "data_dir",
    None,
    "Corpus whose valid split is the real reference; default: the synthetic corpus.",
)
flags.DEFINE_string("out", None, "Output folder: new or empty, or replaced whole with --overwrite.")
flags.DEFINE_boolean(
    "overwrite", False, "Replace an existing --out folder (whole, once the run has finished)."
)
flags.DEFINE_string(
    "cache_dir", None, "Cache folder; default: $VOCAL_XAI_CACHE or $XDG_CACHE_HOME/vocal_xai."
)
flags.mark_flag_as_required("out")
FLAGS = flags.FLAGS


def _numbers(cast, minimum, strict):
    def check(values):
        if values is None:
            return True
        try:
            numbers = [cast(v) for v in values]
        except ValueError:
            return False
        return all(n > minimum if strict else n >= minimum for n in numbers)

    return check


for _name, _cast, _minimum, _strict, _what in [
    ("learning_rates", float, 0.0, True, "numbers > 0"),
    ("rps", float, 0.0, False, "numbers >= 0"),
    ("iterations", int, 1, False, "integers >= 1"),
]:
    flags.register_validator(
        _name,
        _numbers(_cast, _minimum, _strict),
        message=f"Expected --{_name} to be a comma-separated list of {_what}",
    )


def main(argv):
    del argv
    from vocal_xai.explain import session

    overrides = {
        "direction": FLAGS.direction,
        "neuron": FLAGS.neuron,
        "condition": FLAGS.condition,
        "optimizer": FLAGS.optimizer,
        "embedding": FLAGS.embedding,
        "reference_k": FLAGS.reference_k,
        "bootstrap": FLAGS.bootstrap,
        "chunk_size": FLAGS.chunk_size,
        "precision": FLAGS.precision,
        "selector": FLAGS.selector,
    }
    for name, cast in [("learning_rates", float), ("rps", float), ("iterations", int)]:
        if getattr(FLAGS, name):
            overrides[name] = tuple(cast(v) for v in getattr(FLAGS, name))
    if FLAGS.seeds:
        overrides["seeds"] = FLAGS.seeds
    session.run_cli(
        FLAGS.grid,
        overrides,
        FLAGS.detector,
        FLAGS.generator,
        FLAGS.data_dir,
        FLAGS.out,
        detector_output=FLAGS.detector_output,
        cache_dir=FLAGS.cache_dir,
        overwrite=FLAGS.overwrite,
        audio_count=FLAGS.audio_examples,
        griffin_lim_iterations=FLAGS.griffin_lim_iterations,
    )


if __name__ == "__main__":
    cli.run(main)
