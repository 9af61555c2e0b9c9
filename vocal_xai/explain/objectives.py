"""Objectives as values that compose (in the spirit of lucid's ``optvis``).

An ``Objective`` maps ``(z, outputs)`` to one value per row, where ``z`` is the
variable the ascent moves (the latent ``[batch, 128]``, or the input
``[batch, 115, 80]`` in input space) and ``outputs`` the named activations of
the model explained, plus the excerpt the detector reads under ``LOG_MEL``.
Objectives add, subtract, negate and multiply, by numbers, by per-row tensors
and by each other, so regularisers compose with the activation:

    objective = activation("logit", 0) - 0.001 * l2()                  # maximise
    objective = -activation("logit", 0) - 0.1 * l2() - total_variation(LOG_MEL)

A value that differs between the rows of one batched ascent (each row's
regularisation weight, its direction) is a ``per_row`` input, bound when the
ascent runs; the paper's objective (``paper``) reads two of them:

    objective = per_row(SIGN) * activation("logit", 0) - per_row(RP) * l2()

Every objective has a ``key``: its structure with every constant in it (the
weights, the layer and unit, the user's own functions). Two objectives with
the same key compute the same thing, whatever their names, and the ascent
traces one graph per key.
"""

import numbers

import numpy as np
import tensorflow as tf

from vocal_xai.errors import ParameterError

LOG_MEL = "log_mel"
"""The output name of the excerpt the detector reads, [batch, 115, 80] raw
log-mel (the generated excerpt in latent space)."""

SIGN = "sign"
"""The per-row direction of an ascent: +1 to maximise, -1 to minimise."""

RP = "rp"
"""The per-row regularisation weight of the paper's objective."""


class Objective:
    """A per-row objective ``fn(z, outputs) -> [batch]``.

    Args:
        fn: the function, ``fn(z, outputs)`` returning a float32 tensor
            [shape=(batch,)]. It is traced once per ``key``: it must not read
            Python state that changes between calls.
        name: a readable description (not used to tell objectives apart).
        layers: names of the outputs it reads.
        key: a hashable description of what it computes; default: the
            function itself (two objectives built on one function share it).
    """

    # numpy arrays on the left of an operator defer to the objective's own
    # (``w * objective`` with per-row weights ``w``).
    __array_ufunc__ = None

    def __init__(self, fn, name, layers=(), key=None):
        if not callable(fn):
            raise ParameterError(f"Expected a callable fn(z, outputs). Received: fn={fn!r}")
        self._fn = lambda z, outputs, rows: fn(z, outputs)
        self.name = str(name)
        self.layers = tuple(layers)
        self.rows = ()
        self.key = ("fn", fn) if key is None else key

    @classmethod
    def _node(cls, fn, name, key, layers=(), rows=()):
        """An objective whose ``fn(z, outputs, rows)`` also reads the per-row
        inputs ``rows`` (a dict name -> [batch])."""
        objective = cls.__new__(cls)
        objective._fn = fn
        objective.name = name
        objective.layers = tuple(dict.fromkeys(layers))
        objective.rows = tuple(sorted(set(rows)))
        objective.key = key
        return objective

    def __call__(self, z, outputs, rows=None):
        """The objective per row. [shape=(batch,)]

        Args:
            z: the variable moved by the ascent. [shape=(batch, ...)]
            outputs: dict of named activations.
            rows: dict name -> per-row values [shape=(batch,)], with an entry
                for every name in ``self.rows``.
        """
        rows = rows or {}
        missing = [name for name in self.rows if name not in rows]
        if missing:
            raise ParameterError(
                f"Expected per-row values for {missing} (read by {self.name}). "
                f"Received: rows={sorted(rows)}"
            )
        return self._fn(z, outputs, rows)

    def _combine(self, other, op, symbol, tag):
        return Objective._node(
            lambda z, o, r: op(self._fn(z, o, r), other._fn(z, o, r)),
            f"({self.name} {symbol} {other.name})",
            (tag, self.key, other.key),
            self.layers + other.layers,
            self.rows + other.rows,
        )

    def __add__(self, other):
        return self._combine(_as_objective(other), tf.add, "+", "add")

    def __radd__(self, other):
        return _as_objective(other) + self

    def __neg__(self):
        return Objective._node(
            lambda z, o, r: -self._fn(z, o, r),
            f"-{self.name}",
            ("neg", self.key),
            self.layers,
            self.rows,
        )

    def __sub__(self, other):
        return self + (-_as_objective(other))

    def __rsub__(self, other):
        return _as_objective(other) - self

    def __mul__(self, other):
        if isinstance(other, Objective) or callable(other):
            return self._combine(_as_objective(other), tf.multiply, "*", "mul")
        scale = _checked_scale(other)
        label = f"{scale:g}" if isinstance(scale, numbers.Real) else "w"
        return Objective._node(
            lambda z, o, r: tf.cast(scale, tf.float32) * self._fn(z, o, r),
            f"{label} * {self.name}",
            ("scale", _constant_key(scale), self.key),
            self.layers,
            self.rows,
        )

    def __rmul__(self, other):
        if callable(other):
            return _as_objective(other) * self
        return self * other

    def __repr__(self):
        return f"Objective({self.name})"


def _checked_scale(scale):
    if isinstance(scale, numbers.Real) and not isinstance(scale, bool):
        return scale
    if isinstance(scale, (np.ndarray, tf.Tensor, tf.Variable)):
        return scale
    raise ParameterError(
        "Expected an Objective, a callable, a number or a per-row tensor. "
        f"Received: {type(scale).__name__}"
    )


