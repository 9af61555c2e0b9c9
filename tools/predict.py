"""Vocal probability per frame (70 frames/s) for whole songs.

    python tools/predict.py song.flac other.wav --out=probs.csv --plot=song.png
    python tools/predict.py song.flac --detector=model.keras

Writes CSV (file,time,probability) or JSON (by the --out extension) and,
with --plot, a spectrogram-plus-probability figure per song. A song of a
corpus in the Jamendo layout (audio/<name>.<ext> beside labels/<name>.lab)
also gets its sung spans shaded in the figure and its frames' agreement with
the labels printed. The detector is
the shipped SVDNet (run once per song), a .keras file or any SavedModel with
a log-mel signature (run on sliding windows, one excerpt per frame), or a
SavedModel with a waveform signature.
"""

from absl import app, flags

from vocal_xai import cli

flags.DEFINE_string(
    "detector", "detector", "Zoo name, version or SavedModel folder, or a .keras file."
)
flags.DEFINE_enum(
    "detector_output",
    "auto",
    ["auto", "logit", "probability"],
    "What the detector's output is; auto reads its name or its last op (sigmoid, softmax).",
)
flags.DEFINE_string("out", None, "Output .csv or .json; default: print a summary only.")
flags.DEFINE_string("plot", None, "PNG figure; with several files, the song name is appended.")
flags.DEFINE_boolean("overwrite", False, "Replace existing --out and --plot files.")
FLAGS = flags.FLAGS


def main(argv):
    paths = argv[1:]
    if not paths:
        raise app.UsageError("Expected one or more audio files. Received: none")
    import pathlib

    from vocal_xai import outputs, predict, zoo

    # Every output is checked before any work: new files, or --overwrite.
    pngs = []
    if FLAGS.plot:
        png = pathlib.Path(FLAGS.plot)
        for p in paths:
            name = (
                png
                if len(paths) == 1
                else png.with_name(f"{png.stem}-{pathlib.Path(p).stem}{png.suffix}")
            )
            # Songs with the same name get numbered figures.
            twins = sum(1 for q in pngs if q.name.startswith(name.stem))
            pngs.append(name.with_name(f"{name.stem}-{twins + 1}{name.suffix}") if twins else name)
    for path in pngs:
        outputs.check_output_file(path, FLAGS.overwrite, name="plot")
    if FLAGS.out:
        outputs.check_output_file(FLAGS.out, FLAGS.overwrite)
    detector_path = zoo.resolve_detector(FLAGS.detector)
    model = zoo.describe_model(detector_path)
    version = "" if model["version"] is None else f", version {model['version']}"
    print(f"Detector: {model['path']}{version} (content {model['content']})")
    predictor = predict.SongPredictor(
        zoo.load_detector(str(detector_path), output=FLAGS.detector_output)
    )
    threshold = zoo.metadata(detector_path).get("metrics", {}).get("threshold")
    predictions = []
    for i, path in enumerate(paths):
        p = predictor(path)
        predictions.append(p)
        share = (p.probability > (threshold or 0.5)).mean()
        print(f"{path}: {len(p.probability)} frames, {share:.1%} above threshold")
        # A song of a corpus in the Jamendo layout: its labels too.
        segments = predict.labels_beside(path)
        if segments is not None:
            agreement = predict.label_agreement(p, segments, threshold or 0.5)
            print(f"  {agreement:.1%} of frames agree with its labels (no median filter)")
        if pngs:
            with outputs.atomic_file(pngs[i], FLAGS.overwrite) as tmp:
                predict.plot_prediction(p, tmp, threshold, segments)
            print(f"  figure: {pngs[i]}")
    if FLAGS.out:
        with outputs.atomic_file(FLAGS.out, FLAGS.overwrite) as tmp:
            predict.write_predictions(predictions, tmp, model)
        print(f"Wrote {FLAGS.out}")


if __name__ == "__main__":
    cli.run(main)
