"""Does the distance pick good explanations? The study behind
``recipes/validity.py`` and ``docs/validity.md``: its orchestration, analysis,
tables and figures. The measures it judges with are the library's
(``vocal_xai.metrics.measures``, ``vocal_xai.metrics.rank``).

For both directions it runs a grid of settings with two methods, the GAN
latent ascent (``run.explain``) and input-space activation maximisation
(``input_space``), and judges every setting's examples twice:

* by the selectors: the Fréchet distance on detector embeddings, the 1-D
  distance on the activation, and, as a naive baseline, the most extreme mean
  activation;
* by independent measures that do not use the detector (``measures``):
  realism, class evidence and voice evidence, and their mean, ``quality``.

It then reports Spearman rank correlations between every distance and every
measure (with bootstrap intervals over settings), whether each selector's
pick lies in the top decile of quality, and how the two methods compare.
"""

import dataclasses
import itertools
import json
import pathlib
import time

import numpy as np

from vocal_xai import outputs, plotting
from vocal_xai.errors import ParameterError
from vocal_xai.explain import input_space, run, selection
from vocal_xai.metrics.rank import example_difference, spearman_with_interval

MEASURES = ("realism", "class_evidence", "voice_evidence", "quality")
DISTANCES = ("distance", "distance_1d")
SELECTORS = ("distance", "distance_1d", "activation")
METHODS = ("latent", "input")

GRIDS = {
    # The paper's learning rates and rp values with shorter runs and 16 seeds.
    "subset": {"iterations": (10, 30, 100), "seeds": 16},
    "quick": {"iterations": (10, 25, 50), "seeds": 8},
    "paper": {"iterations": (100, 500, 1000), "seeds": 50},
    "tiny": {"iterations": (2, 4), "seeds": 3},
}


@dataclasses.dataclass
class StudyConfig:
    """The two grids.

    Attributes:
        learning_rates, rps, iterations, seeds: the latent grid (the paper's).
        input_learning_rates, input_rps: the input-space grid, with the same
            iterations and seeds; rp weighs ``mean(u^2) + TV(u)``.
        jitter: input-space jitter (frames and bands).
        embedding: detector layer compared by the Fréchet distance.
        reference_k, reference_stride: the selectors' real reference.
        bootstrap: resamples of every confidence interval.
        chunk_size: rows per ascent call.
    """

    learning_rates: tuple = (0.1, 0.01, 0.001)
    rps: tuple = (0.1, 0.01, 0.001)
    iterations: tuple = GRIDS["subset"]["iterations"]
    seeds: int = GRIDS["subset"]["seeds"]
    input_learning_rates: tuple = (0.1, 0.01, 0.001)
    input_rps: tuple = (1.0, 0.1, 0.01)
    jitter: int = 2
    embedding: str = "embedding_64"
    reference_k: int = 200
    reference_stride: int = 5
    bootstrap: int = 1000
    chunk_size: int = 128

    def __post_init__(self):
        if self.seeds < 2:
            raise ParameterError(f"Expected seeds >= 2. Received: seeds={self.seeds}")
        if self.bootstrap < 0:
            raise ParameterError(f"Expected bootstrap >= 0. Received: bootstrap={self.bootstrap}")

    @classmethod
    def from_grid(cls, grid, **overrides):
        if grid not in GRIDS:
            raise ParameterError(f"Expected grid in {sorted(GRIDS)}. Received: grid={grid!r}")
        return cls(**{**GRIDS[grid], **overrides})


# ------------------------------------------------------------------ running


def run_input_space(param, config, direction, progress=False):
    """Input-space grid of one direction: {(lr, rp, iterations): log-mel
    [seeds, 115, 80]}."""
    pairs = list(itertools.product(config.input_learning_rates, config.input_rps))
    seeds = np.arange(config.seeds)
    u0 = np.tile(input_space.initial_inputs(seeds), (len(pairs), 1, 1))
    lr, rp = run.pair_rows(pairs, len(seeds))
    result = input_space.input_ascent(
        param,
        u0,
        lr,
        rp,
        direction,
        config.iterations,
        jitter=config.jitter,
        chunk_size=config.chunk_size,
        progress=progress,
    )
    examples = {}
    for s, iterations in enumerate(result.snapshots):
        for p, (pair_lr, pair_rp) in enumerate(pairs):
            examples[(float(pair_lr), float(pair_rp), int(iterations))] = result.log_mel[
                s, p * len(seeds) : (p + 1) * len(seeds)
            ]
    return examples


