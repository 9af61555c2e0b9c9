"""Explain the singing-voice detector: GAN-latent activation maximisation over
a grid of settings, with the best setting chosen by a Fréchet distance to real
data.

    python tools/explain.py --direction=max
    python tools/explain.py --direction=min --grid=paper --out=explanations/min
    python tools/explain.py --direction=max --neuron=embedding_64:12 --learning_rates=0.1,0.01 --seeds=20

Writes ranking.csv, report.json, PNG figures, WAV audio of the selected
examples and .npy arrays into --out, and prints a summary table.
"""

from absl import app, flags

flags.DEFINE_enum("direction", "max", ["max", "min"], "Maximise or minimise the neuron.")
flags.DEFINE_string("neuron", "logit:0", "LAYER:UNIT of the detector to explain.")
flags.DEFINE_enum("condition", None, ["vocal", "non_vocal"], "Class of the GAN prior; default follows --direction.")
flags.DEFINE_enum("grid", "quick", ["quick", "paper"], "Preset grid of settings.")
flags.DEFINE_list("learning_rates", None, "Override the grid's learning rates.")
flags.DEFINE_list("rps", None, "Override the grid's regularisation weights.")
flags.DEFINE_list("iterations", None, "Override the grid's iteration counts.")
flags.DEFINE_integer("seeds", None, "Override the number of seeds per setting.", lower_bound=2)
flags.DEFINE_enum("optimizer", "adam", ["adam", "sgd"], "Optimiser of the latent.")
flags.DEFINE_string("embedding", "embedding_64", "Detector layer compared by the Fréchet distance.")
flags.DEFINE_integer("reference_k", 200, "Real reference excerpts (top-K for max, bottom-K for min).", lower_bound=2)
flags.DEFINE_integer("bootstrap", 200, "Bootstrap resamples of the distance's interval.", lower_bound=0)
flags.DEFINE_enum("precision", "float32", ["float32", "mixed_bfloat16"], "Compute precision of the ascent.")
flags.DEFINE_integer("chunk_size", 128, "Rows per ascent call (bounds memory).", lower_bound=1)
flags.DEFINE_string("detector", "detector", "Zoo name or path of the detector.")
flags.DEFINE_string("generator", "generator", "Zoo name or path of the generator.")
flags.DEFINE_string("data_dir", None, "Corpus whose valid split is the real reference; default: the synthetic corpus.")
flags.DEFINE_string("out", "explanations/latest", "Output folder.")
FLAGS = flags.FLAGS


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
    }
    for name, cast in [("learning_rates", float), ("rps", float), ("iterations", int)]:
        if getattr(FLAGS, name):
            overrides[name] = tuple(cast(v) for v in getattr(FLAGS, name))
    if FLAGS.seeds:
        overrides["seeds"] = FLAGS.seeds
    session.run_cli(FLAGS.grid, overrides, FLAGS.detector, FLAGS.generator, FLAGS.data_dir, FLAGS.out)


if __name__ == "__main__":
    app.run(main)