def _constant_key(value):
    """A hashable key of a number or a tensor that identifies its value."""
    if isinstance(value, numbers.Real):
        return (type(value).__name__, float(value))
    if isinstance(value, np.ndarray) or (
        isinstance(value, tf.Tensor) and not tf.is_symbolic_tensor(value)
    ):
        array = np.asarray(value)
        return ("array", array.dtype.str, array.shape, array.tobytes())
    # A variable or a graph tensor: its value is read when the graph runs.
    return ("tensor", id(value))


def _as_objective(value):
    if isinstance(value, Objective):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return Objective._node(
            lambda z, o, r: tf.cast(value, tf.float32) * tf.ones(tf.shape(z)[:1]),
            f"{value:g}",
            ("constant", _constant_key(value)),
        )
    if callable(value):
        return Objective(value, getattr(value, "__name__", "fn"))
    raise ParameterError(
        "Expected an Objective, a callable fn(z, outputs) or a number. "
        f"Received: {type(value).__name__}"
    )


def as_objective(value):
    """``value`` as an ``Objective``: an objective as is, a callable
    ``fn(z, outputs) -> [batch]`` wrapped, a number as a constant."""
    return _as_objective(value)


def activation(layer="logit", unit=0):
    """The activation of ``unit`` of ``layer`` (flattened per row).

    Default: the detector's pre-sigmoid vocal logit, the neuron of the paper.
    """
    if not isinstance(unit, int) or unit < 0:
        raise ParameterError(f"Expected a unit index >= 0. Received: unit={unit!r}")

    def fn(z, outputs, rows):
        values = tf.reshape(outputs[layer], [tf.shape(z)[0], -1])
        return values[:, unit]

    return Objective._node(fn, f"{layer}:{unit}", ("activation", layer, unit), layers=(layer,))


def per_row(name):
    """A value per row, bound when the ascent runs (e.g. ``per_row(RP)``, each
    row's regularisation weight, so that rows of one batch can differ)."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ParameterError(
            f"Expected a per-row input name (an identifier). Received: name={name!r}"
        )
    return Objective._node(
        lambda z, o, r: tf.cast(r[name], tf.float32), name, ("per_row", name), rows=(name,)
    )


def _values(z, outputs, layer):
    return z if layer is None else tf.cast(outputs[layer], tf.float32)


def l2(layer=None, mean=False):
    """The squared L2 norm per row, ``||z||^2``, of the variable (``layer``
    None) or of a named output; ``mean=True`` averages the squares instead
    of summing them."""
    reduce = tf.reduce_mean if mean else tf.reduce_sum

    def fn(z, outputs, rows):
        x = _values(z, outputs, layer)
        if x.shape.rank is None or x.shape.rank < 2:
            raise ParameterError(
                f"Expected a [batch, ...] tensor for l2. Received: shape={x.shape}"
            )
        axes = -1 if x.shape.rank == 2 else list(range(1, x.shape.rank))
        return reduce(tf.square(x), axis=axes)

    what = "z" if layer is None else layer
    name = f"mean({what}^2)" if mean else f"||{what}||^2"
    return Objective._node(
        fn, name, ("l2", layer, bool(mean)), layers=() if layer is None else (layer,)
    )


def total_variation_values(x):
    """Anisotropic total variation per row: the mean absolute difference of
    neighbours along every axis but the first, summed over axes (for an
    excerpt, along time and along bands).

    Args:
        x: float tensor with a known rank >= 2. [shape=(batch, ...)]

    Returns:
        float tensor. [shape=(batch,)]
    """
    rank = x.shape.rank
    if rank is None or rank < 2:
        raise ParameterError(
            f"Expected a [batch, ...] tensor of known rank >= 2. Received: shape={x.shape}"
        )
    axes = list(range(1, rank))
    total = None
    for axis in axes:
        head = (slice(None),) * axis + (slice(1, None),)
        tail = (slice(None),) * axis + (slice(None, -1),)
        term = tf.reduce_mean(tf.abs(x[head] - x[tail]), axis=axes)
        total = term if total is None else total + term
    return total


def total_variation(layer=None):
    """Total variation per row (``total_variation_values``) of the variable
    (``layer`` None: the input in input space) or of a named output, e.g.
    ``LOG_MEL``, the generated excerpt of a latent ascent."""
    what = "z" if layer is None else layer
    return Objective._node(
        lambda z, o, r: total_variation_values(_values(z, o, layer)),
        f"TV({what})",
        ("total_variation", layer),
        layers=() if layer is None else (layer,),
    )


def paper(target=None):
    """The paper's objective: ``per_row(SIGN) * target - per_row(RP) * l2()``,
    i.e. maximise ``a - rp ||z||^2`` (sign +1) or minimise ``a + rp ||z||^2``
    (sign -1). ``target`` defaults to the vocal logit."""
    target = activation("logit", 0) if target is None else _as_objective(target)
    return per_row(SIGN) * target - per_row(RP) * l2()


def parse_neuron(text):
    """``"LAYER:UNIT"`` -> (layer, unit)."""
    layer, sep, unit = str(text).rpartition(":")
    if not sep or not layer or not unit.isdigit():
        raise ParameterError(f"Expected LAYER:UNIT, e.g. logit:0. Received: {text!r}")
    return layer, int(unit)
