"""Case study: why does the detector hear a string orchestra sing?

    python recipes/make_corpus.py --out=corpora/synthetic-v1 --version=1
    python recipes/case_study.py --detector=saved_models/detector/3 \
        --generator=saved_models/generator/2 --data_dir=corpora/synthetic-v1 \
        --out=docs/case_study/detector3

Runs the product on a real question. It predicts the vocal probability of
the real recordings in --recordings, cuts them into excerpts, explains the
detector's output logit (and the `embedding_64` units that the firing
orchestral excerpts drive hardest) by latent activation maximisation, and
measures pitch and timbre cues (`vocal_xai.explain.cues`) on every group:
the synthetic corpus's vocal and non-vocal test excerpts, the real
recordings' excerpts split by the detector's call, and the explanations.
The real recordings are only evaluated, never trained or tuned on.

It also plays the detector probe textures whose cues are set rather than
drawn (`cues.probe_texture`: vibrato depth, static or moving spectral
envelope, a solo line or a section of players in chords, held or struck
notes, dry or in a room) to see which cues, alone and together, make it
fire.

Writes into --out, whole or not at all: predict-<recording>.png,
explanations.png, tracks.png, cues.png, sweep.png, results.json and
tables.md.
"""

import json
import os
import pathlib
import shutil
import sys
import time

from absl import app, flags

from vocal_xai import cli

flags.DEFINE_string("detector", "detector", "Zoo name or path of the detector.")
flags.DEFINE_string("generator", "generator", "Zoo name or path of the generator.")
flags.DEFINE_string(
    "data_dir",
    None,
    "Synthetic-layout corpus (test: the groups, valid: the explanation "
    "reference); default: the synthetic default corpus in corpora/synthetic.",
)
flags.DEFINE_string(
    "recordings", "real_recordings", "Folder of the real recordings (.ogg, evaluation only)."
)
flags.DEFINE_string("cache_dir", "runs/cache", "Feature cache of the corpus splits.")
flags.DEFINE_string("out", None, "Output folder; default: docs/case_study/detector<version>.")
flags.DEFINE_integer("stride", 35, "Frames between excerpt centres (35 = 0.5 s).", lower_bound=1)
flags.DEFINE_integer("seeds", 16, "Seeds per setting of the logit explanation.", lower_bound=2)
flags.DEFINE_integer("unit_seeds", 8, "Seeds per setting of each unit explanation.", lower_bound=2)
flags.DEFINE_integer(
    "units",
    3,
    "embedding_64 units explained (most driven by firing orchestral excerpts).",
    lower_bound=0,
)
flags.DEFINE_integer(
    "pyin_excerpts", 10, "Excerpts per group whose f0 pyin also measures (0: none).", lower_bound=0
)
flags.DEFINE_integer(
    "probe_seeds", 4, "Melodies per condition of the probe sweep (0: no sweep).", lower_bound=0
)
FLAGS = flags.FLAGS

# The probe sweep: every combination of these, each with --probe_seeds melodies.
PROBE_DEPTHS = (0.0, 40.0, 80.0)  # vibrato, cents peak to peak
PROBE_TEXTURES = {"solo": (1, 1), "section": (4, 3)}  # (players per line, lines)
PROBE_ROOMS = {"dry": 0.0, "room": 1.5}  # rt60, s
PROBE_SECONDS = 5.0
PROBE_DECAY = 0.3  # s, time constant of struck notes

