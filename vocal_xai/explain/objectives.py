"""Objectives as values that compose (in the spirit of lucid's ``optvis``).

An ``Objective`` maps ``(z, outputs)`` to one value per row, where ``z`` is the
latent ``[batch, 128]`` and ``outputs`` the named activations of the model
explained. Objectives add, subtract, negate and scale (by numbers or by
per-row tensors), so the paper's objective reads

    objective = activation("logit", 0) - rp * l2()        # maximise
    objective = -activation("logit", 0) - rp * l2()       # minimise (as ascent)
"""

import tensorflow as tf

from vocal_xai.errors import ParameterError


class Objective:
    """A per-row objective ``fn(z, outputs) -> [batch]``.

    Args:
        fn: the function.
        name: a readable description.
        layers: names of the outputs it reads.
    """

    def __init__(self, fn, name, layers=()):
        self.fn = fn
        self.name = name
        self.layers = tuple(layers)

    def __call__(self, z, outputs):
        return self.fn(z, outputs)

    def __add__(self, other):
        other = _as_objective(other)
        return Objective(lambda z, o: self(z, o) + other(z, o), f"({self.name} + {other.name})",
                         self.layers + other.layers)

    def __radd__(self, other):
        return _as_objective(other) + self

    def __neg__(self):
        return Objective(lambda z, o: -self(z, o), f"-{self.name}", self.layers)

    def __sub__(self, other):
        return self + (-_as_objective(other))

    def __rsub__(self, other):
        return _as_objective(other) - self

    def __mul__(self, scale):
        if isinstance(scale, Objective):
            raise ParameterError(f"Expected a number or a per-row tensor as scale. Received: {scale.name}")
        label = f"{scale:g}" if isinstance(scale, (int, float)) else "w"
        return Objective(lambda z, o: tf.cast(scale, tf.float32) * self(z, o), f"{label} * {self.name}",
                         self.layers)

    __rmul__ = __mul__

    def __repr__(self):
        return f"Objective({self.name})"


def _as_objective(value):
    if isinstance(value, Objective):
        return value
    if isinstance(value, (int, float)):
        return Objective(lambda z, o: tf.cast(value, tf.float32) * tf.ones(tf.shape(z)[:1]), f"{value:g}")
    raise ParameterError(f"Expected an Objective or a number. Received: {type(value).__name__}")


def activation(layer="logit", unit=0):
    """The activation of ``unit`` of ``layer`` (flattened per row).

    Default: the detector's pre-sigmoid vocal logit, the neuron of the paper.
    """
    if not isinstance(unit, int) or unit < 0:
        raise ParameterError(f"Expected a unit index >= 0. Received: unit={unit!r}")

    def fn(z, outputs):
        values = tf.reshape(outputs[layer], [tf.shape(z)[0], -1])
        return values[:, unit]

    return Objective(fn, f"{layer}:{unit}", layers=(layer,))


def l2():
    """The squared L2 norm of the latent, ``||z||^2`` per row."""
    return Objective(lambda z, o: tf.reduce_sum(tf.square(z), axis=-1), "||z||^2")


def parse_neuron(text):
    """``"LAYER:UNIT"`` -> (layer, unit)."""
    layer, sep, unit = str(text).rpartition(":")
    if not sep or not layer or not unit.isdigit():
        raise ParameterError(f"Expected LAYER:UNIT, e.g. logit:0. Received: {text!r}")
    return layer, int(unit)
