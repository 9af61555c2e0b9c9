r"""Check detectors on the real recordings: the share of frames each one
calls vocal, against whole-file targets (instrumental at most 10 %, the song
with a singer at least 60 %, speech reported only).

    python tools/real_check.py
    python tools/real_check.py \
        --detector=saved_models/detector/3,saved_models/detector/4 --out=check.json

The recordings are a held-out check, never training or tuning data; the
threshold is fixed (0.5 by default) and never picked on them. With
--markdown, the table of every detector is written into the generated block
of a Markdown file (the detector card).
"""

from absl import app, flags

from vocal_xai import cli

flags.DEFINE_list(
    "detector", ["detector"], "Zoo names or paths of detector SavedModel versions, comma-separated."
)
flags.DEFINE_string(
    "recordings", None, "Folder with manifest.csv; default: the repository's real_recordings/."
)
flags.DEFINE_float("threshold", 0.5, "Fixed threshold: a frame is vocal above it.")
flags.DEFINE_enum(
    "backend",
    "keras",
    ["keras", "frames"],
    "keras: the Keras model once per song; frames: the SavedModel's frames signature.",
)
flags.DEFINE_string("out", None, "JSON file of every result (a new file, or --overwrite).")
flags.DEFINE_boolean("overwrite", False, "Replace an existing --out file.")
flags.DEFINE_string("markdown", None, "Markdown file whose real-recordings block is rewritten.")
flags.register_validator(
    "threshold", lambda t: 0.0 < t < 1.0, message="Expected 0 < threshold < 1."
)
FLAGS = flags.FLAGS


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Expected no positional arguments. Received: {argv[1:]}")
    from vocal_xai import outputs, zoo
    from vocal_xai.errors import ParameterError
    from vocal_xai.models.detector import real_check

    folder = FLAGS.recordings or real_check.default_folder()
    try:
        if FLAGS.out:
            outputs.check_output_file(FLAGS.out, FLAGS.overwrite)
        recordings = real_check.read_manifest(folder)
    except ParameterError as err:
        raise app.UsageError(str(err)) from None
    results_by_detector = {}
    reports = []
    for name in FLAGS.detector:
        version_dir = zoo.resolve(name)
        label = f"{version_dir.parent.name} {version_dir.name}"
        if FLAGS.backend == "keras":
            detector = zoo.load_detector(str(version_dir))
        else:
            detector = real_check.saved_model_probabilities(version_dir)
        results = real_check.check(detector, folder, FLAGS.threshold, recordings)
        results_by_detector[label] = results
        reports.append(
            {"detector": str(version_dir), **real_check.report(results, FLAGS.threshold, folder)}
        )
        print(
            f"{label} ({version_dir}), threshold {FLAGS.threshold:.2f} (fixed), "
            f"backend {FLAGS.backend}:"
        )
        print(real_check.format_table(results))
        print()
    if FLAGS.out:
        report = {"threshold": FLAGS.threshold, "detectors": reports}
        print(f"Wrote {outputs.write_json(FLAGS.out, report, FLAGS.overwrite)}")
    if FLAGS.markdown:
        print(f"Wrote {real_check.write_markdown(FLAGS.markdown, results_by_detector)}")


if __name__ == "__main__":
    cli.run(main)