def score_settings(examples, probe, ref, judge, direction, method, embedding="embedding_64"):
    """One row per setting: selectors' distances and the independent measures."""
    rows = []
    for (lr, rp, iterations), log_mel in examples.items():
        acts, embs = selection.probe_excerpts(probe, log_mel, "logit", 0, embedding)
        row = {
            "method": method,
            "direction": direction,
            "learning_rate": lr,
            "rp": rp,
            "iterations": iterations,
        }
        row.update(selection.score(embs, acts, ref, resamples=0))
        row["fraction_vocal"] = float(np.mean(acts > 0))
        per_example = judge.measure(log_mel, direction)
        for name, values in per_example.items():
            row[name] = float(np.mean(values))
        row["quality"] = float(np.mean([row[m] for m in MEASURES[:-1]]))
        rows.append(row)
    return rows


def run_study(generator, detector, valid, judge, config, progress=False, log=print):
    """Run both methods in both directions; return (rows, examples).

    ``examples[(method, direction)]`` maps each setting to its log-mel.
    """
    rows, examples = [], {}
    param = input_space.InputParameterisation(detector, layers=["logit", config.embedding])
    for direction in ("max", "min"):
        start = time.perf_counter()
        latent_config = run.ExplainConfig(
            direction=direction,
            learning_rates=config.learning_rates,
            rps=config.rps,
            iterations=config.iterations,
            seeds=config.seeds,
            embedding=config.embedding,
            reference_k=config.reference_k,
            reference_stride=config.reference_stride,
            bootstrap=0,
            chunk_size=config.chunk_size,
        )
        latent = run.explain(generator, detector, valid, latent_config, progress=progress)
        examples[("latent", direction)] = latent.examples
        rows += score_settings(
            latent.examples,
            param.probe,
            latent.reference,
            judge,
            direction,
            "latent",
            config.embedding,
        )
        log(
            f"latent {direction}: {len(latent.examples)} settings in "
            f"{time.perf_counter() - start:.0f} s"
        )
        start = time.perf_counter()
        inp = run_input_space(param, config, direction, progress=progress)
        examples[("input", direction)] = inp
        rows += score_settings(
            inp, param.probe, latent.reference, judge, direction, "input", config.embedding
        )
        log(f"input {direction}: {len(inp)} settings in {time.perf_counter() - start:.0f} s")
    return rows, examples


# ----------------------------------------------------------------- analysis


def members_of(rows, method, direction):
    """The rows of one method and direction."""
    return [r for r in rows if r["method"] == method and r["direction"] == direction]


def setting_key(row):
    """The (learning rate, rp, iterations) key of a row's examples."""
    return (row["learning_rate"], row["rp"], row["iterations"])


def select(rows, selector):
    """The row a selector picks: lowest distance, or the most extreme mean
    activation (highest for max, lowest for min)."""
    if selector in DISTANCES:
        return min(rows, key=lambda r: (r[selector], r["learning_rate"], r["rp"]))
    if selector == "activation":
        sign = 1.0 if rows[0]["direction"] == "max" else -1.0
        return max(rows, key=lambda r: (sign * r["mean_activation"], -r["learning_rate"]))
    raise ParameterError(f"Expected selector in {SELECTORS}. Received: selector={selector!r}")


def quality_percentile(rows, row, measure="quality"):
    """Fraction of ``rows`` whose ``measure`` is at most ``row``'s."""
    values = np.array([r[measure] for r in rows])
    return float(np.mean(values <= row[measure]))


def groups(rows):
    """Rows per (method, direction), and per direction with both methods."""
    out = {}
    for direction in ("max", "min"):
        for method in METHODS:
            picked = members_of(rows, method, direction)
            if picked:
                out[f"{method}/{direction}"] = picked
        both = [r for r in rows if r["direction"] == direction]
        if both and len({r["method"] for r in both}) > 1:
            out[f"both/{direction}"] = both
    return out


