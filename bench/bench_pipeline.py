"""Input pipeline throughput on the default corpus, with and without the
feature cache.

    python bench/bench_pipeline.py [--corpus=corpora/synthetic] [--batches=100]

"Cold" decodes and computes the log-mel of the training split every time;
"cached" reads the tf.data feature cache written by the first pass. Both then
draw augmented batches of 32 excerpts. Medians of repeated runs.
"""

import pathlib
import shutil
import sys
import tempfile

from absl import app, flags

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import common  # noqa: E402

flags.DEFINE_string(
    "corpus", "corpora/synthetic", "Corpus; the default corpus is made there if missing."
)
flags.DEFINE_integer("batches", 100, "Batches of 32 excerpts per run.")
flags.DEFINE_integer("repeats", 3, "Timed runs per measurement.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from vocal_xai.data import defaults, pipeline

    corpus = defaults.open_corpus(None, pathlib.Path(FLAGS.corpus))
    cache = pathlib.Path(tempfile.mkdtemp(prefix="bench-cache-"))
    n_excerpts = FLAGS.batches * 32

    def excerpts(split, augmentation):
        ds = pipeline.excerpt_dataset(split, 32, seed=0, augmentation=augmentation)
        for _ in ds.take(FLAGS.batches):
            pass

    def run(cache_dir, augmentation):
        def go():
            excerpts(pipeline.load_split(corpus, "train", cache_dir), augmentation)

        return go

    pipeline.load_split(corpus, "train", cache)  # write the cache once
    split = pipeline.load_split(corpus, "train", cache)
    rows = []
    for name, fn in [
        ("cold: decode + log-mel + augmented excerpts", run(None, pipeline.PAPER_AUGMENTATION)),
        ("cached: read features + augmented excerpts", run(cache, pipeline.PAPER_AUGMENTATION)),
        ("excerpts only, augmented", lambda: excerpts(split, pipeline.PAPER_AUGMENTATION)),
        ("excerpts only, plain", lambda: excerpts(split, None)),
    ]:
        seconds = common.median_seconds(fn, repeats=FLAGS.repeats)
        rows.append([name, f"{seconds:.2f}", f"{n_excerpts / seconds:,.0f}"])
    shutil.rmtree(cache)
    minutes = sum(s.duration for s in corpus.songs("train")) / 60
    common.print_table(
        f"Pipeline, train split ({len(corpus.songs('train'))} songs, {minutes:.0f} min), "
        f"{n_excerpts} excerpts per run",
        ["stage", "median s", "excerpts/s"],
        rows,
    )


if __name__ == "__main__":
    app.run(main)
