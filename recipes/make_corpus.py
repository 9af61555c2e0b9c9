"""
Title: Make the synthetic singing-voice corpus
Description: Write the deterministic synthetic corpus the detector trains on.

The corpus is in the Jamendo layout (`audio/<name>.flac`, `labels/<name>.lab`,
`filelists/{train,valid,test}`), so every tool that reads a real corpus reads
it too. Each song mixes a source-filter singing voice (moving formants,
consonants, breaths, jitter, shimmer, vibrato, portamento) with non-vocal
melodic leads in the same pitch range and a backing band, and its labels are
exact. The same seed gives byte-identical files.

Run it from the repository root:

```
python recipes/make_corpus.py --out=corpora/synthetic
python recipes/make_corpus.py --out=/tmp/corpus --seed=1 --workers=1
```
"""

from absl import app
from absl import flags

from vocal_xai.data import synthetic

FLAGS = flags.FLAGS
flags.DEFINE_string("out", None, "Folder to write the corpus into.")
flags.DEFINE_integer("seed", 0, "Corpus seed.", lower_bound=0)
flags.DEFINE_integer("workers", 2, "Processes synthesising songs.", lower_bound=1)
flags.mark_flag_as_required("out")


def main(argv):
    del argv
    root = synthetic.make_corpus(FLAGS.out, seed=FLAGS.seed, workers=FLAGS.workers)
    summary = synthetic.summarize_corpus(root)
    songs = ", ".join(f"{split} {n}" for split, n in summary.songs_per_split.items())
    print(f"Wrote {root}")
    print(f"Songs per split: {songs}")
    print(f"Total audio: {summary.minutes:.1f} min")
    print(f"Vocal frames: {100.0 * summary.vocal_fraction:.1f} %")


if __name__ == "__main__":
    app.run(main)
