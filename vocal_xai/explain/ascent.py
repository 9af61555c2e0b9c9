"""Activation maximisation in the latent space of a conditional generator.

Every row of a batch is one restart: its own starting latent z0, class,
learning rate, regularisation weight rp and direction. One ``tf.function``
runs a whole trajectory for a chunk of rows: a ``tf.while_loop`` of
``steps`` gradient-ascent updates of z with no host round trip, so it runs on
a GPU when one is present.

The objective (lucid-style, see ``objectives``) for direction d = +1 (max) or
-1 (min) is ``d * a(D(G(z, c))) - rp * ||z||^2``: the paper's maximise
``a - rp ||z||^2`` and minimise ``a + rp ||z||^2``. The generator and the
detector are frozen (inference mode).

The optimiser is Adam on z only (the same update as ``keras.optimizers.Adam``,
fused over rows so that each row has its own learning rate), or plain SGD.
The example kept for an iteration count k is the one with the best activation
among z_0 ... z_k; several iteration counts are snapshots of one trajectory.
Per row and step, the activation, ||z|| and ||gradient|| are traced.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from vocal_xai import cli
from vocal_xai.errors import ParameterError
from vocal_xai.explain import objectives

OPTIMIZERS = ("adam", "sgd")
DIRECTIONS = {"max": 1.0, "min": -1.0}
PRECISIONS = ("float32", "mixed_bfloat16")


def with_dtype_policy(model, policy):
    """A copy of a vocal_xai model whose layers compute under ``policy``
    (e.g. "mixed_bfloat16": bfloat16 compute, float32 weights), same weights."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        clone = model.__class__.from_config(model.get_config())
    finally:
        keras.config.set_dtype_policy(previous)
    clone.set_weights(model.get_weights())
    return clone


def latents_from_seeds(seeds, latent_dim=128):
    """One N(0, I) latent per seed: ``tf.random.stateless_normal`` with seed
    ``[seed, 0]``. Core TF ops, so a SavedModel draws the same z0 as Python.

    Args:
        seeds: int64 tensor. [shape=(N,)]

    Returns:
        float32 tensor. [shape=(N, latent_dim)]
    """
    seeds = tf.cast(tf.convert_to_tensor(seeds), tf.int64)
    return tf.map_fn(
        lambda s: tf.random.stateless_normal([latent_dim], seed=tf.stack([s, tf.constant(0, tf.int64)])),
        seeds,
        fn_output_signature=tf.TensorSpec([latent_dim], tf.float32),
    )


def initial_latents(seeds, latent_dim=128):
    """One N(0, I) latent per seed (``latents_from_seeds`` as numpy).

    The same seed gives the same z0 in every setting, so settings are compared
    on the same restarts. [shape=(len(seeds), latent_dim)]
    """
    seeds = np.asarray(list(seeds), np.int64).reshape(-1)
    return latents_from_seeds(seeds, latent_dim).numpy()


class LatentParameterisation:
    """z -> G(z, class) -> the detector's named activations.

    Args:
        generator: a conditional generator (inputs ``z`` and ``class``).
        detector: an ``SVDNet``.
        layers: detector layer names whose outputs the objective or the
            selection read; ``logit`` and the embeddings are always included.
        precision: "float32", or "mixed_bfloat16" to compute both networks in
            bfloat16 (faster on CPUs with AVX512_BF16 and on recent GPUs;
            activations then agree with float32 to about 0.1-0.3 logit).
            Outputs are float32 either way.
    """

    def __init__(self, generator, detector, layers=(), precision="float32"):
        if precision not in PRECISIONS:
            raise ParameterError(f"Expected precision in {PRECISIONS}. Received: precision={precision!r}")
        if precision != "float32":
            generator = with_dtype_policy(generator, precision)
            detector = with_dtype_policy(detector, precision)
        self.precision = precision
        names = set(layers) | {"logit"} | set(detector.embedding_names)
        for name in names:
            try:
                detector.get_layer(name)
            except ValueError:
                known = [l.name for l in detector.layers]
                raise ParameterError(
                    f"Expected a detector layer in {known}. Received: layer={name!r}"
                ) from None
        self.generator = generator
        self.detector = detector
        self.layers = tuple(sorted(names))
        self.probe = keras.Model(
            detector.input, {n: detector.get_layer(n).output for n in self.layers},
            name="detector_probe",
        )
        self.latent_dim = int(generator.latent_dim)
        self._runs = {}

    def run_fn(self, target, optimizer):
        """The trajectory function for ``target`` and ``optimizer``, traced once."""
        key = (target.name, optimizer)
        if key not in self._runs:
            self._runs[key] = _ascent_fn(self, target, optimizer)
        return self._runs[key]

    def __call__(self, z, class_ids):
        log_mel = self.generator({"z": z, "class": class_ids}, training=False)
        outputs = self.probe(log_mel, training=False)
        return tf.cast(log_mel, tf.float32), {k: tf.cast(v, tf.float32) for k, v in outputs.items()}


