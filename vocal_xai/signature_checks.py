"""Input checks of the serving signatures, in core TF ops.

A signature declares its inputs loosely (unknown rank where a wrong rank is a
user error) and checks them in the graph, in order, each check only after the
previous one has passed, so that the first broken rule is the one reported:
rank, an empty batch, sizes, relations between inputs, values. The model runs
only after every check (``InputChecks.passed``). TF Serving returns a failed
check's message with HTTP 400.

    checks = InputChecks()
    checks.shape(z, "z", rank=2, sizes={1: 128}, layout="[batch, 128]")
    checks.rows(class_id, "class_id", tf.shape(z)[0])
    checks.true(tf.reduce_all((class_id >= 0) & (class_id <= 1)), "class_id must be 0 or 1")
    checks.finite(z, "z")
    z, class_id = checks.passed(z, class_id)
"""

import tensorflow as tf


class InputChecks:
    """An ordered chain of graph assertions."""

    def __init__(self):
        self.deps = []

    def _add(self, make):
        with tf.control_dependencies(self.deps):
            self.deps.append(make())

    def shape(self, x, name, rank, layout, sizes=None, minimum=None, batch=True):
        """``x`` has rank ``rank``, a non-empty first axis (when ``batch``),
        the ``sizes`` ``{axis: size}`` and at least the ``minimum`` sizes."""
        message = f"{name} must have shape {layout}"
        self._add(
            lambda: tf.debugging.assert_equal(
                tf.rank(x), rank, message=f"{message}; received a different rank"
            )
        )
        if batch:
            self._add(
                lambda: tf.debugging.assert_positive(
                    tf.shape(x)[0], message=f"{message}; received an empty batch"
                )
            )
        for axis, size in (sizes or {}).items():
            self._add(
                lambda axis=axis, size=size: tf.debugging.assert_equal(
                    tf.shape(x)[axis], size, message=message
                )
            )
        for axis, size in (minimum or {}).items():
            self._add(
                lambda axis=axis, size=size: tf.debugging.assert_greater_equal(
                    tf.shape(x)[axis], size, message=message
                )
            )

    def rows(self, x, name, batch):
        """``x`` is a vector with one entry per row (``batch`` rows)."""
        message = f"{name} must have one entry per row"
        self._add(lambda: tf.debugging.assert_equal(tf.rank(x), 1, message=message))
        self._add(lambda: tf.debugging.assert_equal(tf.size(x), batch, message=message))

    def true(self, condition, message):
        """A boolean scalar tensor that must hold."""
        self._add(lambda: tf.debugging.assert_equal(condition, True, message=message))

    def finite(self, x, name):
        """No NaN or Inf in the float tensor ``x``."""
        self._add(
            lambda: tf.debugging.assert_all_finite(
                x, message=f"{name} must be finite (no NaN or Inf)"
            )
        )

    def passed(self, *tensors):
        """The tensors, released only once every check has passed (each
        through an Identity, which keeps its control inputs through graph
        optimisation)."""
        with tf.control_dependencies(self.deps):
            out = tuple(tf.identity(t) for t in tensors)
        return out if len(out) > 1 else out[0]


def with_static_shape(x, rank, sizes=None):
    """``x`` reshaped to its own shape so that its rank (and ``sizes``) are
    known statically. A reshape, not ``tf.ensure_shape``: the latter lets the
    graph run size checks ahead of the rank check."""
    dims = [(sizes or {}).get(axis, tf.shape(x)[axis]) for axis in range(1, rank)]
    return tf.reshape(x, [-1, *dims])
