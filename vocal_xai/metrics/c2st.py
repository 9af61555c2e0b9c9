"""Classifier two-sample test (C2ST) of real against generated excerpts.

Lopez-Paz and Oquab, "Revisiting classifier two-sample tests", ICLR 2017: if
a fresh classifier, trained to tell two samples apart, does no better than
chance on examples it was not trained on, the samples can't be told apart.
Its held-out accuracy is a realism measure that does not use the detector:
50 % means the generated excerpts pass for real, 100 % that every one is
recognised. A blurred or smeared excerpt is recognised by its missing fine
structure, which a Fréchet distance over a detector's embeddings may not see.

The classifier and its training are fixed (``C2STConfig``), so that every
generator is judged on the same footing: a three-layer CNN on per-excerpt
standardised log-mel (each excerpt minus its mean, over its standard
deviation, so the test judges the shape of the spectrogram, not its level),
averaged over time and kept per frequency, then one logit; Adam, a fixed
number of epochs, seeded weights and batch order.

The test is cross-fitted: the examples are split into ``folds`` folds of
contiguous blocks in the order given (``fold_ids``: excerpts sampled in song
order then overlap little across folds), a classifier is trained on all but
one fold and scores that fold, so every example gets a held-out score, the classifier's
probability that it is generated. The accuracy counts every held-out
prediction (threshold 0.5), with an exact (Clopper-Pearson) binomial
interval and the one-sided binomial test against chance.
"""

import dataclasses

import keras
import numpy as np
import scipy.stats
import tensorflow as tf

from vocal_xai.errors import ParameterError, check_finite


@dataclasses.dataclass(frozen=True)
class C2STConfig:
    """The classifier and its training, fixed across the generators compared.

    Attributes:
        filters: channels of the three 3x3 convolutions (each but the last
            followed by 2x2 max pooling).
        epochs: passes over each training fold.
        batch_size: examples per step.
        learning_rate: Adam's learning rate.
        folds: cross-fitting folds, >= 2.
        blocks: contiguous blocks per fold, >= 1 (see ``fold_ids``).
        seed: seed of the weights and of the batch order.
    """

    filters: tuple = (16, 32, 32)
    epochs: int = 10
    batch_size: int = 16
    learning_rate: float = 1e-3
    folds: int = 2
    blocks: int = 4
    seed: int = 0

    def __post_init__(self):
        if len(self.filters) != 3 or any(int(f) != f or f < 1 for f in self.filters):
            raise ParameterError(
                f"Expected 3 positive channel counts. Received: filters={self.filters!r}"
            )
        for name, low in (("epochs", 1), ("batch_size", 1), ("folds", 2), ("blocks", 1)):
            value = getattr(self, name)
            if int(value) != value or value < low:
                raise ParameterError(f"Expected {name} >= {low}. Received: {name}={value!r}")
        if not self.learning_rate > 0:
            raise ParameterError(
                f"Expected learning_rate > 0. Received: learning_rate={self.learning_rate!r}"
            )


@dataclasses.dataclass
class C2STResult:
    """What the test found.

    Attributes:
        accuracy: share of held-out predictions that are right.
        interval: (low, high), exact binomial interval of the accuracy.
        p_value: one-sided binomial test of accuracy > 0.5.
        real_scores: held-out probability that each real example is
            generated. [shape=(n,)]
        generated_scores: the same for each generated example. [shape=(n,)]
        confidence: coverage of ``interval``.
        config: the ``C2STConfig`` used.
    """

    accuracy: float
    interval: tuple
    p_value: float
    real_scores: np.ndarray
    generated_scores: np.ndarray
    confidence: float
    config: C2STConfig

    @property
    def examples(self):
        """Held-out predictions counted: real and generated together."""
        return len(self.real_scores) + len(self.generated_scores)

    def to_dict(self):
        """The summary (no per-example scores), JSON-ready."""
        return {
            "accuracy": self.accuracy,
            "low": self.interval[0],
            "high": self.interval[1],
            "p_value": self.p_value,
            "examples": self.examples,
            "mean_score_real": float(np.mean(self.real_scores)),
            "mean_score_generated": float(np.mean(self.generated_scores)),
            "config": {
                k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self.config).items()
            },
        }


