"""Activation maximisation in the latent space of a conditional generator.

Every row of a batch is one restart: its own starting latent z0, class,
learning rate, direction and per-row objective inputs (the paper's
regularisation weight rp). One ``tf.function`` runs a whole trajectory for a
chunk of rows: a ``tf.while_loop`` of ``steps`` gradient-ascent updates of z
with no host round trip, so it runs on a GPU when one is present.

The ascent maximises a composed ``objectives.Objective``. The default
(``objectives.paper``) is ``d * a(D(G(z, c))) - rp * ||z||^2`` for direction
d = +1 (max) or -1 (min), with d and rp per row: the paper's maximise
``a - rp ||z||^2`` and minimise ``a + rp ||z||^2``. Any other composition
works, e.g. ``objectives.per_row(objectives.SIGN) * a - 0.01 * objectives.l2()
- 0.1 * objectives.total_variation(objectives.LOG_MEL)``. The generator and
the detector are frozen (inference mode).

The optimiser is Keras's Adam or SGD on z only (``"adam"``, ``"sgd"`` or a
``keras.optimizers.Adam``/``SGD`` with its configuration), run as a fused
update (``FusedAdam``, ``FusedSGD``) so that each row of one batch has its own
learning rate: all (learning rate, rp) pairs x seeds run as one batch.
The example kept for an iteration count k is the one with the best activation
(the ``target``, signed by the direction) among z_0 ... z_k; several
iteration counts are snapshots of one trajectory. Per row and step, the
activation, ||z|| and ||gradient|| are traced.

A trajectory function is traced once per parameterisation, objective key,
target key and optimiser configuration (``LatentParameterisation.run_fn``):
objectives that differ in any weight get their own graph, whatever their
names.
"""

import dataclasses
import numbers

import keras
import numpy as np
import tensorflow as tf

from vocal_xai import progressbar
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
        lambda s: tf.random.stateless_normal(
            [latent_dim], seed=tf.stack([s, tf.constant(0, tf.int64)])
        ),
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
            raise ParameterError(
                f"Expected precision in {PRECISIONS}. Received: precision={precision!r}"
            )
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
            detector.input,
            {n: detector.get_layer(n).output for n in self.layers},
            name="detector_probe",
        )
        self.latent_dim = int(generator.latent_dim)
        self._runs = {}

    def run_fn(self, objective, target, optimizer):
        """The trajectory function for ``objective``, ``target`` and
        ``optimizer``, traced once per ``(objective.key, target.key,
        optimiser configuration)``: everything that changes the graph (the
        learning rates and per-row inputs are inputs of the graph).

        Args:
            objective: the ``Objective`` maximised.
            target: the activation ``Objective`` traced and kept at its best.
            optimizer: anything ``fused_optimizer`` takes.

        Returns:
            ``run(z0, class_ids, lr, rows, steps, snapshot_steps)``: z0
            float32 [N, latent], class_ids int32 [N], lr float32 [N], rows a
            dict name -> float32 [N] with ``objectives.SIGN`` and every name
            in ``objective.rows``, steps int32 [], snapshot_steps int32 [S];
            returns a dict of ``best_z`` [S, N, latent], ``best_signed``
            [S, N], ``activation``, ``z_norm`` and ``grad_norm`` [steps + 1, N].
        """
        objective, target = objectives.as_objective(objective), objectives.as_objective(target)
        optimizer = fused_optimizer(optimizer)
        check_layers(objective, target, self.layers)
        key = (objective.key, target.key, optimizer.config_key)
        if key not in self._runs:
            self._runs[key] = _ascent_fn(self, objective, target, optimizer)
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


class _FusedOptimizer:
    """A Keras update rule as pure tensor functions, with a learning rate per
    row (``FusedAdam``, ``FusedSGD``). Values, compared by configuration."""

    def __init__(self, **config):
        for name, value in config.items():
            if isinstance(value, bool):
                continue
            if not isinstance(value, numbers.Real) or not np.isfinite(value):
                raise ParameterError(f"Expected a finite number. Received: {name}={value!r}")
            config[name] = float(value)
        if config["learning_rate"] < 0:
            raise ParameterError(
                f"Expected learning_rate >= 0. Received: learning_rate={config['learning_rate']}"
            )
        self._config = config
        for name, value in config.items():
            setattr(self, name, value)

    def get_config(self):
        return dict(self._config)

    @property
    def config_key(self):
        """What changes the graph: the type and the configuration but the
        learning rate (an input of the graph)."""
        return (type(self).__name__,) + tuple(
            sorted((k, v) for k, v in self._config.items() if k != "learning_rate")
        )

    def slots(self, x):
        """The optimiser's state for a variable like ``x``: a tuple of tensors."""
        raise NotImplementedError

    def apply(self, x, grad, slots, t, lr):
        """One ascent step.

        Args:
            x: the variable. [shape=(N, ...)]
            grad: the gradient of the objective (ascent: the loss is
                -objective). [shape=(N, ...)]
            slots: the state from ``slots`` or the previous step.
            t: the 0-based step, int32 scalar.
            lr: per-row learning rates. [shape=(N,)]

        Returns:
            (x, slots) after the step.
        """
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self._config == other._config

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self._config.items()))))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args})"


