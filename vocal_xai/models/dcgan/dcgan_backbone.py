"""Generator and discriminator of the conditional DCGAN.

Generator: ``G(z [batch, 128] ~ N(0, I), class [batch] int) -> [batch, 115, 80]``
raw log-mel, in the detector's input units and floored at log(1e-7). The class
(0 = non-vocal, 1 = vocal) is embedded and concatenated with z; a dense layer
makes an 8 x 5 map that four stride-2 transposed convolutions grow to
128 x 80 (time x mel), a final convolution gives one channel, and the centre
115 frames are kept. The network works in standardised units; the training
split's per-band mean and std, baked in, map its output back to raw log-mel.
With ``conditional_norm`` every BatchNorm gets a per-class scale and offset
(conditional BatchNorm, de Vries et al. 2017), so the class acts at every
resolution rather than only through the first dense layer. With
``upsampling="resize"`` each block doubles the map by nearest-neighbour
resizing and then convolves (resize-convolution, Odena et al. 2016) instead
of using a stride-2 transposed convolution.

Discriminator: ``D(x [batch, 115, 80], class [batch]) -> [batch]`` logits.
Four stride-2 convolutions (LeakyReLU 0.2), then a linear output plus a class
projection (Miyato & Koyama 2018): ``w . h + embed(class) . h``. Spectral
normalisation of its weights (Miyato et al. 2018) keeps it Lipschitz, which
the hinge loss needs to stay stable without a gradient penalty. With
``aux_classifier`` a second linear head on the same features predicts the
class (vocal or not) of real excerpts (AC-GAN, Odena et al. 2017), which gives
the generator a direct signal for what tells the classes apart. With
``frame_difference`` the first convolution also sees each frame minus the one
before it, as a second channel: the frame-to-frame change of the spectral
envelope (onsets, consonants, formant transitions), which tells real vocal
excerpts from non-vocal ones, is then one subtraction away from every filter
instead of a contrast each stride-2 filter must learn.
"""

import keras
from keras import ops

from vocal_xai import spectral
from vocal_xai.errors import ParameterError
from vocal_xai.layers import CropFrames, FloorLogMel, Standardize

LATENT_DIM = 128
NUM_CLASSES = 2
_GRID_FRAMES, _GRID_BANDS = 8, 5  # 16x upsampling -> 128 x 80
UPSAMPLING = ("transpose", "resize")


@keras.saving.register_keras_serializable(package="vocal_xai")
class SpectralNormalization(keras.layers.SpectralNormalization):
    """``keras.layers.SpectralNormalization`` without its ``ops.cond``.

    Keras guards the update with a cond on an all-zero kernel. Under the R1
    penalty's nested gradient tapes, TensorFlow traces that cond's gradient
    functions at every order, which slows the first training step (see
    ``bench/bench_startup.py``). Here the power iteration always runs and a
    select keeps an all-zero kernel (and its vector) as they are: the same
    values as Keras's, in straight-line ops. No gradient flows through the
    update, which is assigned to the variables as in Keras.
    """

    def call(self, inputs, training=False):
        if training:
            kernel, vector_u = self.kernel.value, self.vector_u.value
            new_vector_u, new_kernel = self.normalized_weights()
            zero = ops.all(ops.equal(kernel, 0))
            self.vector_u.assign(ops.where(zero, vector_u, new_vector_u))
            self.kernel.assign(ops.where(zero, kernel, new_kernel))
        output = self.layer(inputs)
        return ops.cast(output, inputs.dtype)


def _check(name, value, minimum=1):
    if int(value) < minimum:
        raise ParameterError(f"Expected {name} >= {minimum}. Received: {name}={value}")


