"""The latent gradient ascent itself as a SavedModel, so TF Serving returns
explanations.

Generator, detector and the ascent's ``tf.while_loop`` (``ascent._ascent_fn``,
the loop ``tools/explain.py`` runs: Adam on z, the paper's objective
``objectives.paper`` with the detector's output logit as the activation) in
one graph of core TF ops. Two signatures:

- ``serving_default``: seed int64 [batch], class_id int32 [batch],
  direction string [batch] ("max" or "min"), learning_rate float32 [batch],
  rp float32 [batch], steps int32 scalar -> explanations. z0 is drawn from the
  seed with ``ascent.latents_from_seeds``, as ``tools/explain.py`` draws it.
- ``from_latent``: the same with z0 float32 [batch, 128] instead of seed.

Outputs: ``log_mel`` [batch, 115, 80] (the explanation: the best example of
the trajectory), ``activation`` [batch] (its logit), ``z`` [batch, 128] (its
latent), ``activation_trace`` [batch, steps + 1] (the logit at every step),
``diverged`` bool [batch], ``score`` float64 [batch] and
``frechet_distance`` float64 [batch].

``score`` scores a request's explanations as ``tools/explain.py`` scores a
setting, with the selector the explainer was built with (its metadata names
it; by default ``selection.DEFAULT_SELECTOR``): the selector's score of the
detector embeddings and activations of the request's rows of one direction
against the real reference of that direction, held in the SavedModel
(``vocal_xai.metrics.layers.SelectorScore``). ``frechet_distance`` is the
paper's Fréchet distance of the same rows
(``vocal_xai.metrics.layers.FrechetDistanceToReference``). Every row carries
the values of its direction's rows; they are NaN where too few rows share the
direction (2 for a distance, ``selection.MIN_EXAMPLES`` for the selectors
that need more). A row whose ascent diverges (a learning rate
so large that the latent or the logit stops being finite) is flagged in
``diverged``; its trace holds the last finite logit from then on, and its
explanation is the best finite step, so every output stays finite.

Inputs are checked before anything runs (``vocal_xai.signature_checks``):
ranks, a non-empty batch and one entry per row, class in {0, 1}, direction
in {max, min}, finite values (no NaN or Inf), learning rate > 0, rp >= 0
and 0 <= steps <= ``MAX_STEPS``. steps is a scalar, so REST requests use the
columnar ``{"inputs": {...}}`` format.
"""

import dataclasses
import pathlib

import tensorflow as tf

from vocal_xai import export, spectral
from vocal_xai.errors import ParameterError
from vocal_xai.explain import ascent, objectives, selection
from vocal_xai.metrics.layers import SERVED_SELECTORS, FrechetDistanceToReference, SelectorScore
from vocal_xai.models.detector import adapter
from vocal_xai.signature_checks import InputChecks, with_static_shape

MAX_STEPS = 2000
"""The most ascent steps one request may ask for (the paper's longest run is
1000); it bounds the time and the trace memory of a request."""


