"""Differentiable augmentation of log-mel excerpts for the discriminator.

DiffAugment (Zhao et al. 2020): the same random transformations are applied
to real and generated excerpts before the discriminator sees them, in both
players' steps, and gradients flow through them to the generator. The
discriminator then can't memorise the training excerpts, and since the
generator's output is never augmented it still learns the data as it is.

Policies (comma-separated in ``policy``):

- ``shift``: roll each excerpt in time by up to ``SHIFT_FRACTION`` of its
  frames, either way (a time translation: where a note starts in the
  excerpt carries no class information);
- ``cutout``: set one rectangle of ``CUTOUT_FRACTION`` of the frames by
  ``CUTOUT_FRACTION`` of the bands, at a random place, to the excerpt's mean;
- ``level``: add one offset per excerpt, uniform in +-``LEVEL_NATS`` (a gain
  change of up to +-4.3 dB).

Frequency is never shifted: a voice's pitch range is a class cue.
"""

import keras
from keras import ops

from vocal_xai.errors import ParameterError

POLICIES = ("shift", "cutout", "level")
SHIFT_FRACTION = 0.125
CUTOUT_FRACTION = 0.25
LEVEL_NATS = 0.5


def parse_policy(policy):
    """``"shift,cutout"`` -> ``("shift", "cutout")``; "" -> ()."""
    names = tuple(p.strip() for p in (policy or "").split(",") if p.strip())
    unknown = [p for p in names if p not in POLICIES]
    if unknown:
        raise ParameterError(
            f"Expected augmentations among {list(POLICIES)}, comma-separated. "
            f"Received: policy={policy!r}"
        )
    return names


def shift_time(x, seed, fraction=SHIFT_FRACTION):
    """Roll each excerpt of ``x`` [batch, frames, bands] by its own random
    number of frames in [-fraction * frames, fraction * frames]."""
    batch, frames = ops.shape(x)[0], ops.shape(x)[1]
    most = int(x.shape[1] * fraction)
    shifts = keras.random.randint((batch, 1), -most, most + 1, seed=seed)
    index = ops.mod(ops.arange(frames)[None, :] - shifts, frames)
    return ops.take_along_axis(x, index[:, :, None], axis=1)


def cutout(x, seed, fraction=CUTOUT_FRACTION):
    """Fill one random rectangle of each excerpt of ``x`` [batch, frames,
    bands] with that excerpt's mean."""
    batch = ops.shape(x)[0]
    frames, bands = int(x.shape[1]), int(x.shape[2])
    height, width = max(1, int(frames * fraction)), max(1, int(bands * fraction))
    top = keras.random.randint((batch, 1, 1), 0, frames - height + 1, seed=seed)
    left = keras.random.randint((batch, 1, 1), 0, bands - width + 1, seed=seed)
    t = ops.arange(frames)[None, :, None]
    f = ops.arange(bands)[None, None, :]
    inside = (t >= top) & (t < top + height) & (f >= left) & (f < left + width)
    mean = ops.mean(x, axis=(1, 2), keepdims=True)
    return ops.where(inside, mean, x)


def level(x, seed, nats=LEVEL_NATS):
    """Add one uniform offset in [-nats, nats] to each excerpt of ``x``."""
    offset = keras.random.uniform((ops.shape(x)[0], 1, 1), -nats, nats, seed=seed, dtype=x.dtype)
    return x + offset


_FUNCTIONS = {"shift": shift_time, "cutout": cutout, "level": level}


def diff_augment(x, policy, seed):
    """Apply the augmentations of ``policy`` (a tuple from ``parse_policy``)
    to ``x`` [batch, frames, bands], in the order given, drawing from the
    ``keras.random.SeedGenerator`` ``seed``."""
    for name in policy:
        x = _FUNCTIONS[name](x, seed)
    return x