@keras.saving.register_keras_serializable(package="vocal_xai")
class ConditionalBatchNorm(keras.layers.Layer):
    """BatchNorm without its own affine part, followed by a scale and an
    offset looked up by class: ``gamma[c] * normalise(x) + beta[c]``.

    Call it on ``[x, class]`` with x of shape ``[batch, ..., channels]`` and an
    int class of shape ``[batch]``.

    Args:
        num_classes: number of classes.
        momentum: momentum of the moving statistics.
        epsilon: added to the variance.
    """

    def __init__(self, num_classes, momentum=0.99, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        _check("num_classes", num_classes)
        self.num_classes = int(num_classes)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.norm = keras.layers.BatchNormalization(
            momentum=self.momentum, epsilon=self.epsilon, center=False, scale=False, name="norm"
        )

    def build(self, input_shape):
        x_shape = input_shape[0]
        self.norm.build(x_shape)
        channels = int(x_shape[-1])
        self.gamma = self.add_weight(
            shape=(self.num_classes, channels), initializer="ones", name="gamma"
        )
        self.beta = self.add_weight(
            shape=(self.num_classes, channels), initializer="zeros", name="beta"
        )

    def call(self, inputs, training=None):
        x, label = inputs
        x = self.norm(x, training=training)
        label = ops.cast(label, "int32")
        # [batch, channels] -> [batch, 1, ..., 1, channels]
        shape = (-1,) + (1,) * (len(x.shape) - 2) + (x.shape[-1],)
        gamma = ops.reshape(ops.take(self.gamma, label, axis=0), shape)
        beta = ops.reshape(ops.take(self.beta, label, axis=0), shape)
        return x * ops.cast(gamma, x.dtype) + ops.cast(beta, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(
            {"num_classes": self.num_classes, "momentum": self.momentum, "epsilon": self.epsilon}
        )
        return config


@keras.saving.register_keras_serializable(package="vocal_xai")
class Generator(keras.Model):
    """Conditional generator of raw log-mel excerpts.

    Args:
        mean: per-band mean of the training log-mel. [shape=(80,)]
        std: per-band std of the training log-mel. [shape=(80,)]
        base_channels: channels of the 8 x 5 map; each upsampling halves them.
        kernel_size: kernel of the transposed convolutions.
        class_dim: size of the class embedding.
        latent_dim: size of z.
        conditional_norm: per-class BatchNorm scale and offset in every block.
        upsampling: ``"transpose"`` (stride-2 transposed convolutions) or
            ``"resize"`` (nearest-neighbour doubling, then a convolution).
    """

    def __init__(
        self,
        mean,
        std,
        base_channels=128,
        kernel_size=4,
        class_dim=16,
        latent_dim=LATENT_DIM,
        conditional_norm=False,
        upsampling="transpose",
        **kwargs,
    ):
        for name, value in [
            ("base_channels", base_channels),
            ("kernel_size", kernel_size),
            ("class_dim", class_dim),
            ("latent_dim", latent_dim),
        ]:
            _check(name, value)
        if upsampling not in UPSAMPLING:
            raise ParameterError(
                f"Expected upsampling in {UPSAMPLING}. Received: upsampling={upsampling!r}"
            )
        if base_channels % 16:
            raise ParameterError(
                f"Expected base_channels divisible by 16. Received: base_channels={base_channels}"
            )
        z = keras.Input((latent_dim,), name="z")
        label = keras.Input((), dtype="int32", name="class")

        def norm(x, name):
            if conditional_norm:
                return ConditionalBatchNorm(NUM_CLASSES, name=name)([x, label])
            return keras.layers.BatchNormalization(name=name)(x)

        # Condition: embed the class and concatenate it with z.
        embedded = keras.layers.Embedding(NUM_CLASSES, class_dim, name="class_embedding")(label)
        x = keras.layers.Concatenate(name="z_and_class")([z, embedded])
        x = keras.layers.Dense(_GRID_FRAMES * _GRID_BANDS * base_channels, name="project")(x)
        x = keras.layers.Reshape((_GRID_FRAMES, _GRID_BANDS, base_channels), name="grid")(x)
        x = norm(x, "project_bn")
        x = keras.layers.LeakyReLU(negative_slope=0.2, name="project_act")(x)

        # Four doublings: 8 x 5 -> 128 x 80.
        channels = base_channels
        for i in range(4):
            channels //= 2
            if upsampling == "resize":
                x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"up{i + 1}_resize")(
                    x
                )
                x = keras.layers.Conv2D(channels, kernel_size, padding="same", name=f"up{i + 1}")(x)
            else:
                x = keras.layers.Conv2DTranspose(
                    channels, kernel_size, strides=2, padding="same", name=f"up{i + 1}"
                )(x)
            x = norm(x, f"up{i + 1}_bn")
            x = keras.layers.LeakyReLU(negative_slope=0.2, name=f"up{i + 1}_act")(x)

        # One channel, centre 115 frames, back to raw units, floored.
        x = keras.layers.Conv2D(1, 5, padding="same", name="to_log_mel")(x)
        x = keras.layers.Reshape((_GRID_FRAMES * 16, spectral.NUM_MEL_BANDS), name="drop_channel")(
            x
        )
        x = CropFrames(spectral.EXCERPT_FRAMES, name="crop")(x)
        x = Standardize(mean, std, invert=True, name="destandardize")(x)
        log_mel = FloorLogMel(name="log_mel")(x)
        super().__init__(inputs={"z": z, "class": label}, outputs=log_mel, **kwargs)

        self.mean, self.std = list(mean), list(std)
        self.base_channels, self.kernel_size = int(base_channels), int(kernel_size)
        self.class_dim, self.latent_dim = int(class_dim), int(latent_dim)
        self.conditional_norm = bool(conditional_norm)
        self.upsampling = upsampling

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "mean": [float(v) for v in self.mean],
            "std": [float(v) for v in self.std],
            "base_channels": self.base_channels,
            "kernel_size": self.kernel_size,
            "class_dim": self.class_dim,
            "latent_dim": self.latent_dim,
            "conditional_norm": self.conditional_norm,
            "upsampling": self.upsampling,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="vocal_xai")