# Recordings by file-name prefix: short key, class, and whether it is orchestral.
RECORDINGS = (
    ("Hungarian_Dance", "strings", "non-vocal: string orchestra"),
    ("Kevin_MacLeod_-_P_I_Tchaikovsky", "celesta", "non-vocal: orchestra, celesta"),
    ("Kevin_MacLeod_-_Vibe_Ace", "jazz", "non-vocal: jazz combo"),
    ("sorohanro_-_solo-trumpet", "trumpet", "non-vocal: solo trumpet"),
    ("Karissa_Hobbs", "song", "song with a singer (unlabelled frames)"),
)
ORCHESTRAL = ("strings", "celesta")
CUE_ORDER = (
    "pitch_confidence",
    "vibrato_rate",
    "vibrato_depth",
    "vibrato_strength",
    "glide_fraction",
    "glide_speed",
    "formant_motion",
    "syllabic_modulation",
    "centroid_hz",
    "tilt_db_per_octave",
    "strong_partials",
    "onset_db",
    "decay_db",
    "high_band_db",
)
CUE_UNITS = {
    "pitch_confidence": "0..1",
    "vibrato_rate": "Hz",
    "vibrato_depth": "cents p-p",
    "vibrato_strength": "0..1",
    "glide_fraction": "0..1",
    "glide_speed": "cents/s",
    "formant_motion": "cepstral units",
    "syllabic_modulation": "log10 power",
    "centroid_hz": "Hz",
    "tilt_db_per_octave": "dB/oct",
    "strong_partials": "peaks/frame",
    "onset_db": "dB/frame",
    "decay_db": "dB in 43 ms",
    "high_band_db": "dB",
}
GROUP_LABELS = {
    "synthetic vocal": "syn voc",
    "synthetic non-vocal": "syn non",
    "strings, fired": "str fire",
    "strings, not fired": "str quiet",
    "celesta, fired": "cel fire",
    "celesta, not fired": "cel quiet",
    "jazz": "jazz",
    "trumpet": "trumpet",
    "song, fired": "song fire",
    "song, not fired": "song quiet",
    "speech": "speech",
    "G(z0), vocal prior": "G(z0)",
    "explanation: logit": "expl logit",
    "explanation: units": "expl units",
}


def recording_key(path):
    for prefix, key, _ in RECORDINGS:
        if path.name.startswith(prefix):
            return key
    return "speech"


def describe(key):
    return {key: cls for _, key, cls in RECORDINGS}.get(
        key, "read speech (LibriSpeech), not singing"
    )


def frame_outputs(detector, log_mel):
    """Per-frame probability, logit and embedding_64 of one song (numpy)."""
    import tensorflow as tf

    from vocal_xai.models.detector import song

    out = song.song_outputs(detector, tf.constant(log_mel[None], tf.float32))
    return {k: out[k][0].numpy() for k in ("probability", "logit", "embedding_64")}


def excerpt_centres(n_frames, stride):
    import numpy as np

    from vocal_xai.data.pipeline import HALF

    return np.arange(HALF, n_frames - HALF, stride)


def cut(log_mel, centres):
    import numpy as np

    from vocal_xai.data.pipeline import HALF

    return log_mel[centres[:, None] + np.arange(-HALF, HALF + 1)[None, :]]


def waveform_of(waveform, centre):
    """Samples under the excerpt centred on frame ``centre``."""
    from vocal_xai import spectral
    from vocal_xai.data.pipeline import HALF

    start = (centre - HALF) * spectral.HOP_LENGTH
    return waveform[start : start + (2 * HALF) * spectral.HOP_LENGTH + spectral.FRAME_LENGTH]


def load_song(path, detector, stride):
    import numpy as np

    from vocal_xai import spectral
    from vocal_xai.data import audio

    waveform = audio.load_audio(path)
    log_mel = spectral.log_mel(waveform).numpy()
    out = frame_outputs(detector, log_mel)
    centres = excerpt_centres(len(log_mel), stride)
    return {
        "waveform": waveform,
        "log_mel": log_mel,
        "frames": out,
        "centres": centres,
        "excerpts": cut(log_mel, centres),
        "probability": out["probability"][centres],
        "logit": out["logit"][centres],
        "embedding": out["embedding_64"][centres],
        "times": spectral.frame_times(len(log_mel)),
        "share_05": float(np.mean(out["probability"] > 0.5)),
    }


