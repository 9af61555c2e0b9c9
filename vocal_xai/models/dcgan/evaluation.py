"""Quality of a conditional generator, per class, with intervals.

For each class (non-vocal, vocal), every row uses the same number of
excerpts: the number asked for, or fewer when a split holds fewer excerpts of
the class (``samples`` = min(asked, valid excerpts, train excerpts), with the
counts available reported beside it). The latents z are the same for both
classes, so G(z, non-vocal) and G(z, vocal) differ only by the class.

Judged by the detector, on each embedding it exposes (SVDNet: dense-256 and
dense-64, ``embedding_256`` and ``embedding_64``):

- ``generator``: Fréchet distance between the embeddings of G(z, class) and
  of real valid excerpts of the class;
- ``floor``: the same distance between real train and real valid excerpts
  (what real data of other songs scores);
- ``ceiling``: the same distance between matched noise (Gaussian, with the
  per-band mean and std of the valid excerpts of the class) and real valid
  excerpts;
- ``generator_over_floor``: the first over the second;
- ``consistency``: the share of G(z, class) the detector assigns to the class
  (probability above ``THRESHOLD`` for vocal, at most for non-vocal).

Not judged by the detector:

- ``c2st``: the held-out accuracy of a fresh classifier trained to tell
  G(z, class) from real valid excerpts of the class
  (``vocal_xai.metrics.c2st``), on at most ``C2ST_SAMPLES`` of each with a
  fixed classifier and schedule, so that generators are compared on the same
  footing; 0.5 means they can't be told apart. ``c2st_floor`` is the same
  test between real train and real valid excerpts.
- ``period_two_energy``: the spectral energy of G(z, class) at a period of
  two frames and of two bands, over that of real valid excerpts of the class
  (``vocal_xai.metrics.realism.period_two_energy``): the checkerboard of
  stride-2 transposed convolutions, which a two-sample classifier sees.

Not judged by the detector either (``vocal_xai.metrics.measures``, with
the train split as the bank of real neighbours and the valid split as the
held-out real excerpts), when ``measures`` is on:

- ``class_evidence``: the mean share of an excerpt's 10 nearest real train
  excerpts that carry the class asked for, for G(z, class) and, as the
  reference, for real valid excerpts of the class;
- ``p_vocal_cues``: the mean P(vocal | voice cues) of G(z, class) and of
  real valid excerpts of the class;
- ``voice_cues``: the median of each cue behind it (``formant_motion``,
  ``syllabic_modulation``) over G(z, class) and over real valid excerpts
  of the class, so that a gap in ``p_vocal_cues`` can be traced to the cue
  the generator lacks.

Across the classes:

- ``class_matters``: the share of z for which the detector's logit for
  G(z, vocal) exceeds its logit for G(z, non-vocal);
- ``cue_difference`` (with ``measures``): the mean P(vocal | cues) of
  G(z, vocal) minus that of G(z, non-vocal), the same difference on real
  valid excerpts, and their ratio.

Every figure comes with a 95 % bootstrap interval (each sample resampled on
its own: generated, valid, train, noise): a percentile interval, and for the
Fréchet distances and their ratio a percentile interval centred on the
estimate (``metrics.bootstrap``, method "centred"), since they are biased
upwards at finite sample size and more so in a resample; compare a
generator's distance with the floor at the same ``samples``. The C2ST
accuracies come with an exact binomial interval over their held-out
predictions.

The flat keys ``generator``, ``floor``, ``ceiling`` and ``consistency`` of a
class row are the figures on the default embedding (the detector's last),
as earlier versions reported them.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from vocal_xai import inference, plotting, progressbar
from vocal_xai.data import pipeline
from vocal_xai.errors import ParameterError
from vocal_xai.metrics import bootstrap, c2st, frechet, realism
from vocal_xai.metrics import measures as measures_lib

CLASS_NAMES = {0: "non_vocal", 1: "vocal"}
THRESHOLD = 0.5  # detector probability above which an excerpt is called vocal
C2ST_SAMPLES = 1000  # most excerpts per side of the classifier two-sample test
RESAMPLES = 500  # bootstrap resamples
CONFIDENCE = 0.95
C2ST_CONFIG = c2st.C2STConfig()  # the default classifier and schedule (frozen)


def detector_outputs(detector, log_mel, embedding=None, batch_size=256):
    """Embeddings (default: the last hidden layer, dense-64) and vocal
    probabilities of excerpts, in batches."""
    embedding = embedding or detector.embedding_names[-1]
    out = detector_features(detector, log_mel, (embedding,), batch_size)
    return out[embedding], out["probability"]


def detector_features(detector, log_mel, embeddings=None, batch_size=256):
    """The detector's outputs for excerpts, in batches.

    Args:
        detector: an ``SVDNet`` or a detector with its interface.
        log_mel: raw log-mel excerpts. [shape=(n, 115, 80)]
        embeddings: the embedding layers to keep; default: all of
            ``detector.embedding_names``.

    Returns:
        dict: ``logit`` and ``probability`` [shape=(n,)], and each embedding
        [shape=(n, d)], as numpy arrays.
    """
    names = tuple(detector.embedding_names if embeddings is None else embeddings)
    run = inference.compiled(detector)
    parts = {key: [] for key in ("logit", "probability") + names}
    for start in range(0, len(log_mel), batch_size):
        out = run(tf.constant(log_mel[start : start + batch_size], tf.float32))
        for key in parts:
            value = out[key].numpy()
            parts[key].append(value[:, 0] if key in ("logit", "probability") else value)
    return {key: np.concatenate(value) for key, value in parts.items()}


def latents(count, seed, latent_dim=128):
    """``count`` latents z ~ N(0, I) drawn from ``seed``; a longer draw
    starts with a shorter one. [shape=(count, latent_dim)]"""
    return np.random.default_rng(seed).standard_normal((count, latent_dim)).astype(np.float32)


def generate_from(generator, z, label, batch_size=256):
    """G(z, label) in batches. [shape=(len(z), 115, 80)]"""
    run = inference.compiled(generator)
    out = []
    for start in range(0, len(z), batch_size):
        zb = z[start : start + batch_size]
        labels = tf.fill([len(zb)], tf.constant(label, tf.int32))
        out.append(run({"z": tf.constant(zb), "class": labels}).numpy())
    return np.concatenate(out)


def generate(generator, count, label, seed, batch_size=256):
    """``count`` samples of G(z, label) with z ~ N(0, I) drawn from ``seed``."""
    return generate_from(generator, latents(count, seed, generator.latent_dim), label, batch_size)


def matched_noise(reference, count, seed):
    """Gaussian noise with the per-band mean and std of ``reference`` excerpts."""
    mean = reference.mean(axis=(0, 1))
    std = reference.std(axis=(0, 1))
    rng = np.random.default_rng(seed)
    shape = (count,) + reference.shape[1:]
    return (mean + std * rng.standard_normal(shape)).astype(np.float32)


def _gaussian_fit(embeddings):
    """(mean, covariance) of embeddings [shape=(n, d)], in float64."""
    embeddings = np.asarray(embeddings, np.float64)
    return embeddings.mean(0), np.cov(embeddings, rowvar=False)


def frechet_distance(a, b):
    """Fréchet distance between the Gaussian fits of two sets of embeddings
    [shape=(n, d)], in float64."""
    return float(frechet.frechet_distance(*_gaussian_fit(a), *_gaussian_fit(b)))


@dataclasses.dataclass
class GeneratorEvaluation:
    """The figures and what they were computed from.

    Attributes:
        report: JSON-ready figures (see the module docstring).
        real: class name -> the real valid excerpts compared.
            [shape=(samples, 115, 80)]
        generated: class name -> G(z, class) for the same z in every class.
            [shape=(samples, 115, 80)]
        c2st: class name -> ``C2STResult`` of generated against real, or
            None when too few excerpts.
        c2st_real_index: class name -> the rows of ``real`` the test used
            (it used the first rows of ``generated``).
    """

    report: dict
    real: dict
    generated: dict
    c2st: dict
    c2st_real_index: dict


def _spread(n, m):
    """``m`` indices spread evenly over ``range(n)``, in order."""
    return np.unique(np.linspace(0, n - 1, m).round().astype(int))


def _c2st_minimum(config):
    return 2 * config.folds * config.blocks


def _frechet_rows(features, names, resamples, confidence, seed):
    """Per embedding: generator, floor, ceiling and their ratio, each with a
    bootstrap interval from one set of resamples."""
    rows = {}
    for name in names:
        fake, valid, train, noise = (
            features[key][name] for key in ("generator", "valid", "train", "noise")
        )

        def statistic(f, v, t, z):
            # The three fits against the valid split's, in one batched call.
            fits = [_gaussian_fit(x) for x in (f, t, z)]
            means, covariances = (np.stack(parts) for parts in zip(*fits))
            distances = frechet.frechet_distance(means, covariances, *_gaussian_fit(v))
            gen, floor, ceiling = (float(d) for d in distances.numpy())
            return [gen, floor, ceiling, gen / max(floor, 1e-12)]

        found = bootstrap.estimates(
            statistic,
            [fake, valid, train, noise],
            ["generator", "floor", "ceiling", "generator_over_floor"],
            resamples,
            confidence,
            seed,
            method="centred",
        )
        rows[name] = {key: est.to_dict() for key, est in found.items()}
    return rows


# The per-excerpt cues of ``measures.CueModel``, in its column order.
VOICE_CUES = ("formant_motion", "syllabic_modulation")


def _measure_rows(judge, data, label, resamples, confidence, seed):
    """``class_evidence`` and ``p_vocal_cues`` (means) and ``voice_cues``
    (medians of each cue) of the generated and the real valid excerpts of
    one class, with intervals; and the per-excerpt P(vocal | cues) of both,
    for ``_cue_difference``."""
    direction = "max" if label == 1 else "min"
    rows = {"class_evidence": {}, "p_vocal_cues": {}, "voice_cues": {c: {} for c in VOICE_CUES}}
    p_vocal = {}
    for key in ("generator", "valid"):
        found = judge.measure(data[key], direction)
        p = found["voice_evidence"] if label == 1 else 1.0 - found["voice_evidence"]
        p_vocal[key] = p
        for row, values in (("class_evidence", found["class_evidence"]), ("p_vocal_cues", p)):
            rows[row][key] = bootstrap.estimate(
                np.mean, [values], resamples, confidence, seed
            ).to_dict()
        for cue in VOICE_CUES:
            rows["voice_cues"][cue][key] = bootstrap.estimate(
                np.median, [found[cue]], resamples, confidence, seed
            ).to_dict()
    return rows, p_vocal


def _cue_difference(p_vocal, resamples, confidence, seed):
    """Mean P(vocal | cues) of the vocal class minus that of the non-vocal
    class, for the generator and for real valid excerpts, and the ratio."""

    def statistic(gen_vocal, gen_other, real_vocal, real_other):
        gen = np.mean(gen_vocal) - np.mean(gen_other)
        real = np.mean(real_vocal) - np.mean(real_other)
        return [gen, real, gen / real if real != 0 else np.nan]

    samples = [
        p_vocal["vocal"]["generator"],
        p_vocal["non_vocal"]["generator"],
        p_vocal["vocal"]["valid"],
        p_vocal["non_vocal"]["valid"],
    ]
    found = bootstrap.estimates(
        statistic,
        samples,
        ["generator", "real", "generator_over_real"],
        resamples,
        confidence,
        seed,
    )
    return {key: est.to_dict() for key, est in found.items()}


def evaluate(
    generator,
    detector,
    train,
    valid,
    num_samples=5000,
    seed=0,
    embedding=None,
    resamples=RESAMPLES,
    confidence=CONFIDENCE,
    c2st_samples=C2ST_SAMPLES,
    c2st_config=C2ST_CONFIG,
    c2st_floor=True,
    measures=True,
    progress=False,
    reference_split="valid",
):
    """Every figure of the module docstring, per class and across classes.

    Args:
        generator: a conditional ``Generator`` (``latent_dim``, inputs
            ``{"z", "class"}``).
        detector: an ``SVDNet``, or a detector with its interface.
        train, valid: ``SplitFeatures`` of the training and validation splits.
        num_samples: excerpts per row asked for; fewer are used when a split
            holds fewer excerpts of a class (reported as ``samples``).
        seed: seed of the excerpts, the latents, the noise and the resamples.
        embedding: the embedding of the flat legacy keys; default: the
            detector's last.
        resamples: bootstrap resamples of every interval.
        confidence: coverage of every interval.
        c2st_samples: most excerpts per side of each C2ST.
        c2st_config: the C2ST classifier and schedule.
        c2st_floor: also run the C2ST of real train against real valid.
        measures: also compute the detector-free class evidence and voice
            cues.
        progress: show a progress bar over the stages of each class
            (excerpts, Fréchet distances, two-sample tests, measures).
        reference_split: the name of the split ``valid`` holds (the test
            split, say, when the figures choose among generators), which the
            report's settings record and its tables and figure name; its
            keys keep ``valid``.

    Returns:
        ``GeneratorEvaluation``.

    Raises:
        ParameterError: for fewer than 2 excerpts of a class in a split, or
            an unknown embedding.
    """
    if int(num_samples) != num_samples or num_samples < 2:
        raise ParameterError(f"Expected num_samples >= 2. Received: num_samples={num_samples!r}")
    names = tuple(detector.embedding_names)
    embedding = embedding or names[-1]
    if embedding not in names:
        raise ParameterError(
            f"Expected embedding in {list(names)}. Received: embedding={embedding!r}"
        )

    # How many excerpts each class has, and how many every row uses.
    counts = {}
    for label, name in CLASS_NAMES.items():
        available = {
            "valid": pipeline.available_excerpts(valid, label),
            "train": pipeline.available_excerpts(train, label),
        }
        for split, count in available.items():
            if count < 2:
                raise ParameterError(
                    f"Expected at least 2 excerpts of class {name} in the {split} split. "
                    f"Received: {count}"
                )
        counts[name] = (min(int(num_samples), *available.values()), available)
    z = latents(max(n for n, _ in counts.values()), seed + 2, generator.latent_dim)
    judge = measures_lib.build_judge(train, valid) if measures else None
    stages = 3 + (judge is not None)
    bar = progressbar.bar(len(CLASS_NAMES) * stages, "stage", progress)

    report, real, generated, tests, tests_index, logits, p_vocal = {}, {}, {}, {}, {}, {}, {}
    for label, name in CLASS_NAMES.items():
        n, available = counts[name]
        data = {
            "valid": pipeline.sample_excerpts(valid, n, label=label, seed=seed)[0],
            "train": pipeline.sample_excerpts(train, n, label=label, seed=seed + 1)[0],
            "generator": generate_from(generator, z[:n], label),
        }
        data["noise"] = matched_noise(data["valid"], n, seed=seed + 3)
        features = {key: detector_features(detector, x, names) for key, x in data.items()}
        logits[name] = features["generator"]["logit"]
        real[name], generated[name] = data["valid"], data["generator"]
        bar.add(1)

        # Detector-judged figures.
        frechet_rows = _frechet_rows(features, names, resamples, confidence, seed + 4)
        called = (features["generator"]["probability"] > THRESHOLD) == bool(label)
        consistency = bootstrap.estimate(
            np.mean, [called.astype(np.float64)], resamples, confidence, seed + 5
        )
        bar.add(1)

        # The classifier two-sample tests, on the same footing for every generator.
        m = min(n, int(c2st_samples))
        row_c2st = row_floor = {
            "skipped": f"{m} excerpts per side, fewer than {_c2st_minimum(c2st_config)}"
        }
        tests[name] = None
        if m >= _c2st_minimum(c2st_config):
            index = _spread(n, m)
            m = len(index)
            tests[name] = c2st.classifier_two_sample_test(
                data["valid"][index], data["generator"][:m], c2st_config, confidence
            )
            tests_index[name] = index
            row_c2st = {**tests[name].to_dict(), "samples": m}
            if c2st_floor:
                floor = c2st.classifier_two_sample_test(
                    data["valid"][index], data["train"][index], c2st_config, confidence
                )
                row_floor = {**floor.to_dict(), "samples": m}
            else:
                row_floor = {"skipped": "not asked for"}
        bar.add(1)

        legacy = frechet_rows[embedding]
        report[name] = {
            "samples": n,
            "requested": int(num_samples),
            "available": available,
            "generator": legacy["generator"]["value"],
            "floor": legacy["floor"]["value"],
            "ceiling": legacy["ceiling"]["value"],
            "consistency": consistency.value,
            "frechet": frechet_rows,
            "class_consistency": consistency.to_dict(),
            "c2st": row_c2st,
            "c2st_floor": row_floor,
            "period_two_energy": realism.period_two_energy(data["valid"], data["generator"]),
        }
        if judge is not None:
            rows, p_vocal[name] = _measure_rows(judge, data, label, resamples, confidence, seed + 7)
            report[name].update(rows)
            bar.add(1)

    # Does the class change what the detector sees, z for z?
    shared = min(len(v) for v in logits.values())
    higher = (logits["vocal"][:shared] > logits["non_vocal"][:shared]).astype(np.float64)
    report["class_matters"] = {
        **bootstrap.estimate(np.mean, [higher], resamples, confidence, seed + 6).to_dict(),
        "samples": shared,
    }
    if judge is not None:
        report["cue_difference"] = _cue_difference(p_vocal, resamples, confidence, seed + 8)
    report["settings"] = {
        "embedding": embedding,
        "embeddings": list(names),
        "threshold": THRESHOLD,
        "resamples": int(resamples),
        "confidence": confidence,
        "interval": (
            "percentile bootstrap (Fréchet distances: centred on the estimate); "
            "C2ST: exact binomial"
        ),
        "seed": int(seed),
        "c2st_samples": int(c2st_samples),
        "reference_split": reference_split,
    }
    return GeneratorEvaluation(report, real, generated, tests, tests_index)


def evaluate_generator(
    generator, detector, train, valid, num_samples=1000, seed=0, embedding=None, **kwargs
):
    """The report of ``evaluate`` (a JSON-ready dict; see the module docstring)."""
    return evaluate(
        generator, detector, train, valid, num_samples, seed, embedding, **kwargs
    ).report


def class_rows(report):
    """The class rows of a report: class name -> row."""
    return {name: report[name] for name in CLASS_NAMES.values() if name in report}


def _ci(entry, spec=".3f"):
    return bootstrap.Estimate(entry["value"], entry["low"], entry["high"]).format(spec)


def _c2st_cell(entry):
    if "skipped" in entry:
        return f"skipped ({entry['skipped']})"
    return (
        f"{entry['accuracy']:.1%} [{entry['low']:.1%}, {entry['high']:.1%}] "
        f"(n = {entry['examples']})"
    )


def _reference_split(report):
    """The split a report's generated excerpts were judged against."""
    return report.get("settings", {}).get("reference_split", "valid")


