"""Vocal probability per frame (70 frames/s) for whole songs.

    python tools/predict.py song.flac other.wav --out=probs.csv --plot=song.png
    python tools/predict.py song.flac --detector=model.keras

Writes CSV (file,time,probability) or JSON (by the --out extension) and,
with --plot, a spectrogram-plus-probability figure per song. The detector is
the shipped SVDNet (run once per song), a .keras file or any SavedModel with
a log-mel signature (run on sliding windows, one excerpt per frame), or a
SavedModel with a waveform signature.
"""

from absl import app, flags

flags.DEFINE_string("detector", "detector", "Zoo name, version or SavedModel folder, or a .keras file.")
flags.DEFINE_enum("detector_output", "auto", ["auto", "logit", "probability"],
                  "What the detector's output is; auto reads its name or its last op (sigmoid, softmax).")
flags.DEFINE_string("out", None, "Output .csv or .json; default: print a summary only.")
flags.DEFINE_string("plot", None, "PNG figure; with several files, the song name is appended.")
FLAGS = flags.FLAGS


def main(argv):
    paths = argv[1:]
    if not paths:
        raise app.UsageError("Expected one or more audio files. Received: none")
    import pathlib

    from vocal_xai import predict, zoo

    detector_path = zoo.resolve_detector(FLAGS.detector)
    predictor = predict.SongPredictor(zoo.load_detector(str(detector_path), output=FLAGS.detector_output))
    threshold = zoo.metadata(detector_path).get("metrics", {}).get("threshold")
    predictions = []
    for path in paths:
        p = predictor(path)
        predictions.append(p)
        share = (p.probability > (threshold or 0.5)).mean()
        print(f"{path}: {len(p.probability)} frames, {share:.1%} above threshold")
        if FLAGS.plot:
            png = pathlib.Path(FLAGS.plot)
            if len(paths) > 1:
                png = png.with_name(f"{png.stem}-{pathlib.Path(path).stem}{png.suffix}")
            print(f"  figure: {predict.plot_prediction(p, png, threshold)}")
    if FLAGS.out:
        print(f"Wrote {predict.write_predictions(predictions, FLAGS.out)}")


if __name__ == "__main__":
    app.run(main)
