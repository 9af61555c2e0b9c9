"""Files of an explanation run: ranking.csv, report.json, report.html,
figures, audio and arrays, plus the summary table printed by
``tools/explain.py``."""

import csv
import json
import pathlib

import numpy as np

from vocal_xai.explain import audio, html, selection
from vocal_xai.plotting import plot_excerpts, pyplot, save_figure

RANKING_COLUMNS = (
    "rank",
    "learning_rate",
    "rp",
    "iterations",
    "distance",
    "distance_low",
    "distance_high",
    *(key for key in selection.COLUMNS.values() if key != "distance"),
    "mean_activation",
    "min_activation",
    "max_activation",
    "fraction_vocal",
    *(f"rank_{key}" for key in selection.COLUMNS.values()),
)


def write_ranking(result, path):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=RANKING_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in result.ranking:
            writer.writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )
    return path


def selected_key(result):
    s = result.selected
    return (s["learning_rate"], s["rp"], s["iterations"])


def selected_activations(result):
    """The explained activation of each seed at its start and in the
    selected setting: ``(start [seeds], selected [seeds])``."""
    s = result.selected
    rows = (result.rows["learning_rate"] == np.float32(s["learning_rate"])) & (
        result.rows["rp"] == np.float32(s["rp"])
    )
    snapshot = list(result.ascent.snapshots).index(s["iterations"])
    return result.ascent.activation[0, rows], result.ascent.best_activation[snapshot, rows]


def plot_examples(result, path, count=4):
    """Starting points G(z0) above the selected setting's explanations, with
    time (s) and frequency (Hz) axes and a colour bar."""
    after = result.examples[selected_key(result)][:count]
    before = result.starts[: len(after)]
    start_act, selected_act = (a[: len(after)] for a in selected_activations(result))
    s = result.selected
    return plot_excerpts(
        [
            ("start G(z0)", before, [f"seed {i}: {a:.3g}" for i, a in enumerate(start_act)]),
            ("selected", after, [f"seed {i}: {a:.3g}" for i, a in enumerate(selected_act)]),
        ],
        path,
        title=f"{result.config.direction} {result.config.neuron} (activation in captions): "
        f"lr {s['learning_rate']:g}, rp {s['rp']:g}, {s['iterations']} iterations",
    )


def plot_example(result, seed, path):
    """One seed's starting point beside its selected explanation."""
    start_act, selected_act = selected_activations(result)
    pair = np.stack([result.starts[seed], result.examples[selected_key(result)][seed]])
    captions = [f"start: {start_act[seed]:.3g}", f"selected: {selected_act[seed]:.3g}"]
    return plot_excerpts([(f"seed {seed}", pair, captions)], path)


def plot_curves(result, path):
    """Mean activation and ||z|| over iterations, one line per (lr, rp)."""
    plt = pyplot()
    fig, (ax_a, ax_z) = plt.subplots(1, 2, figsize=(12, 4.2))
    rows = result.rows
    for lr in result.config.learning_rates:
        for rp in result.config.rps:
            mask = (rows["learning_rate"] == np.float32(lr)) & (rows["rp"] == np.float32(rp))
            label = f"lr {lr:g}, rp {rp:g}"
            ax_a.plot(result.ascent.activation[:, mask].mean(axis=1), lw=1, label=label)
            ax_z.plot(result.ascent.z_norm[:, mask].mean(axis=1), lw=1, label=label)
    lo, hi = result.real_range
    ax_a.axhspan(lo, hi, color="0.85", zorder=0, label="real reference range")
    ax_a.set_xlabel("iteration")
    ax_a.set_ylabel(f"{result.config.neuron} (mean over seeds)")
    ax_a.set_yscale("symlog")
    ax_z.set_xlabel("iteration")
    ax_z.set_ylabel("||z|| (mean over seeds)")
    ax_z.legend(fontsize=7, ncol=2)
    return save_figure(fig, path)


