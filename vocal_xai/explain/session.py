"""Glue of ``tools/explain.py``: resolve the models, read the reference data,
run, write and print."""

import pathlib
import time

from vocal_xai import cache, outputs, zoo
from vocal_xai.data import defaults, pipeline
from vocal_xai.explain import report, run


def default_corpus_dir(cache_dir=None):
    """Where the synthetic default corpus lives when no corpus is given: in
    the user cache folder (``vocal_xai.cache``), never the working folder."""
    from vocal_xai.data import synthetic

    return cache.synthetic_corpus_dir(synthetic.DEFAULT_VERSION, cache_dir)


def open_splits(data_dir, splits, cache_dir=None):
    """The corpus at ``data_dir`` (default: the synthetic default corpus) and
    the features of ``splits`` from the user cache folder: ``(corpus, {split:
    SplitFeatures})``."""
    corpus = defaults.open_corpus(data_dir, default_corpus_dir(cache_dir), splits=splits)
    features = cache.user_cache_dir(cache_dir) / "features"
    return corpus, {
        split: pipeline.load_split(corpus, split, features, progress=True) for split in splits
    }


def reference_cache(detector, valid_songs, cache_dir=None, detector_output="auto"):
    """Where the reference statistics of a detector are cached, and the key
    they are cached under: the detector's content (``zoo.describe_model``) and
    the contents of the valid split's audio and labels, so that a model or a
    corpus changed at the same path is never served stale. The cache is in
    the user cache folder, never beside the shipped models.
    """
    files = [p for song in valid_songs for p in (song.audio_path, song.label_path)]
    key = {
        "detector": detector["path"],
        "content": detector["content"],
        "valid": cache.files_key(files)[:16],
    }
    if detector_output != "auto":
        key["output"] = detector_output
    return cache.user_cache_dir(cache_dir) / "reference", key


def run_cli(
    grid,
    overrides,
    detector_name,
    generator_name,
    data_dir,
    out,
    detector_output="auto",
    cache_dir=None,
    overwrite=False,
    audio_count=4,
    griffin_lim_iterations=100,
):
    """Run one explanation job end to end; return the written paths.

    ``audio_count`` selected examples are written as audio, each inverted by
    ``griffin_lim_iterations`` iterations of Griffin-Lim.

    ``out`` is checked first (a new or empty folder, or ``overwrite``), then
    the detector is loaded and checked against the neuron and the
    embedding, before the generator, the corpus or any computation. The
    outputs are written into a temporary folder renamed to ``out`` at the
    end, so they appear whole or not at all.
    """
    start = time.perf_counter()
    outputs.check_output_dir(out, overwrite)
    config = run.ExplainConfig.from_grid(grid, **overrides)
    detector_path = zoo.resolve_detector(detector_name)
    detector = zoo.load_detector(str(detector_path), output=detector_output)
    detector, config = run.checked_detector(detector, config)
    generator_dir = zoo.resolve(generator_name)
    generator = zoo.load_generator(str(generator_dir))
    models = {
        "detector": zoo.describe_model(detector_path),
        "generator": zoo.describe_model(generator_dir),
    }
    for name, info in models.items():
        version = "" if info["version"] is None else f", version {info['version']}"
        print(f"{name.capitalize()}: {info['path']}{version} (content {info['content']})")
    corpus, splits = open_splits(data_dir, ("valid",), cache_dir)
    print(f"Reference data: valid split of {corpus.root}")
    valid = splits["valid"]
    folder, key = reference_cache(
        models["detector"], corpus.songs("valid"), cache_dir, detector_output
    )
    print(
        f"Explaining {config.direction} {config.neuron} ({config.condition} prior), distance over "
        f"{config.embedding}: {len(config.pairs)} (lr, rp) pairs x {config.seeds} seeds, "
        f"iterations {list(config.iterations)}"
    )
    result = run.explain(generator, detector, valid, config, folder, key, progress=True)
    result.timings["total_s"] = time.perf_counter() - start
    versions = {
        "detector": str(detector_path),
        "generator": str(generator_dir),
        **{
            f"{name}_{field}": info[field]
            for name, info in models.items()
            for field in ("version", "content")
        },
    }
    versions["corpus"] = str(corpus.root)
    with outputs.atomic_dir(out, overwrite) as tmp:
        written = report.write_all(
            result,
            tmp,
            versions=versions,
            audio_count=audio_count,
            griffin_lim_iterations=griffin_lim_iterations,
        )
    paths = {name: _moved(value, tmp, pathlib.Path(out)) for name, value in written.items()}
    print(report.summary_table(result))
    print(
        f"Selected: lr {result.selected['learning_rate']:g}, rp {result.selected['rp']:g}, "
        f"{result.selected['iterations']} iterations; outputs in {out} "
        f"({result.timings['total_s']:.0f} s)"
    )
    return paths


def _moved(value, old, new):
    """A written path (or list of them) after its folder was renamed."""
    if isinstance(value, (list, tuple)):
        return [_moved(v, old, new) for v in value]
    return new / pathlib.Path(value).relative_to(old)
