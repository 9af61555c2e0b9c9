"""Whole-song prediction with SVDNet, computed once per song.

Sliding the 115-frame model one frame at a time repeats almost all of its
work. This module evaluates the same network over a whole song in one pass,
as an exact reformulation: every layer runs at stride 1 in time, and each
time-stride of the excerpt model becomes a dilation of the later layers.

- 3x3 max-pool with stride 3 -> stride 1 in time (windows ``d`` apart), stride
  3 in frequency. The first pool has ``d = 1``, the second ``d = 3``.
- conv3 and conv4 read pooled frames 3 apart -> time dilation 3.
- the first dense layer reads the 11 x 7 x 64 feature map as a convolution
  with kernel 11 x 7, time dilation 9 (computed as one GEMM and a sum of
  shifted slices).

Output frame ``t`` equals the excerpt model on frames ``[t - 57, t + 57]`` of
the song padded with 57 frames of silence (log(1e-7)) at each end, so there is
one prediction per frame, at 70 frames/s.
"""

import tensorflow as tf

from vocal_xai import spectral

HALF = spectral.EXCERPT_FRAMES // 2


def _leaky(x, slope):
    return tf.nn.leaky_relu(x, alpha=slope)


def _conv(x, layer, dilation):
    kernel, bias = layer.kernel, layer.bias
    y = tf.nn.conv2d(
        x,
        tf.cast(kernel, x.dtype),
        strides=1,
        padding="VALID",
        dilations=[dilation, 1],
    )
    return y + tf.cast(bias, x.dtype)


def _pool(x, dilation):
    # Frequency: window 3, stride 3. Time: window 3 with taps `dilation` apart.
    x = tf.nn.max_pool2d(x, ksize=[1, 3], strides=[1, 3], padding="VALID")
    n = tf.shape(x)[1] - 2 * dilation
    return tf.maximum(
        tf.maximum(x[:, :n], x[:, dilation : dilation + n]),
        x[:, 2 * dilation : 2 * dilation + n],
    )


def song_outputs(model, log_mel):
    """Per-frame outputs of an SVDNet over whole songs.

    Args:
        model: an ``SVDNet``.
        log_mel: float32 raw log-mel of songs. [shape=(batch, frames, 80)]

    Returns:
        dict with ``logit`` and ``probability`` [shape=(batch, frames)], and
        each ``embedding_<units>`` [shape=(batch, frames, units)].
    """
    slope = model.leaky_slope
    x = tf.convert_to_tensor(log_mel, tf.float32)
    x = tf.pad(x, [[0, 0], [HALF, HALF], [0, 0]], constant_values=spectral.LOG_MEL_MIN)
    x = model.get_layer("standardize")(x)[..., None]

    # Convolutional blocks at stride 1 in time.
    dilation = 1
    for i in range(4):
        x = _leaky(_conv(x, model.get_layer(f"conv{i + 1}"), dilation), slope)
        if i % 2 == 1:
            x = _pool(x, dilation)
            dilation *= 3

    # The first dense layer reads `taps` frames `dilation` apart. One GEMM gives
    # every frame's contribution to every tap; shifted slices sum them up.
    dense1 = model.get_layer("dense1")
    taps, bands, channels = (int(d) for d in model.get_layer("flatten").input.shape[1:])
    units = int(dense1.kernel.shape[-1])
    kernel = tf.reshape(dense1.kernel, [taps, bands * channels, units])
    kernel = tf.reshape(tf.transpose(kernel, [1, 0, 2]), [bands * channels, taps * units])
    batch, length = tf.shape(x)[0], tf.shape(x)[1]
    z = tf.matmul(tf.reshape(x, [-1, bands * channels]), kernel)
    z = tf.reshape(z, [batch, length, taps, units])
    n = length - (taps - 1) * dilation
    x = z[:, 0:n, 0]
    for j in range(1, taps):
        x += z[:, j * dilation : j * dilation + n, j]
    x = _leaky(x + dense1.bias, slope)

    outputs = {f"embedding_{model.dense_units[0]}": x}
    for j, units in enumerate(model.dense_units[1:], start=2):
        layer = model.get_layer(f"dense{j}")
        x = _leaky(tf.tensordot(x, layer.kernel, axes=1) + layer.bias, slope)
        outputs[f"embedding_{units}"] = x
    head = model.get_layer("logit")
    logit = (tf.tensordot(x, head.kernel, axes=1) + head.bias)[..., 0]
    outputs["logit"] = logit
    outputs["probability"] = tf.sigmoid(logit)
    return outputs


def padded_excerpts(log_mel):
    """All 115-frame excerpts of one song, padded as ``song_outputs`` pads.

    The slow reference: one excerpt per frame.

    Args:
        log_mel: raw log-mel of one song. [shape=(frames, 80)]

    Returns:
        [shape=(frames, 115, 80)]
    """
    x = tf.pad(
        tf.convert_to_tensor(log_mel, tf.float32),
        [[HALF, HALF], [0, 0]],
        constant_values=spectral.LOG_MEL_MIN,
    )
    return tf.signal.frame(x, spectral.EXCERPT_FRAMES, 1, axis=0)