def standardize_excerpts(x):
    """Each excerpt minus its mean, over its standard deviation.

    Args:
        x: log-mel excerpts. [shape=(n, frames, bands)]

    Returns:
        float32. [shape=(n, frames, bands)]
    """
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=(1, 2), keepdims=True)
    std = x.std(axis=(1, 2), keepdims=True)
    return ((x - mean) / np.maximum(std, 1e-6)).astype(np.float32)


def build_classifier(input_shape, config=C2STConfig(), seed=0):
    """The C2ST classifier: standardised excerpts [batch, frames, bands] ->
    logit of "generated" [batch, 1]. Its weights are drawn from ``seed``."""
    f1, f2, f3 = config.filters

    def init(i):
        return keras.initializers.HeUniform(seed=seed * 16 + i)

    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Reshape(tuple(input_shape) + (1,)),
            keras.layers.Conv2D(f1, 3, activation="relu", kernel_initializer=init(0)),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(f2, 3, activation="relu", kernel_initializer=init(1)),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(f3, 3, activation="relu", kernel_initializer=init(2)),
            # Average over time, keep frequency: where in the spectrum matters.
            keras.layers.Lambda(lambda t: keras.ops.mean(t, axis=1), name="mean_over_time"),
            keras.layers.Flatten(),
            keras.layers.Dense(
                1,
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed * 16 + 3),
                name="logit",
            ),
        ],
        name="c2st_classifier",
    )


# The smallest excerpt side the three convolutions and two poolings take.
MIN_SIDE = 18


def _check(x, name):
    x = np.asarray(x)
    if x.ndim != 3 or len(x) < 2 or min(x.shape[1:]) < MIN_SIDE:
        raise ParameterError(
            f"Expected {name} of shape [n >= 2, frames >= {MIN_SIDE}, bands >= {MIN_SIDE}]. "
            f"Received: shape={x.shape}"
        )
    return check_finite(x, name)


class _FoldClassifier:
    """One compiled classifier, trained afresh for every fold: before each
    fold its weights are those ``build_classifier`` draws from the fold's
    seed and its optimizer's state is the initial one, so the result equals
    a new model's while ``fit`` and ``predict`` are traced once."""

    def __init__(self, input_shape, config):
        self.config = config
        self.model = build_classifier(input_shape, config)
        self.model.compile(
            optimizer=keras.optimizers.Adam(config.learning_rate),
            loss=keras.losses.BinaryCrossentropy(from_logits=True),
        )
        self.model.optimizer.build(self.model.trainable_variables)
        self._optimizer_start = [v.numpy() for v in self.model.optimizer.variables]

    def fit_and_score(self, x_train, y_train, x_test, seed):
        """Train on one fold split; P(generated) of ``x_test``."""
        config, model = self.config, self.model
        model.set_weights(build_classifier(x_train.shape[1:], config, seed).get_weights())
        for variable, start in zip(model.optimizer.variables, self._optimizer_start, strict=True):
            variable.assign(start)
        # Full batches in a seeded order (the few left over change each epoch),
        # every epoch's batches in one compiled loop.
        rng = np.random.default_rng(seed)
        batch_size = min(config.batch_size, len(x_train))
        steps = len(x_train) // batch_size
        order = np.stack(
            [rng.permutation(len(x_train))[: steps * batch_size] for _ in range(config.epochs)]
        )
        x_all, y_all = tf.constant(x_train), tf.constant(y_train)
        batches = tf.data.Dataset.from_tensor_slices(order.reshape(-1, batch_size)).map(
            lambda rows: (tf.gather(x_all, rows), tf.gather(y_all, rows))
        )
        model.fit(batches, epochs=1, verbose=0)
        logits = model.predict(x_test, batch_size=256, verbose=0)[:, 0]
        return 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))


