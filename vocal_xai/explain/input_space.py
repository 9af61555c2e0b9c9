"""Activation maximisation directly in log-mel input space: the baseline.

This is the common library approach (lucid, tf-explain, Captum's
``optim``): gradient ascent on the input itself, with the usual
regularisers. The input is parameterised in the detector's standardised
units ``u`` (per-band mean and std of its training split), so one learning
rate suits every band; the log-mel fed to the detector is
``max(mean + std * u, log(1e-7))``. The default objective per row
(``default_objective``, a composed ``objectives.Objective``) is

    d * a(D(jitter(x))) - rp * (mean(u^2) + TV(u))

with d = +1 (max) or -1 (min), an L2 penalty, the anisotropic total
variation ``TV(u) = mean|u[t+1] - u[t]| + mean|u[:, f+1] - u[:, f]|`` and
jitter: a random roll of the excerpt by up to ``jitter`` frames and bands at
every step (the same roll for every row of a step, drawn from the step's
stateless seed). Any other composition works; its activations (and
``objectives.LOG_MEL``) are those of the jittered excerpt, its regularisers
of ``z`` see the unjittered ``u``. Every row starts from the mean spectrum
plus small noise (``init_scale``) drawn from its seed. The optimiser is the
latent ascent's fused Adam or SGD (``ascent.fused_optimizer``).

As in libraries, the example kept for an iteration count k is the iterate
after k steps, and it is scored without jitter. Rows run batched in one
``tf.while_loop``, like the latent ascent.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from vocal_xai import progressbar, spectral
from vocal_xai.errors import ParameterError
from vocal_xai.explain import ascent, objectives

SHAPE = (spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS)


def initial_inputs(seeds, scale=0.1):
    """Standardised starting inputs: ``scale * N(0, I)`` with stateless seed
    ``[seed, 1]``. [shape=(len(seeds), 115, 80)]"""
    seeds = np.asarray(list(seeds), np.int64).reshape(-1)
    return np.stack(
        [tf.random.stateless_normal(SHAPE, seed=[int(s), 1]).numpy() * scale for s in seeds]
    ).astype(np.float32)


def total_variation(u):
    """Anisotropic total variation per row (mean absolute differences along
    time and along bands; ``objectives.total_variation_values``). [shape=(N,)]"""
    return objectives.total_variation_values(tf.convert_to_tensor(u, tf.float32))


def default_objective(target=None):
    """``per_row(SIGN) * target - per_row(RP) * (l2(mean=True) +
    total_variation())``: the module's objective, ``target`` defaulting to
    the vocal logit."""
    target = (
        objectives.activation("logit", 0) if target is None else objectives.as_objective(target)
    )
    penalty = objectives.l2(mean=True) + objectives.total_variation()
    return (
        objectives.per_row(objectives.SIGN) * target - objectives.per_row(objectives.RP) * penalty
    )


class InputParameterisation:
    """u -> log-mel -> the detector's named activations.

    Args:
        detector: an ``SVDNet`` (its ``mean`` and ``std`` define ``u``).
        layers: detector layer names to expose (``logit`` and the embeddings
            are always included).
    """

    def __init__(self, detector, layers=()):
        names = set(layers) | {"logit"} | set(detector.embedding_names)
        self.layers = tuple(sorted(names))
        self.probe = keras.Model(
            detector.input,
            {n: detector.get_layer(n).output for n in self.layers},
            name="input_probe",
        )
        self.mean = tf.constant(np.asarray(detector.mean, np.float32))
        self.std = tf.constant(np.asarray(detector.std, np.float32))
        self._runs = {}

    def log_mel(self, u):
        return tf.maximum(self.mean + self.std * u, spectral.LOG_MEL_MIN)

    def __call__(self, u):
        log_mel = self.log_mel(u)
        return log_mel, self.probe(log_mel, training=False)

    def run_fn(self, objective, target, optimizer, jitter):
        """The trajectory function, traced once per objective key, target
        key, optimiser configuration and jitter (see
        ``ascent.LatentParameterisation.run_fn``)."""
        objective, target = objectives.as_objective(objective), objectives.as_objective(target)
        optimizer = ascent.fused_optimizer(optimizer)
        ascent.check_layers(objective, target, self.layers)
        key = (objective.key, target.key, optimizer.config_key, int(jitter))
        if key not in self._runs:
            self._runs[key] = _input_ascent_fn(self, objective, target, optimizer, int(jitter))
        return self._runs[key]


def _input_ascent_fn(param, objective, target, optimizer, jitter):
    names = ascent.row_names(objective, target)
    rows_spec = {name: tf.TensorSpec([None], tf.float32, name=name) for name in names}

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, *SHAPE], tf.float32),  # u0
            tf.TensorSpec([None], tf.float32),  # lr
            rows_spec,  # per-row inputs, with the sign (+1 max, -1 min)
            tf.TensorSpec([], tf.int32),  # steps
            tf.TensorSpec([None], tf.int32),  # snapshot_steps
            tf.TensorSpec([], tf.int64),  # seed of the jitter
        ]
    )
    def run(u0, lr, rows, steps, snapshot_steps, seed):
        n_snap = tf.shape(snapshot_steps)[0]
        u, slots = u0, optimizer.slots(u0)
        snaps = tf.zeros(tf.concat([[n_snap], tf.shape(u0)], 0))
        act_trace = tf.TensorArray(tf.float32, size=steps + 1)
        for t in tf.range(steps + 1):
            snaps = tf.where(tf.equal(snapshot_steps, t)[:, None, None, None], u[None], snaps)
            shift = tf.random.stateless_uniform(
                [2],
                seed=tf.stack([seed, tf.cast(t, tf.int64)]),
                minval=-jitter,
                maxval=jitter + 1,
                dtype=tf.int32,
            )
            with tf.GradientTape() as tape:
                tape.watch(u)
                log_mel, outputs = param(tf.roll(u, shift=shift, axis=[1, 2]))
                outputs = {**outputs, objectives.LOG_MEL: log_mel}
                act = target(u, outputs, rows)
                total = tf.reduce_sum(objective(u, outputs, rows))
            act_trace = act_trace.write(t, act)
            if t < steps:
                grad = tape.gradient(total, u)
                u, slots = optimizer.apply(u, grad, slots, t, lr)
        return {"snapshots": snaps, "activation": act_trace.stack()}

    return run


@dataclasses.dataclass
class InputAscentResult:
    snapshots: np.ndarray  # [S] iteration counts
    inputs: np.ndarray  # standardised u at each snapshot [S, N, 115, 80]
    log_mel: np.ndarray  # the same as log-mel [S, N, 115, 80]
    activation: np.ndarray  # jittered activation along the way [steps + 1, N]


def input_ascent(
    param,
    u0,
    learning_rates,
    rps,
    direction,
    snapshots,
    target=None,
    optimizer="adam",
    jitter=2,
    seed=0,
    chunk_size=64,
    progress=False,
    objective=None,
    rows=None,
):
    """Gradient ascent on the input for N rows (see the module docstring).

    Args:
        param: an ``InputParameterisation``.
        u0: standardised starting inputs. [shape=(N, 115, 80)]
        learning_rates: per-row learning rates [shape=(N,)], or None for the
            optimiser's own.
        rps: per-row regularisation weights, ``objectives.per_row(RP)``
            [shape=(N,)]; None if the objective doesn't read them.
        direction: "max" or "min".
        snapshots: iteration counts to keep.
        target: the activation ``Objective`` traced (default: the logit).
        optimizer: anything ``ascent.fused_optimizer`` takes.
        jitter: maximum roll in frames and bands per step (0: none).
        seed: seed of the jitter.
        chunk_size: rows per call (bounds memory).
        progress: show a progress bar over chunks.
        objective: the ``Objective`` maximised (default:
            ``default_objective(target)``).
        rows: more per-row inputs of the objective, dict name -> [shape=(N,)].
    """
    snapshots = ascent.checked_snapshots(direction, snapshots)
    optimizer = ascent.fused_optimizer(optimizer)
    u0 = np.asarray(u0, np.float32)
    n = len(u0)
    if learning_rates is None:
        learning_rates = np.full(n, optimizer.learning_rate, np.float32)
    lr = np.asarray(learning_rates, np.float32)
    rp = None if rps is None else np.asarray(rps, np.float32)
    if u0.shape[1:] != SHAPE or lr.shape != (n,) or (rp is not None and rp.shape != (n,)):
        raise ParameterError(
            f"Expected u0 [N, {SHAPE[0]}, {SHAPE[1]}] and per-row arrays [N]. "
            f"Received: u0.shape={u0.shape}, learning_rates {lr.shape}, "
            f"rps {None if rp is None else rp.shape}"
        )
    if jitter < 0 or chunk_size < 1:
        raise ParameterError(
            "Expected jitter >= 0 and chunk_size >= 1. "
            f"Received: jitter={jitter}, chunk_size={chunk_size}"
        )
    target = objectives.as_objective(objectives.activation() if target is None else target)
    if objective is None:
        objective = default_objective(target)
    objective = objectives.as_objective(objective)
    sign = ascent.DIRECTIONS[direction]
    row_values = ascent.row_inputs(objective, target, n, sign, rp, rows)
    run = param.run_fn(objective, target, optimizer, jitter)
    bar = progressbar.bar(n, "row", progress)
    snaps, acts = [], []
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        out = run(
            tf.constant(u0[start:stop]),
            tf.constant(lr[start:stop]),
            {name: tf.constant(values[start:stop]) for name, values in row_values.items()},
            tf.constant(int(snapshots[-1])),
            tf.constant(snapshots),
            tf.constant(seed, tf.int64),
        )
        snaps.append(out["snapshots"].numpy())
        acts.append(out["activation"].numpy())
        bar.add(stop - start)
    inputs = np.concatenate(snaps, axis=1)
    return InputAscentResult(
        snapshots=snapshots,
        inputs=inputs,
        log_mel=param.log_mel(inputs).numpy(),
        activation=np.concatenate(acts, axis=1),
    )
