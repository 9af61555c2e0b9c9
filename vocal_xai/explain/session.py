"""Glue of ``tools/explain.py``: resolve the models, read the reference data,
run, write and print."""

import pathlib
import time

from vocal_xai import cache, zoo
from vocal_xai.data import defaults, pipeline
from vocal_xai.explain import report, run


def default_corpus_dir():
    """Where the synthetic default corpus lives when no corpus is given."""
    from vocal_xai.data import synthetic

    return pathlib.Path("corpora") / f"synthetic-v{synthetic.DEFAULT_VERSION}"


def reference_cache(detector_path, corpus_root, detector_output="auto"):
    """Where the reference statistics of a detector are cached, and the key
    that identifies the detector and the corpus.

    A version folder (never overwritten) is identified by its path and
    keeps its cache beside it; any other file or folder (a ``.keras`` file,
    a SavedModel), by its content, with the cache in the user cache folder
    (``vocal_xai.cache``).
    """
    detector_path = pathlib.Path(detector_path)
    key = {"detector": str(detector_path.resolve()), "corpus": str(pathlib.Path(corpus_root).resolve())}
    if detector_output != "auto":
        key["output"] = detector_output
    if detector_path.is_dir() and detector_path.name.isdigit():
        return detector_path.parent / ".reference-cache", {**key, "version": detector_path.name}
    content = (cache.files_key([detector_path]) if detector_path.is_file()
               else cache.model_fingerprint(detector_path))
    return cache.user_cache_dir() / "reference", {**key, "content": content}


def run_cli(grid, overrides, detector_name, generator_name, data_dir, out, detector_output="auto"):
    """Run one explanation job end to end; return the written paths.

    The detector is loaded and checked against the neuron and the embedding
    first, before the generator, the corpus or any computation.
    """
    start = time.perf_counter()
    config = run.ExplainConfig.from_grid(grid, **overrides)
    detector_path = zoo.resolve_detector(detector_name)
    detector = zoo.load_detector(str(detector_path), output=detector_output)
    detector, config = run.checked_detector(detector, config)
    generator_dir = zoo.resolve(generator_name)
    generator = zoo.load_generator(str(generator_dir))
    corpus = defaults.open_corpus(data_dir, default_corpus_dir())
    valid = pipeline.load_split(corpus, "valid", pathlib.Path("runs") / "cache")
    cache, key = reference_cache(detector_path, corpus.root, detector_output)
    print(f"Explaining {config.direction} {config.neuron} ({config.condition} prior), distance over "
          f"{config.embedding}: {len(config.pairs)} (lr, rp) pairs x {config.seeds} seeds, "
          f"iterations {list(config.iterations)}")
    result = run.explain(generator, detector, valid, config, cache, key, progress=True)
    result.timings["total_s"] = time.perf_counter() - start
    versions = {"detector": str(detector_path), "generator": str(generator_dir)}
    paths = report.write_all(result, out, versions=versions)
    print(report.summary_table(result))
    print(f"Selected: lr {result.selected['learning_rate']:g}, rp {result.selected['rp']:g}, "
          f"{result.selected['iterations']} iterations; outputs in {out} "
          f"({result.timings['total_s']:.0f} s)")
    return paths
