"""Choosing the default selector: the protocol fixed in ``docs/validity.md``
("Choosing the default selector: candidates and protocol"), run by
``recipes/choose_selector.py``.

For one model pair and both directions, the latent method runs the grid
(``run.explain``). Every example of every setting gets a quality that does
not use the detector:

- ``realism``: the classifier two-sample judge
  (``vocal_xai.metrics.realism.c2st_realism``): a fresh classifier tells all
  the direction's examples, pooled, from as many real train excerpts;
- ``class_evidence`` and ``voice_evidence`` (``vocal_xai.metrics.measures``);
- ``quality``: their mean.

The seeds are cut into two halves: the first *chooses*, the second
*reports*. On each half, every candidate selector
(``vocal_xai.explain.selection``) scores every setting from that half's
examples alone; its pick's quality percentile among the settings, and the
Spearman correlation between its score and quality, are reported. The
default is the candidate with the highest mean percentile over the two
directions on the choosing half, if it beats ``frechet`` by at least
``MARGIN``; otherwise ``frechet``.
"""

import dataclasses
import json
import pathlib
import time

import numpy as np
from validity_study import quality_percentile

from vocal_xai import outputs
from vocal_xai.errors import ParameterError
from vocal_xai.explain import ascent, run, selection
from vocal_xai.metrics import realism
from vocal_xai.metrics.rank import spearman_with_interval

PARTS = ("realism", "class_evidence", "voice_evidence")
HALVES = ("choose", "report")
MARGIN = 0.10  # percentile points (as a fraction) the winner must gain over frechet
TOP_DECILE = 0.9
# The settings Mishra et al. (2019) published as picked by their distance
# on this grid: (learning rate, rp, iterations).
PAPER_PICKS = {"max": (0.01, 0.001, 100), "min": (0.001, 0.1, 1000)}


def halves(seeds):
    """Seed indices of the choosing and the reporting half (an odd last seed
    is left out, so that both halves are the same size)."""
    if seeds < 4:
        raise ParameterError(f"Expected seeds >= 4 (two halves of 2). Received: seeds={seeds}")
    n = seeds // 2
    return {"choose": np.arange(n), "report": np.arange(n, 2 * n)}


def example_measures(result, probe, quality_fn, embedding):
    """Per setting: the examples' activations, embeddings and quality parts.

    Args:
        result: ``run.ExplainResult`` of the neuron ``logit:0``.
        probe: detector probe with ``logit`` and ``embedding``.
        quality_fn: ``(excerpts [m, frames, bands], direction) -> dict part ->
            per-excerpt values [m]``, called once with every example.
        embedding: the embedding layer.

    Returns:
        dict setting key -> dict ``activation`` [seeds], ``embedding``
        [seeds, d] and each of ``PARTS`` and ``quality`` [seeds].
    """
    keys = list(result.examples)
    stacked = np.concatenate([result.examples[k] for k in keys])
    acts, embs = selection.probe_excerpts(probe, stacked, "logit", 0, embedding)
    parts = quality_fn(stacked, result.config.direction)
    parts["quality"] = np.mean([parts[p] for p in PARTS], axis=0)
    seeds = result.config.seeds
    out = {}
    for i, key in enumerate(keys):
        rows = slice(i * seeds, (i + 1) * seeds)
        out[key] = {
            "activation": acts[rows],
            "embedding": embs[rows],
            **{name: np.asarray(values)[rows] for name, values in parts.items()},
        }
    return out


def score_half(measured, ref, index, direction):
    """One row per setting from the examples ``index`` alone: every
    selector's score (``selection.score``, then ``selection.rank``) and the
    mean of each quality part."""
    rows = []
    for (lr, rp, iterations), m in measured.items():
        row = {"learning_rate": lr, "rp": rp, "iterations": iterations}
        row.update(selection.score(m["embedding"][index], m["activation"][index], ref, resamples=0))
        for part in (*PARTS, "quality"):
            row[part] = float(np.mean(m[part][index]))
        rows.append(row)
    return selection.rank(rows, direction)


