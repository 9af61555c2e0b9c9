"""Quality of a conditional generator, judged by the detector.

For each class, with the same number of samples in every row:
- ``generator``: Fréchet distance between the detector embeddings of
  G(z, class) and of real valid excerpts of that class;
- ``floor``: the same distance between real train and real valid excerpts;
- ``ceiling``: the same distance between matched noise (Gaussian, with the
  per-band mean and std of the real valid excerpts of that class) and real
  valid excerpts;
- ``consistency``: the fraction of G(z, class) the detector assigns to the
  class (probability above 0.5 for vocal, below for non-vocal).
"""

import numpy as np
import tensorflow as tf

from vocal_xai import inference, plotting
from vocal_xai.data import pipeline
from vocal_xai.explain import frechet

CLASS_NAMES = {0: "non_vocal", 1: "vocal"}


def detector_outputs(detector, log_mel, embedding=None, batch_size=256):
    """Embeddings (default: the last hidden layer, dense-64) and vocal
    probabilities of excerpts, in batches."""
    embedding = embedding or detector.embedding_names[-1]
    run = inference.compiled(detector)
    embs, probs = [], []
    for start in range(0, len(log_mel), batch_size):
        out = run(tf.constant(log_mel[start : start + batch_size], tf.float32))
        embs.append(out[embedding].numpy())
        probs.append(out["probability"].numpy()[:, 0])
    return np.concatenate(embs), np.concatenate(probs)


def generate(generator, count, label, seed, batch_size=256):
    """``count`` samples of G(z, label) with z ~ N(0, I) drawn from ``seed``."""
    z = np.random.default_rng(seed).standard_normal((count, generator.latent_dim)).astype(np.float32)
    run = inference.compiled(generator)
    out = []
    for start in range(0, count, batch_size):
        zb = z[start : start + batch_size]
        labels = tf.fill([len(zb)], tf.constant(label, tf.int32))
        out.append(run({"z": tf.constant(zb), "class": labels}).numpy())
    return np.concatenate(out)


def matched_noise(reference, count, seed):
    """Gaussian noise with the per-band mean and std of ``reference`` excerpts."""
    mean = reference.mean(axis=(0, 1))
    std = reference.std(axis=(0, 1))
    rng = np.random.default_rng(seed)
    shape = (count,) + reference.shape[1:]
    return (mean + std * rng.standard_normal(shape)).astype(np.float32)


def evaluate_generator(generator, detector, train, valid, num_samples=1000, seed=0,
                       embedding=None):
    """Per-class distances and class consistency (see the module docstring).

    Args:
        generator: a conditional ``Generator``.
        detector: an ``SVDNet``.
        train, valid: ``SplitFeatures`` of the training and validation splits.
        num_samples: samples per row.

    Returns:
        dict class name -> {generator, floor, ceiling, consistency, samples}.
    """
    report = {}
    for label, name in CLASS_NAMES.items():
        real_valid, _ = pipeline.sample_excerpts(valid, num_samples, label=label, seed=seed)
        real_train, _ = pipeline.sample_excerpts(train, num_samples, label=label, seed=seed + 1)
        fake = generate(generator, num_samples, label, seed=seed + 2)
        noise = matched_noise(real_valid, num_samples, seed=seed + 3)
        stats = {}
        probs = None
        for key, data in [("valid", real_valid), ("train", real_train), ("generator", fake), ("noise", noise)]:
            emb, p = detector_outputs(detector, data, embedding)
            stats[key] = frechet.gaussian_stats(emb)
            if key == "generator":
                probs = p
        consistency = float(np.mean((probs > 0.5) == bool(label)))
        report[name] = {
            "generator": frechet.distance_between(stats["generator"], stats["valid"]),
            "floor": frechet.distance_between(stats["train"], stats["valid"]),
            "ceiling": frechet.distance_between(stats["noise"], stats["valid"]),
            "consistency": consistency,
            "samples": num_samples,
        }
    return report


def format_report(report):
    """The evaluation as a Markdown table."""
    lines = [
        "| class | FD generator | FD floor (train vs valid) | FD ceiling (matched noise) | generator / floor | ceiling / generator | class consistency |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in report.items():
        lines.append(
            f"| {name} | {r['generator']:.3f} | {r['floor']:.3f} | {r['ceiling']:.1f} | "
            f"{r['generator'] / max(r['floor'], 1e-12):.2f} | {r['ceiling'] / max(r['generator'], 1e-12):.1f} | "
            f"{r['consistency']:.1%} |"
        )
    return "\n".join(lines)


def plot_samples(generator, valid, png, per_class=4, seed=0):
    """A figure of real valid excerpts above generated ones, for each class.

    Args:
        generator: a conditional ``Generator``.
        valid: ``SplitFeatures`` of the validation split.
        png: output path.
        per_class: excerpts per row.
    """
    rows = []
    for label, name in CLASS_NAMES.items():
        real, _ = pipeline.sample_excerpts(valid, per_class, label=label, seed=seed)
        rows.append((f"real {name}", real))
        rows.append((f"generated {name}", generate(generator, per_class, label, seed=seed + 7)))
    vmax = max(r.max() for _, r in rows)
    fig, axes = plotting.pyplot().subplots(len(rows), per_class, figsize=(2.2 * per_class, 1.9 * len(rows)))
    for (title, excerpts), ax_row in zip(rows, axes):
        for i, ax in enumerate(ax_row):
            plotting.show_log_mel(ax, excerpts[i], top=vmax)
            if i == 0:
                ax.set_ylabel(title, fontsize=9)
    fig.suptitle("115 frames (1.6 s) x 80 mel bands, log-mel; real above generated", fontsize=10)
    # A 256-colour palette: the figure ships beside the model.
    return plotting.save_figure(fig, png, dpi=80, colors=256)
