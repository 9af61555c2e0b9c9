"""``ConditionalDCGAN``: the GAN training wrapper, in the keras-io style
(``compile`` with two optimizers, an overridden ``train_step``, Mean trackers,
a SeedGenerator).

The loss is the hinge loss (Lim & Ye 2017; Miyato et al. 2018), with
the class projection in the discriminator:

    L_D = E[relu(1 - D(x, c))] + E[relu(1 + D(G(z, c), c))]
    L_G = -E[D(G(z, c), c)]

When the discriminator has an auxiliary class head (AC-GAN), its
cross-entropy on real excerpts is added to L_D, and the same cross-entropy on
G's excerpts (against the class G was asked for) is added to L_G, both
weighted by ``aux_weight``. The head is trained on real data only, so it
cannot learn to call the generator's artefacts one class.

Every fake batch uses the classes of the real batch it is paired with, so
both players see the same class balance. Losses are divided by the number of
replicas because the optimizers sum gradients across replicas.

A frozen class guide can add its own class signal: a classifier of real
excerpts, trained for this purpose (``task.train_guide``) and never the
detector that judges the generator. Its cross-entropy on G's excerpts,
against the class G was asked for, is added to L_G with weight
``guide_weight``. Unlike the discriminator's class head, which learns
alongside G and only as well as the adversarial features allow, the guide has
learnt what separates the classes in the real data before G starts.

Three optional stabilisers, each off by default:

- ``augment``: DiffAugment (``augment.diff_augment``) of real and generated
  excerpts before the discriminator, in both steps;
- ``r1_gamma``: the zero-centred gradient penalty on real excerpts (R1,
  Mescheder et al. 2018), ``r1_gamma / 2 * E[||grad_x D(x, c)||^2]`` added
  to L_D, with x the (augmented) real excerpts in raw log-mel units;
- ``ema_decay``: an exponential moving average of the generator's weights
  (Karras et al. 2018; Yazici et al. 2019), kept in ``ema_generator`` and
  updated after every generator step by ``EMAUpdate``. It is the generator
  that is sampled, evaluated and exported (``sampler``); its decay warms up
  as ``min(ema_decay, (1 + t) / (10 + t))`` at step t, so early averages
  don't hold the random initialisation.
"""

import keras
import tensorflow as tf
from keras import ops

from vocal_xai.errors import ParameterError
from vocal_xai.models.dcgan import augment


def dense_gradients(grads):
    """Gradients with every ``tf.IndexedSlices`` made a dense tensor.

    The class embeddings and the conditional BatchNorm tables are looked up by
    class, once per example, so their gradients come as IndexedSlices with
    each row repeated. Keras 3's Adam, given such slices, moves a repeated row
    further than Adam on the summed gradient does; the dense sum gives the
    true step. Summed across replicas, slices also become an all-gather under
    a cond, whose graph took most of the first step's tracing under
    MirroredStrategy. The tables are a few rows: dense costs nothing.
    """
    return [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]


LOSSES = ("hinge", "non_saturating")