class FusedAdam(_FusedOptimizer):
    """Keras's Adam update (``keras.optimizers.Adam``, without amsgrad), fused
    over rows so that each row has its own learning rate.

    Args:
        learning_rate: the rate of rows given none of their own.
        beta_1, beta_2, epsilon: as in ``keras.optimizers.Adam``.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
        if not (0 <= self.beta_1 < 1 and 0 <= self.beta_2 < 1 and self.epsilon >= 0):
            raise ParameterError(
                f"Expected 0 <= beta_1, beta_2 < 1 and epsilon >= 0. "
                f"Received: beta_1={beta_1}, beta_2={beta_2}, epsilon={epsilon}"
            )

    def slots(self, x):
        return tf.zeros_like(x), tf.zeros_like(x)

    def apply(self, x, grad, slots, t, lr):
        m, v = slots
        lr = _per_row(lr, x)
        step = tf.cast(t + 1, tf.float32)
        alpha = lr * tf.sqrt(1.0 - self.beta_2**step) / (1.0 - self.beta_1**step)
        # Keras's update on the loss -objective, whose gradient is -grad.
        m = m + (-grad - m) * (1.0 - self.beta_1)
        v = v + (tf.square(grad) - v) * (1.0 - self.beta_2)
        return x - alpha * m / (tf.sqrt(v) + self.epsilon), (m, v)


class FusedSGD(_FusedOptimizer):
    """Keras's SGD update (``keras.optimizers.SGD``), fused over rows so that
    each row has its own learning rate.

    Args:
        learning_rate: the rate of rows given none of their own.
        momentum, nesterov: as in ``keras.optimizers.SGD``.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate=learning_rate, momentum=momentum, nesterov=bool(nesterov))
        if not 0 <= self.momentum <= 1:
            raise ParameterError(f"Expected 0 <= momentum <= 1. Received: momentum={momentum}")

    def slots(self, x):
        return (tf.zeros_like(x),) if self.momentum else ()

    def apply(self, x, grad, slots, t, lr):
        lr = _per_row(lr, x)
        if not self.momentum:
            return x + lr * grad, ()
        # Keras's update on the loss -objective, whose gradient is -grad.
        (m,) = slots
        m = m * self.momentum - (-grad) * lr
        if self.nesterov:
            return x + (m * self.momentum - (-grad) * lr), (m,)
        return x + m, (m,)


_KERAS_OPTIMIZERS = {
    keras.optimizers.Adam: (FusedAdam, ("beta_1", "beta_2", "epsilon")),
    keras.optimizers.SGD: (FusedSGD, ("momentum", "nesterov")),
}
# Keras options the fused updates don't have, with the value that turns each off.
_UNSUPPORTED = {
    "weight_decay": None,
    "clipnorm": None,
    "clipvalue": None,
    "global_clipnorm": None,
    "use_ema": False,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
    "amsgrad": False,
}