@dataclasses.dataclass
class AscentResult:
    """Numpy results of ``latent_ascent`` for N rows and S snapshots."""

    snapshots: np.ndarray  # [S] iteration counts
    best_z: np.ndarray  # [S, N, latent]
    best_activation: np.ndarray  # [S, N] (unsigned activation)
    activation: np.ndarray  # [steps + 1, N]
    z_norm: np.ndarray  # [steps + 1, N]
    grad_norm: np.ndarray  # [steps + 1, N]


def ascent_update(optimizer, x, grad, m, v, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """One ascent step on ``x`` along ``grad``, per-row learning rates ``lr``.

    Adam is Keras's update on the loss ``-objective`` (moments ``m``, ``v``;
    ``t`` is the 0-based step); SGD adds ``lr * grad``. Returns (x, m, v).
    """
    lr = tf.reshape(lr, tf.concat([tf.shape(lr), tf.ones([tf.rank(x) - 1], tf.int32)], 0))
    if optimizer == "adam":
        step = tf.cast(t + 1, tf.float32)
        alpha = lr * tf.sqrt(1.0 - beta_2**step) / (1.0 - beta_1**step)
        m = m + (-grad - m) * (1.0 - beta_1)
        v = v + (tf.square(grad) - v) * (1.0 - beta_2)
        return x - alpha * m / (tf.sqrt(v) + epsilon), m, v
    return x + lr * grad, m, v


def _ascent_fn(param, target, optimizer, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Build the tf.function that runs one chunk's whole trajectory."""
    if optimizer not in OPTIMIZERS:
        raise ParameterError(f"Expected optimizer in {OPTIMIZERS}. Received: optimizer={optimizer!r}")

    # One signature with an unknown batch: every chunk size, and the
    # explainer SavedModel that calls this function, run the same graph (with
    # known batch sizes, graph optimisation can pick kernels that differ in
    # the last bits, which Adam then amplifies along a trajectory).
    rows = tf.TensorSpec([None], tf.float32)

    @tf.function(input_signature=[
        tf.TensorSpec([None, param.latent_dim], tf.float32),  # z0
        tf.TensorSpec([None], tf.int32),  # class_ids
        rows, rows, rows,  # lr, rp, sign (+1 max, -1 min)
        tf.TensorSpec([], tf.int32),  # steps
        tf.TensorSpec([None], tf.int32),  # snapshot_steps
    ])
    def run(z0, class_ids, lr, rp, sign, steps, snapshot_steps):
        objective = sign * target - rp * objectives.l2()
        batch = tf.shape(z0)[0]
        n_snap = tf.shape(snapshot_steps)[0]
        z = z0
        m = tf.zeros_like(z0)
        v = tf.zeros_like(z0)
        best_z = z0
        best_signed = tf.fill([batch], -np.inf)
        snap_z = tf.zeros([n_snap, batch, param.latent_dim])
        snap_signed = tf.zeros([n_snap, batch])
        act_trace = tf.TensorArray(tf.float32, size=steps + 1)
        z_trace = tf.TensorArray(tf.float32, size=steps + 1)
        g_trace = tf.TensorArray(tf.float32, size=steps + 1)
        for t in tf.range(steps + 1):
            with tf.GradientTape() as tape:
                tape.watch(z)
                _, outputs = param(z, class_ids)
                act = target(z, outputs)
                total = tf.reduce_sum(objective(z, outputs))
            grad = tape.gradient(total, z)

            # Keep the best activation seen so far, and snapshot it.
            signed = sign * act
            improved = signed > best_signed
            best_z = tf.where(improved[:, None], z, best_z)
            best_signed = tf.where(improved, signed, best_signed)
            hit = tf.equal(snapshot_steps, t)
            snap_z = tf.where(hit[:, None, None], best_z[None], snap_z)
            snap_signed = tf.where(hit[:, None], best_signed[None], snap_signed)

            act_trace = act_trace.write(t, act)
            z_trace = z_trace.write(t, tf.norm(z, axis=-1))
            g_trace = g_trace.write(t, tf.norm(grad, axis=-1))

            # Ascent step (Keras's Adam update on the loss -objective).
            if t < steps:
                z, m, v = ascent_update(optimizer, z, grad, m, v, t, lr, beta_1, beta_2, epsilon)
        return {
            "best_z": snap_z,
            "best_signed": snap_signed,
            "activation": act_trace.stack(),
            "z_norm": z_trace.stack(),
            "grad_norm": g_trace.stack(),
        }

    return run


def checked_snapshots(direction, snapshots):
    """Check ``direction``; return the distinct iteration counts, sorted, as
    int32 (raises ``ParameterError`` for none or a negative one)."""
    if direction not in DIRECTIONS:
        raise ParameterError(f"Expected direction in {sorted(DIRECTIONS)}. Received: direction={direction!r}")
    snapshots = np.asarray(sorted(set(int(s) for s in snapshots)), np.int32)
    if snapshots.size == 0 or snapshots[0] < 0:
        raise ParameterError(f"Expected iteration counts >= 0. Received: snapshots={snapshots.tolist()}")
    return snapshots


def latent_ascent(param, z0, class_ids, learning_rates, rps, direction, snapshots,
                  target=None, optimizer="adam", chunk_size=128, progress=False):
    """Run gradient ascent on z for N rows, in chunks of ``chunk_size``.

    Args:
        param: a ``LatentParameterisation``.
        z0: starting latents. [shape=(N, latent)]
        class_ids: class of each row, 0 or 1. [shape=(N,)]
        learning_rates: per-row learning rate. [shape=(N,)]
        rps: per-row regularisation weight. [shape=(N,)]
        direction: "max" or "min".
        snapshots: iteration counts to keep, e.g. (100, 500, 1000); the
            trajectory runs ``max(snapshots)`` steps.
        target: the activation ``Objective`` (default: the output logit).
        optimizer: "adam" or "sgd".
        chunk_size: rows per call (bounds memory).
        progress: show a progress bar over chunks.

    Returns:
        ``AscentResult``.
    """
    snapshots = checked_snapshots(direction, snapshots)
    z0 = np.asarray(z0, np.float32)
    n = z0.shape[0]
    arrays = [np.asarray(a) for a in (class_ids, learning_rates, rps)]
    if z0.ndim != 2 or z0.shape[1] != param.latent_dim or any(a.shape != (n,) for a in arrays):
        raise ParameterError(
            f"Expected z0 [N, {param.latent_dim}] and per-row arrays [N]. "
            f"Received: z0.shape={z0.shape}, others={[a.shape for a in arrays]}"
        )
    if chunk_size < 1:
        raise ParameterError(f"Expected chunk_size >= 1. Received: chunk_size={chunk_size}")
    target = target or objectives.activation("logit", 0)
    run = param.run_fn(target, optimizer)
    sign = DIRECTIONS[direction]
    steps = int(snapshots[-1])
    size = min(chunk_size, n)
    bar = keras.utils.Progbar(n, unit_name="row", verbose=cli.progress_verbosity(progress))
    parts = []
    for start in range(0, n, size):
        stop = min(start + size, n)
        pad = size - (stop - start)  # keep one shape, so one trace

        def chunk(a, dtype):
            a = a[start:stop]
            if pad:
                a = np.concatenate([a, np.repeat(a[-1:], pad, axis=0)])
            return tf.constant(a, dtype)

        out = run(
            chunk(z0, tf.float32),
            chunk(arrays[0], tf.int32),
            chunk(arrays[1], tf.float32),
            chunk(arrays[2], tf.float32),
            tf.fill([size], tf.constant(sign, tf.float32)),
            tf.constant(steps, tf.int32),
            tf.constant(snapshots),
        )
        keep = stop - start
        parts.append({k: v.numpy()[..., :keep] if k != "best_z" else v.numpy()[:, :keep] for k, v in out.items()})
        bar.add(keep)
    joined = {k: np.concatenate([p[k] for p in parts], axis=1) for k in parts[0]}
    return AscentResult(
        snapshots=snapshots,
        best_z=joined["best_z"],
        best_activation=sign * joined["best_signed"],
        activation=joined["activation"],
        z_norm=joined["z_norm"],
        grad_norm=joined["grad_norm"],
    )
