"""Whole-song prediction speed: the once-per-song formulation against the
per-excerpt sliding window, measured in the same run.

    python bench/bench_detector.py [--song_seconds=180] [--baseline_seconds=20]

Prints the real-time factor (seconds of audio per second of compute) of both,
as medians of repeated runs, on the shipped detector (or a paper-sized model
with random weights when none is shipped).
"""

import sys

from absl import app, flags

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import common  # noqa: E402

flags.DEFINE_float("song_seconds", 180.0, "Length of the song for the fast path.")
flags.DEFINE_float("baseline_seconds", 20.0, "Audio length for the sliding-window baseline.")
flags.DEFINE_integer("repeats", 5, "Timed runs per measurement.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf

    from vocal_xai import spectral, zoo
    from vocal_xai.errors import ParameterError
    from vocal_xai.models.detector import SVDNet, song

    try:
        model, source = zoo.load_detector("detector"), "shipped detector"
    except ParameterError:
        model = SVDNet.from_preset("svdnet_paper", np.zeros(80), np.ones(80))
        source = "paper-sized SVDNet, random weights"
    rng = np.random.default_rng(0)
    samples = int(FLAGS.song_seconds * spectral.SAMPLE_RATE)
    waveform = tf.constant((0.1 * rng.standard_normal((1, samples))).astype(np.float32))

    # Fast path: waveform -> log-mel -> whole-song network, one tf.function.
    fast = tf.function(lambda w: song.song_outputs(model, spectral.log_mel(w))["probability"])
    fast_s = common.median_seconds(lambda: fast(waveform).numpy(), repeats=FLAGS.repeats)

    # Baseline: one 115-frame excerpt per frame, batched through the Keras model.
    base_samples = int(FLAGS.baseline_seconds * spectral.SAMPLE_RATE)
    base_mel = spectral.log_mel(waveform[0, :base_samples])
    excerpts = song.padded_excerpts(base_mel)
    slow = tf.function(lambda x: model(x, training=False)["probability"])

    def sliding():
        for start in range(0, excerpts.shape[0], 256):
            slow(excerpts[start : start + 256]).numpy()

    slow_s = common.median_seconds(sliding, repeats=max(1, FLAGS.repeats // 2))

    fast_rtf = FLAGS.song_seconds / fast_s
    slow_rtf = FLAGS.baseline_seconds / slow_s
    common.print_table(
        f"Whole-song prediction ({source})",
        ["method", "audio s", "median s", "x real time"],
        [
            [
                "once per song (dilated)",
                f"{FLAGS.song_seconds:.0f}",
                f"{fast_s:.3f}",
                f"{fast_rtf:.0f}",
            ],
            [
                "sliding excerpts (baseline)",
                f"{FLAGS.baseline_seconds:.0f}",
                f"{slow_s:.3f}",
                f"{slow_rtf:.1f}",
            ],
        ],
    )
    print(f"speed-up: {fast_rtf / slow_rtf:.0f}x")


if __name__ == "__main__":
    app.run(main)