def fused_optimizer(optimizer):
    """The fused form of ``optimizer``.

    Args:
        optimizer: "adam" or "sgd" (Keras's defaults), a
            ``keras.optimizers.Adam`` or ``keras.optimizers.SGD`` (its
            learning rate, a number, and its configuration), or a
            ``FusedAdam``/``FusedSGD``.

    Returns:
        ``FusedAdam`` or ``FusedSGD``.

    Raises:
        ParameterError: for another optimiser, a learning-rate schedule, or an
            option the fused update lacks (weight decay, clipping, EMA,
            amsgrad, loss scaling, gradient accumulation).
    """
    if isinstance(optimizer, _FusedOptimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer in OPTIMIZERS:
        return {"adam": FusedAdam, "sgd": FusedSGD}[optimizer]()
    if type(optimizer) not in _KERAS_OPTIMIZERS:
        raise ParameterError(
            f"Expected optimizer in {OPTIMIZERS}, a keras.optimizers.Adam or a "
            "keras.optimizers.SGD. "
            f"Received: optimizer={optimizer!r}"
        )
    fused, names = _KERAS_OPTIMIZERS[type(optimizer)]
    config = optimizer.get_config()
    unsupported = {
        k: config[k] for k, off in _UNSUPPORTED.items() if k in config and config[k] != off
    }
    if unsupported:
        raise ParameterError(
            f"Expected a {type(optimizer).__name__} without {sorted(_UNSUPPORTED)}. "
            f"Received: {unsupported}"
        )
    if not isinstance(config["learning_rate"], numbers.Real):
        raise ParameterError(
            f"Expected a constant learning rate (per-row rates replace schedules). "
            f"Received: learning_rate={config['learning_rate']!r}"
        )
    return fused(learning_rate=config["learning_rate"], **{k: config[k] for k in names})


def _per_row(values, x):
    """``values`` [N] shaped to broadcast over ``x`` [N, ...]."""
    return tf.reshape(values, tf.concat([tf.shape(values), tf.ones([tf.rank(x) - 1], tf.int32)], 0))


def check_layers(objective, target, layers):
    """Raise ``ParameterError`` unless every output ``objective`` and
    ``target`` read is in ``layers`` (or is ``objectives.LOG_MEL``)."""
    missing = sorted(set(objective.layers + target.layers) - set(layers) - {objectives.LOG_MEL})
    if missing:
        raise ParameterError(
            f"Expected objectives that read outputs in "
            f"{sorted(set(layers) | {objectives.LOG_MEL})}. "
            f"Received: layers={missing}"
        )


def row_names(objective, target):
    """The names of the per-row inputs of an ascent: ``objectives.SIGN`` and
    every name ``objective`` and ``target`` read, sorted."""
    return sorted(set(objective.rows + target.rows) | {objectives.SIGN})


def row_inputs(objective, target, n, sign, rps=None, rows=None):
    """The per-row inputs of an ascent of ``n`` rows, float32 arrays [n]:
    ``objectives.SIGN`` from the direction's ``sign``, ``objectives.RP``
    from ``rps``, and ``rows``, checked to hold every name ``objective``
    and ``target`` read."""
    rows = dict(rows or {})
    reserved = sorted({objectives.SIGN, objectives.RP} & set(rows))
    if reserved:
        raise ParameterError(
            f"Expected rows without {reserved} (given by direction and rps). "
            f"Received: rows={sorted(rows)}"
        )
    values = {objectives.SIGN: np.full(n, sign, np.float32)}
    if rps is not None:
        values[objectives.RP] = rps
    values.update(rows)
    values = {k: np.asarray(v, np.float32) for k, v in values.items()}
    bad = {k: v.shape for k, v in values.items() if v.shape != (n,)}
    if bad:
        raise ParameterError(f"Expected per-row arrays of shape ({n},). Received: {bad}")
    needed = row_names(objective, target)
    missing = [k for k in needed if k not in values]
    if missing:
        raise ParameterError(
            f"Expected per-row values for {missing} (read by {objective.name}). "
            f"Received: rows={sorted(values)}"
        )
    return {k: values[k] for k in needed}


def _ascent_fn(param, objective, target, optimizer):
    """Build the tf.function that runs one chunk's whole trajectory."""
    # One signature with an unknown batch: every chunk size, and the
    # explainer SavedModel that calls this function, run the same graph (with
    # known batch sizes, graph optimisation can pick kernels that differ in
    # the last bits, which Adam then amplifies along a trajectory).
    names = row_names(objective, target)
    rows_spec = {name: tf.TensorSpec([None], tf.float32, name=name) for name in names}

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, param.latent_dim], tf.float32),  # z0
            tf.TensorSpec([None], tf.int32),  # class_ids
            tf.TensorSpec([None], tf.float32),  # lr
            rows_spec,  # per-row inputs, with the sign (+1 max, -1 min)
            tf.TensorSpec([], tf.int32),  # steps
            tf.TensorSpec([None], tf.int32),  # snapshot_steps
        ]
    )
    def run(z0, class_ids, lr, rows, steps, snapshot_steps):
        sign = rows[objectives.SIGN]
        batch = tf.shape(z0)[0]
        n_snap = tf.shape(snapshot_steps)[0]
        z = z0
        slots = optimizer.slots(z0)
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
                log_mel, outputs = param(z, class_ids)
                outputs = {**outputs, objectives.LOG_MEL: log_mel}
                act = target(z, outputs, rows)
                total = tf.reduce_sum(objective(z, outputs, rows))
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

            # Ascent step (Keras's update on the loss -objective).
            if t < steps:
                z, slots = optimizer.apply(z, grad, slots, t, lr)
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
        raise ParameterError(
            f"Expected direction in {sorted(DIRECTIONS)}. Received: direction={direction!r}"
        )
    snapshots = np.asarray(sorted(set(int(s) for s in snapshots)), np.int32)
    if snapshots.size == 0 or snapshots[0] < 0:
        raise ParameterError(
            f"Expected iteration counts >= 0. Received: snapshots={snapshots.tolist()}"
        )
    return snapshots