def plot_prediction(name, song, threshold, path):
    """Spectrogram over the probability curve with both thresholds."""
    import librosa.display

    from vocal_xai import plotting, spectral

    fig, (ax_spec, ax_prob) = plotting.pyplot().subplots(
        2, 1, figsize=(10, 3.6), sharex=True, gridspec_kw={"height_ratios": [2.2, 1]}
    )
    librosa.display.specshow(
        song["log_mel"].T,
        sr=spectral.SAMPLE_RATE,
        hop_length=spectral.HOP_LENGTH,
        x_axis="time",
        y_axis="mel",
        fmin=spectral.FMIN,
        fmax=spectral.FMAX,
        htk=True,
        ax=ax_spec,
        cmap="magma",
    )
    ax_spec.set_title(f"{name}: log-mel; {song['share_05']:.0%} of frames above 0.5", fontsize=9)
    ax_spec.set_xlabel("")
    ax_prob.plot(song["times"], song["frames"]["probability"], lw=0.8)
    ax_prob.axhline(0.5, color="0.4", lw=0.7, ls=":", label="0.5")
    if threshold is not None:
        ax_prob.axhline(threshold, color="r", lw=0.7, ls="--", label=f"threshold {threshold:.2f}")
    ax_prob.legend(loc="lower right", fontsize=7)
    ax_prob.set_ylim(0, 1)
    ax_prob.set_ylabel("P(vocal)")
    ax_prob.set_xlabel("time (s)")
    return plotting.save_figure(fig, path, dpi=80, colors=64)


def plot_gallery(rows, path):
    """Rows of log-mel excerpts: (label, [k, 115, 80]) each."""
    from vocal_xai import plotting

    cols = max(len(x) for _, x in rows)
    fig, axes = plotting.pyplot().subplots(
        len(rows), cols, figsize=(1.25 * cols, 1.25 * len(rows)), squeeze=False
    )
    for r, (label, data) in enumerate(rows):
        for c in range(cols):
            ax = axes[r][c]
            if c < len(data):
                plotting.show_log_mel(ax, data[c])
            else:
                ax.axis("off")
            if c == 0:
                ax.set_ylabel(label, fontsize=6.5)
    return plotting.save_figure(fig, path, dpi=80, colors=64)


