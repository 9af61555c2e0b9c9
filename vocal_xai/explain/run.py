"""The main job: explain a detector neuron over a grid of settings and pick
the best setting automatically (the logic behind ``tools/explain.py``).

All (learning rate, rp) pairs x seeds run as rows of one batched latent
ascent; iteration counts are snapshots of the same trajectories. Every
(learning rate, rp, iterations) setting is scored by every candidate selector
against real reference excerpts (``selection``), and the settings are ranked
by the chosen one.
"""

import dataclasses
import itertools
import time

import numpy as np
import tensorflow as tf

from vocal_xai.errors import ParameterError
from vocal_xai.explain import ascent, objectives, selection
from vocal_xai.models.detector import adapter

GRIDS = {
    # Small enough to finish in minutes on a laptop CPU.
    "quick": {
        "learning_rates": (0.1, 0.01, 0.001),
        "rps": (0.1, 0.01, 0.001),
        "iterations": (10, 25, 50),
        "seeds": 8,
    },
    # The authors' final runs: 27 settings x 50 seeds.
    "paper": {
        "learning_rates": (0.1, 0.01, 0.001),
        "rps": (0.1, 0.01, 0.001),
        "iterations": (100, 500, 1000),
        "seeds": 50,
    },
}
CONDITIONS = {"non_vocal": 0, "vocal": 1}


@dataclasses.dataclass
class ExplainConfig:
    """What to explain and how.

    Attributes:
        direction: "max" or "min".
        neuron: "LAYER:UNIT" of the detector (default: the vocal logit, which
            every detector has; see ``vocal_xai.models.detector.adapter``).
        condition: class of the generator prior; None takes "vocal" for max
            and "non_vocal" for min.
        learning_rates, rps, iterations: the grid.
        seeds: number of restarts per (learning rate, rp) pair (seeds
            0 ... seeds - 1).
        embedding: detector layer whose activations the distance compares;
            None takes the detector's last embedding (``embedding_64`` for
            the paper's SVDNet, the logit for a detector that exposes none).
        reference_k: number of real reference excerpts.
        reference_stride: frames between candidate reference excerpts.
        optimizer: "adam" or "sgd".
        chunk_size: rows per ascent call (bounds memory).
        bootstrap: resamples of the confidence interval (0: none).
        selector: the score that orders the settings, a name of
            ``selection.SELECTOR_NAMES``; every other one's pick is reported
            too.
        precision: "float32" or "mixed_bfloat16" (see
            ``ascent.LatentParameterisation``).
    """

    direction: str = "max"
    neuron: str = "logit:0"
    condition: str = None
    learning_rates: tuple = GRIDS["quick"]["learning_rates"]
    rps: tuple = GRIDS["quick"]["rps"]
    iterations: tuple = GRIDS["quick"]["iterations"]
    seeds: int = GRIDS["quick"]["seeds"]
    embedding: str = None
    reference_k: int = 200
    reference_stride: int = 5
    optimizer: str = "adam"
    chunk_size: int = 128
    bootstrap: int = 200
    precision: str = "float32"
    selector: str = selection.DEFAULT_SELECTOR

    def __post_init__(self):
        if self.direction not in ascent.DIRECTIONS:
            raise ParameterError(
                f"Expected direction in ['max', 'min']. Received: direction={self.direction!r}"
            )
        if self.condition is None:
            self.condition = "vocal" if self.direction == "max" else "non_vocal"
        if self.condition not in CONDITIONS:
            raise ParameterError(
                f"Expected condition in {sorted(CONDITIONS)}. "
                f"Received: condition={self.condition!r}"
            )
        objectives.parse_neuron(self.neuron)
        selection.check_selector(self.selector)
        for name in ("learning_rates", "rps", "iterations"):
            values = tuple(getattr(self, name))
            if not values or any(v < 0 for v in values):
                raise ParameterError(
                    f"Expected a non-empty list of values >= 0. Received: {name}={values}"
                )
            setattr(self, name, values)
        if self.seeds < 2:
            raise ParameterError(
                f"Expected seeds >= 2 (a distance needs two examples). Received: seeds={self.seeds}"
            )

    @classmethod
    def from_grid(cls, grid, **overrides):
        if grid not in GRIDS:
            raise ParameterError(f"Expected grid in {sorted(GRIDS)}. Received: grid={grid!r}")
        return cls(**{**GRIDS[grid], **overrides})

    @property
    def pairs(self):
        return list(itertools.product(self.learning_rates, self.rps))

    @property
    def latent_iterations(self):
        """Latent iterations the grid costs: one trajectory per (learning
        rate, rp) pair and seed, run to the largest iteration count (the
        smaller counts are snapshots of the same trajectories)."""
        return len(self.pairs) * self.seeds * max(self.iterations)