def latent_ascent(
    param,
    z0,
    class_ids,
    learning_rates,
    rps,
    direction,
    snapshots,
    target=None,
    optimizer="adam",
    chunk_size=128,
    progress=False,
    objective=None,
    rows=None,
):
    """Run gradient ascent on z for N rows, in chunks of ``chunk_size``.

    Args:
        param: a ``LatentParameterisation``.
        z0: starting latents. [shape=(N, latent)]
        class_ids: class of each row, 0 or 1. [shape=(N,)]
        learning_rates: per-row learning rate [shape=(N,)], or None for the
            optimiser's own learning rate on every row. Per-row rates replace
            the learning rate of a Keras optimiser.
        rps: per-row regularisation weight, ``objectives.per_row(objectives.RP)``
            [shape=(N,)]; None if the objective doesn't read it.
        direction: "max" or "min": the per-row ``objectives.SIGN`` (+1, -1)
            the objective reads, and which extreme of the target is kept.
        snapshots: iteration counts to keep, e.g. (100, 500, 1000); the
            trajectory runs ``max(snapshots)`` steps.
        target: the activation ``Objective`` traced and kept at its best
            (default: the output logit).
        optimizer: "adam" or "sgd" (Keras's defaults), a
            ``keras.optimizers.Adam`` or ``keras.optimizers.SGD`` (see
            ``fused_optimizer``), or a ``FusedAdam``/``FusedSGD``.
        chunk_size: rows per call (bounds memory).
        progress: show a progress bar over chunks.
        objective: the ``Objective`` maximised (default:
            ``objectives.paper(target)``, the paper's ``sign * target - rp *
            ||z||^2``). It may read ``objectives.LOG_MEL``, the generated
            excerpt.
        rows: more per-row inputs the objective reads with
            ``objectives.per_row(name)``: dict name -> [shape=(N,)].

    Returns:
        ``AscentResult``.
    """
    snapshots = checked_snapshots(direction, snapshots)
    z0 = np.asarray(z0, np.float32)
    n = z0.shape[0]
    optimizer = fused_optimizer(optimizer)
    if learning_rates is None:
        learning_rates = np.full(n, optimizer.learning_rate, np.float32)
    arrays = [np.asarray(a) for a in (class_ids, learning_rates) + (() if rps is None else (rps,))]
    if z0.ndim != 2 or z0.shape[1] != param.latent_dim or any(a.shape != (n,) for a in arrays):
        raise ParameterError(
            f"Expected z0 [N, {param.latent_dim}] and per-row arrays [N]. "
            f"Received: z0.shape={z0.shape}, others={[a.shape for a in arrays]}"
        )
    if chunk_size < 1:
        raise ParameterError(f"Expected chunk_size >= 1. Received: chunk_size={chunk_size}")
    target = objectives.as_objective(objectives.activation() if target is None else target)
    if objective is None:
        objective = objectives.paper(target)
    objective = objectives.as_objective(objective)
    sign = DIRECTIONS[direction]
    row_values = row_inputs(objective, target, n, sign, rps, rows)
    run = param.run_fn(objective, target, optimizer)
    steps = int(snapshots[-1])
    size = min(chunk_size, n)
    bar = progressbar.bar(n, "row", progress)
    parts = []
    for start in range(0, n, size):
        stop = min(start + size, n)
        pad = size - (stop - start)  # keep one shape, so one trace

        def chunk(a, dtype, start=start, stop=stop, pad=pad):
            a = a[start:stop]
            if pad:
                a = np.concatenate([a, np.repeat(a[-1:], pad, axis=0)])
            return tf.constant(a, dtype)

        out = run(
            chunk(z0, tf.float32),
            chunk(arrays[0], tf.int32),
            chunk(arrays[1], tf.float32),
            {name: chunk(values, tf.float32) for name, values in row_values.items()},
            tf.constant(steps, tf.int32),
            tf.constant(snapshots),
        )
        keep = stop - start
        parts.append(
            {
                k: v.numpy()[..., :keep] if k != "best_z" else v.numpy()[:, :keep]
                for k, v in out.items()
            }
        )
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