def plot_tracks(groups, path, count=3):
    """Pitch tracks (log-mel partial tracker, relative to their median) of
    the excerpts with the median vibrato strength in each group."""
    import numpy as np

    from vocal_xai import plotting, spectral
    from vocal_xai.explain import cues

    names = list(groups)
    fig, axes = plotting.pyplot().subplots(
        1, len(names), figsize=(2.2 * len(names), 2.4), sharey=True, squeeze=False
    )
    t = np.arange(spectral.EXCERPT_FRAMES) / spectral.FRAME_RATE
    for ax, name in zip(axes[0], names):
        x = groups[name]
        track, confidence = cues.pitch_shift_track(x)
        strength = cues.vibrato(track, usable=confidence >= 0.5)["strength"]
        order = np.argsort(np.where(np.isnan(strength), np.inf, strength))
        valid = order[: int(np.sum(~np.isnan(strength)))]
        picks = valid[len(valid) // 2 - count // 2 :][:count] if len(valid) else []
        for i in picks:
            ax.plot(t, track[i] - np.median(track[i]), lw=0.8)
        ax.set_title(GROUP_LABELS.get(name, name), fontsize=8)
        ax.set_xlabel("s", fontsize=7)
        ax.tick_params(labelsize=6)
    axes[0][0].set_ylabel("pitch (cents)", fontsize=7)
    axes[0][0].set_ylim(-150, 150)
    return plotting.save_figure(fig, path, dpi=80, colors=64)


def plot_cues(cue_values, path, cue_names):
    import numpy as np

    from vocal_xai import plotting

    names = list(cue_values)
    cols = 4
    rows = int(np.ceil(len(cue_names) / cols))
    fig, axes = plotting.pyplot().subplots(
        rows, cols, figsize=(3.3 * cols, 2.3 * rows), squeeze=False
    )
    for ax, cue in zip(axes.ravel(), cue_names):
        data = [v[cue][np.isfinite(v[cue])] for v in cue_values.values()]
        ax.boxplot([d if len(d) else [np.nan] for d in data], showfliers=False, widths=0.6)
        ax.set_xticks(
            range(1, len(names) + 1),
            [GROUP_LABELS.get(n, n) for n in names],
            rotation=70,
            fontsize=6,
        )
        ax.set_title(f"{cue} ({CUE_UNITS[cue]})", fontsize=8)
        ax.tick_params(axis="y", labelsize=6)
    for ax in axes.ravel()[len(cue_names) :]:
        ax.axis("off")
    return plotting.save_figure(fig, path, dpi=80, colors=64)


def probe_conditions():
    """The sweep: every room x texture x envelope x vibrato depth with held
    notes, then struck notes (no vibrato, static envelope) in each room and
    texture."""
    held = [
        {
            "room": room,
            "texture": texture,
            "envelope": envelope,
            "notes": "held",
            "vibrato_depth": depth,
        }
        for room in PROBE_ROOMS
        for texture in PROBE_TEXTURES
        for envelope in ("static", "moving")
        for depth in PROBE_DEPTHS
    ]
    struck = [
        {
            "room": room,
            "texture": texture,
            "envelope": "static",
            "notes": "struck",
            "vibrato_depth": 0.0,
        }
        for room in PROBE_ROOMS
        for texture in PROBE_TEXTURES
    ]
    return held + struck


def probe_sweep(detector, seeds, stride):
    """Mean vocal probability and cues of probe textures over the sweep."""
    import numpy as np

    from vocal_xai import spectral
    from vocal_xai.data.pipeline import HALF
    from vocal_xai.explain import cues

    rows = []
    for condition in probe_conditions():
        players, lines = PROBE_TEXTURES[condition["texture"]]
        probs, excerpts = [], []
        for seed in range(seeds):
            w = cues.probe_texture(
                PROBE_SECONDS,
                condition["vibrato_depth"],
                condition["envelope"] == "moving",
                players,
                lines,
                PROBE_ROOMS[condition["room"]],
                note_decay=PROBE_DECAY if condition["notes"] == "struck" else 0.0,
                seed=seed,
            )
            log_mel = spectral.log_mel(w).numpy()
            p = frame_outputs(detector, log_mel)["probability"]
            probs.append(float(np.mean(p[HALF:-HALF])))
            excerpts.append(cut(log_mel, excerpt_centres(len(log_mel), stride)))
        c = cues.excerpt_cues(np.concatenate(excerpts))
        rows.append(
            {
                **condition,
                "probability": float(np.mean(probs)),
                "probability_min": float(np.min(probs)),
                "probability_max": float(np.max(probs)),
                **{
                    f"cue_{k}": float(np.nanmedian(c[k]))
                    for k in (
                        "vibrato_depth",
                        "glide_fraction",
                        "formant_motion",
                        "syllabic_modulation",
                        "onset_db",
                        "decay_db",
                    )
                },
            }
        )
    return rows


def plot_sweep(rows, path):
    from vocal_xai import plotting

    fig, axes = plotting.pyplot().subplots(
        1, len(PROBE_ROOMS), figsize=(4.2 * len(PROBE_ROOMS), 2.8), sharey=True, squeeze=False
    )
    for ax, room in zip(axes[0], PROBE_ROOMS):
        for texture in PROBE_TEXTURES:
            for envelope, style in (("static", "-"), ("moving", "--")):
                sel = [
                    r
                    for r in rows
                    if (r["room"], r["texture"], r["envelope"], r["notes"])
                    == (room, texture, envelope, "held")
                ]
                ax.plot(
                    [r["vibrato_depth"] for r in sel],
                    [r["probability"] for r in sel],
                    style,
                    marker="o",
                    ms=3,
                    color="C0" if texture == "solo" else "C3",
                    label=f"{texture}, {envelope} envelope",
                )
        ax.set_title(f"{room} (rt60 {PROBE_ROOMS[room]:g} s)", fontsize=9)
        ax.set_xlabel("vibrato depth (cents p-p)", fontsize=8)
        ax.set_ylim(0, 1)
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("mean P(vocal)", fontsize=8)
    axes[0][-1].legend(fontsize=6.5, loc="upper left")
    return plotting.save_figure(fig, path, dpi=80, colors=64)


def summarise(values):
    import numpy as np

    finite = values[np.isfinite(values)]
    if not len(finite):
        return {"n": 0, "median": None, "q25": None, "q75": None}
    q25, med, q75 = np.percentile(finite, [25, 50, 75])
    return {"n": int(len(finite)), "median": float(med), "q25": float(q25), "q75": float(q75)}


def auc_or_none(a, b):
    """AUC of a over b (probability an element of a exceeds one of b)."""
    import numpy as np

    from vocal_xai.metrics import measures

    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if not len(a) or not len(b):
        return None
    return measures.auc(np.concatenate([a, b]), np.concatenate([np.ones(len(a)), np.zeros(len(b))]))


def fmt(v, digits=3):
    return "n/a" if v is None else f"{v:.{digits}g}"


def markdown_tables(results):
    lines = [
        "### Frames called vocal",
        "",
        "| recording | class | share > 0.5 | share > threshold |",
        "|---|---|---|---|",
    ]
    for name, r in results["recordings"].items():
        lines.append(
            f"| {name} | {r['class']} | {r['share_05']:.2f} | {r['share_threshold']:.2f} |"
        )
    groups = list(results["cues"])
    lines += [
        "",
        "### Cues per group (median [25 %, 75 %], n)",
        "",
        "| cue | " + " | ".join(groups) + " |",
        "|---" * (len(groups) + 1) + "|",
    ]
    for cue in CUE_ORDER:
        cells = []
        for g in groups:
            s = results["cues"][g][cue]
            cells.append(
                "n/a"
                if s["n"] == 0
                else f"{fmt(s['median'])} [{fmt(s['q25'])}, {fmt(s['q75'])}] ({s['n']})"
            )
        lines.append(f"| {cue} ({CUE_UNITS[cue]}) | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### Separations (AUC) and agreement with the detector",
        "",
        "| cue | syn vocal > syn non-vocal | orchestral fired > syn non-vocal | "
        "orchestral fired > syn vocal | orchestral fired > orchestral not fired | "
        "Spearman with logit, orchestral |",
        "|---|---|---|---|---|---|",
    ]
    for cue in CUE_ORDER:
        s = results["separation"][cue]
        lines.append(
            f"| {cue} | {fmt(s['synthetic_vocal_vs_non_vocal'], 2)} | "
            f"{fmt(s['orchestral_fired_vs_synthetic_non_vocal'], 2)} | "
            f"{fmt(s['orchestral_fired_vs_synthetic_vocal'], 2)} | "
            f"{fmt(s['orchestral_fired_vs_not_fired'], 2)} | "
            f"{fmt(s['spearman_logit_orchestral'], 2)} |"
        )
    if results.get("pyin"):
        lines += [
            "",
            "### Waveform check: pyin f0 on the same excerpts",
            "",
            "| group | n voiced | vibrato depth (cents p-p) | vibrato strength | glide fraction | "
            "log-mel tracker depth |",
            "|---|---|---|---|---|---|",
        ]
        for g, s in results["pyin"]["groups"].items():
            lines.append(
                f"| {g} | {s['vibrato_depth']['n']} | {fmt(s['vibrato_depth']['median'])} | "
                f"{fmt(s['vibrato_strength']['median'], 2)} | "
                f"{fmt(s['glide_fraction']['median'], 2)} | "
                f"{fmt(s['log_mel_depth']['median'])} |"
            )
        lines.append(
            f"\nSpearman correlation of pyin and log-mel vibrato depth over these excerpts: "
            f"{fmt(results['pyin']['depth_spearman'], 2)} (n = {results['pyin']['depth_pairs']})."
        )
    if results.get("probe_sweep"):
        lines += [
            "",
            "### Probe sweep: mean P(vocal) of probe textures (held notes)",
            "",
            "| room | texture | envelope | "
            + " | ".join(f"vibrato {d:g} c" for d in PROBE_DEPTHS)
            + " | formant motion | decay (dB) |",
            "|---" * (5 + len(PROBE_DEPTHS)) + "|",
        ]
        rows = results["probe_sweep"]
        for room in PROBE_ROOMS:
            for texture in PROBE_TEXTURES:
                for envelope in ("static", "moving"):
                    sel = [
                        r
                        for r in rows
                        if (r["room"], r["texture"], r["envelope"], r["notes"])
                        == (room, texture, envelope, "held")
                    ]
                    lines.append(
                        f"| {room} | {texture} | {envelope} | "
                        + " | ".join(f"{r['probability']:.2f}" for r in sel)
                        + f" | {sel[0]['cue_formant_motion']:.2f} | {sel[0]['cue_decay_db']:.1f} |"
                    )
        lines += [
            "",
            f"Struck notes (decay time constant {PROBE_DECAY:g} s, static envelope, no vibrato):",
            "",
            "| room | texture | mean P(vocal) | formant motion | decay (dB) |",
            "|---|---|---|---|---|",
        ]
        for r in rows:
            if r["notes"] == "struck":
                lines.append(
                    f"| {r['room']} | {r['texture']} | {r['probability']:.2f} | "
                    f"{r['cue_formant_motion']:.2f} | {r['cue_decay_db']:.1f} |"
                )
    lines += [
        "",
        "### Explanations",
        "",
        "| neuron | selected setting | mean activation | share vocal |",
        "|---|---|---|---|",
    ]
    for e in results["explanations"]:
        lines.append(
            f"| {e['neuron']} | lr {e['learning_rate']:g}, rp {e['rp']:g}, {e['iterations']} it | "
            f"{e['mean_activation']:.3g} | {e['fraction_vocal']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv):
    del argv
    import numpy as np
    import scipy.stats

    from vocal_xai import zoo
    from vocal_xai.data import defaults, pipeline
    from vocal_xai.explain import cues, run, session

    start = time.perf_counter()
    detector_dir = zoo.resolve(FLAGS.detector)
    generator_dir = zoo.resolve(FLAGS.generator)
    out = pathlib.Path(FLAGS.out or f"docs/case_study/detector{detector_dir.name}")
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    detector = zoo.load_detector(str(detector_dir))
    threshold = zoo.metadata(detector_dir).get("metrics", {}).get("threshold")
    results = {
        "command": "python " + " ".join(sys.argv),
        "detector": str(detector_dir),
        "generator": str(generator_dir),
        "threshold": threshold,
        "stride": FLAGS.stride,
    }

    # 1. The detector on the real recordings: curves, then excerpts.
    recordings, groups, sources = {}, {}, {}
    paths = sorted(pathlib.Path(FLAGS.recordings).glob("*.ogg"))
    if not paths:
        raise app.UsageError(
            f"Expected .ogg files in --recordings. Received: none in {FLAGS.recordings}"
        )
    for path in paths:
        key = recording_key(path)
        song = load_song(path, detector, FLAGS.stride)
        name = key if key != "speech" else f"speech {path.stem}"
        plot_prediction(name, song, threshold, tmp / f"predict-{name.replace(' ', '-')}.png")
        recordings[name] = {
            "file": path.name,
            "class": describe(key),
            "seconds": round(len(song["waveform"]) / 22050, 2),
            "share_05": song["share_05"],
            "share_threshold": float(np.mean(song["frames"]["probability"] > (threshold or 0.5))),
        }
        print(f"{name}: {song['share_05']:.1%} of frames above 0.5")
        fired = song["probability"] > 0.5
        if key == "speech":
            parts = {"speech": np.ones_like(fired)}
        elif key in ("jazz", "trumpet"):
            parts = {key: np.ones_like(fired)}
        else:
            parts = {f"{key}, fired": fired, f"{key}, not fired": ~fired}
        for group, mask in parts.items():
            for field in ("excerpts", "logit", "embedding", "centres"):
                groups.setdefault(group, {}).setdefault(field, []).append(song[field][mask])
            sources.setdefault(group, []).extend(
                (song["waveform"], c) for c in song["centres"][mask]
            )
    results["recordings"] = recordings

    # 2. The synthetic corpus: held-out test songs, excerpts by centre label.
    corpus = defaults.open_corpus(FLAGS.data_dir, session.default_corpus_dir())
    for song_info in corpus.songs("test"):
        song = load_song(song_info.audio_path, detector, FLAGS.stride)
        labels = song_info.frame_labels(len(song["log_mel"]))[song["centres"]]
        for group, mask in (("synthetic vocal", labels == 1), ("synthetic non-vocal", labels == 0)):
            for field in ("excerpts", "logit", "embedding", "centres"):
                groups.setdefault(group, {}).setdefault(field, []).append(song[field][mask])
            sources.setdefault(group, []).extend(
                (song["waveform"], c) for c in song["centres"][mask]
            )
    groups = {g: {k: np.concatenate(v) for k, v in d.items()} for g, d in groups.items()}
    syn_error = {
        g: float(np.mean((groups[g]["logit"] > 0) != (g == "synthetic vocal")))
        for g in ("synthetic vocal", "synthetic non-vocal")
    }
    results["synthetic_excerpt_error_at_0.5"] = syn_error

    # 3. Units that firing orchestral excerpts drive hardest, relative to
    #    the synthetic non-vocal excerpts.
    orch_fired = np.concatenate([groups[f"{k}, fired"]["embedding"] for k in ORCHESTRAL])
    non_vocal = groups["synthetic non-vocal"]["embedding"]
    vocal = groups["synthetic vocal"]["embedding"]
    score = (orch_fired.mean(0) - non_vocal.mean(0)) / (non_vocal.std(0) + 1e-3)
    units = [int(u) for u in np.argsort(-score)[: FLAGS.units]]
    results["units"] = [
        {
            "unit": u,
            "score": float(score[u]),
            "mean_orchestral_fired": float(orch_fired[:, u].mean()),
            "mean_synthetic_vocal": float(vocal[:, u].mean()),
            "mean_synthetic_non_vocal": float(non_vocal[:, u].mean()),
        }
        for u in units
    ]

    # 4. Explanations: the logit, then each unit, maximised (vocal prior).
    generator = zoo.load_generator(str(generator_dir))
    valid = pipeline.load_split(corpus, "valid", FLAGS.cache_dir, progress=True)
    explained, explanations = {}, []
    jobs = [("logit:0", FLAGS.seeds)] + [(f"embedding_64:{u}", FLAGS.unit_seeds) for u in units]
    for neuron, seeds in jobs:
        config = run.ExplainConfig.from_grid(
            "quick", direction="max", neuron=neuron, seeds=seeds, bootstrap=0
        )
        result = run.explain(generator, detector, valid, config)
        s = result.selected
        examples = result.examples[(s["learning_rate"], s["rp"], s["iterations"])]
        explained[neuron] = examples
        if neuron == "logit:0":
            groups["G(z0), vocal prior"] = {"excerpts": result.starts}
        explanations.append(
            {
                k: s[k]
                for k in (
                    "learning_rate",
                    "rp",
                    "iterations",
                    "distance",
                    "mean_activation",
                    "fraction_vocal",
                )
            }
            | {"neuron": neuron}
        )
        print(
            f"{neuron}: lr {s['learning_rate']:g}, rp {s['rp']:g}, {s['iterations']} it, "
            f"mean activation {s['mean_activation']:.3g}"
        )
    results["explanations"] = explanations
    groups["explanation: logit"] = {"excerpts": explained["logit:0"]}
    if units:
        groups["explanation: units"] = {
            "excerpts": np.concatenate([explained[f"embedding_64:{u}"] for u in units])
        }

    # 5. Cues of every group, their separations and their link to the logit.
    order = [
        "synthetic vocal",
        "synthetic non-vocal",
        "strings, fired",
        "strings, not fired",
        "celesta, fired",
        "celesta, not fired",
        "jazz",
        "trumpet",
        "song, fired",
        "song, not fired",
        "speech",
        "G(z0), vocal prior",
        "explanation: logit",
        "explanation: units",
    ]
    order = [g for g in order if g in groups and len(groups[g]["excerpts"])]
    cue_values = {g: cues.excerpt_cues(groups[g]["excerpts"]) for g in order}
    results["cues"] = {g: {c: summarise(v[c]) for c in CUE_ORDER} for g, v in cue_values.items()}
    orch = {
        f: np.concatenate(
            [
                groups[f"{k}, {p}"][f]
                for k in ORCHESTRAL
                for p in ("fired", "not fired")
                if f"{k}, {p}" in groups
            ]
        )
        for f in ("excerpts", "logit")
    }
    orch_cues = cues.excerpt_cues(orch["excerpts"])

    def pooled(cue, part):
        return np.concatenate(
            [cue_values[f"{k}, {part}"][cue] for k in ORCHESTRAL if f"{k}, {part}" in cue_values]
        )

    separation = {}
    for cue in CUE_ORDER:
        ok = np.isfinite(orch_cues[cue])
        rho = (
            scipy.stats.spearmanr(orch_cues[cue][ok], orch["logit"][ok]).statistic
            if ok.sum() > 2
            else None
        )
        separation[cue] = {
            "synthetic_vocal_vs_non_vocal": auc_or_none(
                cue_values["synthetic vocal"][cue], cue_values["synthetic non-vocal"][cue]
            ),
            "orchestral_fired_vs_synthetic_non_vocal": auc_or_none(
                pooled(cue, "fired"), cue_values["synthetic non-vocal"][cue]
            ),
            "orchestral_fired_vs_synthetic_vocal": auc_or_none(
                pooled(cue, "fired"), cue_values["synthetic vocal"][cue]
            ),
            "orchestral_fired_vs_not_fired": auc_or_none(
                pooled(cue, "fired"), pooled(cue, "not fired")
            ),
            "spearman_logit_orchestral": None if rho is None else float(rho),
        }
    results["separation"] = separation

    # 6. The waveform check: pyin f0 on a few excerpts per group.
    if FLAGS.pyin_excerpts:
        checks, pairs = {}, []
        for g in (
            "synthetic vocal",
            "synthetic non-vocal",
            "strings, fired",
            "celesta, fired",
            "song, fired",
        ):
            if g not in sources or not sources[g]:
                continue
            picks = np.linspace(
                0, len(sources[g]) - 1, min(FLAGS.pyin_excerpts, len(sources[g]))
            ).astype(int)
            tracks = np.stack(
                [cues.hz_to_cents(cues.f0_track(waveform_of(*sources[g][i]))) for i in picks]
            )
            v, gl = cues.vibrato(tracks), cues.glide_rate(tracks)
            mel_depth = cue_values[g]["vibrato_depth"][picks]
            checks[g] = {
                "vibrato_depth": summarise(v["depth"]),
                "vibrato_strength": summarise(v["strength"]),
                "vibrato_rate": summarise(v["rate"]),
                "glide_fraction": summarise(gl["glide_fraction"]),
                "log_mel_depth": summarise(mel_depth),
            }
            pairs += [
                (a, b) for a, b in zip(v["depth"], mel_depth) if np.isfinite(a) and np.isfinite(b)
            ]
        pairs = np.array(pairs)
        results["pyin"] = {
            "excerpts_per_group": FLAGS.pyin_excerpts,
            "groups": checks,
            "depth_pairs": int(len(pairs)),
            "depth_spearman": float(scipy.stats.spearmanr(pairs[:, 0], pairs[:, 1]).statistic)
            if len(pairs) > 2
            else None,
        }

    # 7. Probe textures whose cues are set: which ones make the detector fire?
    if FLAGS.probe_seeds:
        results["probe_sweep"] = probe_sweep(detector, FLAGS.probe_seeds, FLAGS.stride)
        plot_sweep(results["probe_sweep"], tmp / "sweep.png")

    # 8. Figures.
    def top(g, k):
        return groups[g]["excerpts"][np.argsort(-groups[g]["logit"])[:k]]

    rng = np.random.default_rng(0)

    def pick(g, k):
        return groups[g]["excerpts"][
            np.sort(rng.choice(len(groups[g]["excerpts"]), k, replace=False))
        ]

    rows = [("expl. logit", explained["logit:0"][:8])]
    rows += [(f"expl. unit {u}", explained[f"embedding_64:{u}"][:8]) for u in units]
    rows += [
        ("strings, top", top("strings, fired", 8)),
        ("celesta, top", top("celesta, fired", 8)),
        ("syn. vocal", pick("synthetic vocal", 8)),
        ("syn. non-vocal", pick("synthetic non-vocal", 8)),
    ]
    plot_gallery(rows, tmp / "explanations.png")
    plot_tracks(
        {
            g: groups[g]["excerpts"]
            for g in (
                "synthetic vocal",
                "synthetic non-vocal",
                "strings, fired",
                "celesta, fired",
                "song, fired",
                "explanation: logit",
            )
        },
        tmp / "tracks.png",
    )
    plot_cues(cue_values, tmp / "cues.png", CUE_ORDER)

    results["runtime_s"] = round(time.perf_counter() - start, 1)
    (tmp / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (tmp / "tables.md").write_text(markdown_tables(results))

    # Replace the old outputs in one rename.
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        os.rename(tmp, out)
    print(f"Wrote {out} ({results['runtime_s']:.0f} s)")


if __name__ == "__main__":
    cli.run(main)