class ExplainerServing(tf.Module):
    """Wraps generator + detector + the ascent loop with named signatures.

    Args:
        generator: the conditional generator (Keras).
        detector: the ``SVDNet`` (Keras).
        references: direction ("max", "min") -> the real reference of the
            vocal logit in that direction (a ``selection.Reference`` of the
            detector's default embedding, ``embedding``).
        selector: the selector of ``score``, one of
            ``layers.SERVED_SELECTORS``; None for ``selection.DEFAULT_SELECTOR``.
    """

    def __init__(self, generator, detector, references, selector=None):
        super().__init__(name="explainer")
        self.embedding = adapter.check_embedding(detector)
        self.param = ascent.LatentParameterisation(generator, detector, layers=[self.embedding])
        dim = int(self.param.probe.output[self.embedding].shape[-1])
        if sorted(references) != sorted(ascent.DIRECTIONS):
            raise ParameterError(
                f"Expected references for the directions {sorted(ascent.DIRECTIONS)}. "
                f"Received: references for {sorted(references)}"
            )
        self.selector = selection.DEFAULT_SELECTOR if selector is None else selector
        if self.selector not in SERVED_SELECTORS:
            raise ParameterError(
                f"Expected a selector the explainer can serve, one of {list(SERVED_SELECTORS)}. "
                f"Received: selector={self.selector!r}"
            )
        self.distances = {
            direction: FrechetDistanceToReference(dim, references[direction], name=direction)
            for direction in ascent.DIRECTIONS
        }
        self.scores = {
            direction: SelectorScore(
                self.selector,
                dim,
                references[direction].size,
                references[direction],
                name=f"{direction}_score",
            )
            for direction in ascent.DIRECTIONS
        }
        self.model_variables = [
            v.value
            for owner in (generator, detector, *self.distances.values(), *self.scores.values())
            for v in owner.variables
        ]
        self.latent_dim = int(generator.latent_dim)
        target = objectives.activation("logit", 0)
        self._run = self.param.run_fn(objectives.paper(target), target, "adam")
        # Unknown ranks: the graph checks them, with its own messages.
        rows = [
            tf.TensorSpec(None, tf.int32, name="class_id"),
            tf.TensorSpec(None, tf.string, name="direction"),
            tf.TensorSpec(None, tf.float32, name="learning_rate"),
            tf.TensorSpec(None, tf.float32, name="rp"),
            # Any shape here, so that the scalar check below runs on the
            # tensor actually fed (a static [] would let a graph fed a vector
            # skip it).
            tf.TensorSpec(None, tf.int32, name="steps"),
        ]
        self.from_seed = tf.function(
            self._from_seed, input_signature=[tf.TensorSpec(None, tf.int64, name="seed")] + rows
        )
        self.from_latent = tf.function(
            self._from_latent, input_signature=[tf.TensorSpec(None, tf.float32, name="z0")] + rows
        )

    def _from_seed(self, seed, class_id, direction, learning_rate, rp, steps):
        checks = InputChecks()
        checks.shape(seed, "seed", 1, "[batch]")
        seed = tf.reshape(checks.passed(seed), [-1])
        z0 = ascent.latents_from_seeds(seed, self.latent_dim)
        return self._explain(z0, class_id, direction, learning_rate, rp, steps, checks)

    def _from_latent(self, z0, class_id, direction, learning_rate, rp, steps):
        checks = InputChecks()
        checks.shape(z0, "z0", 2, f"[batch, {self.latent_dim}]", sizes={1: self.latent_dim})
        checks.finite(z0, "z0")
        return self._explain(z0, class_id, direction, learning_rate, rp, steps, checks)

    def _explain(self, z0, class_id, direction, learning_rate, rp, steps, checks):
        batch = tf.shape(z0)[0]
        for name, value in [
            ("class_id", class_id),
            ("direction", direction),
            ("learning_rate", learning_rate),
            ("rp", rp),
        ]:
            checks.rows(value, name, batch)
        checks.finite(learning_rate, "learning_rate")
        checks.finite(rp, "rp")
        checks.true(tf.equal(tf.size(steps), 1), "steps must be a scalar")
        checks.true(
            tf.reduce_all((class_id >= 0) & (class_id <= 1)),
            "class_id must be 0 (non-vocal) or 1 (vocal)",
        )
        checks.true(
            tf.reduce_all((direction == "max") | (direction == "min")),
            "direction must be max or min",
        )
        checks.true(tf.reduce_all(learning_rate > 0.0), "learning_rate must be > 0")
        checks.true(tf.reduce_all(rp >= 0.0), "rp must be >= 0")
        checks.true(tf.reduce_all(steps >= 0), "steps must be >= 0")
        checks.true(tf.reduce_all(steps <= MAX_STEPS), f"steps must be <= {MAX_STEPS}")
        # The ascent runs only after every check has passed.
        z0, steps, class_id, direction, learning_rate, rp = checks.passed(
            z0, steps, class_id, direction, learning_rate, rp
        )
        z0 = with_static_shape(z0, 2, {1: self.latent_dim})
        steps = tf.reshape(steps, [])
        class_id, direction, learning_rate, rp = (
            tf.reshape(t, [batch]) for t in (class_id, direction, learning_rate, rp)
        )
        sign = tf.where(direction == "max", 1.0, -1.0)
        rows = {objectives.SIGN: sign, objectives.RP: rp}
        out = self._run(z0, class_id, learning_rate, rows, steps, tf.reshape(steps, [1]))
        best_z = out["best_z"][0]
        log_mel, outputs = self.param(best_z, class_id)
        trace = tf.transpose(out["activation"])
        activation = sign * out["best_signed"][0]
        embeddings = outputs[self.embedding]
        return {
            "log_mel": tf.ensure_shape(
                log_mel, [None, spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS]
            ),
            "activation": activation,
            "z": best_z,
            "activation_trace": _hold_last_finite(trace),
            "diverged": tf.logical_not(tf.reduce_all(tf.math.is_finite(trace), axis=1)),
            "score": _per_direction(
                lambda name, e, a: self.scores[name]([e, a]),
                direction,
                embeddings,
                activation,
                selection.MIN_EXAMPLES.get(self.selector, 2),
            ),
            "frechet_distance": _per_direction(
                lambda name, e, a: self.distances[name](e), direction, embeddings, activation, 2
            ),
        }

    def signatures(self):
        return {"serving_default": self.from_seed, "from_latent": self.from_latent}


