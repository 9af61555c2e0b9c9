"""
Title: Make the synthetic singing-voice corpus
Description: Write the deterministic synthetic corpus the detector trains on.

The corpus is in the Jamendo layout (`audio/<name>.flac`, `labels/<name>.lab`,
`filelists/{train,valid,test}`), so every tool that reads a real corpus reads
it too. Each song mixes a source-filter singing voice (moving formants,
consonants, breaths, jitter, shimmer, vibrato, portamento) with non-vocal
instruments in the same pitch range, and its labels are exact. Version 2 (the
default) adds the non-vocal sounds of real music (string sections, winds and
brass with vibrato, plucked and struck instruments, detuned unisons, heavy
percussion), more kinds of singer, harmonised backing vocals, reverberation
and mastering; version 1 is the corpus detectors 1-3 trained on. Version 3
adds orchestral tutti in halls, loud bright mastering and brighter singers,
in a larger corpus (144, 32 and 32 songs); version 4 plays its lead and
tutti instruments with motion (drifting bodies, brightness swings,
re-articulated notes); version 5 adds unison ensembles, one-vowel vocalises
and sampled choirs, as bright as the band, and sampled instruments in every
kind of section (it needs `fluidsynth` and Debian's `timgm6mb-soundfont`);
version 6 adds singers made from recorded speech, Festival's diphone voices
given melodies (it also needs Debian's `festival`, `festvox-kallpc16k`,
`festvox-kdlpc16k` and `festvox-italp16k`).
The same seed and version give byte-identical files.

Run it from the repository root:

```
python recipes/make_corpus.py --out=corpora/synthetic-v2
python recipes/make_corpus.py --out=corpora/synthetic-v3 --version=3
python recipes/make_corpus.py --out=corpora/synthetic-v4 --version=4
python recipes/make_corpus.py --out=corpora/synthetic-v5 --version=5
python recipes/make_corpus.py --out=corpora/synthetic-v6 --version=6
python recipes/make_corpus.py --out=corpora/synthetic --version=1
python recipes/make_corpus.py --out=/tmp/corpus --seed=1 --workers=1 --songs=8,2,2
```

`--splits=valid,test` writes only those splits' songs, numbered as in the
whole corpus: what `recipes/evaluate_detector.py --detector=...` reads, in a
third of the time. The other splits can be added to the folder later.
"""

from absl import flags

from vocal_xai import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("out", None, "Folder to write the corpus into.")
flags.DEFINE_integer("seed", 0, "Corpus seed.", lower_bound=0)
flags.DEFINE_integer("workers", 2, "Processes synthesising songs.", lower_bound=1)
cli.define_corpus_version("version", "Corpus version")
flags.DEFINE_list("songs", None, "Songs in train,valid,test; default: the version's sizes.")
flags.DEFINE_list("splits", "train,valid,test", "Splits to write (e.g. valid,test to evaluate).")
flags.mark_flag_as_required("out")


def main(argv):
    del argv
    from vocal_xai.data import corpus, synthetic

    sizes = synthetic.parse_split_sizes(FLAGS.songs) if FLAGS.songs else None
    splits = tuple(FLAGS.splits)
    root = synthetic.make_corpus(
        FLAGS.out,
        seed=FLAGS.seed,
        split_sizes=sizes,
        workers=FLAGS.workers,
        version=int(FLAGS.version),
        splits=splits,
    )
    summary = synthetic.summarize_corpus(root, [s for s in corpus.SPLITS if s in splits])
    songs = ", ".join(f"{split} {n}" for split, n in summary.songs_per_split.items())
    print(f"Wrote {root} (synthetic corpus version {FLAGS.version}, seed {FLAGS.seed})")
    print(f"Songs per split: {songs}")
    print(f"Total audio: {summary.minutes:.1f} min")
    print(f"Vocal frames: {100.0 * summary.vocal_fraction:.1f} %")


if __name__ == "__main__":
    cli.run(main)