@dataclasses.dataclass
class ExplainResult:
    config: ExplainConfig
    ranking: list  # dicts, best first
    ascent: ascent.AscentResult
    rows: dict  # per-row learning_rate, rp, seed arrays
    examples: dict  # (lr, rp, iterations) -> log-mel of the kept examples [seeds, 115, 80]
    starts: np.ndarray  # G(z0) of the seeds [seeds, 115, 80]
    reference: selection.Reference
    picks: dict  # selector name -> its best setting (``selection.picks``)
    real_range: tuple  # (min, max) activation over the candidate real excerpts' reference
    timings: dict

    @property
    def selected(self):
        return self.ranking[0]


def pair_rows(pairs, seeds):
    """Per-row learning rates and rp for ``seeds`` rows per (lr, rp) pair,
    pair by pair, as float32 arrays."""
    lr = np.repeat([p[0] for p in pairs], seeds).astype(np.float32)
    rp = np.repeat([p[1] for p in pairs], seeds).astype(np.float32)
    return lr, rp


def checked_detector(detector, config):
    """``detector`` with the interface the explain code uses, checked
    against ``config`` before any computation.

    Args:
        detector: an ``SVDNet``, any Keras detector on raw log-mel, or a
            detector from ``vocal_xai.zoo.load_detector``.
        config: ``ExplainConfig``.

    Returns:
        (detector, config), the config with its embedding filled in.

    Raises:
        ParameterError: for a neuron or an embedding the detector lacks (the
            message lists the valid names and unit ranges), or a detector
            that can't be explained at ``config.precision``.
    """
    layer, unit = objectives.parse_neuron(config.neuron)
    detector = adapter.adapt(detector)
    adapter.check_explainable(detector, config.precision)
    adapter.check_neuron(detector, layer, unit)
    embedding = adapter.check_embedding(detector, config.embedding)
    detector = adapter.adapt(detector, layers=(layer, embedding))
    return detector, dataclasses.replace(config, embedding=embedding)


def real_reference(probe, valid, config, reference_cache=None, reference_key=None):
    """The real reference of ``config``'s neuron and direction: the
    ``config.reference_k`` valid excerpts that activate it most (max) or
    least (min), as a ``selection.Reference`` of their ``config.embedding``.

    Args:
        probe: a detector probe whose outputs hold the neuron's layer and the
            embedding (``ascent.LatentParameterisation.probe``).
        valid: ``SplitFeatures`` of the validation split.
        config: ``ExplainConfig`` with its embedding filled in
            (``checked_detector``).
        reference_cache: folder for cached references, or None.
        reference_key: dict identifying the detector and the data (e.g. their
            contents) in the cache key.
    """
    layer, unit = objectives.parse_neuron(config.neuron)

    def compute():
        return selection.reference(
            probe,
            valid,
            layer,
            unit,
            config.embedding,
            config.direction,
            config.reference_k,
            config.reference_stride,
        )

    if reference_cache is None:
        return compute()
    key = {
        **(reference_key or {}),
        "neuron": config.neuron,
        "direction": config.direction,
        "embedding": config.embedding,
        "k": config.reference_k,
        "stride": config.reference_stride,
    }
    return selection.cached_reference(reference_cache, key, compute)[0]