def judge_selectors(rows, resamples=1000, seed=0):
    """Every selector on one half: its pick, the pick's quality percentile,
    and Spearman's rho between its score and quality (lower scores should go
    with higher quality: a good selector has rho well below 0)."""
    picks = selection.picks(rows)
    out = {}
    for name, pick in picks.items():
        key = selection.COLUMNS[name]
        chosen = next(
            r
            for r in rows
            if (r["learning_rate"], r["rp"], r["iterations"])
            == (pick["learning_rate"], pick["rp"], pick["iterations"])
        )
        finite = [r for r in rows if np.isfinite(r[key])]
        out[name] = {
            "pick": [pick["learning_rate"], pick["rp"], pick["iterations"]],
            "score": pick["score"],
            "quality": chosen["quality"],
            "percentile": quality_percentile(rows, chosen),
            "spearman": spearman_with_interval(
                [r[key] for r in finite], [r["quality"] for r in finite], resamples, seed
            )
            if len(finite) >= 3
            else None,
        }
    return out


def choose(judged):
    """The default selector from the choosing half.

    Args:
        judged: direction -> half -> ``judge_selectors`` output.

    Returns:
        dict: ``default``, ``reason``, ``mean_percentile`` per selector
        (choosing half, mean over the directions).
    """
    names = set.intersection(*(set(judged[d]["choose"]) for d in judged))
    mean = {
        name: float(np.mean([judged[d]["choose"][name]["percentile"] for d in judged]))
        for name in selection.SELECTOR_NAMES
        if name in names
    }
    best = max(mean, key=lambda n: (mean[n], n == "frechet"))
    gain = mean[best] - mean["frechet"]
    if best != "frechet" and gain >= MARGIN:
        reason = (
            f"{best}: mean quality percentile {mean[best]:.0%} over both directions on the "
            f"choosing half, {gain:.0%} above frechet ({mean['frechet']:.0%})"
        )
        default = best
    else:
        reason = (
            f"frechet: no candidate beat it by {MARGIN:.0%} on the choosing half (best: {best}, "
            f"{mean[best]:.0%} against {mean['frechet']:.0%})"
        )
        default = "frechet"
    return {"default": default, "reason": reason, "mean_percentile": mean}


def run_pair(
    generator,
    detector,
    valid,
    quality_fn,
    config,
    log=print,
    stages=None,
    name="pair",
    progress=False,
):
    """Both directions of one pair: rows and judged selectors per half.

    Args:
        generator, detector: the pair.
        valid: ``SplitFeatures`` of the reference.
        quality_fn: as in ``example_measures`` (``quality_judge``).
        config: ``run.ExplainConfig`` (its direction is set per direction).
        stages: ``outputs.Stages`` keyed on this pair, or None. A direction
            saved there is reused; each finished one is saved.
        name: the pair's stage name prefix (a pair listed twice shares it).
        progress: show progress bars over the ascent's chunks.

    Returns:
        dict direction -> {"rows": half -> rows, "judged": half -> judged,
        "seconds": float} (plain JSON values).
    """
    out = {}
    for direction in ("max", "min"):
        stage = f"{name}-{direction}"
        saved = stages.load(stage) if stages is not None else None
        if saved is not None:
            out[direction] = saved
            log(f"{direction}: reused from {stages.root} ({saved['seconds']:.0f} s)")
            continue
        start = time.perf_counter()
        cfg = dataclasses.replace(config, direction=direction, condition=None, bootstrap=0)
        log(f"ascent ({direction}): {cfg.seeds} seeds x {len(cfg.pairs)} (lr, rp) pairs")
        result = run.explain(generator, detector, valid, cfg, progress=progress)
        detector_adapted, cfg = run.checked_detector(detector, cfg)
        probe = ascent.LatentParameterisation(
            generator, detector_adapted, layers=[cfg.embedding]
        ).probe
        measured = example_measures(result, probe, quality_fn, cfg.embedding)
        rows, judged = {}, {}
        for h, (half, index) in enumerate(halves(cfg.seeds).items()):
            rows[half] = score_half(measured, result.reference, index, direction)
            judged[half] = judge_selectors(rows[half], seed=h)
        record = {
            "rows": rows,
            "judged": judged,
            "seconds": time.perf_counter() - start,
            "ascent_seconds": result.timings["ascent_s"],
        }
        out[direction] = (
            stages.save(stage, record) if stages is not None else outputs.plain_json(record)
        )
        log(f"{direction}: {len(measured)} settings in {out[direction]['seconds']:.0f} s")
    return out