@keras.saving.register_keras_serializable(package="vocal_xai")
class ConditionalDCGAN(keras.Model):
    """Trains a ``Generator`` against a ``Discriminator``.

    Args:
        generator: the conditional generator.
        discriminator: the conditional discriminator.
        seed: seed of the latent draws and augmentations.
        ema_decay: decay of the moving average of the generator's weights,
            in [0, 1); 0: no average, ``sampler`` is the generator itself.
        class_guide: a frozen classifier, raw log-mel ``[batch, 115, 80]``
            -> vocal logit ``[batch]`` or ``[batch, 1]``, or None. It is a
            training aid: neither saved with the GAN nor exported.
    """

    def __init__(self, generator, discriminator, seed=0, ema_decay=0.0, class_guide=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= ema_decay < 1.0:
            raise ParameterError(f"Expected 0 <= ema_decay < 1. Received: ema_decay={ema_decay}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(generator.latent_dim)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.ema_decay = float(ema_decay)
        self.ema_generator = None
        if self.ema_decay > 0:
            self.ema_generator = generator.__class__.from_config(
                {**generator.get_config(), "name": f"{generator.name}_ema"}
            )
            self.ema_generator.set_weights(generator.get_weights())
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        self.has_aux = bool(getattr(discriminator, "aux_classifier", False))
        self.d_aux_tracker = keras.metrics.Mean(name="d_aux")
        self.g_aux_tracker = keras.metrics.Mean(name="g_aux")
        self.r1_tracker = keras.metrics.Mean(name="r1")
        self.guide_tracker = keras.metrics.Mean(name="g_guide")
        self.class_guide = class_guide
        if class_guide is not None:
            class_guide.trainable = False
        self.r1_gamma, self.augment_policy, self.guide_weight = 0.0, (), 0.0
        # Both players are built functional models; there is nothing left to
        # build (and ``fit`` must not try to build it from a data batch).
        self.built = True

    def compile(
        self,
        d_optimizer,
        g_optimizer,
        loss="hinge",
        aux_weight=1.0,
        r1_gamma=0.0,
        augment_policy="",
        guide_weight=0.0,
        **kwargs,
    ):
        """``aux_weight`` weighs the auxiliary class losses; it has no effect
        when the discriminator has no class head. ``r1_gamma`` (>= 0) weighs
        the R1 penalty; ``augment_policy`` names the DiffAugment
        transformations (e.g. ``"shift,cutout"``; "" for none).
        ``guide_weight`` (>= 0) weighs the class guide's loss; it needs a
        ``class_guide`` when positive."""
        if loss not in LOSSES:
            raise ParameterError(f"Expected loss in {LOSSES}. Received: loss={loss!r}")
        if not aux_weight >= 0:
            raise ParameterError(f"Expected aux_weight >= 0. Received: aux_weight={aux_weight}")
        if not r1_gamma >= 0:
            raise ParameterError(f"Expected r1_gamma >= 0. Received: r1_gamma={r1_gamma}")
        if not guide_weight >= 0:
            raise ParameterError(
                f"Expected guide_weight >= 0. Received: guide_weight={guide_weight}"
            )
        if guide_weight > 0 and self.class_guide is None:
            raise ParameterError(
                "Expected a class_guide when guide_weight > 0. "
                f"Received: guide_weight={guide_weight}, no guide"
            )
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_name = loss
        self.aux_weight = float(aux_weight)
        self.r1_gamma = float(r1_gamma)
        self.augment_policy = augment.parse_policy(augment_policy)
        self.guide_weight = float(guide_weight)

    @property
    def sampler(self):
        """The generator to sample, evaluate and export: the moving average
        when there is one, else the trained generator."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def update_ema(self):
        """One moving-average step of ``ema_generator`` towards the
        generator (every weight, BatchNorm statistics included)."""
        t = ops.cast(self.g_optimizer.iterations, "float32")
        decay = ops.minimum(self.ema_decay, (1.0 + t) / (10.0 + t))
        for average, weight in zip(self.ema_generator.weights, self.generator.weights):
            average.assign(decay * average + (1.0 - decay) * ops.cast(weight, average.dtype))

    def build_optimizers(self):
        """Create the optimizer variables now (before a checkpoint is restored)."""
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        trackers = [
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.d_real_tracker,
            self.d_fake_tracker,
        ]
        trackers += [self.d_aux_tracker, self.g_aux_tracker] if self.has_aux else []
        trackers += [self.guide_tracker] if self.guide_weight > 0 else []
        return trackers + ([self.r1_tracker] if self.r1_gamma > 0 else [])

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def _d_loss(self, real_logits, fake_logits):
        if self.loss_name == "hinge":
            return ops.mean(ops.relu(1.0 - real_logits)) + ops.mean(ops.relu(1.0 + fake_logits))
        return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))

    def _g_loss(self, fake_logits):
        if self.loss_name == "hinge":
            return -ops.mean(fake_logits)
        return ops.mean(ops.softplus(-fake_logits))

    def _augment(self, log_mel):
        if not self.augment_policy:
            return log_mel
        return augment.diff_augment(log_mel, self.augment_policy, self.seed_generator)

    def _discriminate(self, log_mel, labels, augmented=False):
        """(adversarial logits, class logits or None), of the excerpts
        augmented here unless ``augmented``."""
        log_mel = log_mel if augmented else self._augment(log_mel)
        outputs = self.discriminator({"log_mel": log_mel, "class": labels}, training=True)
        if self.has_aux:
            return outputs["logit"], outputs["class_logit"]
        return outputs, None

    @staticmethod
    def _class_loss(labels, class_logits):
        targets = ops.cast(labels, class_logits.dtype)
        return ops.mean(ops.binary_crossentropy(targets, class_logits, from_logits=True))

    def train_step(self, data):
        real, labels = data
        batch = ops.shape(real)[0]
        replicas = tf.distribute.get_strategy().num_replicas_in_sync

        # Discriminator step on a real batch and a fake batch of the same classes.
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        fake = self.generator({"z": z, "class": labels}, training=True)
        real_input = self._augment(real)
        with tf.GradientTape() as tape:
            with tf.GradientTape() as input_tape:
                input_tape.watch(real_input)
                real_logits, real_class = self._discriminate(real_input, labels, augmented=True)
                summed = ops.sum(real_logits)
            r1 = 0.0
            if self.r1_gamma > 0:
                # R1: the squared norm of D's gradient at the real excerpts.
                input_grads = input_tape.gradient(summed, real_input)
                r1 = ops.mean(ops.sum(ops.square(input_grads), axis=(1, 2)))
            fake_logits, _ = self._discriminate(fake, labels)
            d_loss = self._d_loss(real_logits, fake_logits)
            d_aux = self._class_loss(labels, real_class) if self.has_aux else 0.0
            scaled = (d_loss + self.aux_weight * d_aux + 0.5 * self.r1_gamma * r1) / replicas
        grads = dense_gradients(tape.gradient(scaled, self.discriminator.trainable_variables))
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_variables))

        # Generator step on fresh latents.
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake = self.generator({"z": z, "class": labels}, training=True)
            fake_logits_g, fake_class = self._discriminate(fake, labels)
            g_loss = self._g_loss(fake_logits_g)
            g_aux = self._class_loss(labels, fake_class) if self.has_aux else 0.0
            g_guide = 0.0
            if self.guide_weight > 0:
                guide_logits = ops.reshape(self.class_guide(fake, training=False), (-1,))
                g_guide = self._class_loss(labels, guide_logits)
            scaled = (g_loss + self.aux_weight * g_aux + self.guide_weight * g_guide) / replicas
        grads = dense_gradients(tape.gradient(scaled, self.generator.trainable_variables))
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables))

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(ops.mean(real_logits))
        self.d_fake_tracker.update_state(ops.mean(fake_logits))
        if self.has_aux:
            self.d_aux_tracker.update_state(d_aux)
            self.g_aux_tracker.update_state(g_aux)
        if self.guide_weight > 0:
            self.guide_tracker.update_state(g_guide)
        if self.r1_gamma > 0:
            self.r1_tracker.update_state(r1)
        return {m.name: m.result() for m in self.metrics}

    def get_config(self):
        return {
            "name": self.name,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "seed": self.seed,
            "ema_decay": self.ema_decay,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)


class EMAUpdate(keras.callbacks.Callback):
    """Step the GAN's generator average after every training batch (in the
    cross-replica context, where a mirrored variable takes one assignment)."""

    def __init__(self, gan):
        super().__init__()
        self.gan = gan
        self._update = tf.function(gan.update_ema)

    def on_train_batch_end(self, batch, logs=None):
        self._update()
