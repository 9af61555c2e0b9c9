r"""
Title: What separates a corpus's classes
Description: The AUC of every excerpt cue between the vocal and non-vocal excerpts of a split.

Cuts a split into excerpts every 0.5 s, labels each by its centre frame,
measures the cues of `vocal_xai.explain.cues` and prints, per cue, how well
it tells the vocal excerpts from the non-vocal ones (AUC; 0.5: not at all)
with both classes' medians. Cues that separate a synthetic corpus's classes
but do not belong to the voice are what a detector trained on it may learn
instead of the voice. No detector is needed:

```
python recipes/make_corpus.py --out=corpora/synthetic-v4 --version=4
python recipes/corpus_cues.py --data_dir=corpora/synthetic-v4 --out=cues_v4.json
```
"""

from absl import flags

from vocal_xai import cli

flags.DEFINE_string("data_dir", None, "Corpus in the Jamendo layout.")
flags.DEFINE_enum("split", "test", ["train", "valid", "test"], "Split to measure.")
flags.DEFINE_integer("stride", 35, "Frames between excerpt centres.", lower_bound=1)
flags.DEFINE_string("cache_dir", None, "Feature cache; default: the user cache folder.")
flags.DEFINE_string("out", None, "Write the table as JSON here (a new file, or --overwrite).")
flags.DEFINE_boolean("overwrite", False, "Replace an existing --out file.")
flags.mark_flag_as_required("data_dir")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from vocal_xai import cache, outputs
    from vocal_xai.data import corpus as corpus_lib
    from vocal_xai.data import pipeline
    from vocal_xai.explain import cues

    if FLAGS.out:
        outputs.check_output_file(FLAGS.out, FLAGS.overwrite)
    songs = corpus_lib.read_corpus(FLAGS.data_dir, splits=(FLAGS.split,))
    split = pipeline.load_split(
        songs, FLAGS.split, cache.user_cache_dir(FLAGS.cache_dir) / "features", progress=True
    )
    excerpts, labels = cues.split_excerpts(split, FLAGS.stride)
    table = cues.class_separation(excerpts, labels)
    print(f"{songs.root}, {FLAGS.split}: {labels.sum()} vocal, {(labels == 0).sum()} non-vocal")
    print("| cue | AUC, vocal above non-vocal | median, vocal | median, non-vocal |")
    print("|---|---|---|---|")
    for cue, row in table.items():
        print(f"| {cue} | {row['auc']:.2f} | {row['median_1']:.3g} | {row['median_0']:.3g} |")
    if FLAGS.out:
        report = {"corpus": str(songs.root), "split": FLAGS.split, "stride": FLAGS.stride}
        print(f"Wrote {outputs.write_json(FLAGS.out, dict(report, cues=table), FLAGS.overwrite)}")


if __name__ == "__main__":
    cli.run(main)