def analyse(rows, resamples=1000, seed=0):
    """Correlations, selector checks and the method comparison, as a dict."""
    result = {"correlations": {}, "selectors": {}, "methods": {}}
    for g, (name, members) in enumerate(groups(rows).items()):
        result["correlations"][name] = {
            f"{d}~{m}": spearman_with_interval(
                [r[d] for r in members], [r[m] for r in members], resamples, seed + g
            )
            for d in DISTANCES
            for m in MEASURES
        }
        threshold = float(np.quantile([r["quality"] for r in members], 0.9))
        result["selectors"][name] = {}
        for selector in SELECTORS:
            chosen = select(members, selector)
            result["selectors"][name][selector] = {
                "setting": {k: chosen[k] for k in ("method", "learning_rate", "rp", "iterations")},
                "quality": chosen["quality"],
                "percentile": quality_percentile(members, chosen),
                "top_decile": bool(chosen["quality"] >= threshold),
                **{m: chosen[m] for m in MEASURES[:-1]},
            }
        best = max(members, key=lambda r: r["quality"])
        result["selectors"][name]["best"] = {
            "setting": {k: best[k] for k in ("method", "learning_rate", "rp", "iterations")},
            "quality": best["quality"],
        }
    for direction in ("max", "min"):
        per = {}
        for method in METHODS:
            members = members_of(rows, method, direction)
            if not members:
                continue
            chosen = select(members, "distance")
            per[method] = {
                "selected": {m: chosen[m] for m in MEASURES},
                "median": {m: float(np.median([r[m] for r in members])) for m in MEASURES},
                "best": {m: float(np.max([r[m] for r in members])) for m in MEASURES},
            }
        result["methods"][direction] = per
    return result


def compare_selected(rows, examples, judge, resamples=1000, seed=0):
    """Per direction and measure: latent minus input-space, on the examples
    of each method's distance-selected setting."""
    out = {}
    for i, direction in enumerate(("max", "min")):
        per_method = {}
        for method in METHODS:
            members = members_of(rows, method, direction)
            if not members:
                break
            chosen = select(members, "distance")
            per_method[method] = judge.measure(
                examples[(method, direction)][setting_key(chosen)], direction
            )
        if len(per_method) < 2:
            continue
        out[direction] = {
            m: example_difference(
                per_method["latent"][m], per_method["input"][m], resamples, seed + i
            )
            for m in ("realism", "class_evidence", "voice_evidence")
        }
    return out


# ------------------------------------------------------------------- output


def _fmt(value, digits=2):
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _rho(c):
    if not np.isfinite(c["rho"]):
        return "n/a (constant)"
    return f"{c['rho']:+.2f} [{c['low']:+.2f}, {c['high']:+.2f}]"


