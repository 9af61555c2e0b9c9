"""Glue of ``tools/explain.py``: resolve the models, read the reference data,
run, write and print."""

import pathlib
import time

from vocal_xai import zoo
from vocal_xai.data import defaults, pipeline
from vocal_xai.explain import report, run


def default_corpus_dir():
    """Where the synthetic default corpus lives when no corpus is given."""
    from vocal_xai.data import synthetic

    return pathlib.Path("corpora") / f"synthetic-v{synthetic.DEFAULT_VERSION}"


def run_cli(grid, overrides, detector_name, generator_name, data_dir, out):
    """Run one explanation job end to end; return the written paths."""
    start = time.perf_counter()
    config = run.ExplainConfig.from_grid(grid, **overrides)
    detector_dir = zoo.resolve(detector_name)
    generator_dir = zoo.resolve(generator_name)
    detector = zoo.load_detector(str(detector_dir))
    generator = zoo.load_generator(str(generator_dir))
    corpus = defaults.open_corpus(data_dir, default_corpus_dir())
    valid = pipeline.load_split(corpus, "valid", pathlib.Path("runs") / "cache")
    reference_cache = detector_dir.parent / ".reference-cache"
    key = {"detector": str(detector_dir.resolve()), "version": detector_dir.name,
           "corpus": str(pathlib.Path(corpus.root).resolve())}
    print(f"Explaining {config.direction} {config.neuron} ({config.condition} prior): "
          f"{len(config.pairs)} (lr, rp) pairs x {config.seeds} seeds, iterations {list(config.iterations)}")
    result = run.explain(generator, detector, valid, config, reference_cache, key, progress=True)
    result.timings["total_s"] = time.perf_counter() - start
    versions = {"detector": str(detector_dir), "generator": str(generator_dir)}
    paths = report.write_all(result, out, versions=versions)
    print(report.summary_table(result))
    print(f"Selected: lr {result.selected['learning_rate']:g}, rp {result.selected['rp']:g}, "
          f"{result.selected['iterations']} iterations; outputs in {out} "
          f"({result.timings['total_s']:.0f} s)")
    return paths
