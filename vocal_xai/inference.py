"""Compiled inference calls of Keras models, traced once and reused."""

import weakref

import tensorflow as tf

_COMPILED = weakref.WeakKeyDictionary()


def compiled(model):
    """``model(inputs, training=False)`` as a ``tf.function``, one per model.

    Callers that run the same model over many batches, or in many calls,
    share one traced graph instead of tracing a new function each time.
    """
    if model not in _COMPILED:
        _COMPILED[model] = tf.function(
            lambda inputs: model(inputs, training=False), reduce_retracing=True
        )
    return _COMPILED[model]