def quality_judge(train, heldout, seed=0):
    """The quality parts of ``PARTS``: the C2ST realism against as many real
    train excerpts as there are examples, and the class and voice evidence
    of ``measures`` (bank: train, real baseline: ``heldout``)."""
    from vocal_xai.data import pipeline
    from vocal_xai.metrics import measures

    judge = measures.build_judge(train, heldout)

    def quality(x, direction):
        reference, _ = pipeline.sample_excerpts(train, len(x), seed=seed)
        parts = judge.measure(x, direction)
        return {
            "realism": realism.c2st_realism(reference, x)[0],
            "class_evidence": parts["class_evidence"],
            "voice_evidence": parts["voice_evidence"],
        }

    return quality


def _fmt_pick(p):
    lr, rp, it = p
    return f"{lr:g} / {rp:g} / {it}"


def setting_percentile(rows, setting):
    """Quality percentile of ``setting`` (lr, rp, iterations) among ``rows``,
    or None when the grid lacks it."""
    lr, rp, iterations = setting
    for row in rows:
        if (
            np.isclose(row["learning_rate"], lr)
            and np.isclose(row["rp"], rp)
            and row["iterations"] == iterations
        ):
            return quality_percentile(rows, row)
    return None


def paper_grid_table(results):
    """Per pair and direction: the paper's published pick and where it
    falls, the default's pick, the best setting of the reporting half, and
    the wall time of the direction (ascent and all)."""
    default = results["choice"]["default"]
    lines = [
        f"| pair | direction | paper's pick (lr / rp / it) | its percentile, choosing / "
        f"reporting half | {default}'s pick, choosing / reporting half | percentile | "
        "best setting, reporting half | wall time: ascent / all (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for pair, by_direction in results["pairs"].items():
        for direction, res in by_direction.items():
            paper = PAPER_PICKS[direction]
            where = [setting_percentile(res["rows"][h], paper) for h in HALVES]
            chosen = [res["judged"][h][default] for h in HALVES]
            best = max(res["rows"]["report"], key=lambda r: r["quality"])
            lines.append(
                f"| {pair} | {direction} | {_fmt_pick(paper)} | "
                + " / ".join("–" if w is None else f"{w:.0%}" for w in where)
                + f" | {'; '.join(_fmt_pick(c['pick']) for c in chosen)} | "
                + " / ".join(f"{c['percentile']:.0%}" for c in chosen)
                + f" | {_fmt_pick((best['learning_rate'], best['rp'], best['iterations']))} | "
                + f"{res.get('ascent_seconds', float('nan')):.0f} / {res['seconds']:.0f} |"
            )
    return "\n".join(lines) + "\n"


def markdown(results):
    """Tables: per pair and direction, every selector's pick on both halves,
    its quality percentile and rho; then the choice."""
    lines = []
    for pair, by_direction in results["pairs"].items():
        for direction, res in by_direction.items():
            lines += [
                f"**{pair}, latent/{direction}** ({res['seconds']:.0f} s)",
                "",
                "| selector | pick, choosing half (lr / rp / it) | percentile | "
                "pick, reporting half | percentile | Spearman rho, reporting half [95 % CI] |",
                "|---|---|---|---|---|---|",
            ]
            for name in selection.SELECTOR_NAMES:
                c = res["judged"]["choose"].get(name)
                r = res["judged"]["report"].get(name)
                if c is None or r is None:
                    continue
                s = r["spearman"]
                rho = (
                    "–"
                    if s is None or not np.isfinite(s["rho"])
                    else f"{s['rho']:+.2f} [{s['low']:+.2f}, {s['high']:+.2f}]"
                )
                lines.append(
                    f"| {name} | {_fmt_pick(c['pick'])} | {c['percentile']:.0%} | "
                    f"{_fmt_pick(r['pick'])} | {r['percentile']:.0%} | {rho} |"
                )
            lines.append("")
    choice = results["choice"]
    chosen = f", chosen in {choice['source']}" if "source" in choice else ""
    lines.append(f"Default: **{choice['default']}**{chosen}. {choice['reason']}.")
    lines += ["", "The paper's published picks on this grid:", "", paper_grid_table(results)]
    return "\n".join(lines)


def load_choice(path):
    """The choice recorded in the results.json of an earlier run, marked
    with its source."""
    try:
        recorded = json.loads(pathlib.Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ParameterError(
            f"Expected the results.json of a selector study. Received: {path} ({err})"
        ) from None
    choice = recorded.get("choice") if isinstance(recorded, dict) else None
    if not isinstance(choice, dict) or choice.get("default") not in selection.SELECTOR_NAMES:
        raise ParameterError(
            f"Expected a choice of a default selector in {path}. Received: choice={choice!r}"
        )
    return {**choice, "source": str(path)}


def stage_key(detector_dir, generator_dir, corpus_root, config):
    """The key of a pair's stages: the two models' contents, the corpus's
    absolute path and the settings. ``config.selector`` is left out: a
    stage scores every candidate, whichever one ranks the settings."""
    from vocal_xai import cache

    settings = {k: v for k, v in dataclasses.asdict(config).items() if k != "selector"}
    return cache.files_key(
        [],
        [
            cache.model_fingerprint(detector_dir),
            cache.model_fingerprint(generator_dir),
            str(pathlib.Path(corpus_root).resolve()),
            settings,
        ],
    )


def run_cli(
    grid,
    pairs,
    data_dir,
    out,
    overwrite=False,
    command="",
    log=print,
    choice_from=None,
    progress=False,
    **overrides,
):
    """The protocol end to end: the first of ``pairs`` (``(detector,
    generator)`` zoo names or paths) chooses, every pair reports. Writes
    results.json and tables.md into ``out`` (whole or not at all); returns
    the results.

    With ``choice_from`` (the results.json of an earlier run), the choice
    made there is kept and every pair only reports: the protocol's second
    pair can run on its own.

    Each finished direction of each pair is kept in ``.OUT.partial`` beside
    ``out`` (``outputs.Stages``): a killed run, rerun with the same command,
    resumes from the first unfinished direction. The folder is removed once
    ``out`` is written."""
    from vocal_xai import zoo
    from vocal_xai.explain import session

    start = time.perf_counter()
    outputs.check_output_dir(out, overwrite)
    choice = load_choice(choice_from) if choice_from is not None else None
    config = run.ExplainConfig.from_grid(grid, **overrides) if grid in run.GRIDS else None
    if config is None:
        raise ParameterError(f"Expected grid in {sorted(run.GRIDS)}. Received: grid={grid!r}")
    corpus, splits = session.open_splits(data_dir, ("train", "valid", "test"))
    quality = quality_judge(splits["train"], splits["test"])
    results = {"pairs": {}}
    for detector_name, generator_name in pairs:
        detector_dir, generator_dir = zoo.resolve(detector_name), zoo.resolve(generator_name)
        name = f"detector {detector_dir.name} + generator {generator_dir.name}"
        log(f"{name}: {detector_dir}, {generator_dir}")
        key = stage_key(detector_dir, generator_dir, corpus.root, config)
        results["pairs"][name] = run_pair(
            zoo.load_generator(str(generator_dir)),
            zoo.load_detector(str(detector_dir)),
            splits["valid"],
            quality,
            config,
            log=log,
            stages=outputs.Stages(out, key),
            name=key[:16],
            progress=progress,
        )
    if choice is None:
        first = next(iter(results["pairs"].values()))
        choice = choose({d: first[d]["judged"] for d in first})
    results["choice"] = choice
    results["meta"] = {
        "command": command,
        "grid": grid,
        "config": dataclasses.asdict(config),
        "corpus": str(corpus.root),
        "halves": {h: [int(i[0]), int(i[-1])] for h, i in halves(config.seeds).items()},
        "margin": MARGIN,
        "seconds": time.perf_counter() - start,
    }
    results = outputs.plain_json(results)
    with outputs.atomic_dir(out, overwrite) as tmp:
        (tmp / "results.json").write_text(json.dumps(results, indent=1) + "\n")
        (tmp / "tables.md").write_text(markdown(results))
    outputs.Stages(out, None).clear()
    log(markdown(results))
    return results