# One classifier per excerpt shape, configuration and distribution strategy,
# for the life of the process: a generator's evaluation runs four tests of one
# shape, and every test resets the classifier before each fold.
_CLASSIFIERS = {}


def _fold_classifier(input_shape, config):
    key = (tuple(input_shape), config, tf.distribute.get_strategy())
    if key not in _CLASSIFIERS:
        _CLASSIFIERS[key] = _FoldClassifier(input_shape, config)
    return _CLASSIFIERS[key]


def fold_ids(n, folds, blocks=1):
    """The fold of each of ``n`` examples: cut into ``folds * blocks``
    contiguous blocks in order, dealt to the folds in turn.

    Excerpts sampled in song order overlap their neighbours; contiguous
    blocks keep most neighbours in the same fold, and several blocks per
    fold let every fold's classifier see most songs.

    Returns:
        int. [shape=(n,)]
    """
    return (np.arange(n) * folds * blocks // n) % folds


def classifier_two_sample_test(real, generated, config=C2STConfig(), confidence=0.95):
    """Can a fresh classifier tell ``generated`` excerpts from ``real`` ones?

    Args:
        real: real log-mel excerpts, in the order they were sampled (e.g.
            song order). [shape=(n, frames, bands)]
        generated: as many generated excerpts. [shape=(n, frames, bands)]
        config: the ``C2STConfig``.
        confidence: coverage of the accuracy's interval.

    Returns:
        ``C2STResult``: held-out accuracy with its exact binomial interval
        (0.5: indistinguishable, 1.0: every example told apart), p-value,
        and every example's held-out probability of being generated.

    Raises:
        ParameterError: for samples of other shapes or sizes, too few
            examples for the folds, or non-finite values.
    """
    real = _check(real, "real")
    generated = _check(generated, "generated")
    if real.shape != generated.shape:
        raise ParameterError(
            "Expected real and generated excerpts of the same shape and number. "
            f"Received: real.shape={real.shape}, generated.shape={generated.shape}"
        )
    if not 0.0 < confidence < 1.0:
        raise ParameterError(f"Expected 0 < confidence < 1. Received: confidence={confidence!r}")
    n = len(real)
    if n < 2 * config.folds * config.blocks:
        raise ParameterError(
            f"Expected at least {2 * config.folds * config.blocks} examples per side for "
            f"{config.folds} folds of {config.blocks} blocks. Received: {n}"
        )

    # Stack both samples (label 1 = generated), each split into folds.
    x = np.concatenate([standardize_excerpts(real), standardize_excerpts(generated)])
    y = np.concatenate([np.zeros(n, np.float32), np.ones(n, np.float32)])
    fold = np.concatenate([fold_ids(n, config.folds, config.blocks)] * 2)

    # Cross-fit: every fold is scored by a classifier trained on the others.
    scores = np.empty(2 * n)
    classifier = _fold_classifier(x.shape[1:], config)
    for k in range(config.folds):
        test = fold == k
        scores[test] = classifier.fit_and_score(x[~test], y[~test], x[test], config.seed + k)

    correct = int(np.sum((scores > 0.5) == (y > 0.5)))
    interval = scipy.stats.binomtest(correct, 2 * n).proportion_ci(
        confidence_level=confidence, method="exact"
    )
    p_value = scipy.stats.binomtest(correct, 2 * n, 0.5, alternative="greater").pvalue
    return C2STResult(
        accuracy=correct / (2 * n),
        interval=(float(interval.low), float(interval.high)),
        p_value=float(p_value),
        real_scores=scores[:n],
        generated_scores=scores[n:],
        confidence=confidence,
        config=config,
    )