def markdown_tables(analysis, comparison):
    """The result tables of ``docs/validity.md``."""
    lines = [
        "### Spearman correlation between distance and quality",
        "",
        "Negative: a lower distance goes with better quality. "
        "95 % bootstrap intervals over settings.",
        "",
        "| group | settings | distance | " + " | ".join(MEASURES) + " |",
        "|---|---|---|" + "---|" * len(MEASURES),
    ]
    for name, corr in analysis["correlations"].items():
        for d in DISTANCES:
            cells = [_rho(corr[f"{d}~{m}"]) for m in MEASURES]
            n = corr[f"{d}~quality"]["n"]
            lines.append(f"| {name} | {n} | {d} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### The selectors' picks",
        "",
        "Quality percentile of the chosen setting within its group (1.00: the best); "
        "top decile: quality at or above the group's 90th percentile.",
        "",
        "| group | selector | setting (method, lr, rp, iterations) | quality | percentile "
        "| top decile | realism | class evidence | voice evidence |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, sel in analysis["selectors"].items():
        for selector in SELECTORS:
            s = sel[selector]
            st = s["setting"]
            lines.append(
                f"| {name} | {selector} | "
                f"{st['method']}, {st['learning_rate']:g}, {st['rp']:g}, {st['iterations']} | "
                f"{s['quality']:.3f} | {s['percentile']:.2f} | "
                f"{'yes' if s['top_decile'] else 'no'} | "
                f"{s['realism']:.3f} | {s['class_evidence']:.3f} | {s['voice_evidence']:.3f} |"
            )
        b = sel["best"]
        st = b["setting"]
        lines.append(
            f"| {name} | best possible | {st['method']}, {st['learning_rate']:g}, {st['rp']:g}, "
            f"{st['iterations']} | {b['quality']:.3f} | 1.00 | yes | | | |"
        )
    lines += [
        "",
        "### GAN latent vs input space",
        "",
        "Each method's distance-selected setting, its median over all settings, "
        "and its best setting.",
        "",
        "| direction | method | "
        + " | ".join(f"{m} (selected / median / best)" for m in MEASURES)
        + " |",
        "|---|---|" + "---|" * len(MEASURES),
    ]
    for direction, per in analysis["methods"].items():
        for method, v in per.items():
            cells = [
                f"{v['selected'][m]:.3f} / {v['median'][m]:.3f} / {v['best'][m]:.3f}"
                for m in MEASURES
            ]
            lines.append(f"| {direction} | {method} | " + " | ".join(cells) + " |")
    if comparison:
        lines += [
            "",
            "Latent minus input space on the selected settings' examples "
            "(95 % bootstrap interval):",
            "",
            "| direction | realism | class evidence | voice evidence |",
            "|---|---|---|---|",
        ]
        for direction, diffs in comparison.items():
            cells = [
                f"{diffs[m]['difference']:+.3f} [{diffs[m]['low']:+.3f}, {diffs[m]['high']:+.3f}]"
                for m in ("realism", "class_evidence", "voice_evidence")
            ]
            lines.append(f"| {direction} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_scatter(rows, path):
    """Distance vs quality, one panel per (method, direction); the pick of
    each distance circled."""
    plt = plotting.pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(10, 8), squeeze=False)
    for i, direction in enumerate(("max", "min")):
        for j, method in enumerate(METHODS):
            ax = axes[i][j]
            members = members_of(rows, method, direction)
            if not members:
                ax.set_visible(False)
                continue
            x = np.array([r["distance"] for r in members])
            y = np.array([r["quality"] for r in members])
            c = np.log10([r["learning_rate"] for r in members])
            points = ax.scatter(x, y, c=c, cmap="viridis", s=30)
            chosen = select(members, "distance")
            ax.scatter(
                [chosen["distance"]],
                [chosen["quality"]],
                s=160,
                facecolors="none",
                edgecolors="red",
                label="selected by distance",
            )
            ax.set_xscale("log")
            ax.set_xlabel("Fréchet distance (log)")
            ax.set_ylabel("quality")
            ax.set_title(f"{method}, {direction}")
            ax.legend(fontsize=8, loc="best")
            fig.colorbar(points, ax=ax, label="log10 learning rate")
    return plotting.save_figure(fig, path)


def plot_correlations(analysis, path):
    """Spearman rho with intervals, per group, distance and measure."""
    plt = plotting.pyplot()
    names = list(analysis["correlations"])
    fig, axes = plt.subplots(
        1,
        len(DISTANCES),
        figsize=(11, 0.5 + 0.45 * len(names) * len(MEASURES)),
        squeeze=False,
        sharey=True,
    )
    for k, d in enumerate(DISTANCES):
        ax = axes[0][k]
        labels, y = [], 0
        for name in names:
            for m in MEASURES:
                c = analysis["correlations"][name][f"{d}~{m}"]
                ax.errorbar(
                    c["rho"],
                    y,
                    xerr=[[c["rho"] - c["low"]], [c["high"] - c["rho"]]],
                    fmt="o",
                    color="C0" if m == "quality" else "0.5",
                )
                labels.append(f"{name}: {m}")
                y += 1
        ax.axvline(0.0, color="k", lw=0.8)
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels, fontsize=7)
        ax.set_xlim(-1, 1)
        ax.set_xlabel(f"Spearman rho: {d} vs measure (none: constant measure)")
    axes[0][0].invert_yaxis()  # the axes share y: invert once, first group on top
    return plotting.save_figure(fig, path)


def plot_examples(rows, examples, path, count=3):
    """The distance-selected examples of each method and direction, with
    time and frequency axes and one colour bar."""
    grid = []
    for direction in ("max", "min"):
        for method in METHODS:
            if (method, direction) not in examples:
                continue
            chosen = select(members_of(rows, method, direction), "distance")
            data = np.asarray(examples[(method, direction)][setting_key(chosen)][:count])
            label = (
                f"{method}, {direction}\nlr {chosen['learning_rate']:g}, "
                f"rp {chosen['rp']:g}, {chosen['iterations']} it"
            )
            grid.append((label, data, None))
    return plotting.plot_excerpts(
        grid, path, title="Examples of the distance-selected setting, per method and direction"
    )


def write_outputs(rows, examples, analysis, comparison, out_dir, meta=None):
    """settings.csv, results.json, tables.md and three figures in ``out_dir``,
    which appears whole (replacing an earlier study's folder) or not at all."""
    with outputs.atomic_dir(out_dir, overwrite=True) as tmp:
        _write_files(rows, examples, analysis, comparison, tmp, meta)
    return pathlib.Path(out_dir)


