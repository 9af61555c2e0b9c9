r"""
Title: Evaluate a detector on a corpus
Description: Song-level error of any detector version on any corpus, and the real-recordings check.

Frame-wise probabilities over whole songs, the 56-frame median filter, the
threshold picked on the corpus's valid split, then error, precision, recall
and F1 on its test split (Schlüter & Grill 2015), exactly as
`recipes/train_detector.py` evaluates the model it trains. Use it to compare
versions across corpora, e.g. a detector on a corpus it was not trained on:

```
python recipes/make_corpus.py --out=corpora/synthetic-v2
python recipes/evaluate_detector.py --detector=saved_models/detector/3 \
    --data_dir=corpora/synthetic-v2
python recipes/evaluate_detector.py --detector=saved_models/detector/4 \
    --data_dir=corpora/synthetic --out=eval.json
```

`--by_level` says where a detector misses the singer, on a synthetic corpus:
each test song is synthesised again from the corpus's seed, and the vocal
frames called non-vocal are counted by the singer's level against the rest
of the mix (`vocal_xai.models.detector.levels`). Misses where the singer is
20 dB or more below the accompaniment (rests and breaths inside a phrase)
are hard for any detector; misses where the singer is on top are its own.
It also gives the test errors by each song's kind of voice (a solo singer;
in corpus version 5 also ensembles, vocalises and sampled choirs).

```
python recipes/evaluate_detector.py --detector=saved_models/detector/4 \
    --data_dir=corpora/synthetic-v4 --by_level
```

`--model_dir` evaluates a training run's latest checkpoint instead, while it
trains, on the corpus it trains on (whose train split gives the band
statistics): check it on data it may be judged on, such as the sampled
probes, and not on the real recordings, which must not choose a model.

```
python tools/sampled_probes.py --out=runs/sampled_probes
python recipes/evaluate_detector.py --model_dir=runs/detector_v6 \
    --data_dir=corpora/synthetic-v4 --real_recordings=runs/sampled_probes
```
"""

from absl import flags

from vocal_xai import cli

flags.DEFINE_string("detector", "detector", "Zoo name or version folder of the detector.")
flags.DEFINE_string(
    "model_dir", None, "A run of recipes/train_detector.py: its latest checkpoint instead."
)
flags.DEFINE_string("preset", "svdnet_paper", "With --model_dir: the run's model preset.")
flags.DEFINE_string(
    "data_dir", None, "Corpus in the Jamendo layout (its valid and test splits are read)."
)
flags.DEFINE_string("cache_dir", None, "Feature cache; default: the user cache folder.")
flags.DEFINE_string(
    "real_recordings",
    None,
    "Also run the real-recordings check on this folder ('' to skip; "
    "default: the repository's real_recordings/ when it exists).",
)
flags.DEFINE_boolean(
    "by_level",
    False,
    "Also count the test split's missed vocal frames by the singer's level against the "
    "rest of the mix, and the errors by each song's kind of voice (a synthetic corpus: its "
    "test songs are synthesised again).",
)
flags.DEFINE_string("out", None, "Write the metrics as JSON here (a new file, or --overwrite).")
flags.DEFINE_boolean("overwrite", False, "Replace an existing --out file.")
flags.mark_flag_as_required("data_dir")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import pathlib

    from vocal_xai import cache, outputs, zoo
    from vocal_xai.data import corpus as corpus_lib
    from vocal_xai.data import pipeline
    from vocal_xai.models.detector import real_check, task

    if FLAGS.out:
        outputs.check_output_file(FLAGS.out, FLAGS.overwrite)
    recordings = real_check.resolve_folder(FLAGS.real_recordings)
    cache_dir = cache.user_cache_dir(FLAGS.cache_dir) / "features"
    if FLAGS.model_dir is None:
        version_dir = zoo.resolve(FLAGS.detector)
        detector, name = zoo.load_detector(str(version_dir)), str(version_dir.resolve())
        songs = corpus_lib.read_corpus(FLAGS.data_dir, splits=("valid", "test"))
    else:
        songs = corpus_lib.read_corpus(FLAGS.data_dir)
        train = pipeline.load_split(songs, "train", cache_dir, progress=True)
        detector, name, epochs = task.load_checkpoint(FLAGS.model_dir, train, FLAGS.preset)
        name = f"{pathlib.Path(name).resolve()} ({epochs} epochs done)"
    print(f"Detector: {name}")
    metrics = task.evaluate(detector, songs, cache_dir, recordings, FLAGS.by_level)
    task.print_metrics(metrics)
    if FLAGS.out:
        report = {
            "detector": name,
            "corpus": str(songs.root),
            "metrics": metrics,
        }
        print(f"Wrote {outputs.write_json(FLAGS.out, report, FLAGS.overwrite, sort_keys=True)}")


if __name__ == "__main__":
    cli.run(main)