def _generated_and_real_table(rows, intro, columns, split="valid"):
    """Lines of a Markdown table with, per class, each figure of ``columns``
    (name -> the row's ``{"generator": ..., "valid": ...}`` estimates) for the
    generated and the real excerpts of ``split``; none if a row lacks a
    figure."""
    try:
        cells = {name: [get(r) for get in columns.values()] for name, r in rows.items()}
    except KeyError:
        return []
    header = "".join(f" {c}, generated | {c}, real {split} |" for c in columns)
    lines = ["", intro, "", f"| class |{header}", "|---" * (1 + 2 * len(columns)) + "|"]
    for name, figures in cells.items():
        body = " | ".join(f"{_ci(f['generator'])} | {_ci(f['valid'])}" for f in figures)
        lines.append(f"| {name} | {body} |")
    return lines


def format_report(report):
    """The evaluation as Markdown: the counts used, then tables of every
    figure with its interval."""
    rows, split = class_rows(report), _reference_split(report)
    lines = []
    for name, r in rows.items():
        note = "" if r.get("samples") == r.get("requested") else " (fewer than asked: all there is)"
        available = r.get("available")
        held = (
            f" ({split} holds {available['valid']}, train {available['train']})"
            if available
            else ""
        )
        lines.append(
            f"- {name}: {r['samples']} excerpts per row of {r.get('requested', r['samples'])} asked"
            f"{held}{note}"
        )
    lines += [
        "",
        f"| class | FD generator | FD floor (train vs {split}) | FD ceiling (matched noise) "
        "| generator / floor | ceiling / generator | class consistency |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['generator']:.3f} | {r['floor']:.3f} | {r['ceiling']:.1f} | "
            f"{r['generator'] / max(r['floor'], 1e-12):.2f} | "
            f"{r['ceiling'] / max(r['generator'], 1e-12):.1f} | "
            f"{r['consistency']:.1%} |"
        )
    if not all("frechet" in r for r in rows.values()):
        return "\n".join(lines)
    lines += [
        "",
        "Fréchet distances on each embedding, with 95 % bootstrap intervals:",
        "",
        "| class | embedding | FD generator | FD floor | FD ceiling | generator / floor |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        for emb, f in r["frechet"].items():
            lines.append(
                f"| {name} | {emb} | {_ci(f['generator'])} | {_ci(f['floor'])} | "
                f"{_ci(f['ceiling'], '.2f')} | {_ci(f['generator_over_floor'], '.2f')} |"
            )
    lines += [
        "",
        "| class | class consistency (detector, p > 0.5) | "
        f"C2ST accuracy, generated vs {split} | C2ST floor, train vs {split} |",
        "|---|---|---|---|",
    ]
    for name, r in rows.items():
        c = r["class_consistency"]
        lines.append(
            f"| {name} | {c['value']:.1%} [{c['low']:.1%}, {c['high']:.1%}] | "
            f"{_c2st_cell(r['c2st'])} | "
            f"{_c2st_cell(r['c2st_floor'])} |"
        )
    measured = {
        "Without the detector (`vocal_xai.metrics.measures`; bank: the train split):": {
            "kNN class evidence": lambda r: r["class_evidence"],
            "P(vocal \\| cues)": lambda r: r["p_vocal_cues"],
        },
        "The cues behind P(vocal | cues), medians:": {
            cue.replace("_", " "): (lambda r, cue=cue: r["voice_cues"][cue]) for cue in VOICE_CUES
        },
    }
    for intro, columns in measured.items():
        lines += _generated_and_real_table(rows, intro, columns, split)
    if "cue_difference" in report:
        d = report["cue_difference"]
        lines += [
            "",
            f"P(vocal | cues), vocal minus non-vocal: generated {_ci(d['generator'])}, real "
            f"{_ci(d['real'])}; ratio {_ci(d['generator_over_real'], '.2f')}.",
        ]
    if all("period_two_energy" in r for r in rows.values()):
        energy = "; ".join(
            f"{name} {r['period_two_energy']['time']:.2f} (2 frames), "
            f"{r['period_two_energy']['frequency']:.2f} (2 bands)"
            for name, r in rows.items()
        )
        lines += [
            "",
            f"Checkerboard: spectral energy at a period of 2, generated over real {split}: "
            f"{energy}.",
        ]
    if "class_matters" in report:
        m = report["class_matters"]
        lines += [
            "",
            f"The class matters: logit(G(z, vocal)) > logit(G(z, non-vocal)) for "
            f"{m['value']:.1%} [{m['low']:.1%}, {m['high']:.1%}] of {m['samples']} z.",
        ]
    return "\n".join(lines)


def plot_evaluation(result, png, per_class=4):
    """Real excerpts of the reference split (valid, unless the report says
    otherwise) above G(z, class), per class, the same z in a
    column across the classes; each excerpt captioned with the C2ST's
    held-out probability that it is generated.

    Args:
        result: a ``GeneratorEvaluation``.
        png: output path.
        per_class: columns.

    Returns:
        ``png``.
    """
    rows = []
    columns = min(per_class, *(len(x) for x in result.generated.values()))
    for name in CLASS_NAMES.values():
        test = result.c2st.get(name)
        if test is not None:
            shown = np.asarray(result.c2st_real_index[name])[
                _spread(len(result.c2st_real_index[name]), columns)
            ]
            real_caption = [
                f"P(generated) {p:.2f}"
                for p in test.real_scores[_spread(len(test.real_scores), columns)]
            ]
            generated_caption = [
                f"z{i}: P(generated) {test.generated_scores[i]:.2f}" for i in range(columns)
            ]
        else:
            shown = _spread(len(result.real[name]), columns)
            real_caption, generated_caption = None, [f"z{i}" for i in range(columns)]
        rows.append((f"real {name}", result.real[name][shown], real_caption))
        rows.append((f"G(z, {name})", result.generated[name][:columns], generated_caption))
    return plotting.plot_excerpts(
        rows,
        png,
        title=f"Real {_reference_split(result.report)} excerpts above generated ones, per class; "
        "the same z in a column (captions: the C2ST's held-out score)",
    )


def plot_samples(generator, valid, png, per_class=4, seed=0):
    """A figure of real valid excerpts above generated ones, for each class,
    the same z in a column (no scores).

    Args:
        generator: a conditional ``Generator``.
        valid: ``SplitFeatures`` of the validation split.
        png: output path.
        per_class: excerpts per row.
    """
    z = latents(per_class, seed + 7, generator.latent_dim)
    rows = []
    for label, name in CLASS_NAMES.items():
        real, _ = pipeline.sample_excerpts(valid, per_class, label=label, seed=seed)
        rows.append((f"real {name}", real, None))
        rows.append(
            (
                f"G(z, {name})",
                generate_from(generator, z, label),
                [f"z{i}" for i in range(per_class)],
            )
        )
    return plotting.plot_excerpts(
        rows,
        png,
        title="Real valid excerpts above generated ones, per class; the same z in a column",
    )