def _write_files(rows, examples, analysis, comparison, out, meta):
    columns = list(rows[0])
    with open(out / "settings.csv", "w") as f:
        f.write(",".join(columns) + "\n")
        for r in rows:
            f.write(
                ",".join(f"{r[c]:.6g}" if isinstance(r[c], float) else str(r[c]) for c in columns)
                + "\n"
            )
    (out / "results.json").write_text(
        json.dumps(
            {"meta": meta or {}, "analysis": analysis, "comparison": comparison, "settings": rows},
            indent=1,
        )
        + "\n"
    )
    (out / "tables.md").write_text(markdown_tables(analysis, comparison))
    plot_scatter(rows, out / "distance_vs_quality.png")
    plot_correlations(analysis, out / "correlations.png")
    plot_examples(rows, examples, out / "selected_examples.png")


BEGIN, END = (
    "<!-- validity results: python recipes/validity.py -->",
    "<!-- end of validity results -->",
)


def render_docs_block(results_json, figures_dir):
    """The generated block of ``docs/validity.md`` from a results file."""
    results = json.loads(pathlib.Path(results_json).read_text())
    meta = results["meta"]
    head = (
        f"Run: `{meta.get('command', '')}` "
        f"({meta.get('detector', '')}, {meta.get('generator', '')}; "
        f"{meta.get('settings', 0)} settings x {meta.get('seeds', 0)} seeds, "
        f"{meta.get('seconds', 0):.0f} s)."
    )
    figures = "\n".join(
        f"![{name}]({figures_dir}/{name}.png)"
        for name in ("distance_vs_quality", "correlations", "selected_examples")
    )
    return f"{head}\n\n{markdown_tables(results['analysis'], results['comparison'])}\n{figures}\n"


def run_cli(
    grid,
    detector_name,
    generator_name,
    data_dir,
    out,
    docs=None,
    command="",
    measures_only=False,
    **overrides,
):
    """Run the study end to end; write ``out`` and, when given, the
    generated block of ``docs``. ``overrides`` are ``StudyConfig`` fields.
    With ``measures_only``, only check the measures on real data and print
    the result. Returns the results dict."""
    from vocal_xai import markdown as markdown_blocks
    from vocal_xai import zoo
    from vocal_xai.explain import session
    from vocal_xai.metrics import measures

    start = time.perf_counter()
    config = StudyConfig.from_grid(grid, **overrides)
    outputs.check_output_dir(out, overwrite=True)
    detector_dir, generator_dir = zoo.resolve(detector_name), zoo.resolve(generator_name)
    detector = zoo.load_detector(str(detector_dir))
    generator = zoo.load_generator(str(generator_dir))
    corpus, splits = session.open_splits(data_dir, ("train", "valid", "test"))
    # The bank (train) and the real-to-real baseline (test) are kept apart
    # from the selectors' reference (valid).
    judge = measures.build_judge(splits["train"], splits["test"])
    print(
        f"Judge: {len(judge.bank)} bank excerpts, "
        f"{len(judge.real_distances)} real-to-real distances"
    )
    # Checked on excerpts that neither the bank nor the baseline holds.
    check = measures.check_on_real(judge, splits["valid"])
    print(f"Measures on real valid excerpts: {json.dumps(check)}")
    if measures_only:
        return {"measures": check}
    rows, examples = run_study(generator, detector, splits["valid"], judge, config, progress=True)
    analysis = analyse(rows, config.bootstrap)
    comparison = compare_selected(rows, examples, judge, config.bootstrap)
    meta = {
        "command": command,
        "grid": grid,
        "config": dataclasses.asdict(config),
        "detector": f"{detector_dir.parent.name} {detector_dir.name}",
        "generator": f"{generator_dir.parent.name} {generator_dir.name}",
        "settings": len(rows),
        "seeds": config.seeds,
        "seconds": time.perf_counter() - start,
        "measures_on_real": check,
    }
    out = write_outputs(rows, examples, analysis, comparison, out, meta)
    if docs is not None:
        figures = pathlib.Path(out).resolve().relative_to(pathlib.Path(docs).resolve().parent)
        markdown_blocks.replace_block(
            docs, BEGIN, END, render_docs_block(out / "results.json", figures)
        )
    print(markdown_tables(analysis, comparison))
    return {"analysis": analysis, "comparison": comparison, "meta": meta}