def plot_heatmap(result, path):
    """The score of the selector that ranks the settings, per setting:
    learning rate x rp, one panel per iteration count. The two Fréchet
    distances (never negative) are shown on a log scale."""
    plt = pyplot()
    cfg = result.config
    its = list(result.ascent.snapshots)
    column = selection.COLUMNS[cfg.selector]
    logarithmic = cfg.selector in ("paper_1d", "frechet")
    fig, axes = plt.subplots(1, len(its), figsize=(3.6 * len(its), 3.4), squeeze=False)
    table = {(r["learning_rate"], r["rp"], r["iterations"]): r[column] for r in result.ranking}

    def shown(value):
        return np.log10(value + 1e-12) if logarithmic else value

    values = np.array([shown(v) for v in table.values()], np.float64)
    low, high = np.nanmin(values), np.nanmax(values)
    middle = (low + high) / 2
    for k, (ax, it) in enumerate(zip(axes[0], its)):
        grid = np.array(
            [[shown(table[(lr, rp, int(it))]) for rp in cfg.rps] for lr in cfg.learning_rates]
        )
        im = ax.imshow(grid, cmap="viridis_r", vmin=low, vmax=high)
        ax.set_xticks(range(len(cfg.rps)), [f"{v:g}" for v in cfg.rps])
        ax.set_yticks(range(len(cfg.learning_rates)), [f"{v:g}" for v in cfg.learning_rates])
        ax.set_xlabel("rp")
        if k == 0:
            ax.set_ylabel("learning rate")
        ax.set_title(f"{int(it)} iterations", fontsize=9)
        for i, lr in enumerate(cfg.learning_rates):
            for j, rp in enumerate(cfg.rps):
                # Dark text on the light (low-score) end of viridis_r.
                color = "k" if grid[i, j] < middle else "w"
                ax.text(
                    j,
                    i,
                    f"{table[(lr, rp, int(it))]:.3g}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=color,
                )
    label = f"{cfg.selector} score, lower is better"
    fig.colorbar(im, ax=axes[0].tolist(), label=f"log10 {label}" if logarithmic else label)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write_all(result, out_dir, versions=None, audio_count=4, griffin_lim_iterations=100):
    """Write every output of a run into ``out_dir``; return the paths.

    The first ``audio_count`` seeds' selected explanations and starting
    points are written as WAV files (Griffin-Lim, ``griffin_lim_iterations``
    iterations) and shown side by side in ``report.html``.
    """
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"ranking": write_ranking(result, out / "ranking.csv")}
    paths["examples_png"] = plot_examples(result, out / "examples.png")
    paths["curves_png"] = plot_curves(result, out / "curves.png")
    paths["heatmap_png"] = plot_heatmap(result, out / "distance_heatmap.png")
    selected = result.examples[selected_key(result)]
    np.save(out / "selected_log_mel.npy", selected)
    np.save(out / "start_log_mel.npy", result.starts)
    np.save(out / "activation_trace.npy", result.ascent.activation)
    np.save(out / "z_norm_trace.npy", result.ascent.z_norm)
    np.save(out / "grad_norm_trace.npy", result.ascent.grad_norm)
    start_act, selected_act = selected_activations(result)
    wavs, starts, examples = [], [], []
    for i in range(min(audio_count, len(selected))):
        files = {}
        for kind, log_mel, written in (
            ("selected", selected[i], wavs),
            ("start", result.starts[i], starts),
        ):
            wav = audio.log_mel_to_audio(log_mel, n_iter=griffin_lim_iterations, seed=i)
            written.append(str(audio.write_wav(out / f"{kind}_seed{i}.wav", wav)))
            files[kind] = pathlib.Path(written[-1]).name
        png = plot_example(result, i, out / f"example_seed{i}.png")
        examples.append(
            {
                "seed": i,
                "png": png.name,
                "start_wav": files["start"],
                "selected_wav": files["selected"],
                "start_activation": float(start_act[i]),
                "selected_activation": float(selected_act[i]),
            }
        )
    report = {
        "config": {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(result.config).items()
        },
        "selected": result.selected,
        "selector": result.config.selector,
        "selector_reason": selector_reason(result.config.selector),
        "picks": result.picks,
        "ranking": result.ranking,
        "reference": {
            "count": int(result.reference.size),
            "activation_mean": float(result.reference.activations.mean()),
            "activation_min": result.real_range[0],
            "activation_max": result.real_range[1],
        },
        "models": versions or {},
        "timings": result.timings,
        "audio": wavs,
        "start_audio": starts,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    figures = [
        ("examples.png", "Starting points G(z0) (top) and the selected explanations (bottom)."),
        ("curves.png", "Mean activation and latent norm over the iterations, per (lr, rp)."),
        (
            "distance_heatmap.png",
            f"Score of every setting by {result.config.selector}, the selector that ranks them.",
        ),
    ]
    (out / "report.html").write_text(html.render(report, figures, examples), encoding="utf-8")
    paths["report"] = out / "report.json"
    paths["html"] = out / "report.html"
    paths["audio"] = wavs
    paths["start_audio"] = starts
    return paths


def selector_reason(selector):
    """Why ``selector`` orders the settings."""
    if selector == selection.DEFAULT_SELECTOR:
        return f"default: {selection.DEFAULT_REASON}"
    return f"{selector}, chosen by --selector (default: {selection.DEFAULT_SELECTOR})"


def summary_table(result, top=10):
    """The ranking as a text table (best first), then every selector's pick.
    The distance's bootstrap interval is shown only where it was computed
    (``bootstrap`` > 0)."""
    rows = result.ranking[:top]
    interval = any(np.isfinite(r["distance_low"]) for r in rows)
    ci = f" {'95% CI':>21}" if interval else ""
    lines = [
        f"Settings ranked by {result.config.selector}:",
        f"{'rank':>4} {'lr':>7} {'rp':>7} {'iter':>5} {'distance':>10}{ci} "
        f"{'1-D dist':>10} {'mean act':>9} {'vocal':>6}",
    ]
    for r in rows:
        ci = f" [{r['distance_low']:>8.4g}, {r['distance_high']:>8.4g}]" if interval else ""
        lines.append(
            f"{r['rank']:>4} {r['learning_rate']:>7g} {r['rp']:>7g} {r['iterations']:>5} "
            f"{r['distance']:>10.4g}{ci} "
            f"{r['distance_1d']:>10.4g} {r['mean_activation']:>9.3g} {r['fraction_vocal']:>6.0%}"
        )
    lo, hi = result.real_range
    lines.append(
        f"real reference ({result.reference.size} excerpts): activation {lo:.3g} .. {hi:.3g}"
    )
    lines += [
        "",
        "Each selector's pick (lower scores are better):",
        f"{'selector':<20} {'lr':>7} {'rp':>7} {'iter':>5} {'score':>10} {'rank':>5}",
    ]
    for name, pick in result.picks.items():
        lines.append(
            f"{name:<20} {pick['learning_rate']:>7g} {pick['rp']:>7g} {pick['iterations']:>5} "
            f"{pick['score']:>10.4g} {pick['rank']:>5}"
        )
    lines.append(f"Selector: {selector_reason(result.config.selector)}")
    return "\n".join(lines)
