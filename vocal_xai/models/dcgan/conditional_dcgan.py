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
"""

import keras
import tensorflow as tf
from keras import ops

from vocal_xai.errors import ParameterError

LOSSES = ("hinge", "non_saturating")


@keras.saving.register_keras_serializable(package="vocal_xai")
class ConditionalDCGAN(keras.Model):
    """Trains a ``Generator`` against a ``Discriminator``.

    Args:
        generator: the conditional generator.
        discriminator: the conditional discriminator.
        seed: seed of the latent draws.
    """

    def __init__(self, generator, discriminator, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(generator.latent_dim)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        self.has_aux = bool(getattr(discriminator, "aux_classifier", False))
        self.d_aux_tracker = keras.metrics.Mean(name="d_aux")
        self.g_aux_tracker = keras.metrics.Mean(name="g_aux")
        # Both players are built functional models; there is nothing left to
        # build (and ``fit`` must not try to build it from a data batch).
        self.built = True

    def compile(self, d_optimizer, g_optimizer, loss="hinge", aux_weight=1.0, **kwargs):
        """``aux_weight`` weighs the auxiliary class losses; it has no effect
        when the discriminator has no class head."""
        if loss not in LOSSES:
            raise ParameterError(f"Expected loss in {LOSSES}. Received: loss={loss!r}")
        if not aux_weight >= 0:
            raise ParameterError(f"Expected aux_weight >= 0. Received: aux_weight={aux_weight}")
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_name = loss
        self.aux_weight = float(aux_weight)

    def build_optimizers(self):
        """Create the optimizer variables now (before a checkpoint is restored)."""
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        trackers = [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]
        return trackers + ([self.d_aux_tracker, self.g_aux_tracker] if self.has_aux else [])

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

    def _discriminate(self, log_mel, labels):
        """(adversarial logits, class logits or None)."""
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
        with tf.GradientTape() as tape:
            real_logits, real_class = self._discriminate(real, labels)
            fake_logits, _ = self._discriminate(fake, labels)
            d_loss = self._d_loss(real_logits, fake_logits)
            d_aux = self._class_loss(labels, real_class) if self.has_aux else 0.0
            scaled = (d_loss + self.aux_weight * d_aux) / replicas
        grads = tape.gradient(scaled, self.discriminator.trainable_variables)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_variables))

        # Generator step on fresh latents.
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake = self.generator({"z": z, "class": labels}, training=True)
            fake_logits_g, fake_class = self._discriminate(fake, labels)
            g_loss = self._g_loss(fake_logits_g)
            g_aux = self._class_loss(labels, fake_class) if self.has_aux else 0.0
            scaled = (g_loss + self.aux_weight * g_aux) / replicas
        grads = tape.gradient(scaled, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables))

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(ops.mean(real_logits))
        self.d_fake_tracker.update_state(ops.mean(fake_logits))
        if self.has_aux:
            self.d_aux_tracker.update_state(d_aux)
            self.g_aux_tracker.update_state(g_aux)
        return {m.name: m.result() for m in self.metrics}

    def get_config(self):
        return {
            "name": self.name,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)