def explain(
    generator, detector, valid, config, reference_cache=None, reference_key=None, progress=False
):
    """Run the grid, score every setting, rank them.

    Args:
        generator: conditional generator (Keras).
        detector: an ``SVDNet``, any Keras detector on raw log-mel, or a
            detector from ``vocal_xai.zoo.load_detector`` (see
            ``checked_detector``).
        valid: ``SplitFeatures`` of the validation split (the reference).
        config: ``ExplainConfig``.
        reference_cache: folder for cached reference statistics, or None.
        reference_key: dict identifying the detector (e.g. its version) in
            the cache key.
        progress: show progress bars.
    """
    detector, config = checked_detector(detector, config)
    layer, unit = objectives.parse_neuron(config.neuron)
    param = ascent.LatentParameterisation(
        generator, detector, layers=[layer, config.embedding], precision=config.precision
    )
    target = objectives.activation(layer, unit)
    timings = {}

    # Reference statistics of real excerpts (cached per detector version).
    start = time.perf_counter()
    ref = real_reference(param.probe, valid, config, reference_cache, reference_key)
    timings["reference_s"] = time.perf_counter() - start

    # One row per (learning rate, rp) pair and seed.
    seeds = np.arange(config.seeds)
    pairs = config.pairs
    lr, rp = pair_rows(pairs, len(seeds))
    row_seeds = np.tile(seeds, len(pairs))
    z0 = ascent.initial_latents(row_seeds, param.latent_dim)
    classes = np.full(len(lr), CONDITIONS[config.condition], np.int32)
    start = time.perf_counter()
    result = ascent.latent_ascent(
        param,
        z0,
        classes,
        lr,
        rp,
        config.direction,
        config.iterations,
        target=target,
        optimizer=config.optimizer,
        chunk_size=config.chunk_size,
        progress=progress,
    )
    timings["ascent_s"] = time.perf_counter() - start
    timings["latent_iterations"] = int(len(lr) * int(result.snapshots[-1]))

    # Score every setting against the reference.
    start = time.perf_counter()
    run = tf.function(lambda z, c: param(z, c), reduce_retracing=True)

    def evaluate(z):
        log_mel, outputs = run(tf.constant(z), tf.constant(classes[: len(z)]))
        acts = tf.reshape(outputs[layer], [len(z), -1])[:, unit].numpy()
        prob = tf.sigmoid(outputs["logit"][:, 0]).numpy()
        return log_mel.numpy(), acts, outputs[config.embedding].numpy(), prob

    ranking, examples = [], {}
    for s, iterations in enumerate(result.snapshots):
        for p, (pair_lr, pair_rp) in enumerate(pairs):
            idx = slice(p * len(seeds), (p + 1) * len(seeds))
            log_mel, acts, embs, prob = evaluate(result.best_z[s, idx])
            examples[(pair_lr, pair_rp, int(iterations))] = log_mel
            row = {
                "learning_rate": float(pair_lr),
                "rp": float(pair_rp),
                "iterations": int(iterations),
            }
            row.update(selection.score(embs, acts, ref, config.bootstrap, seed=s * 1000 + p))
            row["max_activation"] = float(np.max(acts))
            row["min_activation"] = float(np.min(acts))
            row["fraction_vocal"] = float(np.mean(prob > 0.5))
            ranking.append(row)
    ranking = selection.rank(ranking, config.direction, config.selector)
    starts, *_ = evaluate(z0[: len(seeds)])
    timings["selection_s"] = time.perf_counter() - start
    return ExplainResult(
        config=config,
        ranking=ranking,
        ascent=result,
        rows={"learning_rate": lr, "rp": rp, "seed": row_seeds},
        examples=examples,
        starts=starts,
        reference=ref,
        picks=selection.picks(ranking),
        real_range=(float(ref.activations.min()), float(ref.activations.max())),
        timings=timings,
    )