class ClassProjection(keras.layers.Layer):
    """``sum(embed(class) * h, axis=-1)``: the projection term of D."""

    def __init__(self, num_classes, units, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.units = int(num_classes), int(units)
        self.embedding = keras.layers.Embedding(self.num_classes, self.units, name="embedding")

    def build(self, input_shape):
        self.embedding.build(input_shape[1])

    def call(self, inputs):
        features, label = inputs
        return ops.sum(self.embedding(label) * features, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)

    def get_config(self):
        config = super().get_config()
        config.update({"num_classes": self.num_classes, "units": self.units})
        return config


@keras.saving.register_keras_serializable(package="vocal_xai")
class FrameDifference(keras.layers.Layer):
    """``[batch, frames, bands, c] -> [batch, frames, bands, 2c]``: the maps
    beside their differences along time, ``x[t] - x[t - 1]`` (zero at t = 0)."""

    def call(self, x):
        difference = x[:, 1:] - x[:, :-1]
        difference = ops.concatenate([ops.zeros_like(x[:, :1]), difference], axis=1)
        return ops.concatenate([x, difference], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (2 * input_shape[-1],)


@keras.saving.register_keras_serializable(package="vocal_xai")
class Discriminator(keras.Model):
    """Conditional discriminator with a class projection.

    Args:
        mean: per-band mean of the training log-mel. [shape=(80,)]
        std: per-band std of the training log-mel. [shape=(80,)]
        base_channels: channels of the first convolution; each one doubles them.
        kernel_size: kernel of the stride-2 convolutions.
        class_dim: units of the feature vector the class is projected on.
        spectral_norm: wrap convolutions and dense layers in spectral
            normalisation.
        aux_classifier: add a class head; the outputs are then a dict of
            ``logit`` and ``class_logit`` (vocal vs non-vocal) instead of the
            logit alone.
        frame_difference: give the first convolution the frame-to-frame
            difference as a second channel (``FrameDifference``).
    """

    def __init__(
        self,
        mean,
        std,
        base_channels=32,
        kernel_size=4,
        class_dim=64,
        spectral_norm=True,
        aux_classifier=False,
        frame_difference=False,
        **kwargs,
    ):
        for name, value in [
            ("base_channels", base_channels),
            ("kernel_size", kernel_size),
            ("class_dim", class_dim),
        ]:
            _check(name, value)
        log_mel = keras.Input((spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS), name="log_mel")
        label = keras.Input((), dtype="int32", name="class")
        x = Standardize(mean, std, name="standardize")(log_mel)
        x = keras.layers.Reshape(
            (spectral.EXCERPT_FRAMES, spectral.NUM_MEL_BANDS, 1), name="add_channel"
        )(x)
        if frame_difference:
            x = FrameDifference(name="frame_difference")(x)

        def normed(layer):
            if not spectral_norm:
                return layer
            return SpectralNormalization(layer, name=f"{layer.name}_sn")

        channels = base_channels
        for i in range(4):
            conv = keras.layers.Conv2D(
                channels, kernel_size, strides=2, padding="same", name=f"down{i + 1}"
            )
            x = normed(conv)(x)
            x = keras.layers.LeakyReLU(negative_slope=0.2, name=f"down{i + 1}_act")(x)
            channels *= 2
        x = keras.layers.Flatten(name="flatten")(x)
        h = normed(keras.layers.Dense(class_dim, name="features"))(x)
        h = keras.layers.LeakyReLU(negative_slope=0.2, name="features_act")(h)
        unconditional = normed(keras.layers.Dense(1, name="critic"))(h)
        projection = ClassProjection(NUM_CLASSES, class_dim, name="projection")([h, label])
        logit = keras.layers.Add(name="logit_sum")([unconditional, projection])
        logit = keras.layers.Reshape((), name="logit")(logit)
        outputs = logit
        if aux_classifier:
            class_logit = normed(keras.layers.Dense(1, name="classifier"))(h)
            outputs = {
                "logit": logit,
                "class_logit": keras.layers.Reshape((), name="class_logit")(class_logit),
            }
        super().__init__(inputs={"log_mel": log_mel, "class": label}, outputs=outputs, **kwargs)

        self.mean, self.std = list(mean), list(std)
        self.base_channels, self.kernel_size = int(base_channels), int(kernel_size)
        self.class_dim = int(class_dim)
        self.spectral_norm = bool(spectral_norm)
        self.aux_classifier = bool(aux_classifier)
        self.frame_difference = bool(frame_difference)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "mean": [float(v) for v in self.mean],
            "std": [float(v) for v in self.std],
            "base_channels": self.base_channels,
            "kernel_size": self.kernel_size,
            "class_dim": self.class_dim,
            "spectral_norm": self.spectral_norm,
            "aux_classifier": self.aux_classifier,
            "frame_difference": self.frame_difference,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