def _per_direction(value, direction, embeddings, activations, minimum):
    """Each row's value of its direction's rows, ``value(direction name,
    embeddings, activations)`` [batch]; NaN for a direction of fewer than
    ``minimum`` rows."""
    out = tf.fill(tf.shape(direction), tf.constant(float("nan"), tf.float64))
    for name in ascent.DIRECTIONS:
        rows = tf.equal(direction, name)
        group = tf.boolean_mask(embeddings, rows), tf.boolean_mask(activations, rows)
        result = tf.cond(
            tf.shape(group[0])[0] >= minimum,
            lambda name=name, group=group: value(name, *group),
            lambda: tf.constant(float("nan"), tf.float64),
        )
        out = tf.where(rows, result, out)
    return out


def _hold_last_finite(trace):
    """``trace`` [batch, steps] with every non-finite entry replaced by the
    row's last finite one before it."""
    by_step = tf.transpose(trace)
    held = tf.scan(
        lambda last, x: tf.where(tf.math.is_finite(x), x, last), by_step, initializer=by_step[0]
    )
    return tf.transpose(held)


def export_explainer(
    generator, detector, references, export_base, metadata, version=None, selector=None
):
    """Write ``<export_base>/explainer/<version>/`` with metadata (which
    generator and detector it holds, its references and the selector of its
    ``score``) in ``assets.extra/``; ``references`` and ``selector`` as in
    ``ExplainerServing``."""
    module = ExplainerServing(generator, detector, references, selector)
    metadata = {
        **metadata,
        "max_steps": MAX_STEPS,
        "embedding": module.embedding,
        "selector": module.selector,
    }
    return export.export_module(
        module,
        pathlib.Path(export_base) / "explainer",
        module.signatures(),
        version,
        extra_files={export.METADATA_FILE: lambda path: export.write_metadata(path, metadata)},
    )


def export_from_zoo(
    detector="detector",
    generator="generator",
    export_base=None,
    version=None,
    data_dir=None,
    cache_dir=None,
    reference_k=None,
    selector=None,
):
    """Export the explainer of two zoo models (names or paths; newest
    versions by default) into ``<export_base>/explainer/`` (default: the zoo),
    its ``score`` by ``selector`` (default: ``selection.DEFAULT_SELECTOR``).

    Its references are those ``tools/explain.py`` uses for the vocal logit
    with the same ``reference_k`` (default: its default), from the valid
    split of ``data_dir`` (default: the synthetic default corpus) and from
    the same cache (``cache_dir``).
    """
    from vocal_xai import zoo
    from vocal_xai.explain import run, session

    detector_dir, generator_dir = zoo.resolve(detector), zoo.resolve(generator)
    detector_model = zoo.load_detector(str(detector_dir))
    corpus, splits = session.open_splits(data_dir, ("valid",), cache_dir)
    folder, key = session.reference_cache(
        zoo.describe_model(detector_dir), corpus.songs("valid"), cache_dir
    )
    generator_model = zoo.load_generator(str(generator_dir))
    overrides = {} if reference_k is None else {"reference_k": reference_k}
    _, config = run.checked_detector(detector_model, run.ExplainConfig(**overrides))
    probe = ascent.LatentParameterisation(
        generator_model, detector_model, layers=[config.embedding]
    ).probe
    references = {
        direction: run.real_reference(
            probe, splits["valid"], dataclasses.replace(config, direction=direction), folder, key
        )
        for direction in ascent.DIRECTIONS
    }
    metadata = {
        "detector": {"path": str(detector_dir), "version": int(detector_dir.name)},
        "generator": {"path": str(generator_dir), "version": int(generator_dir.name)},
        "reference": {
            "corpus": str(pathlib.Path(corpus.root).resolve()),
            "split": "valid",
            "valid_content": key["valid"],
            "neuron": config.neuron,
            "k": config.reference_k,
            "stride": config.reference_stride,
        },
    }
    return export_explainer(
        generator_model,
        detector_model,
        references,
        export_base or zoo.root(),
        metadata,
        version,
        selector,
    )
