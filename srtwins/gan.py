"""Adversarial SR training (SRGAN; ESRGAN's relativistic average GAN) as a keras.Model with its own train_step.

Generator loss = content (pixel) + adversarial + perceptual (VGG features) + total variation,
with weights from params. The train_step uses TensorFlow's GradientTape; the nets themselves
are backend-agnostic, and GAN training on another backend is refused with a clear error.
"""
import keras
from keras import ops

from srtwins import SrtwinsError


def bce_logits(target, logits):
    return ops.mean(ops.binary_crossentropy(ops.full_like(logits, target), logits, from_logits=True))


def total_variation(x):
    dy = x[:, 1:, :, :] - x[:, :-1, :, :]
    dx = x[:, :, 1:, :] - x[:, :, :-1, :]
    return ops.mean(ops.abs(dy)) + ops.mean(ops.abs(dx))


class AdversarialSR(keras.Model):
    """Trains ``generator`` against ``discriminator``; ``relativistic=True`` is ESRGAN's RaGAN."""

    def __init__(self, generator, discriminator, content_loss, perceptual=None, weights=None,
                 relativistic=False, **kwargs):
        super().__init__(**kwargs)
        if keras.backend.backend() != "tensorflow":
            raise SrtwinsError("GAN training needs KERAS_BACKEND=tensorflow (the nets themselves run on any backend)")
        self.generator, self.discriminator = generator, discriminator
        self.content_loss, self.perceptual = content_loss, perceptual
        self.w = {"content": 1.0, "adversarial": 1e-3, "perceptual": 1.0, "tv": 0.0, **(weights or {})}
        if self.w["perceptual"] and perceptual is None:
            raise SrtwinsError("gan.weights.perceptual > 0 needs a perceptual feature extractor")
        self.relativistic = relativistic

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        super().compile(optimizer=g_optimizer, **kwargs)
        self.d_optimizer = d_optimizer

    def call(self, x, training=False):
        return self.generator(x, training=training)

    def _step_losses(self, lr, hr, training):
        sr = self.generator(lr, training=training)
        real = self.discriminator(hr, training=training)
        fake = self.discriminator(sr, training=training)
        if self.relativistic:  # D_ra(a, b) = sigmoid(C(a) - E[C(b)])
            real_rel, fake_rel = real - ops.mean(fake), fake - ops.mean(real)
            d_loss = bce_logits(1.0, real_rel) + bce_logits(0.0, fake_rel)
            adversarial = bce_logits(0.0, real_rel) + bce_logits(1.0, fake_rel)
        else:
            d_loss = bce_logits(1.0, real) + bce_logits(0.0, fake)
            adversarial = bce_logits(1.0, fake)
        parts = {"content": self.content_loss(hr, sr), "adversarial": adversarial,
                 "tv": total_variation(sr)}
        parts["perceptual"] = self.perceptual(hr, sr) if self.w["perceptual"] else ops.zeros(())
        g_loss = sum(self.w[k] * v for k, v in parts.items())
        return g_loss, d_loss, parts

    def train_step(self, data):
        import tensorflow as tf

        lr, hr = data
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            g_loss, d_loss, parts = self._step_losses(lr, hr, training=True)
        g_vars, d_vars = self.generator.trainable_variables, self.discriminator.trainable_variables
        self.optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        self.d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
        return {"loss": g_loss, "d_loss": d_loss, **parts}

    def test_step(self, data):
        lr, hr = data
        g_loss, d_loss, parts = self._step_losses(lr, hr, training=False)
        return {"loss": g_loss, "d_loss": d_loss, **parts}
